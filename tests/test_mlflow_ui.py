"""The Runs & Costs page's MLflow UI helper against a real MLflow SQLite store and a real ``mlflow server``."""

from __future__ import annotations

import socket
from pathlib import Path

import httpx
import pytest

from workbench import mlflow_ui
from workbench.mlflow_ui import TAG_RUN_ID, find_tracked_run, running_ui, start_ui, stop_ui, tracking_uri


def _tracked_store(workspace: Path, run_id: str) -> tuple[str, str, str]:
    """A store holding one workflow run's mirror (a parent run tagged with our run id, and a node child)."""
    from mlflow.tracking import MlflowClient

    uri = tracking_uri(workspace)
    client = MlflowClient(tracking_uri=uri)
    experiment = client.create_experiment("configurable_agents", artifact_location=(workspace / "art").as_uri())
    parent = client.create_run(experiment, tags={TAG_RUN_ID: run_id}, run_name="article_writer")
    client.create_run(experiment, tags={TAG_RUN_ID: run_id, "mlflow.parentRunId": parent.info.run_id})
    client.log_metric(parent.info.run_id, "cost_usd", 0.25)
    return uri, experiment, parent.info.run_id


def _port_open(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


def test_tracking_uri_is_the_workspace_sqlite_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    assert tracking_uri(tmp_path) == f"sqlite:///{(tmp_path / 'mlflow.db').resolve()}"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "sqlite:///other.db")
    assert tracking_uri(tmp_path) == f"sqlite:///{(tmp_path / 'other.db').resolve()}"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "http://127.0.0.1:5000")
    assert tracking_uri(tmp_path) == "http://127.0.0.1:5000"
    assert mlflow_ui.is_remote(tracking_uri(tmp_path))


def test_find_tracked_run_gives_the_parent_run_or_none(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    assert find_tracked_run(tracking_uri(tmp_path), "abc123") is None  # no store: no link, and none created
    assert not (tmp_path / "mlflow.db").exists()
    uri, experiment, parent = _tracked_store(tmp_path, "abc123")

    found = find_tracked_run(uri, "abc123")

    assert found is not None
    assert (found.experiment_id, found.mlflow_run_id) == (experiment, parent)
    assert find_tracked_run(uri, "not-tracked") is None
    assert find_tracked_run(uri, "it's") is None  # a quote in the id is not a filter syntax error


@pytest.mark.slow
def test_start_ui_serves_the_store_on_127_0_0_1_and_stop_ends_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    uri, experiment, parent = _tracked_store(tmp_path, "abc123")

    ui = start_ui(uri, cwd=tmp_path)
    try:
        assert ui.url == f"http://127.0.0.1:{ui.port}"
        assert running_ui(uri) is ui
        assert start_ui(uri, cwd=tmp_path) is ui  # a rerun of the page finds the same server
        health = httpx.get(f"{ui.url}/health", timeout=10, trust_env=False)
        assert health.status_code == 200
        got = httpx.get(f"{ui.url}/api/2.0/mlflow/runs/get", params={"run_id": parent}, timeout=30, trust_env=False)
        assert got.status_code == 200, got.text
        assert got.json()["run"]["info"]["experiment_id"] == experiment  # it serves this store
        assert ui.run_url(experiment, parent) == f"{ui.url}/#/experiments/{experiment}/runs/{parent}"
    finally:
        assert stop_ui(uri)

    assert ui.process.poll() is not None
    assert running_ui(uri) is None
    assert not _port_open(ui.port)
    assert not stop_ui(uri)


@pytest.mark.slow
def test_a_server_that_exits_at_once_is_an_error_naming_the_store(tmp_path: Path) -> None:
    bad = "notascheme://nowhere"

    with pytest.raises(mlflow_ui.AgentsError) as caught:
        start_ui(bad, cwd=tmp_path, timeout=120)

    assert bad in caught.value.message
    assert running_ui(bad) is None
