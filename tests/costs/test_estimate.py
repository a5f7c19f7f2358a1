"""`estimate`: per-node and total range before a run; tokenizer exact vs approximated; loops; unpriced; p50/p95."""

from __future__ import annotations

import statistics

import pytest

from agents_core.engine.budget import TOKENS_PER_MESSAGE
from agents_core.llm.pricing import calculate_cost
from agents_core.llm.settings import ResolvedLLM
from agents_core.llm.tokens import approximate_tokens, count_tokens
from tests.conftest import EXAMPLES_DIR
from tests.costs.conftest import cli, cli_json, flow
from tests.fakes import Script, scripted_provider

REVIEW = str(EXAMPLES_DIR / "review_loop.yaml")


def test_the_local_models_own_tokenizer_counts_exactly(run_store):
    data = cli_json("estimate", REVIEW, "--input", "topic=why cats purr")
    write = data["nodes"][0]
    prompt = "Write one paragraph about why cats purr.\nReviewer feedback on the previous draft: none yet\nThis is draft number 0.\n"
    tokens, exact = count_tokens(ResolvedLLM("local", "smollm2-135m-instruct"), prompt)
    assert exact and write["tokens_exact"] and write["prompt_tokens"] == tokens + TOKENS_PER_MESSAGE
    assert data["total"]["tokens_exact"] and data["notes"] == []
    assert data["total"]["low_usd"] == 0 and data["nodes"][0]["price_source"] == "local"


def test_other_models_are_approximated_and_labelled(run_store):
    data = cli_json("estimate", REVIEW, "-i", "topic=cats", "--provider", "google", "--model", "gemini-2.5-flash")
    write = data["nodes"][0]
    prompt = (
        "Write one paragraph about cats.\nReviewer feedback on the previous draft: none yet\nThis is draft number 0.\n"
    )
    assert not write["tokens_exact"] and write["prompt_tokens"] == approximate_tokens(prompt) + TOKENS_PER_MESSAGE
    assert "approximated" in data["notes"][0]
    text = cli("estimate", REVIEW, "-i", "topic=cats", "--provider", "google", "--model", "gemini-2.5-flash")
    assert text.exit_code == 0 and "approx." in text.stdout and "note: prompt tokens approximated" in text.stdout


def test_loop_bounds_multiply_the_high_end(run_store):
    data = cli_json("estimate", REVIEW, "-i", "topic=cats", "--provider", "google", "--model", "gemini-2.5-flash")
    assert data["max_loop_iterations"] == 3
    for node in data["nodes"]:
        assert node["in_loop"] and node["max_visits"] == 4 and node["calls_high"] == 4  # first pass + 3 loops back
        one_call = calculate_cost("google", "gemini-2.5-flash", node["prompt_tokens_high"], node["max_output_tokens"])
        assert node["high_usd"] == pytest.approx(4 * one_call.usd)
        assert node["low_usd"] == pytest.approx(
            calculate_cost("google", "gemini-2.5-flash", node["prompt_tokens"], 0).usd
        )
    total = data["total"]
    assert total["high_usd"] == pytest.approx(sum(n["high_usd"] for n in data["nodes"]))
    assert 0 < total["low_usd"] < total["high_usd"]
    linear = cli_json("estimate", str(EXAMPLES_DIR / "article_writer.yaml"), "-i", "topic=x", "--provider", "google")
    assert all(n["max_visits"] == 1 and not n["in_loop"] for n in linear["nodes"])


def test_unpriced_nodes_say_unpriced_and_the_total_is_unknown(run_store, tmp_path):
    import yaml

    path = tmp_path / "flow.yaml"
    path.write_text(yaml.safe_dump(flow("mystic", provider="mystery")))
    with scripted_provider(Script(), name="mystery"):
        data = cli_json("estimate", str(path), "-i", "topic=cats")
        text = cli("estimate", str(path), "-i", "topic=cats")
    assert data["total"]["low_usd"] is None and data["total"]["unpriced_nodes"] == ["first", "second", "third"]
    assert all(n["price_source"] == "unpriced" and n["high_usd"] is None for n in data["nodes"])
    assert text.exit_code == 0 and "total: unpriced" in text.stdout and "$0" not in text.stdout


def test_p50_and_p95_of_past_runs_appear_from_three_runs(service, isolated_workspace, tmp_path):
    import yaml

    from tests.costs.conftest import PRICING_V1

    (isolated_workspace / "pricing.yaml").write_text(PRICING_V1)
    path = tmp_path / "flow.yaml"
    path.write_text(yaml.safe_dump(flow("history")))
    costs = []
    with scripted_provider(Script()) as script:
        for i in range(3):
            if i == 2:
                assert cli_json("estimate", str(path))["history"] == {"runs": 2, "p50_usd": None, "p95_usd": None}
            result = service.start(str(path), {"topic": "cats" * (i + 1)}).wait(timeout=60)
            costs.append(result.cost_usd)
        assert script.calls
        data = cli_json("estimate", str(path))
        text = cli("estimate", str(path))
    history = data["history"]
    assert history["runs"] == 3
    assert history["p50_usd"] == pytest.approx(statistics.median(costs))
    assert history["p95_usd"] == pytest.approx(statistics.quantiles(sorted(costs), n=100, method="inclusive")[94])
    assert "past runs: p50" in text.stdout


def test_bad_input_and_invalid_file_are_clear_errors(run_store, tmp_path):
    bad = cli("estimate", REVIEW, "-i", "colour=red")
    assert bad.exit_code == 2 and "unknown input 'colour'" in bad.stderr
    broken = tmp_path / "broken.yaml"
    broken.write_text("schema_version: '1.0'\nflow: {name: x}\n")
    result = cli("estimate", str(broken), "--json")
    assert result.exit_code == 2 and '"ok": false' in result.stdout
