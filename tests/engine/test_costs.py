"""Cost is recorded by the run service, always, and budgets stop a run before the call (issue 10 §1, SPEC §9).

The runs go through the real run service and the real langchain-google-genai
client against the Gemini stub, which reports exact token counts, so every
expected cost is computed from the price the pricing module names (never
typed into the test).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from agents_core.cli.app import app
from agents_core.engine.events import NodeFinished, RunStarted
from agents_core.errors import BudgetUnenforceable, MonthlyBudgetReached, exit_code, http_status
from agents_core.llm.pricing import calculate_cost, format_usd
from agents_core.runs.service import RunService
from agents_core.runs.store import SqliteRunStore
from tests.fakes import Script, scripted_provider
from tests.samples import THREE_STEPS
from tests.stubs.gemini import GeminiStub, function_call_reply, json_reply, malformed_reply, text_reply

MODEL = "gemini-2.5-flash"


def _flow(stub: GeminiStub, *, execution: dict[str, Any] | None = None, model: str = MODEL) -> dict[str, Any]:
    return {
        "schema_version": "1.0",
        "flow": {"name": "costed"},
        "state": {
            "fields": {
                "topic": {"type": "str", "required": True},
                "research": {"type": "str", "default": ""},
                "article": {"type": "str", "default": ""},
            }
        },
        "nodes": [
            {"id": "research", "prompt": "research: facts about {state.topic}", "outputs": ["research"]},
            {"id": "write", "prompt": "write: an article from {state.research}", "outputs": ["article"]},
        ],
        "edges": [
            {"from": "START", "to": "research"},
            {"from": "research", "to": "write"},
            {"from": "write", "to": "END"},
        ],
        "config": {
            "llm": {"provider": "google", "model": model, "api_base": stub.url, "max_tokens": 1000},
            "execution": {"retry_initial_delay": 0.01, **(execution or {})},
        },
    }


@pytest.fixture
def service(tmp_path: Path) -> Any:
    service = RunService(SqliteRunStore(tmp_path / "runs.sqlite"))
    yield service
    service.shutdown(timeout=10)


def _cost(tokens_in: int, tokens_out: int) -> float:
    return calculate_cost("google", MODEL, tokens_in, tokens_out).usd


def test_every_node_record_event_result_and_store_row_carries_its_cost(service, gemini_stub):
    gemini_stub.push(text_reply("facts", usage=(1000, 200)), text_reply("article", usage=(3000, 500)))
    handle = service.start(_flow(gemini_stub), {"topic": "owls"})
    result = handle.wait(timeout=60)
    assert result.status == "success", result.error
    research, write = result.nodes
    assert research.cost_usd == pytest.approx(_cost(1000, 200)) and write.cost_usd == pytest.approx(_cost(3000, 500))
    assert research.price_source.startswith("genai-prices ") and research.cost_usd > 0
    assert result.cost_usd == pytest.approx(research.cost_usd + write.cost_usd)
    body = result.to_dict()
    assert body["cost_usd"] == pytest.approx(result.cost_usd)
    assert body["nodes"][1]["cost_usd"] == pytest.approx(write.cost_usd)
    assert body["nodes"][1]["price_source"] == write.price_source

    finished = [e for e in handle.events() if isinstance(e, NodeFinished)]
    assert [e.record.cost_usd for e in finished] == [research.cost_usd, write.cost_usd]  # live, from the event log

    info = service.get(handle.run_id)
    assert info.cost_usd == pytest.approx(result.cost_usd)
    assert (info.input_tokens, info.output_tokens) == (4000, 700)
    assert [n["cost_usd"] for n in info.nodes] == [research.cost_usd, write.cost_usd]
    assert service.store.spend(workflow="costed") == pytest.approx(result.cost_usd)


def test_a_budget_stops_the_run_before_the_call_and_a_higher_budget_resumes_it(service, gemini_stub):
    first = _cost(1000, 1000)
    out_worst = _cost(0, 1000)  # max_tokens at the output price
    budget = round(first + 0.4 * out_worst, 6)  # room for the first node's worst case, not the second's
    gemini_stub.push(text_reply("facts", usage=(1000, 1000)))
    handle = service.start(_flow(gemini_stub, execution={"max_cost_usd": budget}), {"topic": "owls"})
    result = handle.wait(timeout=60)

    assert result.status == "failed" and len(gemini_stub.requests) == 1  # the second call was never made
    error = result.error
    assert error.type == "BudgetExceeded" and error.node == "write" and error.category == "budget_exceeded"
    assert f"max_cost_usd is {format_usd(budget)}" in error.message
    assert f"{format_usd(first)} is spent so far" in error.message
    assert "could cost up to $" in error.message and "1000 output tokens (max_tokens)" in error.message
    assert f"--resume {handle.run_id} --max-cost-usd" in error.hint
    assert [n.id for n in result.nodes] == ["research", "write"] and result.nodes[1].input_tokens == 0
    assert result.cost_usd == pytest.approx(first)
    info = service.get(handle.run_id)
    assert info.status == "failed" and info.cost_usd == pytest.approx(first)

    gemini_stub.push(text_reply("an article", usage=(2000, 300)))
    resumed = service.resume(handle.run_id, max_cost_usd=1.0).wait(timeout=60)
    assert resumed.status == "success", resumed.error
    assert len(gemini_stub.requests) == 2 and gemini_stub.requests[1].prompt.startswith("write:")
    assert resumed.outputs["article"] == "an article"
    assert resumed.cost_usd == pytest.approx(first + _cost(2000, 300))
    assert service.get(handle.run_id).cost_usd == pytest.approx(first + _cost(2000, 300))


def test_a_resume_without_a_higher_budget_is_stopped_again(service, gemini_stub):
    first = _cost(1000, 1000)
    budget = round(first + 0.4 * _cost(0, 1000), 6)
    gemini_stub.push(text_reply("facts", usage=(1000, 1000)))
    handle = service.start(_flow(gemini_stub, execution={"max_cost_usd": budget}), {"topic": "owls"})
    assert handle.wait(timeout=60).status == "failed"
    again = service.resume(handle.run_id).wait(timeout=60)
    assert again.error.type == "BudgetExceeded" and len(gemini_stub.requests) == 1
    assert f"{format_usd(first)} is spent so far" in again.error.message  # the finished node still counts


def test_a_retry_is_checked_against_the_budget_too(service, gemini_stub):
    flow = _flow(gemini_stub)
    flow["nodes"][0]["output_schema"] = {"type": "object", "fields": [{"name": "research", "type": "str"}]}
    first = _cost(1000, 1000)
    flow["config"]["execution"]["max_cost_usd"] = round(first + 0.4 * _cost(0, 1000), 6)
    gemini_stub.push(malformed_reply(usage=(1000, 1000)), json_reply({"research": "never asked"}))
    result = service.start(flow, {"topic": "owls"}).wait(timeout=60)
    assert result.error.type == "BudgetExceeded" and result.error.node == "research"
    assert len(gemini_stub.requests) == 1  # the invalid reply was paid for; the retry was not sent
    assert result.nodes[0].cost_usd == pytest.approx(first)


def test_a_budget_on_an_unpriced_model_refuses_to_start_unless_pricing_yaml_prices_it(
    service, gemini_stub, isolated_workspace
):
    flow = _flow(gemini_stub, execution={"max_cost_usd": 1.0}, model="gemini-house-tuned")
    with pytest.raises(BudgetUnenforceable) as refused:
        service.start(flow, {"topic": "owls"})
    assert "cannot be enforced" in refused.value.message and "'gemini-house-tuned'" in refused.value.message
    assert "pricing.yaml" in refused.value.hint and exit_code(refused.value) == 2
    assert service.list() == [] and gemini_stub.requests == []

    (isolated_workspace / "pricing.yaml").write_text(
        "date: 2026-11-01\nprices:\n  google:\n    gemini-house-tuned: {input_per_mtok: 1.0, output_per_mtok: 2.0}\n"
    )
    gemini_stub.push(text_reply("facts", usage=(1000, 0)), text_reply("article", usage=(0, 1000)))
    result = service.start(flow, {"topic": "owls"}).wait(timeout=60)
    assert result.status == "success" and result.cost_usd == pytest.approx(0.001 + 0.002)
    assert {n.price_source for n in result.nodes} == {"pricing.yaml 2026-11-01"}


def test_the_monthly_budget_refuses_a_run_once_month_to_date_spend_reaches_it(service, gemini_stub):
    gemini_stub.push(text_reply("facts", usage=(1000, 1000)), text_reply("article", usage=(1000, 1000)))
    spent = 2 * _cost(1000, 1000)
    flow = _flow(gemini_stub, execution={"monthly_budget_usd": round(spent * 0.9, 6)})
    assert service.start(flow, {"topic": "owls"}).wait(timeout=60).status == "success"  # nothing spent yet
    with pytest.raises(MonthlyBudgetReached) as refused:
        service.start(flow, {"topic": "owls"})
    message = refused.value.message
    assert f"has spent {format_usd(spent)}" in message and "monthly_budget_usd" in message and "refused" in message
    assert exit_code(refused.value) == 1 and http_status(refused.value) == 402
    assert len(gemini_stub.requests) == 2 and len(service.list()) == 1
    other = _flow(gemini_stub)
    other["flow"]["name"] = "another"
    gemini_stub.push(text_reply("facts"), text_reply("article"))
    assert service.start(other, {"topic": "owls"}).wait(timeout=60).status == "success"  # per workflow


def test_an_unpriced_model_is_unpriced_in_the_record_the_result_and_a_notice():
    with scripted_provider(Script()):
        service = RunService(SqliteRunStore(Path(__import__("os").environ["AGENTS_RUN_STORE"])))
        handle = service.start(THREE_STEPS, {"topic": "cats"})
        result = handle.wait(timeout=60)
        started = next(e for e in handle.events() if isinstance(e, RunStarted))
        service.shutdown()
    assert result.status == "success"
    assert all(n.cost_usd is None and n.price_source == "unpriced" for n in result.nodes)
    assert result.cost_usd is None and result.to_dict()["cost_usd"] is None  # never 0
    assert [notice for notice in started.notices if "'scripted-1'" in notice and "unpriced" in notice]
    assert service.get(handle.run_id).cost_usd is None


# -- the CLI face --------------------------------------------------------------------------


def cli(*args: str) -> Any:
    return CliRunner().invoke(app, list(args), env={"NO_COLOR": "1"})


def test_run_json_and_resume_with_max_cost_usd_from_the_cli(gemini_stub, tmp_path):
    first = _cost(1000, 1000)
    budget = round(first + 0.4 * _cost(0, 1000), 6)
    path = tmp_path / "costed.yaml"
    path.write_text(yaml.safe_dump(_flow(gemini_stub, execution={"max_cost_usd": budget})))
    gemini_stub.push(text_reply("facts", usage=(1000, 1000)))
    stopped = cli("run", str(path), "--input", "topic=owls", "--json")
    assert stopped.exit_code == 1, stopped.output
    body = json.loads(stopped.stdout)
    assert body["status"] == "failed" and body["error"]["type"] == "BudgetExceeded"
    assert body["cost_usd"] == pytest.approx(first) and body["nodes"][0]["cost_usd"] == pytest.approx(first)

    gemini_stub.push(text_reply("an article", usage=(2000, 300)))
    resumed = cli("run", "--resume", body["run_id"], "--max-cost-usd", "0.5")
    assert resumed.exit_code == 0, resumed.output
    total = first + _cost(2000, 300)
    [summary] = [line for line in resumed.stderr.splitlines() if line.startswith("✓ costed finished")]
    assert f"{format_usd(total)} (genai-prices " in summary and summary.endswith("))")  # the total, on one line
    node_line = next(line for line in resumed.stderr.splitlines() if line.startswith("✓ write"))
    assert format_usd(_cost(2000, 300)) in node_line
    assert len(gemini_stub.requests) == 2


def test_the_cli_says_unpriced_never_zero(tmp_path):
    path = tmp_path / "three.yaml"
    path.write_text(yaml.safe_dump(THREE_STEPS))
    with scripted_provider(Script()):
        result = cli("run", str(path), "--input", "topic=cats")
        as_json = cli("run", str(path), "--input", "topic=cats", "--json")
    assert result.exit_code == 0, result.output
    lines = [line for line in result.stderr.splitlines() if line.startswith("✓ ")]
    assert len(lines) == 4 and all("unpriced" in line and "$0" not in line for line in lines)
    body = json.loads(as_json.stdout)
    assert body["cost_usd"] is None and {n["price_source"] for n in body["nodes"]} == {"unpriced"}
    assert all(n["cost_usd"] is None for n in body["nodes"])


def test_bad_max_cost_usd_and_bad_pricing_yaml_are_clear_errors(tmp_path, isolated_workspace):
    path = tmp_path / "three.yaml"
    path.write_text(yaml.safe_dump(THREE_STEPS))
    with scripted_provider(Script()):
        negative = cli("run", str(path), "--input", "topic=cats", "--max-cost-usd", "-1")
        assert negative.exit_code == 2 and "--max-cost-usd must be a positive number" in negative.stderr
        (isolated_workspace / "pricing.yaml").write_text("date: 2026-11-01\nprices: {scripted: {x: {input: 1}}}\n")
        bad = cli("run", str(path), "--input", "topic=cats")
    assert bad.exit_code == 2 and "pricing.yaml" in bad.stderr and "line 2" in bad.stderr
    assert "Traceback" not in bad.output


def test_a_tool_round_is_checked_against_the_budget_too(service, gemini_stub):
    flow = _flow(gemini_stub)
    flow["nodes"][0]["tools"] = ["calculator"]
    first = _cost(1000, 1000)
    flow["config"]["execution"]["max_cost_usd"] = round(first + 0.4 * _cost(0, 1000), 6)
    gemini_stub.push(function_call_reply("calculator", {"expression": "6*7"}, usage=(1000, 1000)), text_reply("42"))
    result = service.start(flow, {"topic": "owls"}).wait(timeout=60)
    assert result.error.type == "BudgetExceeded" and result.error.node == "research"
    assert len(gemini_stub.requests) == 1  # the tool ran; the round that would send its result was not made
    assert result.nodes[0].cost_usd == pytest.approx(first)


def test_the_local_models_own_tokenizer_counts_the_prompt_of_the_worst_case(service, isolated_workspace):
    """A priced local model: the worst case is exact (no 'approximated'), and the run stops before any call."""
    from agents_core.engine.budget import count_prompt_tokens
    from agents_core.llm.settings import ResolvedLLM
    from agents_core.llm.tokens import approximate_tokens, count_tokens

    local = ResolvedLLM("local", "smollm2-135m-instruct")
    tokens, exact = count_tokens(local, "Write a short article about tide pools.")
    assert exact and 0 < tokens < len("Write a short article about tide pools.")
    assert count_tokens(ResolvedLLM("google", MODEL), "x" * 30) == (approximate_tokens("x" * 30), False)
    assert count_prompt_tokens(local, [])[0] == 0

    (isolated_workspace / "pricing.yaml").write_text(
        "date: 2026-11-01\nprices: {local: {'*': {input_per_mtok: 1000, output_per_mtok: 1000}}}\n"
    )
    flow = {
        **THREE_STEPS,
        "config": {"llm": {"provider": "local", "max_tokens": 8}, "execution": {"max_cost_usd": 0.001}},
    }
    result = service.start(flow, {"topic": "cats"}).wait(timeout=120)
    assert result.error.type == "BudgetExceeded" and result.error.node == "first"
    assert "8 output tokens (max_tokens)" in result.error.message and "approximated" not in result.error.message
    assert result.nodes[0].input_tokens == 0 and result.nodes[0].price_source == "pricing.yaml 2026-11-01"


@pytest.mark.parametrize(("needed", "typed"), [(0.00795, "0.008"), (0.0123, "0.013"), (1.5, "1.5"), (12.3, "13")])
def test_the_suggested_budget_is_one_a_person_would_type_and_covers_the_need(needed, typed):
    from agents_core.engine.budget import _round_up

    assert _round_up(needed) == typed and float(typed) >= needed
