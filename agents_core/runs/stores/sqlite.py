"""The embedded run store: one SQLite file in the workspace, WAL and ``synchronous=NORMAL``.

Each pooled connection is in driver autocommit (``isolation_level=None``) with
a 30 s busy timeout; a write transaction starts with ``BEGIN IMMEDIATE``, so it
holds SQLite's write lock from its first statement and two processes never
deadlock upgrading a read lock. Checkpoints are LangGraph's ``AsyncSqliteSaver``
on :meth:`SqliteRunStore.checkpoint_path`.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from agents_core.runs.store import checkpoint_serializer
from agents_core.runs.stores.sql import SqlRunStore


def _on_connect(dbapi_connection: sqlite3.Connection, _record: Any) -> None:
    dbapi_connection.isolation_level = None  # we say BEGIN ourselves (see _begin_write)
    dbapi_connection.execute("PRAGMA journal_mode=WAL")
    dbapi_connection.execute("PRAGMA synchronous=NORMAL")


class SqliteRunStore(SqlRunStore):
    """The run store in one SQLite file (WAL, synchronous=NORMAL), shared by every process on the host."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.where = str(self.path)
        engine = sa.create_engine(
            sa.URL.create("sqlite", database=str(self.path)),
            connect_args={"timeout": 30, "check_same_thread": False},
        )
        sa.event.listen(engine, "connect", _on_connect)
        super().__init__(engine)

    def unavailable(self, error: BaseException) -> str | None:
        return None  # a local file: "database is locked" and friends are ordinary failures, not an outage

    def _begin_write(self, connection: Connection) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")

    def checkpoint_path(self) -> Path:
        """Where LangGraph's checkpoints of this store's runs are (the one place that says so)."""
        return self.path

    def has_checkpoint(self, run_id: str) -> bool:
        path = self.checkpoint_path()
        if not path.exists():
            return False
        with contextlib.closing(sqlite3.connect(path, timeout=30)) as db:
            try:
                row = db.execute("SELECT 1 FROM checkpoints WHERE thread_id = ? LIMIT 1", (run_id,)).fetchone()
            except sqlite3.OperationalError:  # no checkpoints table yet: no run got past its start
                return False
        return row is not None

    @asynccontextmanager
    async def checkpointer(self) -> AsyncIterator[Any]:
        """LangGraph's ``AsyncSqliteSaver`` on :meth:`checkpoint_path`, restoring only plain data and our errors."""
        import aiosqlite
        from langgraph.checkpoint.sqlite.aio import AsyncSqliteSaver

        async with aiosqlite.connect(str(self.checkpoint_path()), timeout=30) as connection:
            await connection.execute("PRAGMA journal_mode=WAL")
            await connection.execute("PRAGMA synchronous=NORMAL")
            yield AsyncSqliteSaver(connection, serde=checkpoint_serializer())
