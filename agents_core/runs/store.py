"""Where runs are kept: a row of facts per run, its event log, and LangGraph's checkpoints.

:class:`RunStore` is the one small interface the run service needs;
:class:`SqliteRunStore` implements it in one SQLite file
(``<workspace>/.configurable-agents/runs.sqlite``), with LangGraph's own
``AsyncSqliteSaver`` checkpoints in a file beside it (``checkpoints.sqlite``),
so runs survive restarts. A PostgreSQL
store (a later issue) implements the same methods and passes the same
conformance tests (``tests/runs/test_store_conformance.py``).

The ``runs`` row holds what a resume needs that a checkpoint does not (the
workflow text, inputs, overrides), the lifecycle (status, owner, heartbeat,
a cancel request) and the outcome (error, outputs, node records). The
``run_events`` table holds every event, keyed by (run_id, seq), so any face
can replay a run from any ``seq`` and then follow it. The file runs in WAL
mode with ``synchronous=NORMAL``: a commit per event, no fsync per event.

Why two files: the saver writes on an aiosqlite thread but commits only when
the run's event loop comes back to it, while the run service writes events
synchronously on that same loop. In one file, an event written while a branch's
checkpoint write was open waited for a lock that only the blocked loop could
release, and after the 30 s timeout the run failed with "database is locked".
A store whose checkpoints still live in ``runs.sqlite`` (before this split) has
them moved to the new file when it is opened, so its runs stay resumable.
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Callable, Iterable, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from agents_core.engine.events import NodeRecord, RunErrorInfo, total_cost
from agents_core.errors import RunNotFound
from agents_core.runs.lifecycle import ACTIVE_STATUSES, RUNNING, Owner

STORE_DIR = ".configurable-agents"
STORE_FILE = "runs.sqlite"
CHECKPOINT_FILE = "checkpoints.sqlite"
STORE_ENV = "AGENTS_RUN_STORE"

#: (kind, at, data) of an event written by the store itself.
EventRow = tuple[str, str, dict[str, Any]]


@dataclass(frozen=True)
class RunInfo:
    """One run as the store knows it: what it ran, where it is in its life, and what it left.

    ``error`` is the failure's message (``error_info`` the full record: node,
    type, message, hint, category); ``nodes`` are the node records as dicts.
    Times are UNIX seconds.
    """

    run_id: str
    workflow_name: str
    workflow_file: str | None
    workflow_text: str
    inputs: dict[str, Any]
    overrides: dict[str, Any]
    status: str
    error: str | None
    created_at: float
    updated_at: float = 0.0
    started_at: float | None = None
    finished_at: float | None = None
    owner: Owner | None = None
    heartbeat_at: float | None = None
    cancel_requested: bool = False
    reason: str | None = None
    error_info: dict[str, Any] | None = None
    outputs: dict[str, Any] = field(default_factory=dict)
    nodes: list[dict[str, Any]] = field(default_factory=list)
    last_seq: int = 0
    #: USD of the run's node records, written at its finish (``None``: unpriced, or not finished).
    cost_usd: float | None = None
    input_tokens: int | None = None
    output_tokens: int | None = None

    @property
    def node_records(self) -> list[NodeRecord]:
        """The node records as typed objects (filled when the run ends; live rows come from events)."""
        return [NodeRecord.from_dict(node) for node in self.nodes]

    @property
    def error_details(self) -> RunErrorInfo | None:
        """The failure as data: node, type, message, hint, category."""
        return RunErrorInfo.from_dict(self.error_info) if self.error_info else None

    @property
    def duration_s(self) -> float | None:
        if self.started_at is None:
            return None
        return (self.finished_at or time.time()) - self.started_at


@dataclass(frozen=True)
class StoredEvent:
    """One row of a run's event log (``data`` is the event's ``to_dict()``)."""

    run_id: str
    seq: int
    kind: str
    at: str
    data: dict[str, Any]


def default_store_path(workspace: str | os.PathLike[str] | None = None) -> Path:
    """``$AGENTS_RUN_STORE``, else ``<workspace>/.configurable-agents/runs.sqlite`` (for faces only)."""
    if os.environ.get(STORE_ENV):
        return Path(os.environ[STORE_ENV])
    root = Path(workspace or os.environ.get("AGENTS_WORKSPACE") or os.getcwd())
    return root / STORE_DIR / STORE_FILE


class RunStore(ABC):
    """What the run service asks of a store. Every method is safe to call from any thread."""

    @abstractmethod
    def insert(
        self,
        run_id: str,
        workflow_name: str,
        workflow_file: str | None,
        workflow_text: str,
        inputs: dict[str, Any],
        overrides: dict[str, Any],
        status: str = "queued",
    ) -> None:
        """A new run row (``RunConflict``-free: the caller made the id unique)."""

    @abstractmethod
    def claim(self, run_id: str, owner: Owner, from_statuses: Sequence[str]) -> bool:
        """Atomically make ``owner`` the owner of a run whose status is in ``from_statuses``; False if not."""

    @abstractmethod
    def heartbeat(self, run_id: str, owner: Owner) -> bool:
        """Refresh the heartbeat; True when ``owner`` still owns the run."""

    @abstractmethod
    def finish(
        self,
        run_id: str,
        status: str,
        error: dict[str, Any] | None = None,
        outputs: dict[str, Any] | None = None,
        nodes: list[dict[str, Any]] | None = None,
        reason: str | None = None,
        final_event: tuple[int, str, str, dict[str, Any]] | None = None,
    ) -> None:
        """Write a terminal status and the outcome, and (in the same transaction) the run's last event.

        ``final_event`` is ``(seq, kind, at, data)``; writing it with the status means a
        reader that sees a terminal status also finds ``run_finished`` in the log.
        """

    @abstractmethod
    def interrupt(
        self, run_id: str, owner_token: str | None, reason: str, final_event: Callable[[int], EventRow] | None = None
    ) -> bool:
        """``running``/``queued`` -> ``interrupted`` if the row still names that owner; True if it changed.

        ``final_event(seq)`` gives the ``(kind, at, data)`` of the event appended with the change.
        """

    @abstractmethod
    def request_cancel(self, run_id: str) -> None:
        """Ask the owner to cancel (it polls :meth:`cancel_requested`)."""

    @abstractmethod
    def cancel_requested(self, run_id: str) -> bool: ...

    @abstractmethod
    def append_event(self, run_id: str, seq: int, kind: str, at: str, data: dict[str, Any]) -> None:
        """Add one event; ``(run_id, seq)`` is unique."""

    @abstractmethod
    def events(self, run_id: str, after_seq: int = 0, limit: int | None = None) -> list[StoredEvent]: ...

    @abstractmethod
    def last_seq(self, run_id: str) -> int: ...

    @abstractmethod
    def get(self, run_id: str) -> RunInfo:
        """The run, or ``RunNotFound``."""

    @abstractmethod
    def list(
        self,
        status: str | Iterable[str] | None = None,
        workflow: str | None = None,
        since: float | None = None,
        limit: int | None = 50,
    ) -> list[RunInfo]:
        """Runs, newest first."""

    def spend(self, workflow: str | None = None, since: float | None = None, until: float | None = None) -> float:
        """USD spent by runs created in ``[since, until)`` (UNIX seconds), of one workflow or all.

        Every status counts (a failed run cost money too); unpriced runs add nothing.
        This default reads :meth:`list`; a backend may answer it with one query.
        """
        runs = self.list(workflow=workflow, since=since, limit=None)
        return sum(r.cost_usd or 0.0 for r in runs if until is None or r.created_at < until)

    def delete_runs(self, run_ids: Sequence[str]) -> int:
        """Forget runs: their rows, event logs and checkpoints (``costs prune``); the number of runs deleted."""
        raise NotImplementedError(f"{type(self).__name__} cannot delete runs yet.")

    def rewrite_costs(self, run_id: str, nodes: list[dict[str, Any]]) -> None:
        """Replace a finished run's node records (new ``cost_usd``/``price_source``) and its totals (``costs reprice --apply``)."""
        raise NotImplementedError(f"{type(self).__name__} cannot rewrite costs yet.")

    @abstractmethod
    def has_checkpoint(self, run_id: str) -> bool: ...

    @abstractmethod
    def delete_before(self, ts: float, workflow: str | None = None) -> list[str]:
        """Delete every run that ended (or, never started, was created) before ``ts`` (UNIX seconds).

        Only ``workflow``'s runs when it is given. Its row, its events and its checkpoints
        go; an active run is never deleted. Returns the ids deleted.
        """

    @abstractmethod
    def checkpointer(self) -> Any:
        """An async context manager giving a LangGraph checkpoint saver on this store."""

    # -- the names the faces used before the run service ----------------------------
    def create(
        self,
        run_id: str,
        workflow_name: str,
        workflow_file: str | None,
        workflow_text: str,
        inputs: dict[str, Any],
        overrides: dict[str, Any],
    ) -> None:
        """A row that is already ``running`` (the seed's ``create``)."""
        self.insert(run_id, workflow_name, workflow_file, workflow_text, inputs, overrides, status=RUNNING)

    def recent(self, limit: int = 20) -> list[RunInfo]:
        return self.list(limit=limit)


_SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    run_id TEXT PRIMARY KEY,
    workflow_name TEXT NOT NULL,
    workflow_file TEXT,
    workflow_text TEXT NOT NULL,
    inputs TEXT NOT NULL,
    overrides TEXT NOT NULL,
    status TEXT NOT NULL,
    error TEXT,
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS run_events (
    run_id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    kind TEXT NOT NULL,
    at TEXT NOT NULL,
    data TEXT NOT NULL,
    PRIMARY KEY (run_id, seq)
);
"""

#: Columns added since the seed's table; old stores gain them on open.
_NEW_COLUMNS = {
    "started_at": "REAL",
    "finished_at": "REAL",
    "owner_host": "TEXT",
    "owner_pid": "INTEGER",
    "owner_token": "TEXT",
    "heartbeat_at": "REAL",
    "cancel_requested": "INTEGER NOT NULL DEFAULT 0",
    "reason": "TEXT",
    "error_info": "TEXT",
    "outputs": "TEXT",
    "nodes": "TEXT",
    "cost_usd": "REAL",
    "input_tokens": "INTEGER",
    "output_tokens": "INTEGER",
}

_COLUMNS = (
    "run_id, workflow_name, workflow_file, workflow_text, inputs, overrides, status, error, created_at, "
    "updated_at, started_at, finished_at, owner_host, owner_pid, owner_token, heartbeat_at, cancel_requested, "
    "reason, error_info, outputs, nodes, cost_usd, input_tokens, output_tokens"
)


def run_totals(nodes: list[dict[str, Any]] | None) -> tuple[float | None, int, int]:
    """(USD, input tokens, output tokens) of a run's node records, as the ``runs`` row keeps them."""
    nodes = nodes or []
    tokens_in = sum(int(n.get("input_tokens") or 0) for n in nodes)
    tokens_out = sum(int(n.get("output_tokens") or 0) for n in nodes)
    return total_cost(nodes), tokens_in, tokens_out


