"""The run store's contract, as one suite every backend passes (LangGraph's checkpoint-conformance style).

Each test runs on SQLite (a temporary file) and on PostgreSQL (a fresh database
on the session's real server; skipped without one, except under ``CI=true``).
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path

import pytest

from agents_core.errors import RunConflict, RunNotFound, StoreError
from agents_core.runs.lifecycle import RESUMABLE_STATUSES, Owner
from agents_core.runs.store import PostgresRunStore, RunStore, SqliteRunStore, open_store

#: name -> (request, tmp_path) -> a factory of connections to one fresh store.
BACKENDS: dict[str, Callable[[pytest.FixtureRequest, Path], Callable[[], RunStore]]] = {
    "sqlite": lambda request, tmp: lambda: SqliteRunStore(tmp / "runs.sqlite"),
    "postgresql": lambda request, tmp: partial(PostgresRunStore, request.getfixturevalue("postgres_url")),
}

ME = Owner("host-a", 111, "token-a")
YOU = Owner("host-b", 222, "token-b")


@pytest.fixture(params=list(BACKENDS))
def connect(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Callable[[], RunStore]]:
    """A factory of store connections to one fresh store (each call: another 'process')."""
    opened: list[RunStore] = []

    def connect() -> RunStore:
        opened.append(BACKENDS[request.param](request, tmp_path)())
        return opened[-1]

    yield connect
    for store in opened:
        store.close()


@pytest.fixture
def store(connect: Callable[[], RunStore]) -> RunStore:
    return connect()


def _add(store: RunStore, run_id: str, name: str = "flow", status: str = "queued") -> None:
    store.insert(run_id, name, "flow.yaml", "text", {"topic": "cats"}, {"provider": "local"}, status=status)


def test_insert_and_get(store):
    _add(store, "r1")
    info = store.get("r1")
    assert (info.run_id, info.workflow_name, info.workflow_file, info.workflow_text) == (
        "r1",
        "flow",
        "flow.yaml",
        "text",
    )
    assert info.inputs == {"topic": "cats"} and info.overrides == {"provider": "local"}
    assert info.status == "queued" and info.owner is None and info.error is None and info.last_seq == 0
    assert (info.cost_usd, info.input_tokens, info.output_tokens) == (None, None, None)  # written at finish
    with pytest.raises(RunNotFound, match="no run with id 'nope'"):
        store.get("nope")


def test_a_run_id_is_unique(store):
    _add(store, "r1")
    with pytest.raises(RunConflict):
        _add(store, "r1")


def test_list_filters_and_orders_newest_first(store):
    for index, (name, status) in enumerate([("a", "success"), ("b", "failed"), ("a", "failed")]):
        _add(store, f"r{index}", name, status)
    assert [r.run_id for r in store.list()] == ["r2", "r1", "r0"]
    assert [r.run_id for r in store.list(status="failed")] == ["r2", "r1"]
    assert [r.run_id for r in store.list(status=["success", "failed"], workflow="a")] == ["r2", "r0"]
    assert [r.run_id for r in store.list(limit=1)] == ["r2"]
    first = store.get("r0").created_at
    assert {r.run_id for r in store.list(since=first)} == {"r0", "r1", "r2"}
    assert store.list(since=first + 3600) == []


def test_claim_is_atomic_across_connections(connect):
    _add(connect(), "r1", status="failed")
    stores = [connect() for _ in range(8)]
    barrier = threading.Barrier(len(stores))
    wins: list[bool] = []

    def claim(store: RunStore, index: int) -> None:
        barrier.wait()
        wins.append(store.claim("r1", Owner("h", index, f"t{index}"), RESUMABLE_STATUSES))

    threads = [threading.Thread(target=claim, args=(s, i)) for i, s in enumerate(stores)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(wins) == [False] * 7 + [True]
    info = connect().get("r1")
    assert info.status == "running" and info.owner is not None and info.heartbeat_at and info.started_at


def test_claim_only_from_the_given_statuses(store):
    _add(store, "r1", status="success")
    assert not store.claim("r1", ME, RESUMABLE_STATUSES)
    assert store.get("r1").status == "success"


def test_heartbeat_only_by_the_owner(store):
    _add(store, "r1")
    assert store.claim("r1", ME, ("queued",))
    before = store.get("r1").heartbeat_at
    assert store.heartbeat("r1", ME) and not store.heartbeat("r1", YOU)
    assert store.get("r1").heartbeat_at >= before


def test_finish_writes_the_outcome_and_the_last_event_together(store):
    _add(store, "r1")
    store.claim("r1", ME, ("queued",))
    store.append_event("r1", 1, "run_started", "2025-01-01T00:00:00+00:00", {"kind": "run_started"})
    error = {"node": "n", "type": "NodeError", "message": "m", "hint": "h", "category": "run_failed"}
    store.finish(
        "r1", "failed", error, {"a": 1}, [{"id": "n"}], None, (2, "run_finished", "t", {"kind": "run_finished"})
    )
    info = store.get("r1")
    assert (info.status, info.error, info.error_info, info.outputs, info.nodes) == (
        "failed",
        "m",
        error,
        {"a": 1},
        [{"id": "n"}],
    )
    assert info.finished_at is not None and info.last_seq == 2
    assert [e.kind for e in store.events("r1")] == ["run_started", "run_finished"]


def test_finish_with_a_taken_seq_changes_nothing(store):
    _add(store, "r1")
    store.claim("r1", ME, ("queued",))
    store.append_event("r1", 1, "run_started", "t", {})
    with pytest.raises(RunConflict):
        store.finish("r1", "success", final_event=(1, "run_finished", "t", {}))
    assert store.get("r1").status == "running"  # status and event are one transaction


def test_interrupt_needs_the_same_owner_and_appends_the_next_event(store):
    _add(store, "r1")
    store.claim("r1", ME, ("queued",))
    store.append_event("r1", 1, "run_started", "t", {})
    assert not store.interrupt("r1", YOU.token, "not yours")
    made: list[int] = []

    def final(seq: int) -> tuple[str, str, dict]:
        made.append(seq)
        return "run_finished", "t", {"seq": seq}

    assert store.interrupt("r1", ME.token, "pid 111 is gone", final)
    info = store.get("r1")
    assert info.status == "interrupted" and info.reason == "pid 111 is gone" and made == [2]
    assert not store.interrupt("r1", ME.token, "again", final)  # only an active run is interrupted


def test_a_claim_counts_an_attempt_and_the_executor_is_kept(store):
    store.insert("r1", "flow", None, "text", {}, {}, status="queued", executor="celery")
    info = store.get("r1")
    assert info.executor == "celery" and info.attempts == 0 and info.sent_at is None
    assert store.claim("r1", ME, ("queued",))
    assert store.get("r1").attempts == 1
    _add(store, "r2")
    assert store.get("r2").executor is None


def test_requeue_needs_the_same_owner_and_counts_attempts_durably(connect):
    store, other = connect(), connect()
    store.insert("r1", "flow", None, "text", {}, {}, status="queued", executor="celery")
    store.mark_sent("r1")
    assert other.get("r1").sent_at is not None
    store.claim("r1", ME, ("queued",))
    store.append_event("r1", 1, "run_started", "t", {})
    assert other.requeue("r1", YOU.token, "not yours", max_attempts=2) is None
    assert other.requeue("r1", ME.token, "pid 111 is gone", max_attempts=2) == "queued"
    info = store.get("r1")
    assert (info.status, info.owner, info.sent_at, info.reason) == ("queued", None, None, "pid 111 is gone")
    assert info.last_seq == 1  # no event: the run goes on
    assert other.claim("r1", YOU, ("queued",)) and store.get("r1").attempts == 2
    made: list[int] = []

    def final(seq: int) -> tuple[str, str, dict]:
        made.append(seq)
        return "run_finished", "t", {"seq": seq}

    assert store.requeue("r1", YOU.token, "pid 222 is gone too", max_attempts=2, final_event=final) == "failed"
    info = other.get("r1")
    assert info.status == "failed" and info.error == "pid 222 is gone too" and made == [2]
    assert info.error_info["type"] == "RunInterrupted" and info.finished_at is not None
    assert store.requeue("r1", YOU.token, "again", max_attempts=5) is None  # only an active run


def test_cancel_queued_only_before_a_claim(store):
    def final(seq: int) -> tuple[str, str, dict]:
        return "run_finished", "t", {"seq": seq}

    _add(store, "r1")
    assert store.cancel_queued("r1", final)
    info = store.get("r1")
    assert info.status == "cancelled" and info.last_seq == 1 and info.finished_at is not None
    assert not store.claim("r1", ME, ("queued",))
    _add(store, "r2")
    store.claim("r2", ME, ("queued",))
    assert not store.cancel_queued("r2", final) and store.get("r2").status == "running"


def test_cancel_requests_are_seen_by_other_connections_and_cleared_by_claim(connect):
    owner, other = connect(), connect()
    _add(owner, "r1")
    owner.claim("r1", ME, ("queued",))
    assert not owner.cancel_requested("r1")
    other.request_cancel("r1")
    assert owner.cancel_requested("r1")
    owner.finish("r1", "cancelled")
    assert not owner.cancel_requested("r1")


def test_events_are_ordered_unique_and_readable_from_any_seq(connect):
    writer, reader = connect(), connect()
    _add(writer, "r1")
    _add(writer, "r2")
    for seq in range(1, 6):
        writer.append_event("r1", seq, "node_started", f"t{seq}", {"seq": seq, "text": "ü"})
    writer.append_event("r2", 1, "run_started", "t", {})
    assert [e.seq for e in reader.events("r1")] == [1, 2, 3, 4, 5]
    assert [e.seq for e in reader.events("r1", after_seq=3)] == [4, 5]
    assert [e.seq for e in reader.events("r1", after_seq=1, limit=2)] == [2, 3]
    assert reader.events("r1", after_seq=5) == []
    assert reader.events("r1")[0].data == {"seq": 1, "text": "ü"}
    assert reader.last_seq("r1") == 5 and reader.last_seq("r2") == 1 and reader.last_seq("none") == 0
    with pytest.raises(RunConflict):
        writer.append_event("r1", 3, "node_started", "t", {})


def test_no_checkpoint_for_a_new_run(store):
    _add(store, "r1")
    assert not store.has_checkpoint("r1")


def test_the_seeds_names_still_work(store):
    store.create("r1", "flow", None, "text", {}, {})
    assert store.get("r1").status == "running"
    store.finish("r1", "failed", "node 'write' failed")
    [info] = store.recent()
    assert info.status == "failed" and info.error == "node 'write' failed"


def test_a_seed_store_gains_the_new_columns(tmp_path):
    """SQLite only: a workspace's store from before the run service opens and keeps its runs."""
    path = tmp_path / "old.sqlite"
    with sqlite3.connect(path) as db:
        db.execute(
            "CREATE TABLE runs (run_id TEXT PRIMARY KEY, workflow_name TEXT NOT NULL, workflow_file TEXT, "
            "workflow_text TEXT NOT NULL, inputs TEXT NOT NULL, overrides TEXT NOT NULL, status TEXT NOT NULL, "
            "error TEXT, created_at REAL NOT NULL, updated_at REAL NOT NULL)"
        )
        db.execute("INSERT INTO runs VALUES ('old', 'flow', NULL, 'text', '{}', '{}', 'failed', 'boom', 1.0, 1.0)")
    db.close()
    store = SqliteRunStore(path)
    info = store.get("old")
    assert info.status == "failed" and info.error == "boom" and info.owner is None and info.nodes == []
    assert info.cost_usd is None
    with sqlite3.connect(path) as db:
        columns = {row[1] for row in db.execute("PRAGMA table_info(runs)")}
        assert {"owner_token", "heartbeat_at", "cost_usd", "input_tokens", "output_tokens"} <= columns
        assert db.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    db.close()


