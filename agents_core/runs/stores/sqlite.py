"""The embedded run store: one SQLite file in the workspace, WAL and ``synchronous=NORMAL``.

Each pooled connection is in driver autocommit (``isolation_level=None``) with
a 30 s busy timeout; a write transaction starts with ``BEGIN IMMEDIATE``, so it
holds SQLite's write lock from its first statement and two processes never
deadlock upgrading a read lock. Checkpoints are LangGraph's ``AsyncSqliteSaver``
on a file of their own beside the store (:attr:`SqliteRunStore.checkpoint_path`,
``checkpoints.sqlite`` beside ``runs.sqlite``).

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
import operator
import os
import sqlite3
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa
import sqlalchemy.dialects.sqlite
from sqlalchemy.engine import Connection

from agents_core.runs.store import checkpoint_path, checkpoint_serializer
from agents_core.runs.stores.sql import SqlRunStore, Writes

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
_CHECKPOINT_TABLES = ("checkpoints", "writes")


def _tables(db: sqlite3.Connection, schema: str = "main") -> set[str]:
    return {row[0] for row in db.execute(f"SELECT name FROM {schema}.sqlite_master WHERE type = 'table'")}


def _move_checkpoints(db: sqlite3.Connection, target: Path) -> None:
    """Move checkpoints kept in the run store's own file (before the split) into ``target``.

    Runs once per old store, in one transaction on both files (a second process
    finds the tables gone); rows already in ``target`` are kept.
    """
    if not set(_CHECKPOINT_TABLES) & _tables(db):
        return
    db.execute("ATTACH DATABASE ? AS cp", (str(target),))
    try:
        db.executescript(_CHECKPOINT_SCHEMA.format(db="cp."))
        db.execute("BEGIN IMMEDIATE")
        try:
            have = _tables(db)
            for table in _CHECKPOINT_TABLES:
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


_WRITE_LOCKS: dict[str, threading.RLock] = {}
_WRITE_LOCKS_GUARD = threading.Lock()


def _process_write_lock(path: Path) -> threading.RLock:
    """One lock per store file in this process, shared by every store object opened on it."""
    key = os.path.realpath(path)
    with _WRITE_LOCKS_GUARD:
        return _WRITE_LOCKS.setdefault(key, threading.RLock())


def _on_connect(dbapi_connection: sqlite3.Connection, _record: Any) -> None:
    dbapi_connection.isolation_level = None  # we say BEGIN ourselves (see _begin_write)
    dbapi_connection.execute("PRAGMA journal_mode=WAL")
    dbapi_connection.execute("PRAGMA synchronous=NORMAL")


_MISSING = object()


@dataclass(frozen=True)
class _Compiled:
    """A statement as SQLite's driver takes it: the SQL, then each ``?``'s name, default and converter.

    ``plain`` is set when every ``?`` takes its parameter as given (the usual case): the
    arguments are then picked in one C call.
    """

    sql: str
    binds: tuple[tuple[str, Any, Callable[[Any], Any] | None], ...]
    plain: Callable[[dict[str, Any]], Any] | None = None

    def args(self, params: dict[str, Any]) -> tuple[Any, ...]:
        if self.plain is not None:
            try:
                picked = self.plain(params)
            except KeyError as exc:
                raise KeyError(f"no value for the statement's parameter {exc.args[0]!r}") from None
            return picked if len(self.binds) != 1 else (picked,)
        values = []
        for name, default, convert in self.binds:
            value = params.get(name, default)
            if value is _MISSING:
                raise KeyError(f"no value for the statement's parameter {name!r}")
            if convert is not None and value is not None:
                value = convert(value)
            values.append(value)
        return tuple(values)


_COMPILED: dict[tuple[int, frozenset[str]], tuple[Any, _Compiled]] = {}
_DIALECT = sa.dialects.sqlite.dialect()


def _compiled(statement: Any, keys: frozenset[str]) -> _Compiled:
    """The statement compiled once per set of parameter names (an INSERT lists only the columns given)."""
    cached = _COMPILED.get((id(statement), keys))
    if cached is not None:
        return cached[1]
    compiled = statement.compile(dialect=_DIALECT, column_keys=sorted(keys))
    binds = []
    for name in compiled.positiontup or ():
        bind = compiled.binds[name]
        default = _MISSING if bind.required or name in keys else bind.effective_value
        # a REAL column takes Python's ints and floats as they are: its float() converter is skipped
        convert = None if isinstance(bind.type, sa.Float) else bind.type.bind_processor(_DIALECT)
        binds.append((name, default, convert))
    plain = all(default is _MISSING and convert is None for _, default, convert in binds) and binds
    getter = operator.itemgetter(*(name for name, _, _ in binds)) if plain else None
    result = _Compiled(compiled.string, tuple(binds), getter)
    _COMPILED[(id(statement), keys)] = (statement, result)  # the statement is held, so its id stays its own
    return result


class DriverWrites(Writes):
    """The hot path's statements straight to SQLite's driver (see :class:`Writes`); its errors as SQLAlchemy's."""

    def __init__(self, connection: sqlite3.Connection) -> None:
        self.connection = connection

    def execute(self, statement: Any, params: dict[str, Any]) -> None:
        compiled = _compiled(statement, frozenset(params))
        args = compiled.args(params)
        with _as_sqlalchemy_errors(compiled.sql, args):
            self.connection.execute(compiled.sql, args)

    def executemany(self, statement: Any, rows: list[dict[str, Any]]) -> None:
        if not rows:
            return
        compiled = _compiled(statement, frozenset(rows[0]))
        args = [compiled.args(row) for row in rows]
        with _as_sqlalchemy_errors(compiled.sql, args):
            self.connection.executemany(compiled.sql, args)