#: LangGraph's ``AsyncSqliteSaver`` tables (its own ``setup`` creates them the same way).
_CHECKPOINT_SCHEMA = """
CREATE TABLE IF NOT EXISTS {db}checkpoints (
    thread_id TEXT NOT NULL,
    checkpoint_ns TEXT NOT NULL DEFAULT '',
    checkpoint_id TEXT NOT NULL,
    parent_checkpoint_id TEXT,
    type TEXT,
    checkpoint BLOB,
    metadata BLOB,
    PRIMARY KEY (thread_id, checkpoint_ns, checkpoint_id)
);
CREATE TABLE IF NOT EXISTS {db}writes (
    thread_id TEXT NOT NULL,
    checkpoint_ns TEXT NOT NULL DEFAULT '',
    checkpoint_id TEXT NOT NULL,
    task_id TEXT NOT NULL,
    task_path TEXT NOT NULL DEFAULT '',
    idx INTEGER NOT NULL,
    channel TEXT NOT NULL,
    type TEXT,
    value BLOB,
    PRIMARY KEY (thread_id, checkpoint_ns, checkpoint_id, task_id, idx)
);
"""


def checkpoint_path(store_path: str | os.PathLike[str]) -> Path:
    """Where a SQLite store keeps its checkpoints: ``checkpoints.sqlite`` beside ``runs.sqlite``.

    A store file of another name gets ``<name>.checkpoints<suffix>``, so two stores in one folder never share.
    """
    path = Path(store_path)
    if path.name == STORE_FILE:
        return path.with_name(CHECKPOINT_FILE)
    return path.with_name(f"{path.stem}.checkpoints{path.suffix or '.sqlite'}")


