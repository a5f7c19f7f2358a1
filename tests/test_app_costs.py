"""The Runs & Costs page (``pages/3_Runs_and_Costs.py``) through AppTest, over a store filled by real runs."""

from __future__ import annotations

import csv
import io
import json
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from streamlit.runtime.memory_media_file_storage import MemoryMediaFileStorage
from streamlit.testing.v1 import AppTest

from agents_core.llm.pricing import format_usd
from agents_core.runs import RunInfo
from tests.costs_page_runs import ALPHA_BUDGET, PRICE_SOURCE, all_runs, day_of, fill

REPO_ROOT = Path(__file__).resolve().parents[1]
APP = str(REPO_ROOT / "app.py")
PAGE = "pages/3_Runs_and_Costs.py"
TIMEOUT = 120


@pytest.fixture
def runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, list[RunInfo]]:
    monkeypatch.setattr(sys, "argv", ["app.py"])
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    return fill(tmp_path / "ws", monkeypatch)


@pytest.fixture
def downloads(monkeypatch: pytest.MonkeyPatch) -> list[tuple[bytes | str, str | None]]:
    """What the page hands to Streamlit's media storage (the bytes a download button serves), with the file name."""
    kept: list[tuple[bytes | str, str | None]] = []
    original = MemoryMediaFileStorage.load_and_get_id

    def spy(self: Any, path_or_data: Any, mimetype: str, kind: Any, filename: str | None = None) -> str:
        kept.append((path_or_data, filename))
        return original(self, path_or_data, mimetype, kind, filename)

    monkeypatch.setattr(MemoryMediaFileStorage, "load_and_get_id", spy)
    return kept


def _ok(at: AppTest) -> AppTest:
    assert not at.exception, [e.value for e in at.exception]
    return at


def _page() -> AppTest:
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    _ok(at.run())
    at.switch_page(PAGE)
    _ok(at.run())
    assert [t.value for t in at.title] == ["Runs & Costs"]
    return at


def _table(at: AppTest) -> list[dict[str, Any]]:
    """The runs table (the page's first dataframe) as records."""
    return at.dataframe[0].value.to_dict("records")


def _charts(at: AppTest) -> dict[str, dict[str, Any]]:
    """The page's Plotly figures by title."""
    figures = [json.loads(chart.proto.spec) for chart in at.get("plotly_chart")]
    return {figure["layout"]["title"]["text"]: figure for figure in figures}


def test_every_run_is_listed_with_its_cost_and_unpriced_is_never_zero(runs: dict[str, list[RunInfo]]) -> None:
    at = _page()

    rows = {row["run_id"]: row for row in _table(at)}
    assert set(rows) == {info.run_id for info in all_runs(runs)}
    for info in all_runs(runs):
        row = rows[info.run_id]
        assert (row["workflow"], row["status"]) == (info.workflow_name, info.status)
        assert (row["input_tokens"], row["output_tokens"]) == (info.input_tokens, info.output_tokens)
    [gamma] = runs["gamma"]
    assert gamma.cost_usd is None
    assert rows[gamma.run_id]["cost"] == "unpriced"
    for info in runs["alpha"] + runs["beta"]:
        assert info.cost_usd and rows[info.run_id]["cost"] == format_usd(info.cost_usd)
    assert rows[runs["alpha"][0].run_id]["models"] == "scripted/scripted-1"
    priced = sum(i.cost_usd or 0 for i in all_runs(runs))
    assert f"5 runs of 5 · {format_usd(priced)} priced · 1 unpriced run not counted" in [c.value for c in at.caption]


def test_filters_by_workflow_status_model_and_dates(runs: dict[str, list[RunInfo]]) -> None:
    at = _page()

    _ok(at.multiselect(key="costs_workflows").select("alpha").run())
    assert {r["run_id"] for r in _table(at)} == {i.run_id for i in runs["alpha"]}

    _ok(at.multiselect(key="costs_workflows").unselect("alpha").run())
    _ok(at.multiselect(key="costs_statuses").select("failed").run())
    assert [r["run_id"] for r in _table(at)] == [runs["beta"][1].run_id]

    _ok(at.multiselect(key="costs_statuses").unselect("failed").run())
    _ok(at.multiselect(key="costs_models").select("mystery/scripted-1").run())
    assert [r["run_id"] for r in _table(at)] == [runs["gamma"][0].run_id]

    _ok(at.multiselect(key="costs_models").unselect("mystery/scripted-1").run())
    old = runs["alpha"][0]
    today = datetime.now(UTC).date()
    _ok(at.date_input(key="costs_dates").set_value((today - timedelta(days=1), today)).run())
    assert old.run_id not in {r["run_id"] for r in _table(at)}
    assert len(_table(at)) == 4
    old_day = datetime.strptime(day_of(old), "%Y-%m-%d").date()
    _ok(at.date_input(key="costs_dates").set_value((old_day, old_day)).run())
    assert [r["run_id"] for r in _table(at)] == [old.run_id]


def test_sorting_by_cost_puts_unpriced_last_either_way(runs: dict[str, list[RunInfo]]) -> None:
    at = _page()
    _ok(at.selectbox(key="costs_sort").select("Cost").run())

    rows = _table(at)
    assert rows[-1]["run_id"] == runs["gamma"][0].run_id
    costs = [next(i.cost_usd for i in all_runs(runs) if i.run_id == r["run_id"]) for r in rows[:-1]]
    assert costs == sorted(costs, reverse=True)

    _ok(at.toggle(key="costs_descending").set_value(False).run())
    rows = _table(at)
    assert rows[-1]["run_id"] == runs["gamma"][0].run_id
    costs = [next(i.cost_usd for i in all_runs(runs) if i.run_id == r["run_id"]) for r in rows[:-1]]
    assert costs == sorted(costs) and costs[0] < costs[-1]


