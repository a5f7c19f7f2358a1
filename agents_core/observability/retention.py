"""``retention_days``: delete runs older than a number of days from the run store and from MLflow.

``costs prune`` and the workbench's start call :func:`prune`. The run store
deletes rows, events and checkpoints (:meth:`RunStore.delete_before`); in
MLflow, runs of this product (tagged ``configurable_agents.run_id``) that
started before the cut are deleted for good (soft delete, then the store's
hard delete and their artifacts, as ``mlflow gc`` does) and so are the
experiments' traces from before it. A SQLite tracking store that does not
exist is not created; an unreachable server is skipped with a note.
"""

from __future__ import annotations

import logging
import os
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from agents_core.observability.settings import resolve_uri
from agents_core.runs.store import STORE_DIR

log = logging.getLogger(__name__)

SECONDS_PER_DAY = 86_400


@dataclass
class PruneReport:
    """What :func:`prune` deleted."""

    cutoff: float
    store_runs: list[str] = field(default_factory=list)
    mlflow_runs: list[str] = field(default_factory=list)
    mlflow_traces: int = 0
    notes: list[str] = field(default_factory=list)


def _store_of(target: Any) -> Any:
    from agents_core.runs.store import STORE_FILE, RunStore, default_store_path, open_store

    if isinstance(target, RunStore):
        return target
    if hasattr(target, "store") and isinstance(target.store, RunStore):  # a RunService
        return target.store
    path = Path(target) if target is not None else default_store_path()
    if path.is_dir():  # a workspace folder: its own store, whatever $AGENTS_RUN_STORE says
        path = path / STORE_DIR / STORE_FILE
    return open_store(path) if path.exists() else path  # pruning never creates a store


def _workspace_of(target: Any, store: Any) -> Path:
    if target is not None and not hasattr(target, "store") and Path(str(target)).is_dir():
        return Path(str(target))
    if isinstance(store, Path):
        parent = store.parent
        return parent.parent if parent.name == STORE_DIR else parent
    from agents_core.runs.service import _workspace_of as of_store

    return of_store(store)


def prune(
    target: Any = None,
    older_than_days: float = 30,
    *,
    tracking_uris: list[str] | None = None,
    workflow: str | None = None,
    now: float | None = None,
) -> PruneReport:
    """Delete runs older than ``older_than_days`` from the run store and MLflow.

    ``target``: a workspace folder, a run-store path, a ``RunStore`` or a ``RunService``
    (default: this workspace's store). ``tracking_uris``: the MLflow stores to prune
    (default: the workspace's ``mlflow.db`` when it exists). ``workflow``: only that workflow's runs.
    """
    if older_than_days is None or older_than_days <= 0:
        raise ValueError(f"older_than_days must be a positive number of days, not {older_than_days!r}.")
    store = _store_of(target)
    cutoff = (now if now is not None else time.time()) - older_than_days * SECONDS_PER_DAY
    report = PruneReport(cutoff)
    if not isinstance(store, Path):
        report.store_runs = store.delete_before(cutoff, workflow)
    workspace = _workspace_of(target, store)
    uris = [resolve_uri(uri, workspace) for uri in tracking_uris] if tracking_uris else [resolve_uri(None, workspace)]
    for uri in uris:
        _prune_mlflow(uri, cutoff, report, workflow)
    return report


def apply_retention(workspace: str | os.PathLike[str]) -> list[PruneReport]:
    """Prune each workflow of the workspace that sets ``retention_days`` (the workbench calls this on start)."""
    from agents_core.observability.settings import mlflow_config, resolve_uri
    from agents_core.workflow import load_workflow
    from agents_core.workspace import list_workflows

    root = Path(workspace)
    reports = []
    for path in list_workflows(root):
        try:
            loaded = load_workflow(path)
        except Exception:  # an invalid file keeps its runs; the Editor shows why it is invalid
            continue
        section = mlflow_config(loaded)
        if section is None or not section.retention_days:
            continue
        uris = [resolve_uri(section.tracking_uri, root)]
        reports.append(prune(root, section.retention_days, tracking_uris=uris, workflow=loaded.flow.name))
    return reports