def test_open_store_takes_a_path_or_a_url(tmp_path):
    assert isinstance(open_store(tmp_path / "a.sqlite"), SqliteRunStore)
    by_url = open_store(f"sqlite:///{tmp_path}/b.sqlite")
    assert isinstance(by_url, SqliteRunStore) and by_url.path == tmp_path / "b.sqlite"
    with pytest.raises(StoreError, match="mysql://"):
        open_store("mysql://db/runs")


def test_open_store_opens_postgresql_from_a_url(postgres_url):
    store = open_store(postgres_url.replace("postgresql+psycopg://", "postgresql://"))
    assert isinstance(store, PostgresRunStore)
    _add(store, "r1")
    assert store.get("r1").status == "queued"
    store.close()


def test_database_url_points_the_faces_at_postgresql(postgres_url, monkeypatch, tmp_path):
    """``DATABASE_URL`` chooses the store of ``default_service``; ``AGENTS_RUN_STORE`` still wins over it."""
    from agents_core.runs.service import default_service

    monkeypatch.delenv("AGENTS_RUN_STORE", raising=False)
    monkeypatch.setenv("DATABASE_URL", postgres_url)
    service = default_service(tmp_path)
    assert isinstance(service.store, PostgresRunStore) and service.store.url.database == postgres_url.rsplit("/", 1)[1]
    monkeypatch.setenv("AGENTS_RUN_STORE", str(tmp_path / "mine.sqlite"))
    assert isinstance(default_service(tmp_path).store, SqliteRunStore)


