"""examples/notebooks/cost_report.ipynb runs top to bottom against a store filled by real runs (nbclient)."""

from __future__ import annotations

import csv

import pytest

from tests.conftest import EXAMPLES_DIR

NOTEBOOK = EXAMPLES_DIR / "notebooks" / "cost_report.ipynb"


@pytest.mark.slow
def test_the_cost_report_notebook_aggregates_exports_and_plots(filled, tmp_path, monkeypatch):
    import nbformat
    from nbclient import NotebookClient

    monkeypatch.setenv("COST_REPORT_DIR", str(tmp_path / "out"))  # the kernel inherits the environment
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    NotebookClient(
        notebook, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    ).execute()

    outputs = [out for cell in notebook.cells if cell.cell_type == "code" for out in cell.get("outputs", [])]
    assert not [out for out in outputs if out.output_type == "error"]
    summary = "".join(out.get("text", "") for out in outputs if out.output_type == "stream")
    assert "4 runs: 3 priced, unpriced: 1 runs" in summary
    assert any("application/vnd.plotly.v1+json" in out.get("data", {}) for out in outputs)
    rows = {r["workflow"]: r for r in csv.DictReader((tmp_path / "out" / "costs_by_workflow.csv").open())}
    assert rows["alpha"]["runs"] == "2" and rows["gamma"]["cost_usd"] == ""
    assert (tmp_path / "out" / "costs_by_day.csv").exists() and (tmp_path / "out" / "cost_rows.csv").exists()
