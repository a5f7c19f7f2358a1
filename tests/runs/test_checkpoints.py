"""Checkpoints: their own file beside the run store, a size that does not grow with the run, old stores.

Real SQLite files, LangGraph's ``AsyncSqliteSaver``, the service's threads;
only the model is scripted.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import operator
import sqlite3
import threading
from pathlib import Path
from typing import Annotated, Any, TypedDict

from agents_core.engine.events import NodeRecord
from agents_core.runs.service import RunService
from agents_core.runs.store import SqliteRunStore, checkpoint_path
from tests.samples import THREE_STEPS

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def _tables(path: Path) -> set[str]:
    with sqlite3.connect(path) as db:
        return {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}


def _checkpoint_sizes(store: SqliteRunStore, run_id: str) -> list[int]:
    with sqlite3.connect(store.checkpoint_path) as db:
        rows = db.execute(
            "SELECT length(checkpoint) FROM checkpoints WHERE thread_id = ? ORDER BY checkpoint_id", (run_id,)
        ).fetchall()
    return [row[0] for row in rows]


def test_checkpoints_are_kept_beside_the_run_store_not_in_it(service, script, store_path):
    result = service.start(THREE_STEPS, {"topic": "cats"}).wait(timeout=30)
    assert result.ok, result.error
    assert service.store.checkpoint_path == store_path.with_name("checkpoints.sqlite")
    assert {"checkpoints", "writes"} <= _tables(service.store.checkpoint_path)
    assert not {"checkpoints", "writes"} & _tables(store_path)
    assert service.store.has_checkpoint(result.run_id)
    assert checkpoint_path(store_path.with_name("other.db")).name == "other.checkpoints.db"


def test_an_open_checkpoint_write_never_blocks_a_run_store_write(tmp_path):
    """The root of the old "database is locked": a saver mid-write (its transaction open, awaiting the
    run's loop to commit) held the lock the run store's synchronous event write needed on that loop."""
    store = SqliteRunStore(tmp_path / "runs.sqlite")
    store.insert("r1", "flow", None, "{}", {}, {}, "running")

    async def scenario() -> None:
        async with store.checkpointer() as saver:
            saver.setup()
            saver.conn.execute(  # opens the saver's write transaction, as put_writes does before its commit
                "INSERT INTO writes (thread_id, checkpoint_ns, checkpoint_id, task_id, idx, channel) "
                "VALUES ('r1', '', 'c1', 'task', 0, 'x')"
            )
            assert saver.conn.in_transaction
            try:  # the store's write must go through now; before the split it waited out its 30 s lock timeout
                await asyncio.wait_for(
                    asyncio.to_thread(store.append_event, "r1", 1, "note", "2026-01-01T00:00:00+00:00", {}), 10
                )
            finally:
                saver.conn.rollback()

    asyncio.run(scenario())
    assert [e.kind for e in store.events("r1")] == ["note"]
    store.close()


def test_parallel_runs_with_store_writes_alongside_never_lock_the_database(service, script):
    """Each run's branches checkpoint while the run's events and other writers hit the run store at once.

    With checkpoints in the run store's own file, an event written on the run's loop
    while a branch's checkpoint write waited for that loop ended in "database is locked".
    """
    service.store.insert("writer", "noise", None, "{}", {}, {}, "failed")
    done = threading.Event()

    def writer() -> None:
        seq = 0
        while not done.is_set():
            seq += 1
            service.store.append_event("writer", seq, "note", "2026-01-01T00:00:00+00:00", {"n": seq})
            service.store.request_cancel("writer")

    noise = threading.Thread(target=writer)
    noise.start()
    try:
        handles = [
            service.start(EXAMPLES / "parallel_research.yaml", {"question": f"q{i}?"}, provider="scripted")
            for i in range(12)
        ]
        results = [handle.wait(timeout=120) for handle in handles]
    finally:
        done.set()
        noise.join()
    assert [r.status for r in results] == ["success"] * len(results), [r.error for r in results if not r.ok]
    assert all(sorted(n.id for n in r.nodes) == ["combine", "history", "plan", "practice", "science"] for r in results)


def test_checkpoints_do_not_grow_with_the_records_of_finished_nodes(service, script):
    """Node records (prompt and reply in full) are not carried from checkpoint to checkpoint."""
    long_topic = "word " * 2000  # 10,000 characters in every prompt and its record
    nodes = 12
    workflow = {
        "schema_version": "1.0",
        "flow": {"name": "same_field"},
        "state": {"fields": {"topic": {"type": "str", "required": True}, "out": {"type": "str", "default": ""}}},
        "nodes": [{"id": f"n{i}", "prompt": f"n{i}: {{state.topic}}", "outputs": ["out"]} for i in range(nodes)],
        "edges": [{"from": "START", "to": "n0"}]
        + [{"from": f"n{i}", "to": f"n{i + 1}" if i + 1 < nodes else "END"} for i in range(nodes)],
        "config": {"llm": {"provider": "scripted"}},
    }
    result = service.start(workflow, {"topic": long_topic}).wait(timeout=60)
    assert result.ok, result.error
    assert len(result.nodes) == nodes and all(long_topic in n.prompt for n in result.nodes)
    sizes = _checkpoint_sizes(service.store, result.run_id)
    assert len(sizes) >= nodes
    # Every checkpoint holds the topic, and at most one record (one prompt) besides: never the records so far.
    assert max(sizes) < 2.5 * len(long_topic), sizes


def test_a_failed_branch_resumes_alone_and_every_node_is_reported_once(service, script):
    script.replies.update(
        {
            "In one sentence": ["the plan"],
            "Plan: the plan\nGive the historical": [ValueError("history is down"), "HISTORY"],
        }
    )
    failed = service.start(EXAMPLES / "parallel_research.yaml", {"question": "q?"}, provider="scripted").wait(30)
    assert failed.status == "failed" and failed.error.node == "history"
    assert {n.id: n.status for n in failed.nodes}["history"] == "failed"
    calls_before = list(script.calls)
    resumed = service.resume(failed.run_id).wait(timeout=30)
    assert resumed.ok, resumed.error
    again = script.calls[len(calls_before) :]
    assert len(again) == 2 and again[0].startswith("Plan: the plan\nGive the hist"), again  # only history …
    assert again[1].startswith("Answer the question"), again  # … and the join after it
    assert sorted(n.id for n in resumed.nodes) == ["combine", "history", "plan", "practice", "science"]
    assert all(n.status == "success" for n in resumed.nodes)
    assert resumed.state["science"] == resumed.state["practice"] == "ok" and resumed.state["history"] == "HISTORY"


# -- a store from before the split: checkpoints in runs.sqlite, records in the graph state -------


class _OldState(TypedDict):
    topic: str
    a: str
    b: str
    c: str
    __visits__: Annotated[dict, lambda left, right: {**(left or {}), **(right or {})}]
    __records__: Annotated[list, operator.add]


async def _old_engine_run(path: Path, run_id: str) -> None:
    """What the engine wrote before: checkpoints in the run store's file, every record so far in each."""
    import aiosqlite
    from langgraph.checkpoint.sqlite.aio import AsyncSqliteSaver
    from langgraph.graph import END, START, StateGraph

    def first(state: dict[str, Any]) -> dict[str, Any]:
        record = NodeRecord("first", "success", 5.0, 10, 5, 0, "scripted", "scripted-1", "first: cats", "A", {"a": "A"})
        return {"a": "A", "__visits__": {"first": 1}, "__records__": [record.to_dict()]}

    def second(state: dict[str, Any]) -> dict[str, Any]:
        raise RuntimeError("the provider was down")

    graph = StateGraph(_OldState)
    graph.add_node("first", first)
    graph.add_node("second", second)
    graph.add_node("third", lambda state: {})
    for a, b in [(START, "first"), ("first", "second"), ("second", "third"), ("third", END)]:
        graph.add_edge(a, b)
    async with aiosqlite.connect(str(path)) as connection:
        app = graph.compile(checkpointer=AsyncSqliteSaver(connection))
        config = {"configurable": {"thread_id": run_id}}
        with contextlib.suppress(RuntimeError):  # the run failed at `second`, after `first`'s checkpoint
            await app.ainvoke({"topic": "cats", "a": "", "b": "", "c": ""}, config, durability="sync")


def test_an_old_store_with_checkpoints_inside_is_moved_and_its_runs_resume(tmp_path, script):
    path = tmp_path / "runs.sqlite"
    old = SqliteRunStore(path)
    old.insert("old1", "three_steps", None, json.dumps(THREE_STEPS), {"topic": "cats"}, {}, "failed")
    old.close()
    checkpoint_path(path).unlink()
    asyncio.run(_old_engine_run(path, "old1"))
    assert {"checkpoints", "writes"} <= _tables(path)

    service = RunService(SqliteRunStore(path))
    try:
        assert not {"checkpoints", "writes"} & _tables(path)
        assert service.store.has_checkpoint("old1")
        script.replies.update({"second": ["B"], "third": ["C"]})
        resumed = service.resume("old1").wait(timeout=30)
    finally:
        service.shutdown()
    assert resumed.ok, resumed.error
    assert script.calls == ["second", "third"]  # first is not called again
    assert [n.id for n in resumed.nodes] == ["first", "second", "third"]
    assert resumed.nodes[0].response == "A" and resumed.outputs == {"a": "A", "b": "B", "c": "C"}
    SqliteRunStore(path).close()  # opening it again finds nothing left to move
    assert service.store.has_checkpoint("old1")
