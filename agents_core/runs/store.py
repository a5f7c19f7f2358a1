"""Where runs are kept: a row of facts per run, its event log, and LangGraph's checkpoints.

:class:`RunStore` is the one small interface the run service needs;
:class:`SqliteRunStore` implements it in one SQLite file
(``<workspace>/.configurable-agents/runs.sqlite``) next to LangGraph's own
``AsyncSqliteSaver`` checkpoints, so runs survive restarts. A PostgreSQL
store (a later issue) implements the same methods and passes the same
conformance tests (``tests/runs/test_store_conformance.py``).

The ``runs`` row holds what a resume needs that a checkpoint does not (the
workflow text, inputs, overrides), the lifecycle (status, owner, heartbeat,
a cancel request) and the outcome (error, outputs, node records). The
``run_events`` table holds every event, keyed by (run_id, seq), so any face
can replay a run from any ``seq`` and then follow it. The file runs in WAL
mode with ``synchronous=NORMAL``: a commit per event, no fsync per event.
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

from agents_core.engine.events import NodeRecord, RunErrorInfo
from agents_core.errors import RunNotFound
from agents_core.runs.lifecycle import ACTIVE_STATUSES, FAILED, QUEUED, RUNNING, Owner

STORE_DIR = ".configurable-agents"
STORE_FILE = "runs.sqlite"
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
    #: Where the run executes: ``None`` in the process that started it, ``"celery"`` on a worker.
    executor: str | None = None
    #: How many times an owner claimed the run (a worker's re-queue counts against a limit).
    attempts: int = 0
    #: When the run's id was last sent to the broker (``None``: never, e.g. the broker was down).
    sent_at: float | None = None

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
        executor: str | None = None,
    ) -> None:
        """A new run row (``RunConflict``-free: the caller made the id unique); ``executor`` as on :class:`RunInfo`."""

    @abstractmethod
    def claim(self, run_id: str, owner: Owner, from_statuses: Sequence[str]) -> bool:
        """Atomically make ``owner`` the owner of a run whose status is in ``from_statuses``; False if not.

        A claim counts one attempt (``attempts + 1``).
        """

    @abstractmethod
    def requeue(
        self,
        run_id: str,
        owner_token: str | None,
        reason: str,
        max_attempts: int,
        final_event: Callable[[int], EventRow] | None = None,
    ) -> str | None:
        """An active run whose owner (still ``owner_token``) is gone goes back to ``queued`` in one step.

        Below ``max_attempts`` the row becomes ``queued`` with no owner and ``sent_at``
        cleared (so a sweeper sends it again); at the limit it becomes ``failed`` with
        ``reason``, and ``final_event(seq)`` is appended with it. The new status, or
        ``None`` when the row had changed meanwhile (another process got there first).
        """

    @abstractmethod
    def mark_sent(self, run_id: str) -> None:
        """Note that the run's id was just handed to the broker."""

    @abstractmethod
    def cancel_queued(self, run_id: str, final_event: Callable[[int], EventRow]) -> bool:
        """``queued`` -> ``cancelled`` (no owner to ask), with ``final_event(seq)``; True if it changed."""

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

    @abstractmethod
    def has_checkpoint(self, run_id: str) -> bool: ...

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
    "executor": "TEXT",
    "attempts": "INTEGER NOT NULL DEFAULT 0",
    "sent_at": "REAL",
}

