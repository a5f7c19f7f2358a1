"""Streamlit-free pieces behind the Runs & Costs page, the Run page's total and toggle, and Home's spend."""

from __future__ import annotations

import functools
import shutil
import sys
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from streamlit.testing.v1 import AppTest

from agents_core.costs.periods import Window, day_window, week_start
from agents_core.costs.report import CostFilters, aggregate, model_key, rows_for_runs, totals
from agents_core.engine.events import NodeFinished, NodeRecord, NodeStarted, RunStarted
from agents_core.errors import InputError
from agents_core.llm.pricing import format_usd
from agents_core.runs import RunInfo, RunService, default_service
from agents_core.runs.budgets import month_start
from agents_core.runs.store import STORE_ENV
from agents_core.workspace import WORKSPACE_ENV
from tests.costs_page_runs import all_runs, fill
from tests.fakes import Script, scripted_provider
from workbench import run_form
from workbench.run_view import RunView, running_total_text

REPO_ROOT = Path(__file__).resolve().parents[1]
APP = str(REPO_ROOT / "app.py")
TIMEOUT = 120


def _info(run_id: str, workflow: str, nodes: list[dict[str, Any]], created: float = 1_700_000_000.0) -> RunInfo:
    return RunInfo(run_id, workflow, None, "", {}, {}, "success", None, created, finished_at=created + 1, nodes=nodes)


def _node(node: str, model: str, tokens: int, cost: float | None) -> dict[str, Any]:
    return {"id": node, "provider": "p", "model": model, "input_tokens": tokens, "output_tokens": 0, "cost_usd": cost}


def test_aggregate_sums_run_shares_and_keeps_unpriced_apart() -> None:
    runs = [
        _info("r1", "a", [_node("n1", "m1", 10, 0.5), _node("n2", "m2", 10, 0.25)]),
        _info("r2", "a", [_node("n1", "m1", 10, 1.0), _node("n2", "mystery", 10, None)]),
        _info("r3", "b", [_node("n1", "mystery", 10, None)]),
        _info("r4", "b", [_node("n1", "m1", 0, None)]),  # no tokens, no price: costs nothing, is not unpriced
    ]
    rows = rows_for_runs(runs)  # the page's runs, already read and filtered, through the library's report

    by_workflow = {g["workflow"]: g for g in aggregate(rows, "workflow")}
    assert by_workflow["a"]["cost_usd"] == 0.75 and by_workflow["a"]["unpriced_runs"] == 1
    assert by_workflow["b"]["runs"] == 2 and by_workflow["b"]["unpriced_runs"] == 1
    assert by_workflow["b"]["cost_usd"] == 0.0
    by_model = {g["model"]: g for g in aggregate(rows, "model")}
    assert by_model["p/m1"]["cost_usd"] == 1.5 and by_model["p/m1"]["runs"] == 3
    assert by_model["p/mystery"]["cost_usd"] is None  # unpriced, never 0
    assert aggregate(rows, "model")[0]["model"] == "p/m1"  # highest cost first
    assert totals(rows)["unpriced_runs"] == 2 and totals(rows)["cost_usd"] == 0.75
    with pytest.raises(InputError, match="not a dimension"):
        aggregate(rows, "colour")


def test_rows_for_runs_keeps_the_report_filters_and_names_models_alike() -> None:
    runs = [_info("r1", "a", [_node("n1", "m1", 10, 0.5)]), _info("r2", "b", [_node("n1", "m2", 10, 0.25)], 2e9)]
    assert {r["run_id"] for r in rows_for_runs(runs, CostFilters(workflow="b"))} == {"r2"}
    assert {r["run_id"] for r in rows_for_runs(runs, CostFilters(window=Window(until=1.8e9)))} == {"r1"}
    assert model_key("p", "m") == "p/m" and model_key(None, "m") == "m" and model_key("p", None) == "-"


def test_day_window_includes_both_days_in_utc() -> None:
    window = day_window(date(2026, 12, 1), date(2026, 12, 2))
    assert window.contains(datetime(2026, 12, 2, 23, 59, tzinfo=UTC).timestamp())
    assert not window.contains(datetime(2026, 12, 3, tzinfo=UTC).timestamp())
    assert not window.contains(datetime(2026, 11, 30, 23, 59, tzinfo=UTC).timestamp())
    assert day_window(None, None) == Window()


