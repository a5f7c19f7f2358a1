"""Deleting old runs (``costs prune``, SPEC §8 retention): from the run store, and from MLflow when tracked.

A run is old when it was created more than ``older_than_days`` ago; without
that number each run keeps the ``config.observability.mlflow.retention_days``
of the workflow it ran (read from the workflow text stored with the run), and a
run whose workflow sets none is kept. Queued and running runs are never
deleted.

Tracking in MLflow is a separate concern: a module that mirrors runs into
MLflow registers a hook with :func:`register_prune_hook`; every hook is called
with the ids that were deleted and the cut-off, so both stores forget the same
runs. :func:`prune_runs` imports ``agents_core.observability`` when it exists,
which is where such a hook registers itself.
"""

from __future__ import annotations

import contextlib
import importlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from agents_core.errors import InputError

DAY = 86_400.0
#: Called as ``hook(run_ids, older_than_days)`` after runs were deleted from the store; returns how many it deleted.
PruneHook = Callable[[list[str], float | None], int]
_hooks: list[PruneHook] = []


def register_prune_hook(hook: PruneHook) -> None:
    """Make ``hook`` part of every prune (tracking backends use it to delete their copies)."""
    if hook not in _hooks:
        _hooks.append(hook)


def unregister_prune_hook(hook: PruneHook) -> None:
    if hook in _hooks:
        _hooks.remove(hook)


@dataclass
class PruneResult:
    """What a prune deleted (or, with ``dry_run``, would delete)."""

    run_ids: list[str]
    older_than_days: float | None
    dry_run: bool = False
    tracking_deleted: dict[str, int] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "deleted": len(self.run_ids),
            "run_ids": self.run_ids,
            "older_than_days": self.older_than_days,
            "dry_run": self.dry_run,
            "tracking_deleted": self.tracking_deleted,
        }


def retention_days(workflow_text: str) -> float | None:
    """``config.observability.mlflow.retention_days`` of a stored workflow text (``None``: unset or unreadable)."""
    import yaml

    try:
        data = yaml.safe_load(workflow_text)
        value = data["config"]["observability"]["mlflow"]["retention_days"]
    except Exception:  # a text that is not a mapping or lacks the keys keeps its runs
        return None
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) and value > 0 else None


def due_runs(runs: list[Any], older_than_days: float | None, now: float) -> list[str]:
    """Ids of finished runs older than the cut-off (their own workflow's retention when ``older_than_days`` is None)."""
    from agents_core.runs.lifecycle import ACTIVE_STATUSES

    cache: dict[str, float | None] = {}
    due = []
    for info in runs:
        if info.status in ACTIVE_STATUSES:
            continue
        days = older_than_days
        if days is None:
            if info.workflow_text not in cache:
                cache[info.workflow_text] = retention_days(info.workflow_text)
            days = cache[info.workflow_text]
        if days is not None and info.created_at < now - days * DAY:
            due.append(info.run_id)
    return due


def prune_runs(
    store: Any, older_than_days: float | None = None, *, dry_run: bool = False, now: float | None = None
) -> PruneResult:
    """Delete old runs from ``store`` (and MLflow, through the prune hooks); see the module's docstring."""
    if older_than_days is not None and older_than_days < 0:
        raise InputError(f"--older-than {older_than_days:g} is negative.", "Give a number of days, 0 or more.")
    now = time.time() if now is None else now
    ids = due_runs(store.list(limit=None), older_than_days, now)
    result = PruneResult(ids, older_than_days, dry_run)
    if dry_run or not ids:
        return result
    store.delete_runs(ids)
    _load_tracking()
    for hook in list(_hooks):
        name = getattr(hook, "__qualname__", repr(hook))
        try:
            result.tracking_deleted[name] = int(hook(ids, older_than_days) or 0)
        except Exception as exc:  # the store is pruned; a tracking backend that fails is reported, not fatal
            import warnings

            warnings.warn(f"pruning {name} failed: {exc}", stacklevel=2)
    return result


def _load_tracking() -> None:
    """Import the tracking package when this build has it, so its prune hook is registered."""
    with contextlib.suppress(ImportError):
        importlib.import_module("agents_core.observability")