@contextmanager
def _as_sqlalchemy_errors(sql: str, args: Any) -> Iterator[None]:
    """The driver's errors as SQLAlchemy wraps them, so the store's callers meet one kind (a taken key
    is ``sa.exc.IntegrityError``, "database is locked" ``sa.exc.OperationalError``)."""
    try:
        yield
    except sqlite3.IntegrityError as exc:
        raise sa.exc.IntegrityError(sql, args, exc) from exc
    except sqlite3.OperationalError as exc:
        raise sa.exc.OperationalError(sql, args, exc) from exc
    except sqlite3.DatabaseError as exc:
        raise sa.exc.DatabaseError(sql, args, exc) from exc


class SqliteRunStore(SqlRunStore):
    """The run store in one SQLite file (WAL, synchronous=NORMAL), shared by every process on the host."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.where = str(self.path)
        self._write_lock = _process_write_lock(self.path)
        self._driver: sqlite3.Connection | None = None  # the hot path's connection (see _hot_write)
        self._driver_pid = 0
        engine = sa.create_engine(
            sa.URL.create("sqlite", database=str(self.path)),
            connect_args={"timeout": 30, "check_same_thread": False},
        )
        sa.event.listen(engine, "connect", _on_connect)
        super().__init__(engine)
        #: Where LangGraph's checkpoints of this store's runs are (the one place that says so).
        self.checkpoint_path = checkpoint_path(self.path)
        with contextlib.closing(self._checkpoint_db()) as db:
            db.execute("PRAGMA journal_mode=WAL")
            db.executescript(_CHECKPOINT_SCHEMA.format(db=""))
        with contextlib.closing(sqlite3.connect(self.path, timeout=30, isolation_level=None)) as db:
            _move_checkpoints(db, self.checkpoint_path)

    def _checkpoint_db(self) -> sqlite3.Connection:
        return sqlite3.connect(self.checkpoint_path, timeout=30, isolation_level=None)

    def unavailable(self, error: BaseException) -> str | None:
        return None  # a local file: "database is locked" and friends are ordinary failures, not an outage

    @contextmanager
    def _write(self) -> Iterator[Connection]:
        """A write transaction; this process's writers queue on a lock first.

        SQLite makes a writer that finds the file locked sleep and retry (1, 2, 5 … ms),
        and the runs loop is one such writer: waiting behind another thread's short
        transaction that way stalled every run on the loop. Threads of one process now
        wait their turn on a lock that wakes them at once; other processes still meet
        SQLite's own busy timeout.
        """
        with self._write_lock, super()._write() as connection:
            yield connection

    def _begin_write(self, connection: Connection) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")

    @contextmanager
    def _hot_write(self) -> Iterator[Writes]:
        """A write transaction of the hot path on this process's own driver connection to the file,
        under the process's write lock (which also makes the one connection safe to share between threads)."""
        with self._write_lock:
            connection = self._driver_connection()
            with _as_sqlalchemy_errors("BEGIN IMMEDIATE", ()):
                connection.execute("BEGIN IMMEDIATE")
            try:
                yield DriverWrites(connection)
            except BaseException:
                with contextlib.suppress(sqlite3.Error):
                    connection.execute("ROLLBACK")
                raise
            with _as_sqlalchemy_errors("COMMIT", ()):
                connection.execute("COMMIT")

    def _write_one(self, statement: Any, params: dict[str, Any]) -> None:
        """One statement in the driver's autocommit: SQLite makes it a transaction of its own."""
        with self._write_lock:
            DriverWrites(self._driver_connection()).execute(statement, params)

    def _driver_connection(self) -> sqlite3.Connection:
        """Opened on first use, and again in a forked child (a connection must not cross a fork)."""
        if self._driver is None or self._driver_pid != os.getpid():
            connection = sqlite3.connect(self.path, timeout=30, isolation_level=None, check_same_thread=False)
            _on_connect(connection, None)
            self._driver, self._driver_pid = connection, os.getpid()
        return self._driver

    def close(self) -> None:
        with self._write_lock:
            if self._driver is not None and self._driver_pid == os.getpid():
                self._driver.close()
            self._driver = None
        super().close()

    def has_checkpoint(self, run_id: str) -> bool:
        with contextlib.closing(self._checkpoint_db()) as db:
            row = db.execute("SELECT 1 FROM checkpoints WHERE thread_id = ? LIMIT 1", (run_id,)).fetchone()
        return row is not None

    def _delete_checkpoints(self, run_ids: list[str]) -> None:
        with contextlib.closing(self._checkpoint_db()) as db:
            db.execute("BEGIN IMMEDIATE")
            for table in _CHECKPOINT_TABLES:
                db.executemany(f"DELETE FROM {table} WHERE thread_id = ?", [(run_id,) for run_id in run_ids])
            db.execute("COMMIT")

    @asynccontextmanager
    async def checkpointer(self) -> AsyncIterator[Any]:
        """LangGraph's SQLite saver on the checkpoint file (run inline, see :mod:`.sqlite_saver`),
        restoring only plain data and our errors."""
        from agents_core.runs.stores.sqlite_saver import InlineSqliteSaver

        connection = sqlite3.connect(self.checkpoint_path, timeout=30, check_same_thread=False)
        try:
            connection.execute("PRAGMA journal_mode=WAL")
            connection.execute("PRAGMA synchronous=NORMAL")
            yield InlineSqliteSaver(connection, serde=checkpoint_serializer())
        finally:
            connection.close()
