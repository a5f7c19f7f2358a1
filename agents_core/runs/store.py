"""Where runs are kept: a row of facts per run, its event log, and LangGraph's checkpoints.

:class:`RunStore` is the one small interface the run service needs. Its
backends live in :mod:`agents_core.runs.stores`, all on SQLAlchemy Core:
``SqliteRunStore`` (the default: ``<workspace>/.configurable-agents/runs.sqlite``,
with LangGraph's ``AsyncSqliteSaver`` checkpoints in a file beside it,
``checkpoints.sqlite``, see :func:`checkpoint_path`) and ``PostgresRunStore`` (when
``DATABASE_URL=postgresql+psycopg://…``, with ``AsyncPostgresSaver``). Both pass
the same conformance tests (``tests/runs/test_store_conformance.py``).
:func:`open_store` picks one from a path or a URL; both classes are importable
from here as before (loaded on first use, so importing this module stays light).

The ``runs`` row holds what a resume needs that a checkpoint does not (the
workflow text, inputs, overrides), the lifecycle (status, owner, heartbeat,
a cancel request) and the outcome (error, outputs, node records, cost). The
``run_events`` table holds every event, keyed by (run_id, seq), so any face
can replay a run from any ``seq`` and then follow it.
"""

from __future__ import annotations

import os
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from agents_core.engine.events import NodeRecord, RunErrorInfo, total_cost
from agents_core.runs.lifecycle import ACTIVE_STATUSES, RUNNING, Owner

STORE_DIR = ".configurable-agents"
STORE_FILE = "runs.sqlite"
CHECKPOINT_FILE = "checkpoints.sqlite"
STORE_ENV = "AGENTS_RUN_STORE"
DATABASE_URL_ENV = "DATABASE_URL"

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
    #: Where the run executes: ``None`` in the process that started it, ``"celery"`` on a worker.
    executor: str | None = None
    #: How many times an owner claimed the run (a worker's re-queue counts against a limit).
    attempts: int = 0
    #: When the run's id was last sent to the broker (``None``: never, e.g. the broker was down).
    sent_at: float | None = None
    #: Which face accepted the run (``"server"`` for ``POST /run``; ``None`` for the CLI, pages and Python).
    origin: str | None = None

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
        owner: Owner | None = None,
        origin: str | None = None,
    ) -> float | None:
        """A new run row (a taken id is a ``RunConflict``); ``executor`` as on :class:`RunInfo`.

        Returns the row's ``created_at`` (``None`` from a store that does not say).

        With ``owner`` the row is born claimed (``running``, one attempt), as if
        :meth:`claim` had followed at once: a run this process starts itself needs
        no queued moment that another process could act on, and saves a transaction.
        ``origin`` names the face that accepted it (see :attr:`RunInfo.origin`).
        """

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
        events: Sequence[tuple[int, str, str, dict[str, Any]]] = (),
        finished_at: float | None = None,
    ) -> None:
        """Write a terminal status and the outcome, and (in the same transaction) the run's last event.

        ``final_event`` is ``(seq, kind, at, data)``; writing it with the status means a
        reader that sees a terminal status also finds ``run_finished`` in the log.
        ``events`` are the run's events not yet written, written first in the same
        transaction; ``finished_at`` (UNIX seconds) is the end's time, default now.
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

    def reserve_key(self, scope: str, key: str, run_id: str, request_hash: str | None) -> tuple[str, str | None] | None:
        """Bind an idempotency ``key`` (within ``scope``, e.g. a workflow) to ``run_id``, atomically.

        ``None`` when this call bound it; else ``(run_id, request_hash)`` of the run the key
        was bound to first, by any process sharing the store.
        """
        raise NotImplementedError(f"{type(self).__name__} keeps no idempotency keys.")

    def find_key(self, scope: str, key: str) -> tuple[str, str | None] | None:
        """``(run_id, request_hash)`` the key is bound to, or ``None``."""
        raise NotImplementedError(f"{type(self).__name__} keeps no idempotency keys.")

    def forget_key(self, scope: str, key: str, run_id: str) -> None:
        """Unbind a key from ``run_id`` (a submission refused after the key was bound)."""
        raise NotImplementedError(f"{type(self).__name__} keeps no idempotency keys.")

    def append_events(self, rows: Sequence[tuple[str, int, str, str, dict[str, Any]]]) -> None:
        """Add ``(run_id, seq, kind, at, data)`` rows, all or none (one transaction where the store can)."""
        for row in rows:
            self.append_event(*row)

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

    def count(self, status: str | Iterable[str]) -> int:
        """How many runs have ``status`` (one or several), over every workflow; a backend may count with one query."""
        return len(self.list(status=status, limit=None))

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

    def delete_before(self, ts: float, workflow: str | None = None) -> list[str]:
        """Delete every run that ended (or, never started, was created) before ``ts`` (UNIX seconds).

        Only ``workflow``'s runs when it is given. Its row, its events and its checkpoints
        go (through :meth:`delete_runs`); an active run is never deleted. Returns the ids deleted.
        """
        ids = [
            info.run_id
            for info in self.list(workflow=workflow, limit=None)
            if info.status not in ACTIVE_STATUSES and (info.finished_at or info.created_at) < ts
        ]
        if ids:
            self.delete_runs(ids)
        return ids

    def rewrite_costs(self, run_id: str, nodes: list[dict[str, Any]]) -> None:
        """Replace a finished run's node records (new ``cost_usd``/``price_source``) and its totals (``costs reprice --apply``)."""
        raise NotImplementedError(f"{type(self).__name__} cannot rewrite costs yet.")

    @abstractmethod
    def has_checkpoint(self, run_id: str) -> bool: ...

    @abstractmethod
    def checkpointer(self) -> Any:
        """An async context manager giving a LangGraph checkpoint saver on this store."""

    def unavailable(self, error: BaseException) -> str | None:
        """The store's name (e.g. ``PostgreSQL at host:port/db``) when ``error`` means it cannot be reached now.

        The run service then ends the run with that reason and retries writing its end;
        an embedded store is never "unreachable", so the default is ``None``.
        """
        return None

    def close(self) -> None:  # noqa: B027 - optional: a store without connections has nothing to close
        """Let go of connections (a store is usable until then)."""

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


