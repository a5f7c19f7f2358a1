"""Parallel branches really run at once: proven by a stub that holds requests at a barrier.

``examples/parallel_research.yaml`` fans out from ``plan`` to ``science``,
``history`` and ``practice`` and joins in ``combine``. The stub answers none
of the three branch requests until all three are in flight together; a
runner that called them one after the other would leave the first waiting at
the barrier until it gives up with HTTP 400 (not retried), so the run fails.
"""

from __future__ import annotations

import copy
from pathlib import Path

import yaml

from agents_core.engine.events import NodeFinished, NodeStarted, RunFinished
from agents_core.engine.runner import run_workflow, stream_run
from tests.stubs.gemini import GeminiStub, RecordedRequest, Reply, text_reply

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "parallel_research.yaml"
BRANCH_ANSWERS = {
    "scientific view": "SCIENCE: caffeine is a mild stimulant.",
    "historical view": "HISTORY: coffee houses date from the 1500s.",
    "practical advice": "PRACTICE: keep it under four cups a day.",
}


def _is_branch(request: RecordedRequest) -> bool:
    return any(marker in request.prompt for marker in BRANCH_ANSWERS)


def _answer(request: RecordedRequest) -> Reply:
    prompt = request.prompt
    for marker, answer in BRANCH_ANSWERS.items():
        if marker in prompt:
            return text_reply(answer)
    if prompt.startswith("In one sentence"):
        return text_reply("PLAN: look at chemistry, history and habits.")
    if prompt.startswith("Answer the question"):
        return text_reply("REPORT: in moderation, yes.")
    return text_reply("unexpected prompt")


def _on_stub(stub: GeminiStub) -> dict:
    data = copy.deepcopy(yaml.safe_load(EXAMPLE.read_text(encoding="utf-8")))
    data["config"]["llm"] = {"provider": "google", "api_base": stub.url}
    # The barrier's own timeout (5 s) fires before the node's, and its 400 is not retried.
    data["config"]["execution"] = {"retry_initial_delay": 0.01, "max_retries": 0, "timeout": 20}
    return data


def test_branches_run_concurrently_and_merge(gemini_stub: GeminiStub) -> None:
    gemini_stub.handler = _answer
    gemini_stub.set_barrier(3, timeout=5.0, match=_is_branch)

    result = run_workflow(_on_stub(gemini_stub), {"question": "Is coffee healthy?"})

    assert gemini_stub.barrier_failures == [], "the three branches were not in flight at the same time"
    assert result.ok, result.error
    assert gemini_stub.max_in_flight >= 3
    assert len(gemini_stub.requests) == 5

    # Every branch read the planner's output.
    branch_requests = [r for r in gemini_stub.requests if _is_branch(r)]
    assert len(branch_requests) == 3
    for request in branch_requests:
        assert request.prompt.startswith("Plan: PLAN: look at chemistry, history and habits.\n")

    # The join node saw all three branch outputs: the state was merged before it ran.
    [join] = [r for r in gemini_stub.requests if r.prompt.startswith("Answer the question")]
    assert join is gemini_stub.requests[-1]
    for answer in BRANCH_ANSWERS.values():
        assert answer in join.prompt
    assert "Science: SCIENCE: caffeine" in join.prompt
    assert "History: HISTORY: coffee houses" in join.prompt
    assert "Practice: PRACTICE: keep it" in join.prompt

    assert result.state["science"] == BRANCH_ANSWERS["scientific view"]
    assert result.state["history"] == BRANCH_ANSWERS["historical view"]
    assert result.state["practice"] == BRANCH_ANSWERS["practical advice"]
    assert result.state["report"] == "REPORT: in moderation, yes."
    assert result.outputs == {
        "plan": "PLAN: look at chemistry, history and habits.",
        "science": BRANCH_ANSWERS["scientific view"],
        "history": BRANCH_ANSWERS["historical view"],
        "practice": BRANCH_ANSWERS["practical advice"],
        "report": "REPORT: in moderation, yes.",
    }
    assert result.nodes[0].id == "plan"
    assert {record.id for record in result.nodes[1:4]} == {"science", "history", "practice"}
    assert result.nodes[-1].id == "combine"
    assert all(record.status == "success" for record in result.nodes)


def test_events_show_all_branches_started_before_any_finished(gemini_stub: GeminiStub) -> None:
    gemini_stub.handler = _answer
    gemini_stub.set_barrier(3, timeout=5.0, match=_is_branch)

    events = list(stream_run(_on_stub(gemini_stub), {"question": "Is coffee healthy?"}))

    assert isinstance(events[-1], RunFinished) and events[-1].result.ok, events[-1]
    branches = {"science", "history", "practice"}
    order = [
        (event.kind, event.node if isinstance(event, NodeStarted) else event.record.id)
        for event in events
        if isinstance(event, NodeStarted | NodeFinished)
    ]
    started = [i for i, (kind, node) in enumerate(order) if kind == "node_started" and node in branches]
    finished = [i for i, (kind, node) in enumerate(order) if kind == "node_finished" and node in branches]
    assert len(started) == len(finished) == 3
    assert max(started) < min(finished)


def test_a_serial_engine_would_fail_the_barrier(gemini_stub: GeminiStub) -> None:
    """The barrier itself works: with one more party than there are branches, the run fails cleanly."""
    gemini_stub.handler = _answer
    gemini_stub.set_barrier(4, timeout=0.5, match=_is_branch)

    result = run_workflow(_on_stub(gemini_stub), {"question": "Is coffee healthy?"})

    assert not result.ok
    assert len(gemini_stub.barrier_failures) == 3
    assert result.error is not None and result.error.node in {"science", "history", "practice"}
    assert "barrier" in result.error.message
