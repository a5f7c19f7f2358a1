"""Where runs are kept: LangGraph's SQLite checkpoints plus a small table of run facts.

Checkpoints (LangGraph's own ``AsyncSqliteSaver``) hold the state after every
node, keyed by run id; the ``runs`` table next to them holds what a resume
needs that a checkpoint does not: the workflow text the run started with,
its inputs and overrides, and its status. Both live in one SQLite file in the
workspace (``.configurable-agents/runs.sqlite``), so runs survive restarts.
"""

from __future__ import annotations

import json
import os
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from agents_core.errors import RunError

STORE_DIR = ".configurable-agents"
STORE_FILE = "runs.sqlite"
STORE_ENV = "AGENTS_RUN_STORE"

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
)
"""


@dataclass(frozen=True)
class RunInfo:
    run_id: str
    workflow_name: str
    workflow_file: str | None
    workflow_text: str
    inputs: dict[str, Any]
    overrides: dict[str, Any]
    status: str
    error: str | None
    created_at: float


def default_store_path(workspace: str | os.PathLike[str] | None = None) -> Path:
    """``$AGENTS_RUN_STORE``, else ``<workspace>/.configurable-agents/runs.sqlite``."""
    if os.environ.get(STORE_ENV):
        return Path(os.environ[STORE_ENV])
    root = Path(workspace or os.environ.get("AGENTS_WORKSPACE") or os.getcwd())
    return root / STORE_DIR / STORE_FILE


class RunStore:
    """The ``runs`` table; checkpoints share the file through LangGraph's saver."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as db:
            db.execute(_SCHEMA)

    def _connect(self) -> sqlite3.Connection:
        connection = sqlite3.connect(self.path, timeout=30)
        connection.execute("PRAGMA journal_mode=WAL")
        return connection

    def create(
        self,
        run_id: str,
        workflow_name: str,
        workflow_file: str | None,
        workflow_text: str,
        inputs: dict[str, Any],
        overrides: dict[str, Any],
    ) -> None:
        now = time.time()
        with self._connect() as db:
            db.execute(
                "INSERT INTO runs VALUES (?, ?, ?, ?, ?, ?, 'running', NULL, ?, ?)",
                (
                    run_id,
                    workflow_name,
                    workflow_file,
                    workflow_text,
                    json.dumps(inputs),
                    json.dumps(overrides),
                    now,
                    now,
                ),
            )

    def finish(self, run_id: str, status: str, error: str | None = None) -> None:
        with self._connect() as db:
            db.execute(
                "UPDATE runs SET status = ?, error = ?, updated_at = ? WHERE run_id = ?",
                (status, error, time.time(), run_id),
            )

    def get(self, run_id: str) -> RunInfo:
        with self._connect() as db:
            row = db.execute(
                "SELECT run_id, workflow_name, workflow_file, workflow_text, inputs, overrides, status, error, created_at "
                "FROM runs WHERE run_id = ?",
                (run_id,),
            ).fetchone()
        if row is None:
            raise RunError(
                f"no run with id {run_id!r} in {self.path}.",
                "Use the run id printed when the run started, from the same workspace.",
            )
        return RunInfo(row[0], row[1], row[2], row[3], json.loads(row[4]), json.loads(row[5]), row[6], row[7], row[8])

    def recent(self, limit: int = 20) -> list[RunInfo]:
        with self._connect() as db:
            ids = [r[0] for r in db.execute("SELECT run_id FROM runs ORDER BY created_at DESC LIMIT ?", (limit,))]
        return [self.get(run_id) for run_id in ids]
