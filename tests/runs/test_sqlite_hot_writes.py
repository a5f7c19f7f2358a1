"""The SQLite store's hot path: a run's row, events and end written through the driver, not SQLAlchemy.

The store conformance suite holds both dialects to the same behaviour; these
cover what only this path has: the columns an insert leaves out take their
defaults, the connection is opened again after ``close`` and in a forked child,
and a refused statement rolls its whole transaction back.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import pytest

from agents_core.errors import RunConflict
from agents_core.runs.lifecycle import current_owner
from agents_core.runs.store import SqliteRunStore


def _insert(store: SqliteRunStore, run_id: str) -> None:
    store.insert(run_id, "wf", None, "text", {"topic": "x"}, {}, owner=current_owner(), origin="server")


def test_an_insert_names_only_its_columns_and_the_rest_take_their_defaults(tmp_path: Path) -> None:
    store = SqliteRunStore(tmp_path / "runs.sqlite")
    store.insert("queued1", "wf", None, "text", {}, {})
    _insert(store, "owned1")
    with sqlite3.connect(tmp_path / "runs.sqlite") as db:
        rows = dict(db.execute("SELECT run_id, cancel_requested || '/' || attempts FROM runs").fetchall())
    assert rows == {"queued1": "0/0", "owned1": "0/1"}
    assert store.get("owned1").status == "running" and store.get("queued1").status == "queued"


def test_a_refused_statement_rolls_back_its_transaction(tmp_path: Path) -> None:
    store = SqliteRunStore(tmp_path / "runs.sqlite")
    _insert(store, "r1")
    store.append_event("r1", 1, "run_started", "t", {})
    with pytest.raises(RunConflict):  # the status update is written first, then the taken seq 1 refuses all
        store.finish("r1", "success", None, {}, [], None, (2, "run_finished", "t", {}), events=[(1, "x", "t", {})])
    assert store.get("r1").status == "running" and [e.seq for e in store.events("r1")] == [1]
    store.finish("r1", "success", None, {}, [], None, (2, "run_finished", "t", {}))
    assert store.get("r1").status == "success"


def test_closed_and_forked_stores_open_their_own_connection(tmp_path: Path) -> None:
    store = SqliteRunStore(tmp_path / "runs.sqlite")
    _insert(store, "before")
    store.close()
    _insert(store, "after-close")
    pid = os.fork()
    if pid == 0:  # the child writes through a connection of its own, then leaves without cleaning up
        try:
            _insert(store, "in-child")
            os._exit(0)
        except BaseException:
            os._exit(1)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    _insert(store, "parent-again")
    assert {run.run_id for run in store.list()} == {"before", "after-close", "in-child", "parent-again"}
