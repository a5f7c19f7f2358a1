"""The run store moved to :mod:`agents_core.runs.store`; these names stay for the faces that import them.

``RunStore(path)`` here still opens the SQLite store of a path, as it did.
"""

from __future__ import annotations

from agents_core.runs.store import STORE_DIR, STORE_ENV, STORE_FILE, RunInfo, default_store_path
from agents_core.runs.store import SqliteRunStore as RunStore

__all__ = ["STORE_DIR", "STORE_ENV", "STORE_FILE", "RunInfo", "RunStore", "default_store_path"]
