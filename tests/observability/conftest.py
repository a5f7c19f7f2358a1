"""A real MLflow SQLite store per test module, a scripted model, and a run service that tracks into it.

Creating an MLflow database runs its migrations (~10 s), so one migrated
database is made per session and copied into each module's workspace.
"""

from __future__ import annotations

import itertools
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from agents_core.runs.service import RunService
from agents_core.runs.store import SqliteRunStore
from tests.fakes import Script, scripted_provider


@pytest.fixture(scope="session")
def mlflow_db_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from mlflow import MlflowClient

    path = tmp_path_factory.mktemp("mlflow-template") / "mlflow.db"
    MlflowClient(f"sqlite:///{path}").search_experiments()
    return path


def fresh_workspace(root: Path, template: Path) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    shutil.copy(template, root / "mlflow.db")
    return root


@pytest.fixture(scope="module")
def tracking_ws(tmp_path_factory: pytest.TempPathFactory, mlflow_db_template: Path) -> Path:
    """One workspace (with its mlflow.db) shared by the tests of a module; tests use their own experiments."""
    return fresh_workspace(tmp_path_factory.mktemp("tracking-ws"), mlflow_db_template)


@pytest.fixture
def script() -> Iterator[Script]:
    with scripted_provider(Script(default="hello")) as script:
        yield script


@pytest.fixture
def service(tracking_ws: Path, script: Script, monkeypatch: pytest.MonkeyPatch) -> Iterator[RunService]:
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    service = RunService(SqliteRunStore(tracking_ws / ".configurable-agents" / "runs.sqlite"))
    try:
        yield service
    finally:
        service.shutdown(timeout=10)
        service.flush_tracking(60)


def flow(name: str = "tracked", *, mlflow: dict[str, Any] | None = None, nodes: int = 2) -> dict[str, Any]:
    """A linear workflow of ``nodes`` scripted nodes (prompts start with the node id)."""
    fields: dict[str, Any] = {"topic": {"type": "str", "required": True}}
    node_list = []
    previous = "topic"
    for index in range(1, nodes + 1):
        fields[f"out{index}"] = {"type": "str", "default": ""}
        node_list.append(
            {"id": f"n{index}", "prompt": f"n{index}: about {{state.{previous}}}", "outputs": [f"out{index}"]}
        )
        previous = f"out{index}"
    ids = ["START", *(n["id"] for n in node_list), "END"]
    data: dict[str, Any] = {
        "schema_version": "1.0",
        "flow": {"name": name, "version": "1.2.0"},
        "state": {"fields": fields},
        "nodes": node_list,
        "edges": [{"from": a, "to": b} for a, b in itertools.pairwise(ids)],
        "config": {"llm": {"provider": "scripted", "temperature": 0.3}},
    }
    if mlflow is not None:
        data["config"]["observability"] = {"mlflow": mlflow}
    return data


def client(ws: Path) -> Any:
    from mlflow import MlflowClient

    return MlflowClient(f"sqlite:///{ws}/mlflow.db")


def runs_of(ws: Path, experiment: str, run_id: str) -> tuple[Any, list[Any]]:
    """The parent MLflow run of workflow run ``run_id`` and its children (oldest first)."""
    mlf = client(ws)
    exp = mlf.get_experiment_by_name(experiment)
    assert exp is not None, f"experiment {experiment} was not created"
    found = mlf.search_runs([exp.experiment_id], filter_string=f"tags.`configurable_agents.run_id` = '{run_id}'")
    parents = [r for r in found if "mlflow.parentRunId" not in r.data.tags]
    children = sorted((r for r in found if "mlflow.parentRunId" in r.data.tags), key=lambda r: r.info.start_time)
    assert len(parents) == 1, found
    return parents[0], children


def artifacts(ws: Path, run: Any) -> set[str]:
    return {a.path for a in client(ws).list_artifacts(run.info.run_id)}


def read_artifact(ws: Path, run: Any, name: str) -> str:
    import mlflow

    return mlflow.artifacts.load_text(f"{run.info.artifact_uri}/{name}")