def forget_in_mlflow(run_ids: list[str], older_than_days: float | None = None) -> int:
    """The prune hook of ``costs prune``: delete the MLflow copies (runs, traces, artifacts) of runs the store forgot.

    Looks in this workspace's default tracking store (``$AGENTS_WORKSPACE`` or the
    current folder); returns how many MLflow runs it deleted.
    """
    workspace = Path(os.environ.get("AGENTS_WORKSPACE") or os.getcwd())
    report = PruneReport(time.time() + 1)
    _prune_mlflow(resolve_uri(None, workspace), report.cutoff, report, only_ids=set(run_ids))
    for note in report.notes:
        log.warning(note)
    return len(report.mlflow_runs)


def _prune_mlflow(
    uri: str, cutoff: float, report: PruneReport, workflow: str | None = None, only_ids: set[str] | None = None
) -> None:
    from agents_core.observability.probe import unreachable

    if uri.startswith("sqlite:///") and not Path(uri[len("sqlite:///") :]).exists():
        return
    if uri.startswith("file:") and not Path(urlparse(uri).path).exists():
        return
    why = unreachable(uri)
    if why is not None:
        report.notes.append(f"MLflow at {uri} was not pruned: {why}.")
        return
    from agents_core.observability.mirror import TAG_RUN_ID, client_for

    client = client_for(uri)
    cutoff_ms = int(cutoff * 1000)
    store = getattr(getattr(client, "_tracking_client", None), "store", None)
    only = f" and tags.workflow_name = '{_quoted(workflow)}'" if workflow is not None else ""
    for experiment in client.search_experiments():
        runs = client.search_runs(
            [experiment.experiment_id],
            filter_string=f"attributes.start_time < {cutoff_ms}{only}",
            max_results=50_000,
        )
        deleted_ids: set[str] = set()
        for run in runs:
            if TAG_RUN_ID not in run.data.tags:
                continue  # not ours: left alone
            if only_ids is not None and run.data.tags[TAG_RUN_ID] not in only_ids:
                continue
            deleted_ids.add(run.data.tags[TAG_RUN_ID])
            run_id = run.info.run_id
            client.delete_run(run_id)
            if hasattr(store, "_hard_delete_run"):
                try:
                    store._hard_delete_run(run_id)
                except Exception as exc:  # still deleted (soft); mlflow gc finishes it
                    report.notes.append(f"run {run_id} only soft-deleted: {exc}")
            _remove_artifacts(run.info.artifact_uri)
            report.mlflow_runs.append(run_id)
        try:
            report.mlflow_traces += _prune_traces(
                client, experiment.experiment_id, cutoff_ms, deleted_ids, workflow is not None or only_ids is not None
            )
        except Exception as exc:
            report.notes.append(f"traces of experiment {experiment.name!r} were not pruned: {exc}")


def _quoted(value: str) -> str:
    return value.replace("\\", "\\\\").replace("'", "\\'")


def _prune_traces(client: Any, experiment_id: str, cutoff_ms: int, run_ids: set[str], only_those: bool) -> int:
    """Our traces from before the cut (only those of the deleted runs, when pruning some runs)."""
    from agents_core.observability.mirror import TAG_RUN_ID

    ids = []
    token = None
    while True:
        page = client.search_traces(
            locations=[experiment_id],
            filter_string=f"trace.timestamp_ms < {cutoff_ms}",
            max_results=500,
            page_token=token,
            include_spans=False,
        )
        for trace in page:
            ours = trace.info.tags.get(TAG_RUN_ID)
            if ours and (not only_those or ours in run_ids):
                ids.append(trace.info.trace_id)
        token = page.token
        if not token:
            break
    for start in range(0, len(ids), 100):
        client.delete_traces(experiment_id, trace_ids=ids[start : start + 100])
    return len(ids)


def _remove_artifacts(artifact_uri: str | None) -> None:
    if not artifact_uri or not artifact_uri.startswith(("file:", "/")):
        return
    path = Path(urlparse(artifact_uri).path if artifact_uri.startswith("file:") else artifact_uri)
    if path.is_dir():
        shutil.rmtree(path, ignore_errors=True)
    parent = path.parent  # <artifact_location>/<run_id>/artifacts: remove the run's folder too
    if parent.name and parent.is_dir() and not any(parent.iterdir()):
        os.rmdir(parent)
