"""The run service: one lifecycle for every face (see :mod:`agents_core.runs.service`).

Importing this package loads nothing heavy; LangGraph is imported when a run starts.
"""

from __future__ import annotations

from agents_core.runs.lifecycle import TERMINAL_STATUSES, Owner
from agents_core.runs.service import Observer, RunHandle, RunService, default_service
from agents_core.runs.store import RunInfo, RunStore, default_store_path, open_store

__all__ = [
    "TERMINAL_STATUSES",
    "Observer",
    "Owner",
    "PostgresRunStore",
    "RunHandle",
    "RunInfo",
    "RunService",
    "RunStore",
    "SqliteRunStore",
    "default_service",
    "default_store_path",
    "open_store",
]


def __getattr__(name: str) -> object:
    """``SqliteRunStore`` and ``PostgresRunStore`` load SQLAlchemy, so they are imported on first use."""
    if name in ("SqliteRunStore", "PostgresRunStore"):
        from agents_core.runs import store

        return getattr(store, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
