"""Queue time: a node that waited for the one local model says how long (``NodeRecord.queue_ms``).

The real local model (SmolLM2 on llama.cpp) answers. To make the wait certain
rather than likely, the test holds the model's real lock itself; the lock is
wrapped only to tell the test when a call found it taken, so the test knows
when to let go (no sleeps, no timing asserts).
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest
import yaml

from agents_core import run_workflow
from agents_core.llm import queueing
from agents_core.llm.local import load_model, model_path
from tests.conftest import EXAMPLES_DIR

pytestmark = pytest.mark.slow
WAIT_TIMEOUT = 300
TWO_STEPS = """\
schema_version: "1.0"
flow: {name: two_steps}
state:
  fields:
    topic: {type: str, required: true}
    a: {type: str, default: ""}
    b: {type: str, default: ""}
nodes:
  - {id: first, prompt: "One word about {state.topic}.", outputs: [a]}
  - {id: second, prompt: "One word about {state.a}.", outputs: [b]}
edges:
  - {from: START, to: first}
  - {from: first, to: second}
  - {from: second, to: END}
config:
  llm: {provider: local, max_tokens: 8}
"""


class ContendedLock:
    """A real lock that counts the calls that found it held (``queueing.acquire`` tries without blocking first)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.contended = 0
        self.changed = threading.Condition()

    def acquire(self, blocking: bool = True) -> bool:
        got = self.lock.acquire(blocking)
        if not got:
            with self.changed:
                self.contended += 1
                self.changed.notify_all()
        return got

    def release(self) -> None:
        self.lock.release()

    def wait_for(self, calls: int) -> None:
        with self.changed:
            assert self.changed.wait_for(lambda: self.contended >= calls, WAIT_TIMEOUT), self.contended


@pytest.fixture
def held_model(monkeypatch: pytest.MonkeyPatch) -> ContendedLock:
    monkeypatch.delenv("LOCAL_MODEL_PATH", raising=False)
    loaded = load_model(str(model_path(None)))
    lock = ContendedLock()
    monkeypatch.setattr(loaded, "lock", lock)
    return lock


def _small(name: str, tmp_path: Path) -> Path:
    """An example with short replies (the wait, not the prose, is under test)."""
    data: dict[str, Any] = yaml.safe_load((EXAMPLES_DIR / name).read_text(encoding="utf-8"))
    data["config"]["llm"]["max_tokens"] = 8
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


def _run_in_thread(path: Path, inputs: dict[str, Any]) -> tuple[threading.Thread, dict[str, Any]]:
    box: dict[str, Any] = {}
    thread = threading.Thread(target=lambda: box.update(result=run_workflow(path, inputs)), daemon=True)
    thread.start()
    return thread, box


def test_parallel_branches_on_the_local_model_report_their_wait(held_model: ContendedLock, tmp_path: Path) -> None:
    path = _small("parallel_research.yaml", tmp_path)
    held_model.acquire()
    thread, box = _run_in_thread(path, {"question": "Is tea good?"})
    held_model.wait_for(1)  # the planner waits for the lock the test holds
    held_model.release()
    held_model.wait_for(3)  # ... then at least two of the three branches find the model busy
    thread.join(WAIT_TIMEOUT)
    result = box["result"]
    assert result.ok, result.error
    records = {n.id: n for n in result.nodes}
    assert records["plan"].queue_ms > 0
    branches = [records[name] for name in ("science", "history", "practice")]
    assert sum(1 for n in branches if n.queue_ms > 0) >= 2, [n.queue_ms for n in branches]
    assert all(n.queue_ms <= n.duration_ms for n in result.nodes)
    assert records["plan"].to_dict()["queue_ms"] == records["plan"].queue_ms  # kept in the record and the log


def test_a_node_alone_on_the_model_did_not_queue(held_model: ContendedLock, tmp_path: Path) -> None:
    path = tmp_path / "two_steps.yaml"
    path.write_text(TWO_STEPS, encoding="utf-8")
    result = run_workflow(path, {"topic": "tides"})
    assert result.ok, result.error
    assert [n.queue_ms for n in result.nodes] == [0.0, 0.0]
    assert held_model.contended == 0


def test_waits_are_reported_only_inside_a_measurement() -> None:
    queueing.report_wait(1.0)  # no measurement open: ignored, no error
    outer, outer_waits = queueing.begin()
    inner, inner_waits = queueing.begin()
    queueing.report_wait(0.5)
    queueing.end(inner)
    queueing.report_wait(0.25)
    queueing.end(outer)
    assert inner_waits == [0.5] and outer_waits == [0.25]
