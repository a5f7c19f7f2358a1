"""retention_days: prune deletes older runs from the run store and from MLflow, and keeps newer ones."""

from __future__ import annotations

import sqlite3
import time

import pytest

from agents_core.observability import prune
from agents_core.runs.service import RunService
from tests.observability.conftest import client, flow, fresh_workspace

pytestmark = pytest.mark.slow


def test_prune_deletes_old_runs_from_store_and_mlflow(script, tmp_path, mlflow_db_template, monkeypatch):
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    ws = fresh_workspace(tmp_path / "ws", mlflow_db_template)
    service = RunService(ws / ".configurable-agents" / "runs.sqlite")
    settings = {"enabled": True, "experiment_name": "kept"}
    try:
        old = service.start(flow(mlflow=settings), {"topic": "old"}).wait(60)
        assert service.flush_tracking(60)
        time.sleep(0.05)
        middle = time.time()
        time.sleep(0.05)
        new = service.start(flow(mlflow=settings), {"topic": "new"}).wait(60)
        assert service.flush_tracking(60)
    finally:
        service.shutdown()
    mlf = client(ws)
    exp = mlf.get_experiment_by_name("kept")
    before = mlf.search_runs([exp.experiment_id])
    assert len(before) == 6  # two parents, four node runs
    old_artifacts = {r.info.artifact_uri for r in before if r.data.tags["configurable_agents.run_id"] == old.run_id}

    report = prune(ws, 30, now=middle + 30 * 86_400)

    assert report.store_runs == [old.run_id]
    assert [r.run_id for r in service.store.list()] == [new.run_id]
    assert service.store.events(old.run_id) == [] and not service.store.has_checkpoint(old.run_id)
    left = mlf.search_runs([exp.experiment_id], run_view_type=3)  # ALL: deleted ones would show too
    assert {r.data.tags["configurable_agents.run_id"] for r in left} == {new.run_id}
    assert len(report.mlflow_runs) == 3 and report.mlflow_traces == 1
    from pathlib import Path
    from urllib.parse import urlparse

    assert not any(Path(urlparse(uri).path).exists() for uri in old_artifacts)
    traces = mlf.search_traces(locations=[exp.experiment_id])
    assert [t.info.tags["configurable_agents.run_id"] for t in traces] == [new.run_id]


def test_prune_refuses_a_non_positive_age(tmp_path):
    with pytest.raises(ValueError, match="positive number of days"):
        prune(tmp_path, 0)


def test_prune_without_an_mlflow_store_does_not_create_one(tmp_path):
    report = prune(tmp_path, 30)
    assert report.store_runs == [] and not (tmp_path / "mlflow.db").exists()
    assert not (tmp_path / ".configurable-agents").exists()  # nor a run store


def test_apply_retention_prunes_only_the_workflows_that_ask_for_it(script, tmp_path, mlflow_db_template, monkeypatch):
    import yaml

    from agents_core.observability.retention import apply_retention

    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    ws = fresh_workspace(tmp_path / "ws2", mlflow_db_template)
    short = flow("short_lived", mlflow={"enabled": True, "retention_days": 1, "experiment_name": "ret"})
    long = flow("long_lived", mlflow={"enabled": True, "experiment_name": "ret"})
    (ws / "short.yaml").write_text(yaml.safe_dump(short))
    (ws / "long.yaml").write_text(yaml.safe_dump(long))
    service = RunService(ws / ".configurable-agents" / "runs.sqlite")
    try:
        gone = service.start(ws / "short.yaml", {"topic": "a"}).wait(60)
        kept = service.start(ws / "long.yaml", {"topic": "b"}).wait(60)
        assert service.flush_tracking(60)
    finally:
        service.shutdown()
    ancient = time.time() - 2 * 86_400
    with sqlite3.connect(ws / ".configurable-agents" / "runs.sqlite") as db:  # both ended two days ago
        db.execute("UPDATE runs SET finished_at = ?, created_at = ?", (ancient, ancient))
    mlf = client(ws)
    exp = mlf.get_experiment_by_name("ret")

    assert apply_retention(ws) and apply_retention(ws)[0].store_runs == []
    assert [r.run_id for r in service.store.list()] == [kept.run_id]
    # MLflow runs started just now are younger than one day: kept until they age
    assert {r.data.tags["configurable_agents.run_id"] for r in mlf.search_runs([exp.experiment_id])} == {
        gone.run_id,
        kept.run_id,
    }
    report = prune(ws, 1, workflow="short_lived", now=time.time() + 2 * 86_400)
    assert len(report.mlflow_runs) == 3 and report.mlflow_traces == 1
    left = {r.data.tags["configurable_agents.run_id"] for r in mlf.search_runs([exp.experiment_id], run_view_type=3)}
    assert left == {kept.run_id}