_COLUMNS = (
    "run_id, workflow_name, workflow_file, workflow_text, inputs, overrides, status, error, created_at, "
    "updated_at, started_at, finished_at, owner_host, owner_pid, owner_token, heartbeat_at, cancel_requested, "
    "reason, error_info, outputs, nodes, executor, attempts, sent_at"
)


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
        executor: str | None = None,
    ) -> None:
        now = time.time()
        self._write(
            "INSERT INTO runs (run_id, workflow_name, workflow_file, workflow_text, inputs, overrides, status, "
            "created_at, updated_at, executor) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                run_id,
                workflow_name,
                workflow_file,
                workflow_text,
                _dumps(inputs),
                _dumps(overrides),
                status,
                now,
                now,
                executor,
            ),
        )

    def claim(self, run_id: str, owner: Owner, from_statuses: Sequence[str]) -> bool:
        now = time.time()
        marks = ", ".join("?" for _ in from_statuses)
        with self._transaction() as db:
            changed = db.execute(
                f"UPDATE runs SET status = 'running', owner_host = ?, owner_pid = ?, owner_token = ?, "
                f"heartbeat_at = ?, started_at = ?, finished_at = NULL, updated_at = ?, cancel_requested = 0, "
                f"reason = NULL, attempts = attempts + 1 WHERE run_id = ? AND status IN ({marks})",
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
        with self._transaction() as db:
            db.execute(
                "UPDATE runs SET status = ?, error = ?, error_info = ?, outputs = ?, nodes = ?, reason = ?, "
                "finished_at = ?, updated_at = ?, cancel_requested = 0 WHERE run_id = ?",
                (
                    status,
                    error["message"] if error else None,
                    _dumps(error) if error else None,
                    json.dumps(outputs or {}, ensure_ascii=False, default=str),
                    json.dumps(nodes or [], ensure_ascii=False, default=str),
                    reason,
                    now,
                    now,
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
                self._append_next(db, run_id, final_event)
        return changed == 1

    def requeue(
        self,
        run_id: str,
        owner_token: str | None,
        reason: str,
        max_attempts: int,
        final_event: Callable[[int], EventRow] | None = None,
    ) -> str | None:
        now = time.time()
        marks = ", ".join("?" for _ in ACTIVE_STATUSES)
        with self._transaction() as db:
            row = db.execute(
                f"SELECT attempts FROM runs WHERE run_id = ? AND status IN ({marks}) AND owner_token IS ?",
                (run_id, *ACTIVE_STATUSES, owner_token),
            ).fetchone()
            if row is None:
                return None
            if int(row[0] or 0) < max_attempts:
                db.execute(
                    "UPDATE runs SET status = 'queued', reason = ?, owner_host = NULL, owner_pid = NULL, "
                    "owner_token = NULL, heartbeat_at = NULL, sent_at = NULL, updated_at = ? WHERE run_id = ?",
                    (reason, now, run_id),
                )
                return QUEUED
            error = {"node": None, "type": "RunInterrupted", "message": reason, "hint": "", "category": "run_failed"}
            db.execute(
                "UPDATE runs SET status = 'failed', reason = ?, error = ?, error_info = ?, finished_at = ?, "
                "updated_at = ? WHERE run_id = ?",
                (reason, reason, _dumps(error), now, now, run_id),
            )
            if final_event is not None:
                self._append_next(db, run_id, final_event)
            return FAILED

    def mark_sent(self, run_id: str) -> None:
        self._write("UPDATE runs SET sent_at = ? WHERE run_id = ?", (time.time(), run_id))

    def cancel_queued(self, run_id: str, final_event: Callable[[int], EventRow]) -> bool:
        now = time.time()
        with self._transaction() as db:
            changed = db.execute(
                "UPDATE runs SET status = 'cancelled', finished_at = ?, updated_at = ?, cancel_requested = 0, "
                "reason = 'cancelled while queued' WHERE run_id = ? AND status = 'queued'",
                (now, now, run_id),
            ).rowcount
            if changed == 1:
                self._append_next(db, run_id, final_event)
        return changed == 1

    def _append_next(self, db: sqlite3.Connection, run_id: str, final_event: Callable[[int], EventRow]) -> None:
        row = db.execute("SELECT MAX(seq) FROM run_events WHERE run_id = ?", (run_id,)).fetchone()
        seq = int(row[0] or 0) + 1
        self._insert_event(db, run_id, seq, *final_event(seq))

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
            executor=row[21],
            attempts=int(row[22] or 0),
            sent_at=row[23],
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

    def has_checkpoint(self, run_id: str) -> bool:
        with self._lock:
            exists = self._db.execute(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'checkpoints'"
            ).fetchone()
            if not exists:
                return False
            row = self._db.execute("SELECT 1 FROM checkpoints WHERE thread_id = ? LIMIT 1", (run_id,)).fetchone()
        return row is not None

    @asynccontextmanager
    async def checkpointer(self) -> AsyncIterator[Any]:
        """LangGraph's ``AsyncSqliteSaver`` on this file, restoring only plain data and our error types."""
        import aiosqlite
        from langgraph.checkpoint.sqlite.aio import AsyncSqliteSaver

        async with aiosqlite.connect(str(self.path), timeout=30) as connection:
            await connection.execute("PRAGMA journal_mode=WAL")
            await connection.execute("PRAGMA synchronous=NORMAL")
            yield AsyncSqliteSaver(connection, serde=checkpoint_serializer())


def checkpoint_serializer() -> Any:
    """LangGraph's serializer, allowed to restore only plain data and our own error types."""
    from langgraph.checkpoint.serde.jsonplus import JsonPlusSerializer

    from agents_core import errors

    allowed = [
        (errors.__name__, name)
        for name, value in vars(errors).items()
        if isinstance(value, type) and issubclass(value, BaseException) and value.__module__ == errors.__name__
    ]
    return JsonPlusSerializer(allowed_msgpack_modules=allowed)


def open_store(target: str | os.PathLike[str] | RunStore) -> RunStore:
    """A store from a path (SQLite) or a store as it is."""
    if isinstance(target, RunStore):
        return target
    return SqliteRunStore(target)