def test_run_detail_shows_nodes_costs_sources_prompts_inputs_and_the_error(runs: dict[str, list[RunInfo]]) -> None:
    at = _page()
    failed = runs["beta"][1]
    _ok(at.selectbox(key="costs_run").select(failed.run_id).run())

    header = next(m.value for m in at.markdown if m.value.startswith(f"**`{failed.run_id}`**"))
    assert "**failed**" in header and "10 in / 5 out tokens" in header and format_usd(failed.cost_usd) in header
    [nodes] = [d.value for d in at.dataframe][1:]
    records = nodes.to_dict("records")
    assert [(r["node"], r["status"]) for r in records] == [("first", "success"), ("second", "failed")]
    assert records[0]["cost"] == format_usd(failed.nodes[0]["cost_usd"]) and records[0]["price_source"] == PRICE_SOURCE
    assert (records[0]["input_tokens"], records[0]["output_tokens"], records[0]["retries"]) == (10, 5, 0)
    [error] = [e.value for e in at.error]
    assert "node 'second'" in error and "the reply was not usable" in error
    assert [e.label for e in at.expander] == ["Prompt and reply of first", "Prompt and reply of second"]
    assert "first: tide pools" in [c.value for c in at.code]
    assert json.loads(next(c.value for c in at.code if c.language == "json")) == {"topic": "tide pools"}
    assert "Not tracked in MLflow" in " ".join(c.value for c in at.caption)

    _ok(at.selectbox(key="costs_run").select(runs["gamma"][0].run_id).run())
    header = next(m.value for m in at.markdown if m.value.startswith(f"**`{runs['gamma'][0].run_id}`**"))
    assert header.endswith("· unpriced")
    assert {r["price_source"] for r in at.dataframe[1].value.to_dict("records")} == {"unpriced"}


def test_charts_carry_the_store_figures(runs: dict[str, list[RunInfo]]) -> None:
    at = _page()

    charts = _charts(at)
    assert set(charts) == {
        "Cost per day",
        "Cost by workflow",
        "Cost by model",
        "Tokens per node",
        "Month-to-date spend against monthly_budget_usd",
    }
    [by_workflow] = charts["Cost by workflow"]["data"]
    totals = dict(zip(by_workflow["x"], by_workflow["y"], strict=True))
    for name in ("alpha", "beta"):
        assert totals[name] == pytest.approx(sum(i.cost_usd for i in runs[name]))
    assert totals["gamma"] == 0 and by_workflow["customdata"][by_workflow["x"].index("gamma")] == [1, 1]
    [per_day] = charts["Cost per day"]["data"]
    assert per_day["x"] == sorted({day_of(i) for i in all_runs(runs)})
    tokens = {
        trace["name"]: dict(zip(trace["x"], trace["y"], strict=True)) for trace in charts["Tokens per node"]["data"]
    }
    assert tokens["input tokens"]["first"] == sum(n["input_tokens"] for i in all_runs(runs) for n in i.nodes[:1])
    spent, budget = charts["Month-to-date spend against monthly_budget_usd"]["data"]
    assert spent["x"] == ["alpha"] and budget["y"] == [ALPHA_BUDGET]
    assert spent["y"] == [pytest.approx(runs["alpha"][1].cost_usd)]  # the older alpha run is of another month

    _ok(at.radio(key="costs_period").set_value("Month").run())
    [per_month] = _charts(at)["Cost per month"]["data"]
    months = sorted({day_of(i)[:7] for i in all_runs(runs)})
    assert per_month["x"] == months and len(months) == 2


def test_csv_download_holds_the_shown_runs(runs: dict[str, list[RunInfo]], downloads: list) -> None:
    at = _page()
    _ok(at.multiselect(key="costs_workflows").select("gamma").run())
    _ok(at.multiselect(key="costs_workflows").select("beta").run())

    data, filename = downloads[-1]
    assert filename == "runs.csv"
    text = data.decode() if isinstance(data, bytes) else data
    rows = list(csv.DictReader(io.StringIO(text)))
    assert {r["run_id"] for r in rows} == {i.run_id for i in runs["beta"] + runs["gamma"]}
    by_id = {r["run_id"]: r for r in rows}
    gamma = by_id[runs["gamma"][0].run_id]
    assert (gamma["cost"], gamma["cost_usd"]) == ("unpriced", "")  # never 0
    for info in runs["beta"]:
        assert float(by_id[info.run_id]["cost_usd"]) == pytest.approx(info.cost_usd)
        assert int(by_id[info.run_id]["input_tokens"]) == info.input_tokens


def test_a_workspace_without_runs_says_so(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "argv", ["app.py"])
    monkeypatch.setenv("AGENTS_WORKSPACE", str(tmp_path))
    monkeypatch.delenv("AGENTS_RUN_STORE", raising=False)

    at = _page()

    assert any("No runs yet" in i.value for i in at.info)
    assert [s.value for s in at.subheader] == ["MLflow UI"]
    assert not (tmp_path / ".configurable-agents").exists()  # looking creates no store