def _finish_with_costs(store: RunStore, run_id: str, name: str, costs: list[float | None]) -> None:
    _add(store, run_id, name)
    store.claim(run_id, ME, ("queued",))
    nodes = [
        {"id": f"n{i}", "cost_usd": cost, "price_source": "test", "input_tokens": 10 * (i + 1), "output_tokens": 5}
        for i, cost in enumerate(costs)
    ]
    store.finish(run_id, "success", None, {}, nodes)


def test_finish_writes_the_runs_cost_and_tokens_from_its_node_records(store):
    _finish_with_costs(store, "r1", "flow", [0.25, 0.5])
    info = store.get("r1")
    assert (info.cost_usd, info.input_tokens, info.output_tokens) == (0.75, 30, 10)
    assert store.list()[0].cost_usd == 0.75
    _finish_with_costs(store, "r2", "flow", [0.25, None])  # a node that used tokens is unpriced
    assert store.get("r2").cost_usd is None and store.get("r2").input_tokens == 30
    _add(store, "r3")
    assert store.get("r3").cost_usd is None and store.get("r3").input_tokens is None  # not finished


def test_spend_sums_priced_runs_by_workflow_and_creation_time(store):
    _finish_with_costs(store, "r1", "a", [0.5])
    _finish_with_costs(store, "r2", "b", [0.25])
    _finish_with_costs(store, "r3", "a", [1.0, 0.125])
    _finish_with_costs(store, "r4", "a", [None])  # unpriced: adds nothing
    runs = {r.run_id: r for r in store.list(limit=None)}
    assert store.spend() == pytest.approx(1.875)
    assert store.spend(workflow="a") == pytest.approx(1.625) and store.spend(workflow="c") == 0.0
    since = runs["r2"].created_at
    expected = sum(r.cost_usd or 0 for r in runs.values() if r.created_at >= since and r.workflow_name == "a")
    assert store.spend(workflow="a", since=since) == pytest.approx(expected)
    assert store.spend(until=runs["r1"].created_at) == 0.0  # until is exclusive
    assert store.spend(since=runs["r4"].created_at + 3600) == 0.0
    for workflow, start, end in [(None, None, None), ("a", since, None), (None, None, runs["r3"].created_at)]:
        assert store.spend(workflow, start, end) == pytest.approx(RunStore.spend(store, workflow, start, end))


