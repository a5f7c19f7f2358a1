"""The run service: one lifecycle for every face (see :mod:`agents_core.runs.service`).

Importing this package loads nothing heavy; LangGraph is imported when a run starts.
"""

from __future__ import annotations

from agents_core.runs.lifecycle import TERMINAL_STATUSES, Owner
from agents_core.runs.service import Observer, RunHandle, RunService, default_service
from agents_core.runs.store import RunInfo, RunStore, SqliteRunStore, default_store_path

__all__ = [
    "TERMINAL_STATUSES",
    "Observer",
    "Owner",
    "RunHandle",
    "RunInfo",
    "RunService",
    "RunStore",
    "SqliteRunStore",
    "default_service",
    "default_store_path",
]
