"""Tracking into PostgreSQL (what a scaled deployment's workers and API share), on a real server.

``deploy --scale N`` with MLflow gives every process the same
``MLFLOW_TRACKING_URI=postgresql+psycopg://…/mlflow``: a run tracked there is
read back with ``MlflowClient`` from that URI alone, and its artifacts are in
the workspace's ``mlartifacts`` (the volume the compose file shares), not in
``./mlruns`` of whatever the current directory is. (The service's workspace is
its SQLite store's folder here; in a container it is ``$AGENTS_WORKSPACE``.)
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.observability.conftest import flow

pytestmark = pytest.mark.slow


def test_a_run_tracked_into_postgresql_is_read_back_with_its_artifacts_in_the_workspace(
    postgres_url: str, script, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from mlflow.tracking import MlflowClient

    from agents_core.observability.settings import TAG_RUN_ID
    from agents_core.runs.service import RunService

    monkeypatch.setenv("MLFLOW_MODEL_CATALOG_URI", "")  # MLflow's span costs would ask github.com otherwise
    (tmp_path / "elsewhere").mkdir()
    monkeypatch.chdir(tmp_path / "elsewhere")  # MLflow's own default would put artifacts in ./mlruns here
    service = RunService(tmp_path / "store" / "runs.sqlite", tracking=True, tracking_uri=postgres_url)
    try:
        result = service.start(flow("shared"), {"topic": "cats"}).wait(60)
        assert service.flush_tracking(120)
    finally:
        service.shutdown(timeout=10)
    client = MlflowClient(postgres_url)
    experiment = client.get_experiment_by_name("configurable_agents")
    assert experiment is not None
    expected = tmp_path.resolve() / "store" / "mlartifacts" / "configurable_agents"
    assert experiment.artifact_location == expected.as_uri()
    found = client.search_runs([experiment.experiment_id], filter_string=f"tags.`{TAG_RUN_ID}` = '{result.run_id}'")
    parent = next(run for run in found if "mlflow.parentRunId" not in run.data.tags)
    assert parent.data.params["workflow_name"] == "shared" and len(found) == 3  # the run and its two nodes
    assert {a.path for a in client.list_artifacts(parent.info.run_id)} >= {"inputs.json", "outputs.json"}
    assert not (tmp_path / "elsewhere" / "mlruns").exists()