def test_delete_before_removes_ended_runs_with_their_events_and_keeps_the_rest(store):
    import time as _time

    for run_id, status in [("old", "success"), ("old-failed", "failed"), ("active", "running")]:
        _add(store, run_id, status=status)
    store.append_event("old", 1, "run_started", "2026-01-01T00:00:00+00:00", {"kind": "run_started"})
    store.finish("old", "success")
    store.finish("old-failed", "failed", {"node": None, "type": "E", "message": "m", "hint": "", "category": "c"})
    cut = _time.time() + 0.001
    _time.sleep(0.01)
    _add(store, "new", status="queued")
    store.finish("new", "success")
    assert sorted(store.delete_before(cut)) == ["old", "old-failed"]
    assert sorted(r.run_id for r in store.list()) == ["active", "new"]
    assert store.events("old") == []
    with pytest.raises(RunNotFound):
        store.get("old")
    assert store.delete_before(cut) == []


def test_delete_before_can_keep_to_one_workflow(store):
    import time as _time

    _add(store, "a1", name="a", status="success")
    _add(store, "b1", name="b", status="success")
    assert store.delete_before(_time.time() + 1, workflow="a") == ["a1"]
    assert [r.run_id for r in store.list()] == ["b1"]


async def _checkpoint(store: RunStore, run_id: str) -> None:
    """One LangGraph checkpoint of ``run_id`` written by the store's own saver (as a run's first step does)."""
    from langgraph.checkpoint.base import empty_checkpoint

    async with store.checkpointer() as saver:
        config = {"configurable": {"thread_id": run_id, "checkpoint_ns": ""}}
        await saver.aput(config, empty_checkpoint(), {"source": "input", "step": -1}, {})