def _tables(db: sqlite3.Connection, schema: str = "main") -> set[str]:
    return {row[0] for row in db.execute(f"SELECT name FROM {schema}.sqlite_master WHERE type = 'table'")}


def _move_checkpoints(db: sqlite3.Connection, target: Path) -> None:
    """Move checkpoints kept in the run store's own file (before the split) into ``target``.

    Runs once per old store, in one transaction on both files (a second process
    finds the tables gone); rows already in ``target`` are kept.
    """
    if not {"checkpoints", "writes"} & _tables(db):
        return
    db.execute("ATTACH DATABASE ? AS cp", (str(target),))
    try:
        db.executescript(_CHECKPOINT_SCHEMA.format(db="cp."))
        db.execute("BEGIN IMMEDIATE")
        try:
            have = _tables(db)
            for table in ("checkpoints", "writes"):
                if table not in have:
                    continue
                columns = [row[1] for row in db.execute(f"PRAGMA main.table_info({table})")]
                names = ", ".join(columns)
                db.execute(f"INSERT OR IGNORE INTO cp.{table} ({names}) SELECT {names} FROM main.{table}")
                db.execute(f"DROP TABLE main.{table}")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")
    finally:
        db.execute("DETACH DATABASE cp")


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


class SqliteRunStore(RunStore):
    """The run store in one SQLite file (WAL, synchronous=NORMAL), shared by every process on the host."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.RLock()
        self._db = sqlite3.connect(self.path, timeout=30, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        with self._lock:
            self._db.executescript(_SCHEMA)
            have = {row[1] for row in self._db.execute("PRAGMA table_info(runs)")}
            for name, kind in _NEW_COLUMNS.items():
                if name not in have:
                    with contextlib.suppress(sqlite3.OperationalError):  # another process added it first
                        self._db.execute(f"ALTER TABLE runs ADD COLUMN {name} {kind}")
            self._db.execute("CREATE INDEX IF NOT EXISTS runs_created ON runs (created_at)")
        self.checkpoint_path = checkpoint_path(self.path)
        with contextlib.closing(sqlite3.connect(self.checkpoint_path, timeout=30, isolation_level=None)) as db:
            db.execute("PRAGMA journal_mode=WAL")
            db.executescript(_CHECKPOINT_SCHEMA.format(db=""))
        with self._lock:
            _move_checkpoints(self._db, self.checkpoint_path)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def _write(self, sql: str, params: Sequence[Any] = ()) -> int:
        with self._lock:
            return self._db.execute(sql, params).rowcount

    def insert(
        self,
        run_id: str,
        workflow_name: str,
        workflow_file: str | None,
        workflow_text: str,
        inputs: dict[str, Any],
        overrides: dict[str, Any],
        status: str = "queued",
    ) -> None:
        now = time.time()
        self._write(
            "INSERT INTO runs (run_id, workflow_name, workflow_file, workflow_text, inputs, overrides, status, "
            "created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (run_id, workflow_name, workflow_file, workflow_text, _dumps(inputs), _dumps(overrides), status, now, now),
        )

    def claim(self, run_id: str, owner: Owner, from_statuses: Sequence[str]) -> bool:
        now = time.time()
        marks = ", ".join("?" for _ in from_statuses)
        with self._transaction() as db:
            changed = db.execute(
                f"UPDATE runs SET status = 'running', owner_host = ?, owner_pid = ?, owner_token = ?, "
                f"heartbeat_at = ?, started_at = ?, finished_at = NULL, updated_at = ?, cancel_requested = 0, "
                f"reason = NULL WHERE run_id = ? AND status IN ({marks})",
                (owner.host, owner.pid, owner.token, now, now, now, run_id, *from_statuses),
            ).rowcount
        return changed == 1

    def heartbeat(self, run_id: str, owner: Owner) -> bool:
        return (
            self._write(
                "UPDATE runs SET heartbeat_at = ? WHERE run_id = ? AND owner_token = ? AND status = 'running'",
                (time.time(), run_id, owner.token),
            )
            == 1
        )

    def finish(
        self,
        run_id: str,
        status: str,
        error: dict[str, Any] | str | None = None,
        outputs: dict[str, Any] | None = None,
        nodes: list[dict[str, Any]] | None = None,
        reason: str | None = None,
        final_event: tuple[int, str, str, dict[str, Any]] | None = None,
    ) -> None:
        if isinstance(error, str):  # the seed's finish(run_id, status, message)
            error = {"node": None, "type": "RunError", "message": error, "hint": "", "category": "run_failed"}
        now = time.time()
        cost, tokens_in, tokens_out = run_totals(nodes)
        with self._transaction() as db:
            db.execute(
                "UPDATE runs SET status = ?, error = ?, error_info = ?, outputs = ?, nodes = ?, reason = ?, "
                "finished_at = ?, updated_at = ?, cancel_requested = 0, cost_usd = ?, input_tokens = ?, "
                "output_tokens = ? WHERE run_id = ?",
                (
                    status,
                    error["message"] if error else None,
                    _dumps(error) if error else None,
                    json.dumps(outputs or {}, ensure_ascii=False, default=str),
                    json.dumps(nodes or [], ensure_ascii=False, default=str),
                    reason,
                    now,
                    now,
                    cost,
                    tokens_in,
                    tokens_out,
                    run_id,
                ),
            )
            if final_event is not None:
                self._insert_event(db, run_id, *final_event)

    def interrupt(
        self, run_id: str, owner_token: str | None, reason: str, final_event: Callable[[int], EventRow] | None = None
    ) -> bool:
        now = time.time()
        marks = ", ".join("?" for _ in ACTIVE_STATUSES)
        with self._transaction() as db:
            changed = db.execute(
                f"UPDATE runs SET status = 'interrupted', reason = ?, finished_at = ?, updated_at = ? "
                f"WHERE run_id = ? AND status IN ({marks}) AND owner_token IS ?",
                (reason, now, now, run_id, *ACTIVE_STATUSES, owner_token),
            ).rowcount
            if changed == 1 and final_event is not None:
                row = db.execute("SELECT MAX(seq) FROM run_events WHERE run_id = ?", (run_id,)).fetchone()
                seq = int(row[0] or 0) + 1
                self._insert_event(db, run_id, seq, *final_event(seq))
        return changed == 1

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    @staticmethod
    def _insert_event(db: sqlite3.Connection, run_id: str, seq: int, kind: str, at: str, data: dict[str, Any]) -> None:
        db.execute(
            "INSERT INTO run_events (run_id, seq, kind, at, data) VALUES (?, ?, ?, ?, ?)",
            (run_id, seq, kind, at, json.dumps(data, ensure_ascii=False, default=str)),
        )

    def request_cancel(self, run_id: str) -> None:
        self._write("UPDATE runs SET cancel_requested = 1, updated_at = ? WHERE run_id = ?", (time.time(), run_id))

    def cancel_requested(self, run_id: str) -> bool:
        with self._lock:
            row = self._db.execute("SELECT cancel_requested FROM runs WHERE run_id = ?", (run_id,)).fetchone()
        return bool(row and row[0])

    def append_event(self, run_id: str, seq: int, kind: str, at: str, data: dict[str, Any]) -> None:
        with self._lock:
            self._insert_event(self._db, run_id, seq, kind, at, data)

    def events(self, run_id: str, after_seq: int = 0, limit: int | None = None) -> list[StoredEvent]:
        with self._lock:
            rows = self._db.execute(
                "SELECT run_id, seq, kind, at, data FROM run_events WHERE run_id = ? AND seq > ? ORDER BY seq LIMIT ?",
                (run_id, after_seq, -1 if limit is None else limit),
            ).fetchall()
        return [StoredEvent(r[0], r[1], r[2], r[3], json.loads(r[4])) for r in rows]

    def last_seq(self, run_id: str) -> int:
        with self._lock:
            row = self._db.execute("SELECT MAX(seq) FROM run_events WHERE run_id = ?", (run_id,)).fetchone()
        return int(row[0] or 0)

    def _info(self, row: Sequence[Any]) -> RunInfo:
        owner = Owner(row[12], int(row[13]), row[14]) if row[12] and row[13] is not None else None
        return RunInfo(
            run_id=row[0],
            workflow_name=row[1],
            workflow_file=row[2],
            workflow_text=row[3],
            inputs=json.loads(row[4]),
            overrides=json.loads(row[5]),
            status=row[6],
            error=row[7],
            created_at=row[8],
            updated_at=row[9],
            started_at=row[10],
            finished_at=row[11],
            owner=owner,
            heartbeat_at=row[15],
            cancel_requested=bool(row[16]),
            reason=row[17],
            error_info=json.loads(row[18]) if row[18] else None,
            outputs=json.loads(row[19]) if row[19] else {},
            nodes=json.loads(row[20]) if row[20] else [],
            cost_usd=row[21],
            input_tokens=row[22],
            output_tokens=row[23],
            last_seq=row[24] if len(row) > 24 else 0,
        )

    def get(self, run_id: str) -> RunInfo:
        with self._lock:
            row = self._db.execute(
                f"SELECT {_COLUMNS}, (SELECT MAX(seq) FROM run_events e WHERE e.run_id = runs.run_id) "
                "FROM runs WHERE run_id = ?",
                (run_id,),
            ).fetchone()
        if row is None:
            raise RunNotFound(
                f"no run with id {run_id!r} in {self.path}.",
                "Use the run id printed when the run started, from the same workspace "
                "(configurable-agents runs list shows them).",
            )
        return self._info((*row[:-1], row[-1] or 0))

    def list(
        self,
        status: str | Iterable[str] | None = None,
        workflow: str | None = None,
        since: float | None = None,
        limit: int | None = 50,
    ) -> list[RunInfo]:
        where, params = [], []
        if status is not None:
            statuses = [status] if isinstance(status, str) else list(status)
            where.append(f"status IN ({', '.join('?' for _ in statuses)})")
            params += statuses
        if workflow is not None:
            where.append("workflow_name = ?")
            params.append(workflow)
        if since is not None:
            where.append("created_at >= ?")
            params.append(since)
        clause = f"WHERE {' AND '.join(where)}" if where else ""
        with self._lock:
            rows = self._db.execute(
                f"SELECT {_COLUMNS}, 0 FROM runs {clause} ORDER BY created_at DESC, rowid DESC LIMIT ?",
                (*params, -1 if limit is None else limit),
            ).fetchall()
        return [self._info(row) for row in rows]

    def delete_before(self, ts: float, workflow: str | None = None) -> list[str]:
        marks = ", ".join("?" for _ in ACTIVE_STATUSES)
        only = " AND workflow_name = ?" if workflow is not None else ""
        params = (ts, *ACTIVE_STATUSES) + ((workflow,) if workflow is not None else ())
        with self._lock:
            ids = [
                row[0]
                for row in self._db.execute(
                    "SELECT run_id FROM runs WHERE COALESCE(finished_at, created_at) < ? "
                    f"AND status NOT IN ({marks}){only}",
                    params,
                )
            ]
        self.delete_runs(ids)
        return ids

    def spend(self, workflow: str | None = None, since: float | None = None, until: float | None = None) -> float:
        where, params = ["cost_usd IS NOT NULL"], []
        for clause, value in (("workflow_name = ?", workflow), ("created_at >= ?", since), ("created_at < ?", until)):
            if value is not None:
                where.append(clause)
                params.append(value)
        with self._lock:
            row = self._db.execute(f"SELECT SUM(cost_usd) FROM runs WHERE {' AND '.join(where)}", params).fetchone()
        return float(row[0] or 0.0)

    def delete_runs(self, run_ids: Sequence[str]) -> int:
        deleted = 0
        with self._transaction() as db:
            for run_id in run_ids:
                deleted += db.execute("DELETE FROM runs WHERE run_id = ?", (run_id,)).rowcount
                db.execute("DELETE FROM run_events WHERE run_id = ?", (run_id,))
        with contextlib.closing(sqlite3.connect(self.checkpoint_path, timeout=30)) as db, db:
            for table in ("checkpoints", "writes") if {"checkpoints", "writes"} <= _tables(db) else ():
                db.executemany(f"DELETE FROM {table} WHERE thread_id = ?", [(run_id,) for run_id in run_ids])
        return deleted

    def rewrite_costs(self, run_id: str, nodes: list[dict[str, Any]]) -> None:
        cost, tokens_in, tokens_out = run_totals(nodes)
        self._write(
            "UPDATE runs SET nodes = ?, cost_usd = ?, input_tokens = ?, output_tokens = ?, updated_at = ? "
            "WHERE run_id = ?",
            (json.dumps(nodes, ensure_ascii=False, default=str), cost, tokens_in, tokens_out, time.time(), run_id),
        )

    def has_checkpoint(self, run_id: str) -> bool:
        with contextlib.closing(sqlite3.connect(self.checkpoint_path, timeout=30)) as db:
            row = db.execute("SELECT 1 FROM checkpoints WHERE thread_id = ? LIMIT 1", (run_id,)).fetchone()
        return row is not None

    @asynccontextmanager
    async def checkpointer(self) -> AsyncIterator[Any]:
        """LangGraph's ``AsyncSqliteSaver`` on the checkpoint file, restoring only plain data and our error types."""
        import aiosqlite
        from langgraph.checkpoint.sqlite.aio import AsyncSqliteSaver

        async with aiosqlite.connect(str(self.checkpoint_path), timeout=30) as connection:
            await connection.execute("PRAGMA journal_mode=WAL")
            await connection.execute("PRAGMA synchronous=NORMAL")
            yield AsyncSqliteSaver(connection, serde=checkpoint_serializer())


def checkpoint_serializer() -> Any:
    """LangGraph's serializer, allowed to restore only plain data, our own error types and the node record they carry."""
    from langgraph.checkpoint.serde.jsonplus import JsonPlusSerializer

    from agents_core import errors
    from agents_core.engine import events

    allowed = [
        (errors.__name__, name)
        for name, value in vars(errors).items()
        if isinstance(value, type) and issubclass(value, BaseException) and value.__module__ == errors.__name__
    ]
    allowed.append((events.__name__, events.NodeRecord.__name__))  # a NodeError's record, in a failed step's writes
    return JsonPlusSerializer(allowed_msgpack_modules=allowed)


def open_store(target: str | os.PathLike[str] | RunStore) -> RunStore:
    """A store from a path (SQLite) or a store as it is."""
    if isinstance(target, RunStore):
        return target
    return SqliteRunStore(target)
