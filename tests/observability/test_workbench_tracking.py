"""End to end in the workbench: a run started on the Run page with "Track in MLflow" on lands in the
workspace's ``mlflow.db``, and the Runs & Costs page's detail of that run links it (issue 10 §4).

Real pieces throughout: the pages through AppTest, the workspace's own run service, the tracking
observer writing a real MLflow SQLite store (read back with ``MlflowClient``), a scripted model.
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from agents_core.observability.settings import TAG_RUN_ID
from agents_core.runs import default_service
from agents_core.runs.store import STORE_ENV
from agents_core.workspace import WORKSPACE_ENV
from tests.fakes import Script, scripted_provider
from tests.observability.conftest import fresh_workspace
from workbench import mlflow_ui

REPO_ROOT = Path(__file__).resolve().parents[2]
APP = str(REPO_ROOT / "app.py")
TIMEOUT = 120
WORKFLOW = "article_writer.yaml"  # the file leaves tracking off: only the switch turns it on
ARTICLE = {"title": "Tide pools", "article": "Small worlds between the tides."}


@pytest.fixture
def workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, mlflow_db_template: Path) -> Path:
    folder = tmp_path / "examples"
    shutil.copytree(REPO_ROOT / "examples", folder)
    fresh_workspace(folder, mlflow_db_template)  # an already migrated mlflow.db in the workspace
    monkeypatch.setenv(WORKSPACE_ENV, str(folder))
    monkeypatch.delenv(STORE_ENV, raising=False)
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)  # the workspace's sqlite:///…/mlflow.db
    monkeypatch.setattr(sys, "argv", ["app.py"])
    return folder


def _ok(at: AppTest) -> AppTest:
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    return at


def _page(path: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    _ok(at.run())
    at.switch_page(path)
    return _ok(at.run())


def test_a_run_tracked_from_the_run_page_is_in_mlflow_and_linked_on_runs_and_costs(workspace: Path) -> None:
    from mlflow import MlflowClient

    with scripted_provider(Script({"List": ["- tides come and go"], "Write": [json.dumps(ARTICLE)]})):
        at = _page("pages/2_Run.py")
        _ok(at.selectbox(key="run_workflow").select(WORKFLOW).run())
        switch = at.toggle(key=f"run_tracking:{WORKFLOW}")
        assert switch.label == "Track in MLflow" and not switch.disabled and switch.value is False
        switch.set_value(True)
        [topic] = [w for w in at.text_area if w.label == "topic *"]
        topic.input("tide pools")
        at.selectbox(key="run_provider").select("scripted")
        _ok(at.button(key="FormSubmitter:run_form-Run").click().run())
        run_id = at.session_state["run_active_id"]
        service = default_service(workspace)
        result = service.wait(run_id, 60)
        assert result.status == "success", result.error
        assert service.flush_tracking(60)

    uri = mlflow_ui.tracking_uri(workspace)
    assert uri == f"sqlite:///{(workspace / 'mlflow.db').resolve()}"
    client = MlflowClient(tracking_uri=uri)
    experiments = [e.experiment_id for e in client.search_experiments()]
    found = client.search_runs(experiments, filter_string=f"tags.`{TAG_RUN_ID}` = '{run_id}'")
    parents = [r for r in found if "mlflow.parentRunId" not in r.data.tags]
    assert len(parents) == 1 and parents[0].info.status == "FINISHED"
    assert len(found) > 1  # a child run per node beside the parent
    tracked = mlflow_ui.find_tracked_run(uri, run_id)
    assert tracked is not None and tracked.mlflow_run_id == parents[0].info.run_id

    costs = _page("pages/3_Runs_and_Costs.py")
    _ok(costs.selectbox(key="costs_run").select(run_id).run())
    captions = " ".join(c.value for c in costs.caption)
    assert f"Tracked in MLflow as run `{tracked.mlflow_run_id}`" in captions
    assert "Not tracked in MLflow" not in captions