def test_delete_runs_forgets_rows_events_and_checkpoints(store):
    import asyncio

    for run_id in ("r1", "r2", "keep"):
        _add(store, run_id)
        store.append_event(run_id, 1, "run_started", "2026-01-01T00:00:00+00:00", {"kind": "run_started"})
        asyncio.run(_checkpoint(store, run_id))
    assert all(store.has_checkpoint(run_id) for run_id in ("r1", "r2", "keep"))
    assert store.delete_runs(["r1", "r2", "missing"]) == 2
    for run_id in ("r1", "r2"):
        with pytest.raises(RunNotFound):
            store.get(run_id)
        assert store.events(run_id) == [] and not store.has_checkpoint(run_id)
    assert store.get("keep").last_seq == 1 and store.has_checkpoint("keep")
    assert store.delete_runs([]) == 0


def test_rewrite_costs_replaces_node_records_and_totals(store):
    _finish_with_costs(store, "r1", "flow", [None, None])
    assert store.get("r1").cost_usd is None
    nodes = [dict(node, cost_usd=0.5, price_source="pricing.yaml") for node in store.get("r1").nodes]
    store.rewrite_costs("r1", nodes)
    info = store.get("r1")
    assert info.cost_usd == 1.0 and [n["price_source"] for n in info.nodes] == ["pricing.yaml"] * 2
    assert (info.input_tokens, info.output_tokens) == (30, 10)


def test_sqlite_checkpoints_live_beside_the_store(tmp_path):
    """SQLite only: checkpoints in ``checkpoints.sqlite`` beside ``runs.sqlite``, never in the run store's file."""
    import asyncio

    store = SqliteRunStore(tmp_path / "runs.sqlite")
    _add(store, "r1")
    asyncio.run(_checkpoint(store, "r1"))
    assert store.checkpoint_path == tmp_path / "checkpoints.sqlite" and store.has_checkpoint("r1")
    with sqlite3.connect(tmp_path / "runs.sqlite") as db:
        tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    db.close()
    assert "checkpoints" not in tables and {"runs", "run_events"} <= tables


