"""The Runs & Costs page in a real browser: runs listed, charts drawn with data, the CSV downloaded."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from agents_core.llm.pricing import format_usd
from tests.costs_page_runs import all_runs, fill

TIMEOUT = 90_000  # what the page should show, even on a busy machine


def _plotly_data(page: Page) -> list[dict]:
    """Title and trace sizes of every Plotly figure drawn in the page (read from the plot divs themselves)."""
    return page.evaluate(
        """() => Array.from(document.querySelectorAll('.js-plotly-plot')).map(div => ({
            title: ((div.layout && div.layout.title && div.layout.title.text) || '').replace(/<[^>]+>/g, ''),
            traces: (div.data || []).length,
            points: (div.data || []).reduce((n, t) => n + ((t.y && t.y.length) || 0), 0),
            svg: div.querySelectorAll('.main-svg .bars path, .main-svg .point path').length,
        }))"""
    )


def test_runs_listed_charts_drawn_and_csv_downloaded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, streamlit_app, open_app
) -> None:
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    runs = fill(tmp_path / "ws", monkeypatch)
    every = all_runs(runs)
    app = streamlit_app(tmp_path / "ws")

    page = open_app(app, "Runs_and_Costs", timeout=TIMEOUT)

    expect(page.get_by_role("heading", name="Runs & Costs")).to_be_visible(timeout=TIMEOUT)
    priced = sum(i.cost_usd or 0 for i in every)
    expect(page.get_by_text(f"5 runs of 5 · {format_usd(priced)} priced")).to_be_visible(timeout=TIMEOUT)
    newest = max(every, key=lambda i: i.started_at or i.created_at)
    header = page.get_by_test_id("stMarkdownContainer").filter(has_text=f"{newest.run_id} of {newest.workflow_name}")
    expect(header).to_be_visible(timeout=TIMEOUT)  # the top row of the table, in detail

    page.wait_for_function(
        "() => document.querySelectorAll('.js-plotly-plot').length >= 5"
        " && Array.from(document.querySelectorAll('.js-plotly-plot')).every(d => d.data && d.data.length)",
        timeout=TIMEOUT,
    )
    charts = {chart["title"]: chart for chart in _plotly_data(page)}
    assert {"Cost per day", "Cost by workflow", "Cost by model", "Tokens per node"} <= set(charts)
    assert charts["Cost by workflow"]["points"] == 3  # alpha, beta, gamma
    assert all(chart["svg"] > 0 for chart in charts.values()), charts  # bars really drawn

    with page.expect_download(timeout=TIMEOUT) as download:
        page.get_by_role("button", name="Download CSV").click()
    assert download.value.suggested_filename == "runs.csv"
    text = Path(download.value.path()).read_text(encoding="utf-8")
    rows = {row["run_id"]: row for row in csv.DictReader(io.StringIO(text))}
    assert set(rows) == {i.run_id for i in every}
    gamma = runs["gamma"][0]
    assert (rows[gamma.run_id]["cost"], rows[gamma.run_id]["cost_usd"]) == ("unpriced", "")
    for info in runs["alpha"] + runs["beta"]:
        assert float(rows[info.run_id]["cost_usd"]) == pytest.approx(info.cost_usd)