def run_totals(nodes: list[dict[str, Any]] | None) -> tuple[float | None, int, int]:
    """(USD, input tokens, output tokens) of a run's node records, as the ``runs`` row keeps them."""
    nodes = nodes or []
    tokens_in = sum(int(n.get("input_tokens") or 0) for n in nodes)
    tokens_out = sum(int(n.get("output_tokens") or 0) for n in nodes)
    return total_cost(nodes), tokens_in, tokens_out


def checkpoint_path(store_path: str | os.PathLike[str]) -> Path:
    """Where a SQLite store keeps its checkpoints: ``checkpoints.sqlite`` beside ``runs.sqlite``.

    A store file of another name gets ``<name>.checkpoints<suffix>``, so two stores in one folder never share.
    """
    path = Path(store_path)
    if path.name == STORE_FILE:
        return path.with_name(CHECKPOINT_FILE)
    return path.with_name(f"{path.stem}.checkpoints{path.suffix or '.sqlite'}")


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


def default_store_target(workspace: str | os.PathLike[str] | None = None) -> str | Path:
    """The store a face opens: ``$AGENTS_RUN_STORE`` (a path or a URL), else ``$DATABASE_URL``, else the workspace's file."""
    if os.environ.get(STORE_ENV):
        return os.environ[STORE_ENV] if is_url(os.environ[STORE_ENV]) else Path(os.environ[STORE_ENV])
    if os.environ.get(DATABASE_URL_ENV):
        return os.environ[DATABASE_URL_ENV]
    return default_store_path(workspace)


def is_url(target: str | os.PathLike[str]) -> bool:
    return isinstance(target, str) and "://" in target


def open_store(target: str | os.PathLike[str] | RunStore) -> RunStore:
    """A store from a path (SQLite), a URL (``sqlite:///path``, ``postgresql+psycopg://…``), or a store as it is."""
    if isinstance(target, RunStore):
        return target
    if not is_url(target):
        from agents_core.runs.stores.sqlite import SqliteRunStore

        return SqliteRunStore(target)
    scheme = str(target).split("://", 1)[0].split("+", 1)[0].lower()
    if scheme == "sqlite":
        from agents_core.runs.stores.sqlite import SqliteRunStore

        database = str(target).split("://", 1)[1].lstrip("/")
        return SqliteRunStore("/" + database if str(target).startswith("sqlite:////") else database)
    if scheme in ("postgresql", "postgres"):
        from agents_core.runs.stores.postgres import PostgresRunStore

        return PostgresRunStore(str(target))
    from agents_core.errors import StoreError

    raise StoreError(
        f"the run store URL {str(target).split('://', 1)[0]}://… is not supported.",
        "Use a file path, sqlite:///PATH, or postgresql+psycopg://USER:PASSWORD@HOST:PORT/DB (DATABASE_URL).",
    )


def __getattr__(name: str) -> Any:
    """The backends, imported on first use (SQLAlchemy is not loaded by ``validate`` or ``--help``)."""
    if name == "SqliteRunStore":
        from agents_core.runs.stores.sqlite import SqliteRunStore

        return SqliteRunStore
    if name == "PostgresRunStore":
        from agents_core.runs.stores.postgres import PostgresRunStore

        return PostgresRunStore
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
