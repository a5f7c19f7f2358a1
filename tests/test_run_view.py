"""What the workbench shows of runs (``workbench/run_view.py``): rows, queue time, stops, the runs table; no Streamlit."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from pathlib import Path

from agents_core.engine.events import (
    NodeFinished,
    NodeRecord,
    NodeRetried,
    NodeStarted,
    RunErrorInfo,
    RunFinished,
    RunResult,
    RunStarted,
)
from agents_core.runs import RunService, SqliteRunStore
from tests.fakes import Script, scripted_provider
from tests.samples import THREE_STEPS
from workbench.run_view import RunView, row_text, run_label, runs_table, stopped_text, tokens_of


def _record(node: str, **kw) -> NodeRecord:
    return NodeRecord(node, "success", provider="local", model="smollm2", **kw)


def test_a_branch_that_waited_for_the_local_model_shows_the_wait_apart_from_its_run_time() -> None:
    view = RunView("r", "p.yaml")
    view.apply(NodeFinished("r", _record("science", duration_ms=3400.0, queue_ms=2200.0, input_tokens=9)))
    [row] = view.rows
    assert row.queue_ms == 2200.0
    text = row_text(row)
    assert text.startswith("✅ **science** · 1.2 s · 9 in / 0 out tokens")  # run time without the queue
    assert text.endswith(" · waited 2.2 s for the local model")
    alone = RunView("r")
    alone.apply(NodeFinished("r", _record("plan", duration_ms=800.0)))
    assert "waited" not in row_text(alone.rows[0])


def test_a_retry_shows_on_the_running_row_until_the_node_ends() -> None:
    view = RunView("r")
    started = NodeStarted("r", "write", "google", "gemini")
    view.apply(started)
    view.apply(NodeRetried("r", "write", 1, "429 slow down", 0.5))
    text = row_text(view.rows[0], now=started.at + timedelta(seconds=75))
    assert text == "⏳ **write** · running 1 min 15 s · google / gemini · attempt 2 after 429 slow down"
    view.apply(NodeFinished("r", _record("write", retries=1)))
    assert "attempt" not in row_text(view.rows[0])


def test_a_cancelled_run_ends_its_running_row_and_says_where_it_stopped() -> None:
    view = RunView("r")
    view.apply(RunStarted("r", "w", {}))
    view.apply(NodeStarted("r", "write", "p", "m"))
    error = RunErrorInfo("write", "RunCancelled", "run 'r' was cancelled.", "Resume it", "cancelled")
    view.apply(RunFinished("r", RunResult("r", "w", "cancelled", {}, {}, [], error)))
    assert not view.active and view.resumable
    assert row_text(view.rows[0]) == "⏹️ **write** · cancelled while running · p / m"
    assert stopped_text(view.result).startswith("Run cancelled at node **write**.")


def test_a_resume_keeps_the_nodes_that_finished_and_drops_the_failed_one() -> None:
    view = RunView("r")
    view.apply(RunStarted("r", "w", {}))
    view.apply(NodeFinished("r", _record("research")))
    view.apply(NodeFinished("r", replace(_record("write"), status="failed")))
    view.apply(RunFinished("r", RunResult("r", "w", "failed", {}, {}, [])))
    assert view.failed and view.resumable
    view.apply(RunStarted("r", "w", {}, resumed=True))
    assert view.active and [(r.node, r.earlier) for r in view.rows] == [("research", True)]
    view.apply(NodeFinished("r", _record("write")))
    view.apply(RunFinished("r", RunResult("r", "w", "success", {}, {}, [_record("research"), _record("write")])))
    assert [(r.node, r.status, r.earlier) for r in view.rows] == [
        ("research", "success", True),
        ("write", "success", False),
    ]


def test_catch_up_replays_the_log_and_then_only_what_is_new(tmp_path: Path) -> None:
    service = RunService(SqliteRunStore(tmp_path / "runs.sqlite"))
    try:
        with scripted_provider(Script()):
            handle = service.start(THREE_STEPS, {"topic": "cats"})
            handle.wait(timeout=30)
        view = RunView(handle.run_id).catch_up(service)
        assert [r.node for r in view.rows] == ["first", "second", "third"]
        assert view.result is not None and view.result.ok and view.seq == service.get(handle.run_id).last_seq
        assert view.rows[0].prompt.startswith("first") and view.rows[0].response == "ok"
        again = view.catch_up(service)  # nothing new: nothing doubled
        assert len(again.rows) == 3

        info = service.get(handle.run_id)
        assert tokens_of(info) == (30, 15)
        table = runs_table(service.list())
        assert f"| {handle.run_id} | three_steps | success |" in table and "| 30 in / 15 out |" in table
        assert run_label(info).startswith(f"{handle.run_id} · three_steps · success · ")
    finally:
        service.shutdown()


def test_a_run_without_a_log_is_shown_from_its_row(tmp_path: Path) -> None:
    store = SqliteRunStore(tmp_path / "runs.sqlite")
    store.create("old1", "article_writer", None, "text", {}, {})
    store.finish("old1", "failed", "node 'write' failed")
    service = RunService(store)
    view = RunView("old1").catch_up(service)
    assert view.failed and view.result.error.message == "node 'write' failed" and view.rows == []