def test_an_idempotency_key_binds_once_across_connections(connect):
    first, second = connect(), connect()
    assert first.reserve_key("flow", "order-42", "run-a", "hash-a") is None
    assert second.reserve_key("flow", "order-42", "run-b", "hash-b") == ("run-a", "hash-a")
    assert second.find_key("flow", "order-42") == ("run-a", "hash-a")
    assert second.reserve_key("other-flow", "order-42", "run-c", None) is None  # keys are per workflow
    second.forget_key("flow", "order-42", "run-b")  # only the run it is bound to unbinds it
    assert first.find_key("flow", "order-42") == ("run-a", "hash-a")
    first.forget_key("flow", "order-42", "run-a")
    assert second.find_key("flow", "order-42") is None


def test_deleting_a_run_forgets_its_idempotency_keys(store):
    _add(store, "r1")
    store.reserve_key("flow", "k", "r1", None)
    store.delete_runs(["r1"])
    assert store.find_key("flow", "k") is None


def test_a_row_can_be_born_claimed_with_its_origin(store):
    store.insert("r1", "flow", None, "text", {}, {}, "queued", owner=ME, origin="server")
    info = store.get("r1")
    assert (info.status, info.owner, info.attempts, info.origin) == ("running", ME, 1, "server")
    assert info.started_at is not None and info.heartbeat_at is not None
    assert not store.claim("r1", YOU, ("queued",))  # nobody else can claim it as queued
    _add(store, "r2")
    assert store.get("r2").origin is None


def test_events_appended_together_are_all_or_nothing(store):
    _add(store, "r1")
    _add(store, "r2")
    store.append_events([("r1", 1, "run_started", "t", {}), ("r2", 1, "run_started", "t", {})])
    assert [e.seq for e in store.events("r1")] == [1] and [e.seq for e in store.events("r2")] == [1]
    with pytest.raises(RunConflict):  # r1's seq 1 is taken: r2's seq 2 is not written either
        store.append_events([("r2", 2, "node_started", "t", {}), ("r1", 1, "run_started", "t", {})])
    assert [e.seq for e in store.events("r2")] == [1]


def test_processes_set_up_the_checkpoints_of_a_fresh_database_at_once(postgres_url):
    """The saver's first set-up builds its indexes CONCURRENTLY, which waits for every open transaction:
    workers starting their first runs together deadlocked on the set-up lock (a run failed with
    DeadlockDetected). Now each waits its turn outside any transaction, and all of them go on."""
    import asyncio

    stores = [PostgresRunStore(postgres_url) for _ in range(4)]

    async def first_use(store: PostgresRunStore) -> object:
        async with store.checkpointer() as saver:
            return await saver.aget_tuple({"configurable": {"thread_id": "nothing-yet"}})

    async def all_at_once() -> list[object]:
        return await asyncio.gather(*(first_use(store) for store in stores))

    try:
        assert asyncio.run(all_at_once()) == [None] * 4
        assert all(store.has_checkpoint("nothing-yet") is False for store in stores)
    finally:
        for store in stores:
            store.close()


def test_a_deadlock_is_an_ordinary_failure_not_a_lost_store(postgres_url):
    """``unavailable`` names the store only for a lost or refused connection; a transaction the server
    rolled back (deadlock, serialization failure) is a failure of its own, not "lost its run store"."""
    import psycopg
    import sqlalchemy as sa

    store = PostgresRunStore(postgres_url)
    deadlock = psycopg.errors.DeadlockDetected("deadlock detected")
    assert store.unavailable(deadlock) is None
    assert store.unavailable(sa.exc.OperationalError("SELECT 1", {}, deadlock)) is None
    assert store.unavailable(psycopg.errors.SerializationFailure("could not serialize")) is None
    assert store.unavailable(psycopg.OperationalError("connection refused")) == store.where
    store.close()
