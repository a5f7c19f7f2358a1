"""The engine through its public API, with a scripted provider for the faults it must survive.

The scripted model (tests/fakes.py) stands in only where a fault must be
caused on purpose (a failure at node 2, a 429, an invalid reply); the real
models are exercised in test_local_model.py, test_google_provider.py and
test_openai_provider.py.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import json

import pytest

from agents_core import arun_workflow, astream_run, resume_run, run_workflow, stream_run
from agents_core.engine.events import NodeFinished, NodeStarted, RunFinished, RunStarted
from agents_core.engine.state import InputError
from agents_core.errors import RunError, ValidationFailed
from tests.conftest import EXAMPLES_DIR
from tests.fakes import Script, scripted_provider
from tests.samples import THREE_STEPS


class RateLimited(Exception):
    status_code = 429


class BadRequest(Exception):
    status_code = 400


def test_a_linear_run_yields_events_in_order_and_a_result():
    script = Script({"first": ["A"], "second": ["B"], "third": ["C"]})
    with scripted_provider(script):
        events = list(stream_run(THREE_STEPS, {"topic": "cats"}))
    kinds = [event.kind for event in events]
    assert kinds == ["run_started"] + ["node_started", "node_finished"] * 3 + ["run_finished"]
    result = events[-1].result
    assert result.status == "success" and result.error is None
    assert result.outputs == {"a": "A", "b": "B", "c": "C"}
    assert result.state["topic"] == "cats"
    assert [n.id for n in result.nodes] == ["first", "second", "third"]
    assert all(n.input_tokens == 10 and n.output_tokens == 5 and n.provider == "scripted" for n in result.nodes)
    assert result.to_dict()["nodes"][0].keys() == {
        "id",
        "status",
        "duration_ms",
        "input_tokens",
        "output_tokens",
        "retries",
        "provider",
        "model",
        "cost_usd",
        "price_source",
    }


def test_prompts_get_state_and_inputs_as_text():
    seen = []
    script = Script({"first": [lambda messages: seen.append(messages[0].text) or "A"]})
    with scripted_provider(script):
        run_workflow(THREE_STEPS, {"topic": "{state.b} and {{braces}}"})
    assert seen == ["first: {state.b} and {{braces}}"]


def test_async_entry_points_give_the_same_result():
    async def main():
        with scripted_provider(Script()):
            events = [event async for event in astream_run(THREE_STEPS, {"topic": "x"})]
            result = await arun_workflow(THREE_STEPS, {"topic": "x"})
        return events, result

    # In a thread of its own: the browser tests' Playwright keeps an event loop running in the main thread.
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        events, result = pool.submit(asyncio.run, main()).result()
    assert isinstance(events[0], RunStarted) and isinstance(events[-1], RunFinished)
    assert result.ok and result.outputs == {"a": "ok", "b": "ok", "c": "ok"}


def test_failure_names_the_node_and_keeps_the_state_before_it():
    script = Script({"second": [ValueError("the model exploded")]})
    with scripted_provider(script):
        result = run_workflow(THREE_STEPS, {"topic": "cats"})
    assert result.status == "failed"
    assert result.error.node == "second"
    assert "node 'second'" in result.error.message and "the model exploded" in result.error.message
    assert result.state["a"] == "ok" and result.state["b"] == "" and result.state["c"] == ""
    assert [(n.id, n.status) for n in result.nodes] == [("first", "success"), ("second", "failed")]
    assert result.outputs == {}
    assert script.calls == ["first", "second"]  # not retried: a ValueError is not transient


def test_a_failed_run_resumes_without_calling_finished_nodes_again():
    script = Script({"second": [ValueError("provider down")]})
    with scripted_provider(script):
        failed = run_workflow(THREE_STEPS, {"topic": "cats"})
        assert failed.status == "failed" and script.calls == ["first", "second"]
        resumed = resume_run(failed.run_id)
    assert resumed.status == "success", resumed.error
    assert script.calls == ["first", "second", "second", "third"]
    assert resumed.run_id == failed.run_id
    assert resumed.outputs == {"a": "ok", "b": "ok", "c": "ok"}
    assert [n.id for n in resumed.nodes] == ["first", "second", "third"]


def test_resuming_a_finished_or_unknown_run_is_a_clear_error():
    with scripted_provider(Script()):
        done = run_workflow(THREE_STEPS, {"topic": "cats"})
        with pytest.raises(RunError, match="already finished"):
            resume_run(done.run_id)
    with pytest.raises(RunError, match="no run with id 'nope'"):
        resume_run("nope")


def test_transient_errors_are_retried_and_counted():
    script = Script({"first": [RateLimited("429 slow down"), "A"]})
    with scripted_provider(script):
        result = run_workflow(THREE_STEPS, {"topic": "cats"})
    assert result.ok
    assert result.nodes[0].retries == 1
    assert result.nodes[0].input_tokens == 10  # the failed attempt had no usage
    assert script.calls[:2] == ["first", "first"]


def test_non_transient_errors_fail_at_once():
    script = Script({"first": [BadRequest("400 bad request"), "A"]})
    with scripted_provider(script):
        result = run_workflow(THREE_STEPS, {"topic": "cats"})
    assert result.status == "failed" and result.nodes[0].retries == 0
    assert script.calls == ["first"]
    assert "HTTP 400" in result.error.message


def test_transient_errors_give_up_after_max_retries():
    script = Script({"first": [RateLimited("429")] * 5})
    with scripted_provider(script):
        result = run_workflow(THREE_STEPS, {"topic": "cats"})
    assert result.status == "failed" and result.error.node == "first"
    assert script.calls == ["first"] * 3
    assert "after 3 attempts" in result.error.message


STRUCTURED = {
    **THREE_STEPS,
    "state": {"fields": {"topic": {"type": "str", "required": True}, "score": {"type": "int", "default": 0}}},
    "nodes": [
        {
            "id": "rate",
            "prompt": "rate: {state.topic}",
            "output_schema": {"type": "object", "fields": [{"name": "score", "type": "int"}]},
            "outputs": ["score"],
        }
    ],
    "edges": [{"from": "START", "to": "rate"}, {"from": "rate", "to": "END"}],
}


def test_invalid_structured_output_is_retried_with_the_error_fed_back():
    seen = []

    def valid(messages):
        seen.extend(m.text for m in messages)
        return json.dumps({"score": 7})

    script = Script({"rate": ['{"score": "seven"}', valid]})
    with scripted_provider(script):
        result = run_workflow(STRUCTURED, {"topic": "cats"})
    assert result.ok and result.outputs == {"score": 7}
    assert result.nodes[0].retries == 1
    assert any("That reply was not valid" in text for text in seen)
    assert '{"score": "seven"}' in seen


def test_structured_output_that_stays_invalid_fails_the_node():
    script = Script({"rate": ["not json"] * 5})
    with scripted_provider(script):
        result = run_workflow(STRUCTURED, {"topic": "cats"})
    assert result.status == "failed" and result.error.node == "rate"
    assert "did not match the output schema" in result.error.message


def test_routes_and_a_bounded_loop():
    script = Script(
        {
            "Write one paragraph": [json.dumps({"draft": f"d{i}", "revisions": i}) for i in range(1, 9)],
            "Rate this": [json.dumps({"score": s, "feedback": "more"}) for s in (2, 3, 9)],
        }
    )
    with scripted_provider(script):
        result = run_workflow(EXAMPLES_DIR / "review_loop.yaml", {"topic": "cats"}, provider="scripted")
    assert result.ok, result.error
    assert [n.id for n in result.nodes] == ["write", "review"] * 3
    assert result.outputs["score"] == 9 and result.outputs["draft"] == "d3"


def test_exceeding_max_loop_iterations_fails_naming_the_loop():
    script = Script(
        {
            "Write one paragraph": [json.dumps({"draft": "d", "revisions": 0})] * 10,
            "Rate this": [json.dumps({"score": 1, "feedback": "no"})] * 10,
        }
    )
    with scripted_provider(script):
        result = run_workflow(EXAMPLES_DIR / "review_loop.yaml", {"topic": "cats"}, provider="scripted")
    assert result.status == "failed"
    assert result.error.type == "LoopLimitExceeded"
    assert "review -> write" in result.error.message and "max_loop_iterations (3)" in result.error.message
    assert [n.id for n in result.nodes].count("write") == 4  # the first pass and three loops back


def test_parallel_branches_merge_into_the_join():
    joined = []
    script = Script(
        {
            "In one sentence": ["the plan"],
            "Plan: the plan\nGive the scientific": ["SCIENCE"],
            "Plan: the plan\nGive the historical": ["HISTORY"],
            "Plan: the plan\nGive practical": ["PRACTICE"],
            "Answer the question": [lambda m: joined.append(m[0].text) or "REPORT"],
        }
    )
    with scripted_provider(script):
        events = list(stream_run(EXAMPLES_DIR / "parallel_research.yaml", {"question": "q?"}, provider="scripted"))
    result = events[-1].result
    assert result.ok, result.error
    assert {result.state[k] for k in ("science", "history", "practice")} == {"SCIENCE", "HISTORY", "PRACTICE"}
    assert "Science: SCIENCE" in joined[0] and "History: HISTORY" in joined[0] and "Practice: PRACTICE" in joined[0]
    started = [e.node for e in events if isinstance(e, NodeStarted)]
    assert started[0] == "plan" and started[-1] == "combine"
    assert set(started[1:4]) == {"science", "history", "practice"}
    assert len([e for e in events if isinstance(e, NodeFinished)]) == 5


def test_inputs_are_checked_before_the_run():
    with scripted_provider(Script()):
        with pytest.raises(InputError, match="missing required input: topic"):
            run_workflow(THREE_STEPS, {})
        with pytest.raises(InputError, match="unknown input 'topik'"):
            run_workflow(THREE_STEPS, {"topic": "x", "topik": "y"})
        with pytest.raises(InputError, match="must be str"):
            run_workflow(THREE_STEPS, {"topic": 3})


def test_text_inputs_are_parsed_by_their_declared_type(tmp_path):
    from agents_core.engine.state import check_inputs
    from agents_core.workflow import load_workflow

    workflow = load_workflow(EXAMPLES_DIR / "user_profile.yaml")
    profile = '{"name": "Ada", "age": 36, "address": {"city": "London", "country": "UK"}, "interests": []}'
    state = check_inputs(workflow, {"profile": profile, "suggestions": '["a"]'}, from_text=True)
    assert state["profile"]["age"] == 36 and state["suggestions"] == ["a"]
    with pytest.raises(InputError, match="input 'suggestions' must be list\\[str\\]"):
        check_inputs(workflow, {"profile": profile, "suggestions": "[1, 2"}, from_text=True)
    # The error points inside the object: the field and the sub-field that is wrong.
    with pytest.raises(InputError, match=r"input profile\.name must be str, not a number \(3\)"):
        check_inputs(workflow, {"profile": '{"name": 3}'}, from_text=True)


def test_an_invalid_workflow_does_not_start():
    broken = {**THREE_STEPS, "edges": [{"from": "START", "to": "nowhere"}]}
    with pytest.raises(ValidationFailed) as caught:
        run_workflow(broken, {"topic": "x"})
    assert caught.value.problems and caught.value.problems[0].code.startswith("E-")