def test_week_start_is_monday_utc_and_month_start_the_first() -> None:
    thursday = datetime(2026, 12, 3, 14, 30, tzinfo=UTC)
    assert week_start(thursday) == datetime(2026, 11, 30, tzinfo=UTC).timestamp()
    assert month_start(thursday) == datetime(2026, 12, 1, tzinfo=UTC).timestamp()
    monday = datetime(2026, 11, 30, 0, 0, 1, tzinfo=UTC)
    assert week_start(monday) == datetime(2026, 11, 30, tzinfo=UTC).timestamp()


def test_running_total_counts_finished_nodes_and_says_unpriced() -> None:
    view = RunView("r1", "flow")
    at = datetime.now(UTC)
    view.apply(RunStarted("r1", "flow", {}, seq=1, at=at))
    view.apply(NodeStarted("r1", "a", "p", "m", seq=2, at=at))
    view.apply(NodeFinished("r1", NodeRecord("a", "success", 5, 10, 5, cost_usd=0.25), seq=3, at=at))
    view.apply(NodeStarted("r1", "b", "p", "m", seq=4, at=at))
    assert running_total_text(view) == f"So far: 1 node run · 10 in / 5 out tokens · {format_usd(0.25)}"
    view.apply(NodeFinished("r1", NodeRecord("b", "success", 5, 3, 2, cost_usd=None), seq=5, at=at))
    assert running_total_text(view) == "So far: 2 node runs · 13 in / 7 out tokens · unpriced"


def test_tracking_option_passes_the_switch_as_is() -> None:
    assert run_form.tracking_option(True) == {"tracking": True}
    assert run_form.tracking_option(False) == {"tracking": False}
    assert run_form.tracking_option(None) == {}  # no switch: the file's own setting


# -- the Run page's tracking toggle ----------------------------------------------------------------


@pytest.fixture
def workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "examples"
    shutil.copytree(REPO_ROOT / "examples", folder)
    monkeypatch.setenv(WORKSPACE_ENV, str(folder))
    monkeypatch.delenv(STORE_ENV, raising=False)
    monkeypatch.setattr(sys, "argv", ["app.py"])
    return folder


def _run_page() -> AppTest:
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.run()
    at.switch_page("pages/2_Run.py")
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_tracking_toggle_follows_the_file_and_reaches_the_run_service(
    workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[dict[str, Any]] = []
    original = RunService.start

    @functools.wraps(original)
    def spy(self: RunService, *args: Any, **kwargs: Any) -> Any:
        calls.append(kwargs)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(RunService, "start", spy)
    with scripted_provider(Script()):
        at = _run_page()
        at.selectbox(key="run_workflow").select("article_writer_mlflow.yaml").run()
        toggle = at.toggle(key="run_tracking:article_writer_mlflow.yaml")
        assert toggle.label == "Track in MLflow" and toggle.value is True  # the file turns tracking on
        assert toggle.disabled is False  # the run service tracks: the switch is always usable
        at.selectbox(key="run_workflow").select("article_writer.yaml").run()
        assert at.toggle(key="run_tracking:article_writer.yaml").value is False

        [topic] = [w for w in at.text_area if w.label == "topic *"]
        topic.input("tide pools")
        at.selectbox(key="run_provider").select("scripted")
        at.button(key="FormSubmitter:run_form-Run").click().run()
        assert not at.exception and not at.error, [e.value for e in at.error]
        default_service(workspace).wait(at.session_state["run_active_id"], 60)
    assert calls and calls[-1]["tracking"] is False


# -- Home: spend this week and this month ------------------------------------------------------------


def test_home_shows_spend_this_week_and_this_month(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "argv", ["app.py"])
    runs = fill(tmp_path / "ws", monkeypatch)
    week, month = week_start(), month_start()

    at = AppTest.from_file(APP, default_timeout=TIMEOUT).run()

    assert not at.exception, [e.value for e in at.exception]
    metrics = {m.label: m.value for m in at.metric}
    every = all_runs(runs)
    assert metrics["Spend this week"] == format_usd(sum(i.cost_usd or 0 for i in every if i.created_at >= week))
    assert metrics["Spend this month"] == format_usd(sum(i.cost_usd or 0 for i in every if i.created_at >= month))
    assert metrics["Spend this month"] != "$0.00"
    assert "Not counted: 1 unpriced run" in " ".join(c.value for c in at.caption)
