"""The run store and its event log in SQL, through SQLAlchemy Core, the same for SQLite and PostgreSQL.

Every lifecycle guarantee is one statement or one transaction, so it holds on
both dialects without locks of our own:

- a claim is ``UPDATE runs … WHERE run_id = ? AND status IN (…)``: of two
  claimers the second finds the row changed (SQLite serialises writers;
  PostgreSQL makes the second wait for the first's row lock and re-checks
  the ``WHERE``), so exactly one gets ``rowcount == 1``;
- the terminal status and the ``run_finished`` event are written in one
  transaction, so a reader that sees the status finds the event;
- events are keyed by ``(run_id, seq)``; a taken key is a :class:`RunConflict`.

Reads run on autocommit connections (no transaction held between polls). A
subclass says how to open its engine, how to begin a write transaction, and
where LangGraph's checkpoints live.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from agents_core.errors import RunConflict, RunNotFound
from agents_core.runs.lifecycle import ACTIVE_STATUSES, CANCELLED, FAILED, QUEUED, RUNNING, Owner
from agents_core.runs.store import EventRow, RunInfo, RunStore, StoredEvent, run_totals

metadata = sa.MetaData()

#: The seed's columns; the rest are added to old stores on open (see :data:`NEW_COLUMNS`).
runs = sa.Table(
    "runs",
    metadata,
    sa.Column("run_id", sa.Text, primary_key=True),
    sa.Column("workflow_name", sa.Text, nullable=False),
    sa.Column("workflow_file", sa.Text),
    sa.Column("workflow_text", sa.Text, nullable=False),
    sa.Column("inputs", sa.Text, nullable=False),
    sa.Column("overrides", sa.Text, nullable=False),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("error", sa.Text),
    sa.Column("created_at", sa.Double, nullable=False),
    sa.Column("updated_at", sa.Double, nullable=False),
)

#: Columns added since the seed's table: (name, type, server default). Old stores gain them on open.
NEW_COLUMNS: list[tuple[str, sa.types.TypeEngine[Any], str | None]] = [
    ("started_at", sa.Double(), None),
    ("finished_at", sa.Double(), None),
    ("owner_host", sa.Text(), None),
    ("owner_pid", sa.Integer(), None),
    ("owner_token", sa.Text(), None),
    ("heartbeat_at", sa.Double(), None),
    ("cancel_requested", sa.Integer(), "0"),
    ("reason", sa.Text(), None),
    ("error_info", sa.Text(), None),
    ("outputs", sa.Text(), None),
    ("nodes", sa.Text(), None),
    # the run's cost, written at finish (the cost issue fills them)
    ("cost_usd", sa.Double(), None),
    ("input_tokens", sa.Integer(), None),
    ("output_tokens", sa.Integer(), None),
    # where the run executes (None: in-process; "celery": a worker), claims so far, last send to the broker
    ("executor", sa.Text(), None),
    ("attempts", sa.Integer(), "0"),
    ("sent_at", sa.Double(), None),
    # which face accepted the run ("server" for POST /run); a restarted server picks up only its own
    ("origin", sa.Text(), None),
]
for _name, _type, _default in NEW_COLUMNS:
    runs.append_column(
        sa.Column(_name, _type, nullable=_default is None, server_default=_default and sa.text(_default))
    )
runs_created = sa.Index("runs_created", runs.c.created_at)

run_events = sa.Table(
    "run_events",
    metadata,
    sa.Column("run_id", sa.Text, primary_key=True),
    sa.Column("seq", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("kind", sa.Text, nullable=False),
    sa.Column("at", sa.Text, nullable=False),
    sa.Column("data", sa.Text, nullable=False),
)

#: Idempotency keys of submissions (``POST /run``'s ``Idempotency-Key``), per workflow, in the shared
#: store: every API replica finds the run a key was first used for.
run_keys = sa.Table(
    "run_keys",
    metadata,
    sa.Column("scope", sa.Text, primary_key=True),
    sa.Column("key", sa.Text, primary_key=True),
    sa.Column("run_id", sa.Text, nullable=False),
    sa.Column("request_hash", sa.Text),
    sa.Column("created_at", sa.Double, nullable=False),
)

_LAST_SEQ = sa.select(sa.func.max(run_events.c.seq)).where(run_events.c.run_id == runs.c.run_id).scalar_subquery()

# The hot path's statements, built once with bound parameters: building a statement with literal values
# costs SQLAlchemy more than SQLite takes to run it (about 250 us against 30 us a statement).
_p = sa.bindparam
_INSERT_RUN = runs.insert()
_INSERT_EVENT = run_events.insert()
_CLAIM = (
    runs.update()
    .where(runs.c.run_id == _p("w_run_id"), runs.c.status.in_(_p("w_statuses", expanding=True)))
    .values(
        status=RUNNING,
        owner_host=_p("owner_host"),
        owner_pid=_p("owner_pid"),
        owner_token=_p("owner_token"),
        heartbeat_at=_p("now"),
        started_at=_p("now"),
        finished_at=None,
        updated_at=_p("now"),
        cancel_requested=0,
        reason=None,
        attempts=runs.c.attempts + 1,
    )
)
_HEARTBEAT = (
    runs.update()
    .where(runs.c.run_id == _p("w_run_id"), runs.c.owner_token == _p("w_token"), runs.c.status == RUNNING)
    .values(heartbeat_at=_p("now"))
)
_FINISH = (
    runs.update()
    .where(runs.c.run_id == _p("w_run_id"))
    .values(
        {
            name: _p(name)
            for name in (
                "cost_usd",
                "input_tokens",
                "output_tokens",
                "status",
                "error",
                "error_info",
                "outputs",
                "nodes",
                "reason",
                "finished_at",
                "updated_at",
            )
        }
        | {"cancel_requested": 0}
    )
)
_CANCEL_REQUESTED = sa.select(runs.c.cancel_requested).where(runs.c.run_id == _p("w_run_id"))
_MAX_SEQ = sa.select(sa.func.max(run_events.c.seq)).where(run_events.c.run_id == _p("w_run_id"))
_EVENTS_AFTER = (
    sa.select(run_events.c.run_id, run_events.c.seq, run_events.c.kind, run_events.c.at, run_events.c.data)
    .where(run_events.c.run_id == _p("w_run_id"), run_events.c.seq > _p("after"))
    .order_by(run_events.c.seq)
)
_GET = sa.select(runs, _LAST_SEQ.label("last_seq")).where(runs.c.run_id == _p("w_run_id"))


#: One encoder for every column of JSON (``json.dumps`` with options builds an encoder per call).
_ENCODER = json.JSONEncoder(ensure_ascii=False, default=str)


def _dumps(value: Any) -> str:
    return _ENCODER.encode(value)


def _event_params(run_id: str, seq: int, kind: str, at: str, data: dict[str, Any]) -> dict[str, Any]:
    """One ``run_events`` row as the parameters of :data:`_INSERT_EVENT` (every writer of events uses it)."""
    return {"run_id": run_id, "seq": seq, "kind": kind, "at": at, "data": _dumps(data)}


class Writes:
    """The statements of one write transaction on the hot path (a run's row, events and end).

    Why a class of its own: on SQLite the store runs these through the driver
    (:class:`agents_core.runs.stores.sqlite.DriverWrites`), as SQLAlchemy's
    execution cost about three times what SQLite took for them; elsewhere they go
    through SQLAlchemy as every other statement. Either way the statements are
    the ones built here, and a taken key is ``sa.exc.IntegrityError``.
    """

    def __init__(self, db: Connection) -> None:
        self.db = db

    def execute(self, statement: Any, params: dict[str, Any]) -> None:
        self.db.execute(statement, params)

    def executemany(self, statement: Any, rows: list[dict[str, Any]]) -> None:
        self.db.execute(statement, rows)


class SqlRunStore(RunStore):
    """The run store on a SQLAlchemy engine; subclasses add the dialect's set-up and checkpoints."""

    #: Shown in messages ("no run with id … in <where>").
    where: str = "the run store"

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        # SQLite's driver connections are in autocommit already (see .sqlite); PostgreSQL's are told to be
        self._reader = (
            engine if engine.dialect.name == "sqlite" else engine.execution_options(isolation_level="AUTOCOMMIT")
        )
        self._last_created = 0.0
        self._clock = threading.Lock()
        self._create_schema()

    # -- set-up -----------------------------------------------------------------------------
    def _create_schema(self) -> None:
        """Tables if missing, then any column an older store lacks (idempotent, safe from many processes)."""
        with self._schema_lock() as connection:
            metadata.create_all(connection, checkfirst=True)
            have = {column["name"] for column in sa.inspect(connection).get_columns("runs")}
            for name, kind, default in NEW_COLUMNS:
                if name not in have:
                    ddl = f"ALTER TABLE runs ADD COLUMN {name} {kind.compile(dialect=self.engine.dialect)}"
                    connection.exec_driver_sql(ddl + (f" NOT NULL DEFAULT {default}" if default else ""))
            runs_created.create(connection, checkfirst=True)

    @contextmanager
    def _schema_lock(self) -> Iterator[Connection]:
        """A write transaction that no other process's schema set-up runs beside."""
        with self._write() as connection:
            yield connection

    @contextmanager
    def _write(self) -> Iterator[Connection]:
        """One write transaction, committed on leaving (rolled back on an error)."""
        with self.engine.begin() as connection:
            self._begin_write(connection)
            yield connection

    def _begin_write(self, connection: Connection) -> None:
        """Called first in every write transaction (SQLite takes its write lock here)."""

    @contextmanager
    def _hot_write(self) -> Iterator[Writes]:
        """One write transaction of the hot path (see :class:`Writes`)."""
        with self._write() as db:
            yield Writes(db)

    def _write_one(self, statement: Any, params: dict[str, Any]) -> None:
        """A write of one statement on the hot path, atomic on its own (SQLite needs no BEGIN/COMMIT for it)."""
        with self._hot_write() as db:
            db.execute(statement, params)

    def close(self) -> None:
        self.engine.dispose()

    def unavailable(self, error: BaseException) -> str | None:
        """``self.where`` when the error (or one it came from) is a lost or refused database connection."""
        seen: BaseException | None = error
        for _ in range(10):  # the chain of causes; bounded, a chain can loop
            if seen is None:
                return None
            if isinstance(seen, sa.exc.DBAPIError) and (
                seen.connection_invalidated or isinstance(seen, sa.exc.OperationalError)
            ):
                return self.where
            if self._driver_lost_connection(seen):
                return self.where
            seen = seen.__cause__ or seen.__context__
        return None

    def _driver_lost_connection(self, error: BaseException) -> bool:
        """A driver's own error (outside SQLAlchemy, e.g. from the checkpointer) that means the link is gone."""
        return False

    def _now_created(self) -> float:
        """``time.time()``, but strictly increasing in this store, so newest-first is insertion order."""
        with self._clock:
            self._last_created = max(time.time(), self._last_created + 1e-6)
            return self._last_created

    # -- rows -------------------------------------------------------------------------------
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
    ) -> float:
        now = self._now_created()
        row = dict(run_id=run_id, workflow_name=workflow_name, workflow_file=workflow_file, origin=origin)
        row |= dict(workflow_text=workflow_text, inputs=_dumps(inputs), overrides=_dumps(overrides))
        if owner is not None:
            status = RUNNING
            row |= dict(owner_host=owner.host, owner_pid=owner.pid, owner_token=owner.token)
            row |= dict(heartbeat_at=now, started_at=now, attempts=1)
        try:
            self._write_one(_INSERT_RUN, dict(row, status=status, created_at=now, updated_at=now, executor=executor))
        except sa.exc.IntegrityError:
            raise RunConflict(
                f"a run with id {run_id!r} exists already.", "Leave run_id out to get a fresh one."
            ) from None
        return now

    def claim(self, run_id: str, owner: Owner, from_statuses: Sequence[str]) -> bool:
        values = dict(w_run_id=run_id, w_statuses=list(from_statuses), now=time.time())
        values |= dict(owner_host=owner.host, owner_pid=owner.pid, owner_token=owner.token)
        with self._write() as db:
            return db.execute(_CLAIM, values).rowcount == 1

    def heartbeat(self, run_id: str, owner: Owner) -> bool:
        with self._write() as db:
            return db.execute(_HEARTBEAT, dict(w_run_id=run_id, w_token=owner.token, now=time.time())).rowcount == 1

    def finish(
        self,
        run_id: str,
        status: str,
        error: dict[str, Any] | str | None = None,
        outputs: dict[str, Any] | None = None,
        nodes: list[dict[str, Any]] | None = None,
        reason: str | None = None,
        final_event: tuple[int, str, str, dict[str, Any]] | None = None,
        events: Sequence[tuple[int, str, str, dict[str, Any]]] = (),
        finished_at: float | None = None,
    ) -> None:
        if isinstance(error, str):  # the seed's finish(run_id, status, message)
            error = {"node": None, "type": "RunError", "message": error, "hint": "", "category": "run_failed"}
        now = time.time() if finished_at is None else finished_at
        cost, tokens_in, tokens_out = run_totals(nodes)
        values = dict(w_run_id=run_id, cost_usd=cost, input_tokens=tokens_in, output_tokens=tokens_out)
        values |= dict(status=status, error=error["message"] if error else None)
        values |= dict(error_info=_dumps(error) if error else None, outputs=_dumps(outputs or {}))
        values |= dict(nodes=_dumps(nodes or []), reason=reason, finished_at=now, updated_at=now)
        with self._conflicts(run_id), self._hot_write() as db:
            db.execute(_FINISH, values)
            rows = [_event_params(run_id, *event) for event in events]
            if final_event is not None:
                rows.append(_event_params(run_id, *final_event))
            if rows:
                db.executemany(_INSERT_EVENT, rows)

    def interrupt(
        self, run_id: str, owner_token: str | None, reason: str, final_event: Callable[[int], EventRow] | None = None
    ) -> bool:
        now = time.time()
        same_owner = runs.c.owner_token.is_(None) if owner_token is None else runs.c.owner_token == owner_token
        update = (
            runs.update()
            .where(runs.c.run_id == run_id, runs.c.status.in_(ACTIVE_STATUSES), same_owner)
            .values(status="interrupted", reason=reason, finished_at=now, updated_at=now)
        )
        with self._conflicts(run_id), self._write() as db:
            changed = db.execute(update).rowcount
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
        same_owner = runs.c.owner_token.is_(None) if owner_token is None else runs.c.owner_token == owner_token
        mine = sa.and_(runs.c.run_id == run_id, runs.c.status.in_(ACTIVE_STATUSES), same_owner)
        back = runs.update().where(mine, runs.c.attempts < max_attempts)
        back = back.values(
            status=QUEUED,
            reason=reason,
            owner_host=None,
            owner_pid=None,
            owner_token=None,
            heartbeat_at=None,
            sent_at=None,
            updated_at=now,
        )
        error = {"node": None, "type": "RunInterrupted", "message": reason, "hint": "", "category": "run_failed"}
        give_up = runs.update().where(mine, runs.c.attempts >= max_attempts)
        give_up = give_up.values(
            status=FAILED, reason=reason, error=reason, error_info=_dumps(error), finished_at=now, updated_at=now
        )
        # each UPDATE re-checks its WHERE under the row lock, so of two sweepers exactly one changes the row
        with self._conflicts(run_id), self._write() as db:
            if db.execute(back).rowcount == 1:
                return QUEUED
            if db.execute(give_up).rowcount != 1:
                return None
            if final_event is not None:
                self._append_next(db, run_id, final_event)
            return FAILED

    def mark_sent(self, run_id: str) -> None:
        with self._write() as db:
            db.execute(runs.update().where(runs.c.run_id == run_id).values(sent_at=time.time()))

    def cancel_queued(self, run_id: str, final_event: Callable[[int], EventRow]) -> bool:
        now = time.time()
        update = (
            runs.update()
            .where(runs.c.run_id == run_id, runs.c.status == QUEUED)
            .values(
                status=CANCELLED,
                finished_at=now,
                updated_at=now,
                cancel_requested=0,
                reason="cancelled while queued",
            )
        )
        with self._conflicts(run_id), self._write() as db:
            changed = db.execute(update).rowcount
            if changed == 1:
                self._append_next(db, run_id, final_event)
        return changed == 1

    def _append_next(self, db: Connection, run_id: str, final_event: Callable[[int], EventRow]) -> None:
        """Append ``final_event(seq)`` at the run's next seq, inside the caller's transaction."""
        seq = self._last_seq(db, run_id) + 1
        self._insert_event(db, run_id, seq, *final_event(seq))

    def request_cancel(self, run_id: str) -> None:
        with self._write() as db:
            db.execute(runs.update().where(runs.c.run_id == run_id).values(cancel_requested=1, updated_at=time.time()))

    def cancel_requested(self, run_id: str) -> bool:
        with self._reader.connect() as db:
            value = db.execute(_CANCEL_REQUESTED, {"w_run_id": run_id}).scalar()
        return bool(value)

    # -- events -----------------------------------------------------------------------------
    @contextmanager
    def _conflicts(self, run_id: str) -> Iterator[None]:
        """A taken ``(run_id, seq)`` (or run id) as the product's own error, the same on every dialect."""
        try:
            yield
        except sa.exc.IntegrityError as exc:
            raise RunConflict(
                f"run {run_id!r}: that event seq (or run id) is taken already ({type(exc.orig).__name__}).",
                "Another owner wrote to this run; follow it instead of writing to it.",
            ) from None

    @staticmethod
    def _insert_event(db: Connection, run_id: str, seq: int, kind: str, at: str, data: dict[str, Any]) -> None:
        db.execute(_INSERT_EVENT, _event_params(run_id, seq, kind, at, data))

    @staticmethod
    def _last_seq(db: Connection, run_id: str) -> int:
        return int(db.execute(_MAX_SEQ, {"w_run_id": run_id}).scalar() or 0)

    def append_event(self, run_id: str, seq: int, kind: str, at: str, data: dict[str, Any]) -> None:
        with self._conflicts(run_id):
            self._write_one(_INSERT_EVENT, _event_params(run_id, seq, kind, at, data))

    def append_events(self, rows: Sequence[tuple[str, int, str, str, dict[str, Any]]]) -> None:
        if not rows:
            return
        params = [_event_params(*row) for row in rows]
        with self._conflicts(", ".join(sorted({row[0] for row in rows}))), self._hot_write() as db:
            db.executemany(_INSERT_EVENT, params)

    def events(self, run_id: str, after_seq: int = 0, limit: int | None = None) -> list[StoredEvent]:
        query = _EVENTS_AFTER if limit is None else _EVENTS_AFTER.limit(limit)
        with self._reader.connect() as db:
            rows = db.execute(query, {"w_run_id": run_id, "after": after_seq}).all()
        return [StoredEvent(r[0], r[1], r[2], r[3], json.loads(r[4])) for r in rows]

    def last_seq(self, run_id: str) -> int:
        with self._reader.connect() as db:
            return self._last_seq(db, run_id)

    # -- idempotency keys -------------------------------------------------------------------
    def reserve_key(self, scope: str, key: str, run_id: str, request_hash: str | None) -> tuple[str, str | None] | None:
        row = dict(scope=scope, key=key, run_id=run_id, request_hash=request_hash, created_at=time.time())
        try:
            with self._write() as db:
                db.execute(run_keys.insert(), row)
            return None
        except sa.exc.IntegrityError:
            pass
        found = self.find_key(scope, key)
        if found is None:  # the first holder forgot it in between: try once more
            return self.reserve_key(scope, key, run_id, request_hash)
        return found

    def find_key(self, scope: str, key: str) -> tuple[str, str | None] | None:
        query = sa.select(run_keys.c.run_id, run_keys.c.request_hash).where(
            run_keys.c.scope == scope, run_keys.c.key == key
        )
        with self._reader.connect() as db:
            row = db.execute(query).first()
        return (row[0], row[1]) if row else None

    def forget_key(self, scope: str, key: str, run_id: str) -> None:
        with self._write() as db:
            db.execute(
                run_keys.delete().where(run_keys.c.scope == scope, run_keys.c.key == key, run_keys.c.run_id == run_id)
            )

    # -- reading runs -----------------------------------------------------------------------
    @staticmethod
    def _info(row: sa.Row[Any]) -> RunInfo:
        """A ``runs`` row (read by column name, so added columns change nothing here) as a :class:`RunInfo`."""
        r = row._mapping
        owner = Owner(r["owner_host"], int(r["owner_pid"]), r["owner_token"]) if r["owner_host"] else None
        return RunInfo(
            run_id=r["run_id"],
            workflow_name=r["workflow_name"],
            workflow_file=r["workflow_file"],
            workflow_text=r["workflow_text"],
            inputs=json.loads(r["inputs"]),
            overrides=json.loads(r["overrides"]),
            status=r["status"],
            error=r["error"],
            created_at=r["created_at"],
            updated_at=r["updated_at"],
            started_at=r["started_at"],
            finished_at=r["finished_at"],
            owner=owner if r["owner_pid"] is not None else None,
            heartbeat_at=r["heartbeat_at"],
            cancel_requested=bool(r["cancel_requested"]),
            reason=r["reason"],
            error_info=json.loads(r["error_info"]) if r["error_info"] else None,
            outputs=json.loads(r["outputs"]) if r["outputs"] else {},
            nodes=json.loads(r["nodes"]) if r["nodes"] else [],
            last_seq=int(r.get("last_seq") or 0),
            cost_usd=r["cost_usd"],
            input_tokens=r["input_tokens"],
            output_tokens=r["output_tokens"],
            executor=r["executor"],
            attempts=int(r["attempts"] or 0),
            sent_at=r["sent_at"],
            origin=r["origin"],
        )

    def get(self, run_id: str) -> RunInfo:
        with self._reader.connect() as db:
            row = db.execute(_GET, {"w_run_id": run_id}).first()
        if row is None:
            raise RunNotFound(
                f"no run with id {run_id!r} in {self.where}.",
                "Use the run id printed when the run started, from the same workspace "
                "(configurable-agents runs list shows them).",
            )
        return self._info(row)

    def list(
        self,
        status: str | Iterable[str] | None = None,
        workflow: str | None = None,
        since: float | None = None,
        limit: int | None = 50,
    ) -> list[RunInfo]:
        query = sa.select(runs)
        if status is not None:
            query = query.where(runs.c.status.in_([status] if isinstance(status, str) else list(status)))
        if workflow is not None:
            query = query.where(runs.c.workflow_name == workflow)
        if since is not None:
            query = query.where(runs.c.created_at >= since)
        query = query.order_by(runs.c.created_at.desc(), runs.c.run_id.desc()).limit(limit)
        with self._reader.connect() as db:
            return [self._info(row) for row in db.execute(query).all()]

    def count(self, status: str | Iterable[str]) -> int:
        statuses = [status] if isinstance(status, str) else list(status)
        with self._reader.connect() as db:
            return int(db.execute(sa.select(sa.func.count()).where(runs.c.status.in_(statuses))).scalar() or 0)

    # -- costs and pruning ------------------------------------------------------------------
    def spend(self, workflow: str | None = None, since: float | None = None, until: float | None = None) -> float:
        query = sa.select(sa.func.sum(runs.c.cost_usd)).where(runs.c.cost_usd.is_not(None))
        if workflow is not None:
            query = query.where(runs.c.workflow_name == workflow)
        if since is not None:
            query = query.where(runs.c.created_at >= since)
        if until is not None:
            query = query.where(runs.c.created_at < until)
        with self._reader.connect() as db:
            return float(db.execute(query).scalar() or 0.0)

    def delete_runs(self, run_ids: Sequence[str]) -> int:
        ids = list(run_ids)
        if not ids:
            return 0
        with self._write() as db:
            deleted = db.execute(runs.delete().where(runs.c.run_id.in_(ids))).rowcount
            db.execute(run_events.delete().where(run_events.c.run_id.in_(ids)))
            db.execute(run_keys.delete().where(run_keys.c.run_id.in_(ids)))
        self._delete_checkpoints(ids)
        return deleted

    def _delete_checkpoints(self, run_ids: list[str]) -> None:
        """Delete the runs' LangGraph checkpoints (they live where the dialect keeps them)."""

    def rewrite_costs(self, run_id: str, nodes: list[dict[str, Any]]) -> None:
        cost, tokens_in, tokens_out = run_totals(nodes)
        update = (
            runs.update()
            .where(runs.c.run_id == run_id)
            .values(
                nodes=_dumps(nodes),
                cost_usd=cost,
                input_tokens=tokens_in,
                output_tokens=tokens_out,
                updated_at=time.time(),
            )
        )
        with self._write() as db:
            db.execute(update)
