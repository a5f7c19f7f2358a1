"""The run store on PostgreSQL (``DATABASE_URL=postgresql+psycopg://…``), for many hosts sharing one store.

Runs and events go through the same SQLAlchemy code as SQLite
(:mod:`.sql`); checkpoints are LangGraph's ``AsyncPostgresSaver``
(``langgraph-checkpoint-postgres``) in the same database. Schema set-up (ours
and the saver's ``setup()``) runs under a PostgreSQL advisory lock, so many
processes may start at once (the saver's lock is polled for: see
:func:`_take_advisory_lock`). Pooled connections are checked before use
(``pool_pre_ping``): after a server restart the next statement reconnects
instead of failing on a dead connection.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from agents_core.runs.store import checkpoint_serializer
from agents_core.runs.stores.sql import SqlRunStore

#: Arbitrary but fixed keys of the advisory locks that serialise schema set-up across processes.
_SCHEMA_LOCK = 0x6167_656E_7473_01  # "agents" 1
_SAVER_LOCK = 0x6167_656E_7473_02
#: The tables of LangGraph's ``AsyncPostgresSaver`` that hold a run's (thread's) checkpoints.
_SAVER_TABLES = ("checkpoints", "checkpoint_blobs", "checkpoint_writes")
#: Seconds between two tries of the saver's set-up lock.
_LOCK_POLL_SECONDS = 0.05


def psycopg_url(url: str | sa.URL) -> sa.URL:
    """``postgres://``, ``postgresql://`` or ``postgresql+psycopg://`` as SQLAlchemy's psycopg 3 URL."""
    parsed = sa.make_url(url)
    return parsed.set(drivername="postgresql+psycopg")


async def _take_advisory_lock(connection: Any, key: int) -> None:
    """Take a session advisory lock by polling ``pg_try_advisory_lock``, never by waiting in ``pg_advisory_lock``.

    The saver's set-up on a fresh database runs ``CREATE INDEX CONCURRENTLY``, which waits for every
    open transaction of the database, and a session blocked in ``pg_advisory_lock`` is one: two workers
    starting their first runs at once deadlocked (one of the runs failed with ``DeadlockDetected``).
    A session between two tries holds no transaction, so the holder's index build goes through.
    """
    while True:
        row = await (await connection.execute("SELECT pg_try_advisory_lock(%s) AS taken", (key,))).fetchone()
        if row and row["taken"]:
            return
        await asyncio.sleep(_LOCK_POLL_SECONDS)


class PostgresRunStore(SqlRunStore):
    """The run store, its event log and LangGraph's checkpoints in one PostgreSQL database."""

    def __init__(self, url: str | sa.URL) -> None:
        self.url = psycopg_url(url)
        self.where = f"PostgreSQL at {self.url.host}:{self.url.port or 5432}/{self.url.database}"
        self._saver_ready = False
        super().__init__(sa.create_engine(self.url, pool_pre_ping=True, pool_size=5, max_overflow=20))

    @contextmanager
    def _schema_lock(self) -> Iterator[Connection]:
        with self._write() as connection:
            connection.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": _SCHEMA_LOCK})
            yield connection

    def unavailable(self, error: BaseException) -> str | None:
        """As for any SQL store, except that a transaction the server rolled back (a deadlock, a
        serialization failure: SQLSTATE class 40, which psycopg files under ``OperationalError``)
        is a failure of its own, not a lost store."""
        seen: BaseException | None = error
        for _ in range(10):  # the chain of causes; bounded, a chain can loop
            if seen is None:
                break
            if str(getattr(seen, "sqlstate", None) or "").startswith("40"):
                return None
            seen = getattr(seen, "orig", None) or seen.__cause__ or seen.__context__
        return super().unavailable(error)

    def _driver_lost_connection(self, error: BaseException) -> bool:
        import psycopg

        return isinstance(error, psycopg.OperationalError)

    def _libpq_url(self) -> str:
        """The URL as libpq (psycopg) reads it: no ``+psycopg`` driver name."""
        return self.url.set(drivername="postgresql").render_as_string(hide_password=False)

    def has_checkpoint(self, run_id: str) -> bool:
        query = sa.text("SELECT 1 FROM checkpoints WHERE thread_id = :run_id LIMIT 1")
        with self._reader.connect() as db:
            if db.execute(sa.text("SELECT to_regclass('checkpoints')")).scalar() is None:
                return False  # the saver's tables come with the first run
            return db.execute(query, {"run_id": run_id}).first() is not None

    def _delete_checkpoints(self, run_ids: list[str]) -> None:
        """Delete from the saver's tables (``checkpoints``, ``checkpoint_blobs``, ``checkpoint_writes``), if set up."""
        with self._write() as db:
            for table in _SAVER_TABLES:
                if db.execute(sa.text("SELECT to_regclass(:name)"), {"name": table}).scalar() is None:
                    continue
                db.execute(sa.text(f"DELETE FROM {table} WHERE thread_id = ANY(:ids)"), {"ids": run_ids})

    @asynccontextmanager
    async def checkpointer(self) -> AsyncIterator[Any]:
        """LangGraph's ``AsyncPostgresSaver`` on one connection of its own (set up once per store)."""
        from langgraph.checkpoint.postgres.aio import AsyncPostgresSaver
        from psycopg import AsyncConnection
        from psycopg.rows import dict_row

        connection = await AsyncConnection.connect(
            self._libpq_url(), autocommit=True, prepare_threshold=0, row_factory=dict_row, connect_timeout=10
        )
        async with connection:
            saver = AsyncPostgresSaver(connection, serde=checkpoint_serializer())  # type: ignore[arg-type]
            if not self._saver_ready:
                await _take_advisory_lock(connection, _SAVER_LOCK)
                try:
                    await saver.setup()
                finally:
                    await connection.execute("SELECT pg_advisory_unlock(%s)", (_SAVER_LOCK,))
                self._saver_ready = True
            yield saver
