"""examples/notebooks/cost_report.ipynb runs top to bottom against a real MLflow store filled by tracked runs (nbclient).

The store is written the way a user's is: real runs of scripted, instant models
through the run service with tracking on, priced by the workspace's
pricing.yaml (one provider left unpriced), flushed before the notebook reads it.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import nbformat
import pytest

from agents_core.runs.service import RunService
from agents_core.runs.store import SqliteRunStore
from tests.conftest import EXAMPLES_DIR
from tests.costs.conftest import PRICING_V1, run_the_mix
from tests.fakes import Script, scripted_provider

NOTEBOOK = EXAMPLES_DIR / "notebooks" / "cost_report.ipynb"
RUN_COST = 3 * (10 * 1000 + 5 * 2000) / 1e6  # 3 nodes of 10 in / 5 out tokens at PRICING_V1


def _beta_in_its_own_experiment(name: str, workflow: dict[str, Any]) -> None:
    if name == "beta":
        workflow["config"]["observability"] = {"mlflow": {"experiment_name": "other"}}


@pytest.fixture(scope="module")
def tracked_workspace(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, dict[str, list[str]]]]:
    """alpha ×2 and beta (priced, beta in its own experiment), gamma (unpriced), tracked into the workspace's mlflow.db.

    Filled once per module (MLflow's first use migrates its database, ~10 s); the tests only read it.
    """
    root = tmp_path_factory.mktemp("tracked-ws")
    (root / "pricing.yaml").write_text(PRICING_V1)
    with pytest.MonkeyPatch.context() as env:
        env.setenv("AGENTS_WORKSPACE", str(root))
        env.delenv("MLFLOW_TRACKING_URI", raising=False)
        service = RunService(SqliteRunStore(root / "runs.sqlite"))
        try:
            with scripted_provider(Script()), scripted_provider(Script(), name="mystery"):
                ids = run_the_mix(service, _beta_in_its_own_experiment, tracking=True)
        finally:
            service.shutdown(timeout=10)
            assert service.flush_tracking(120)
    yield root, ids


@pytest.fixture
def tracked(
    tracked_workspace: tuple[Path, dict[str, list[str]]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> dict[str, list[str]]:
    """The notebook's environment: the tracked workspace, and a run store that does not exist.

    With no run store to read, every figure the notebook shows can only have come from MLflow.
    """
    root, ids = tracked_workspace
    monkeypatch.setenv("AGENTS_WORKSPACE", str(root))
    monkeypatch.setenv("AGENTS_RUN_STORE", str(tmp_path / "no-run-store.sqlite"))
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    monkeypatch.delenv("MLFLOW_EXPERIMENT_NAME", raising=False)
    monkeypatch.setenv("COST_REPORT_DIR", str(tmp_path / "out"))
    return ids


def execute(folder: Path) -> tuple[list[Any], str]:
    """Run the notebook in a python3 kernel (which inherits this environment); its outputs and printed text."""
    from nbclient import NotebookClient

    notebook = nbformat.read(NOTEBOOK, as_version=4)
    NotebookClient(
        notebook, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(folder)}}
    ).execute()
    outputs = [out for cell in notebook.cells if cell.cell_type == "code" for out in cell.get("outputs", [])]
    assert not [out for out in outputs if out.output_type == "error"]
    return outputs, "".join(out.get("text", "") for out in outputs if out.output_type == "stream")


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as handle:
        return list(csv.DictReader(handle))


def test_the_notebook_keeps_its_explanation_of_source_and_env_vars():
    first = nbformat.read(NOTEBOOK, as_version=4).cells[0]
    assert first.cell_type == "markdown"
    for words in ("MLflow", "MLFLOW_TRACKING_URI", "AGENTS_WORKSPACE", "mlflow.db", "COST_REPORT_DIR", "unpriced"):
        assert words in first.source
    code = "".join(cell.source for cell in nbformat.read(NOTEBOOK, as_version=4).cells if cell.cell_type == "code")
    assert "mlflow.search_runs" in code and "agents_core.runs" not in code  # MLflow, not the run store


@pytest.mark.slow
def test_the_cost_report_notebook_reads_mlflow_aggregates_exports_and_plots(tracked, tmp_path):
    out = tmp_path / "out"

    outputs, printed = execute(tmp_path)

    assert "4 runs: 3 priced, unpriced: 1 runs" in printed  # beta's own experiment is read too
    assert f"cost of the priced runs: ${3 * RUN_COST:.6f}" in printed and "12 node runs" in printed
    plots = [out for out in outputs if "application/vnd.plotly.v1+json" in out.get("data", {})]
    assert len(plots) == 4  # cost per day, per workflow, per model; tokens per node

    workflows = {r["workflow"]: r for r in read_csv(out / "costs_by_workflow.csv")}
    assert {k: (r["runs"], r["priced_runs"], r["unpriced_runs"]) for k, r in workflows.items()} == {
        "alpha": ("2", "2", "0"),
        "beta": ("1", "1", "0"),
        "gamma": ("1", "0", "1"),
    }
    assert float(workflows["alpha"]["cost_usd"]) == pytest.approx(2 * RUN_COST)
    assert workflows["gamma"]["cost_usd"] == ""  # unpriced: empty, never $0
    assert workflows["alpha"]["input_tokens"] == "60" and workflows["gamma"]["output_tokens"] == "15"

    models = {(r["provider"], r["model"]): r for r in read_csv(out / "costs_by_model.csv")}
    assert models[("scripted", "scripted-1")]["runs"] == "3"
    assert float(models[("scripted", "scripted-1")]["cost_usd"]) == pytest.approx(3 * RUN_COST)
    assert (
        models[("mystery", "scripted-1")]["cost_usd"] == ""
        and models[("mystery", "scripted-1")]["unpriced_runs"] == "1"
    )

    (day,) = read_csv(out / "costs_by_day.csv")
    assert (day["runs"], day["unpriced_runs"]) == ("4", "1") and float(day["cost_usd"]) == pytest.approx(3 * RUN_COST)

    nodes = {(r["workflow"], r["node"]): r for r in read_csv(out / "tokens_by_node.csv")}
    assert set(nodes) == {(w, n) for w in ("alpha", "beta", "gamma") for n in ("first", "second", "third")}
    assert (nodes[("alpha", "first")]["input_tokens"], nodes[("alpha", "first")]["output_tokens"]) == ("20", "10")

    rows = read_csv(out / "cost_rows.csv")
    assert sorted(r["run_id"] for r in rows) == sorted(i for ids in tracked.values() for i in ids)
    assert len(read_csv(out / "node_rows.csv")) == 12


@pytest.mark.slow
def test_the_tracking_uri_and_experiment_from_the_environment_choose_the_source(
    tracked, tracked_workspace, isolated_workspace, tmp_path, monkeypatch
):
    store = f"sqlite:///{tracked_workspace[0] / 'mlflow.db'}"
    monkeypatch.setenv("AGENTS_WORKSPACE", str(isolated_workspace))  # an empty workspace: the URI wins
    monkeypatch.setenv("MLFLOW_TRACKING_URI", store)
    monkeypatch.setenv("MLFLOW_EXPERIMENT_NAME", "other")
    _, printed = execute(tmp_path)
    assert f"tracking store: {store}; experiment: other" in printed and "1 runs: 1 priced, unpriced: 0 runs" in printed
    assert [r["workflow"] for r in read_csv(tmp_path / "out" / "costs_by_workflow.csv")] == ["beta"]


@pytest.mark.slow
def test_a_workspace_without_a_tracking_store_reports_nothing_and_creates_none(
    isolated_workspace, tmp_path, monkeypatch
):
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    monkeypatch.delenv("MLFLOW_EXPERIMENT_NAME", raising=False)
    monkeypatch.setenv("COST_REPORT_DIR", str(tmp_path / "out"))
    outputs, printed = execute(tmp_path)
    assert "no tracked runs in sqlite:///" in printed and "0 runs: 0 priced, unpriced: 0 runs" in printed
    assert not (isolated_workspace / "mlflow.db").exists()
    assert read_csv(tmp_path / "out" / "costs_by_workflow.csv") == []
    assert any("application/vnd.plotly.v1+json" in out.get("data", {}) for out in outputs)
