"""The server's own book of jobs: which run a job is now, its idempotency key, and how often it was started.

A job is a run of the run service; its id is the id of its first run. The
book adds what only the server needs, durably, beside the run store (one
small SQLite file, ``server_jobs.sqlite``): the ``Idempotency-Key`` a client
sent (unique, so a repeated request finds the same job), a hash of the body
(a key reused for another body is refused), the number of executions
(restarts count, so a job that keeps killing its server is failed after
``max_attempts``), and the current run (a job whose first run died before its
first checkpoint is started again as a new run with the same inputs).
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

_SCHEMA = """
CREATE TABLE IF NOT EXISTS server_jobs (
    job_id TEXT PRIMARY KEY,
    run_id TEXT NOT NULL,
    idempotency_key TEXT UNIQUE,
    request_hash TEXT,
    attempts INTEGER NOT NULL DEFAULT 1,
    created_at REAL NOT NULL
);
"""


@dataclass(frozen=True)
class Job:
    job_id: str
    run_id: str
    idempotency_key: str | None
    request_hash: str | None
    attempts: int
    created_at: float


def request_hash(body: Any) -> str:
    """A stable digest of a request body (keys sorted), to tell a repeated request from a different one."""
    text = json.dumps(body, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


class JobBook:
    """The ``server_jobs`` table; safe to use from any thread."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.RLock()
        self._db = sqlite3.connect(self.path, timeout=30, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(_SCHEMA)

    def close(self) -> None:
        with self._lock:
            self._db.close()

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

    def reserve(self, job_id: str, key: str | None, digest: str | None) -> Job | None:
        """Write a new job (its run comes next); the existing job when ``key`` was used already, else ``None``."""
        with self._transaction() as db:
            if key is not None:
                row = db.execute(f"SELECT {_COLUMNS} FROM server_jobs WHERE idempotency_key = ?", (key,)).fetchone()
                if row is not None:
                    return Job(*row)
            db.execute(
                "INSERT INTO server_jobs (job_id, run_id, idempotency_key, request_hash, attempts, created_at) "
                "VALUES (?, ?, ?, ?, 1, ?)",
                (job_id, job_id, key, digest, time.time()),
            )
        return None

    def forget(self, job_id: str) -> None:
        """Drop a reservation whose run could not be started (the request was refused)."""
        with self._lock:
            self._db.execute("DELETE FROM server_jobs WHERE job_id = ?", (job_id,))

    def get(self, job_id: str) -> Job | None:
        with self._lock:
            row = self._db.execute(f"SELECT {_COLUMNS} FROM server_jobs WHERE job_id = ?", (job_id,)).fetchone()
        return Job(*row) if row else None

    def get_by_key(self, key: str) -> Job | None:
        with self._lock:
            row = self._db.execute(f"SELECT {_COLUMNS} FROM server_jobs WHERE idempotency_key = ?", (key,)).fetchone()
        return Job(*row) if row else None

    def all(self) -> list[Job]:
        with self._lock:
            rows = self._db.execute(f"SELECT {_COLUMNS} FROM server_jobs ORDER BY created_at").fetchall()
        return [Job(*row) for row in rows]

    def count_attempt(self, job_id: str, run_id: str | None = None) -> None:
        """One more execution of the job (and its new run, when it was started again from its inputs)."""
        with self._lock:
            self._db.execute(
                "UPDATE server_jobs SET attempts = attempts + 1, run_id = COALESCE(?, run_id) WHERE job_id = ?",
                (run_id, job_id),
            )


_COLUMNS = "job_id, run_id, idempotency_key, request_hash, attempts, created_at"
