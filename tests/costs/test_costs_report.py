"""`costs report`, its period parsing, CSV and JSON shapes, and the seed's `report costs` (issue 10 §3)."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime

import pytest

from agents_core.costs.periods import period_window, resolve_window
from agents_core.costs.report import CostFilters, aggregate, cost_rows
from agents_core.errors import InputError
from agents_core.llm.pricing import calculate_cost
from tests.costs.conftest import cli, cli_json


def node_cost() -> float:
    return calculate_cost("scripted", "scripted-1", 10, 5).usd


def test_report_by_workflow_sums_priced_runs_and_counts_unpriced_apart(filled):
    data = cli_json("costs", "report")
    groups = {g["workflow"]: g for g in data["groups"]}
    assert groups["alpha"]["runs"] == 2 and groups["alpha"]["cost_usd"] == pytest.approx(6 * node_cost())
    assert groups["beta"]["cost_usd"] == pytest.approx(3 * node_cost())
    assert groups["gamma"]["cost_usd"] is None and groups["gamma"]["unpriced_runs"] == 1
    total = data["total"]
    assert total["runs"] == 4 and total["priced_runs"] == 3 and total["unpriced_runs"] == 1
    assert total["cost_usd"] == pytest.approx(9 * node_cost())  # the unpriced run is counted, not summed
    assert total["input_tokens"] == 4 * 3 * 10 and total["output_tokens"] == 4 * 3 * 5
    assert set(data) == {"window", "filters", "by", "groups", "total"}

    text = cli("costs", "report")
    assert text.exit_code == 0
    assert "unpriced: 1 run(s)" in text.stdout.splitlines()[-1]
    gamma_line = next(line for line in text.stdout.splitlines() if line.startswith("gamma"))
    assert gamma_line.rstrip().endswith("unpriced") and "$0" not in gamma_line


@pytest.mark.parametrize("by", ["model", "node", "day", "week", "month", "status"])
def test_report_by_each_dimension(filled, by):
    data = cli_json("costs", "report", "--by", by)
    keys = [g[by] for g in data["groups"]]
    today = datetime.now(UTC)
    expected = {
        "model": {"scripted/scripted-1", "mystery/scripted-1"},
        "node": {"first", "second", "third"},
        "day": {today.strftime("%Y-%m-%d")},
        "week": {f"{today.isocalendar()[0]}-W{today.isocalendar()[1]:02d}"},
        "month": {today.strftime("%Y-%m")},
        "status": {"success"},
    }[by]
    assert set(keys) == expected
    assert sum(g["runs"] for g in data["groups"]) >= 4


def test_model_and_node_filters_narrow_the_rows(filled):
    data = cli_json("costs", "report", "--model", "scripted/scripted-1", "--node", "first", "--by", "workflow")
    groups = {g["workflow"]: g for g in data["groups"]}
    assert set(groups) == {"alpha", "beta"}
    assert groups["alpha"]["cost_usd"] == pytest.approx(2 * node_cost())
    data = cli_json("costs", "report", "--workflow", "beta")
    assert [g["workflow"] for g in data["groups"]] == ["beta"]


def test_csv_export_has_a_header_and_one_row_per_group(filled, tmp_path):
    target = tmp_path / "costs.csv"
    result = cli("costs", "report", "--by", "workflow", "--csv", str(target))
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(target.read_text())))
    assert list(rows[0]) == [
        "workflow",
        "runs",
        "priced_runs",
        "unpriced_runs",
        "input_tokens",
        "output_tokens",
        "cost_usd",
    ]
    by_name = {r["workflow"]: r for r in rows}
    assert float(by_name["alpha"]["cost_usd"]) == pytest.approx(6 * node_cost())
    assert by_name["gamma"]["cost_usd"] == ""  # unpriced: an empty cell, never 0


def test_a_window_in_the_past_holds_no_runs(filled):
    data = cli_json("costs", "report", "--period", "yesterday")
    assert data["groups"] == [] and data["total"]["runs"] == 0
    data = cli_json("costs", "report", "--since", "2000-01-01", "--until", "2000-01-31")
    assert data["total"]["runs"] == 0
    assert cli_json("costs", "report", "--period", "today")["total"]["runs"] == 4


def test_periods_are_utc_windows():
    now = datetime(2026, 3, 15, 10, 30, tzinfo=UTC)
    day = 86_400
    today = period_window("today", now)
    assert today.since == datetime(2026, 3, 15, tzinfo=UTC).timestamp() and today.until == today.since + day
    assert period_window("yesterday", now).until == today.since
    assert period_window("last_7_days", now).since == today.since - 6 * day
    assert period_window("last_30_days", now).since == today.since - 29 * day
    assert period_window("this_month", now).since == datetime(2026, 3, 1, tzinfo=UTC).timestamp()
    window = resolve_window(since="2026-01-01", until="2026-01-31")
    assert window.until - window.since == 31 * day  # the --until day is included
    with pytest.raises(InputError, match="not a period"):
        period_window("fortnight", now)
    with pytest.raises(InputError, match="not a date"):
        resolve_window(since="last tuesday")
    with pytest.raises(InputError, match="cannot be combined"):
        resolve_window(period="today", since="2026-01-01")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--period", "fortnight"], "not a period"),
        (["--since", "2026-13-01"], "not a date"),
        (["--by", "colour"], "not a dimension"),
        (["--status", "finished"], "not a run status"),
    ],
)
def test_bad_options_are_clear_errors_with_exit_two(run_store, args, message):
    result = cli("costs", "report", *args)
    assert result.exit_code == 2 and message in result.stderr and "Traceback" not in result.output


def test_library_rows_and_aggregate_for_the_page(filled, service):
    rows = cost_rows(service, CostFilters(workflow="alpha"))
    assert len(rows) == 6 and {r["node"] for r in rows} == {"first", "second", "third"}
    assert aggregate(rows, "workflow")[0]["cost_usd"] == pytest.approx(6 * node_cost())


# -- the seed's `report costs` -------------------------------------------------------------------


def test_seed_report_costs_json_with_breakdown_and_daily_aggregation(filled):
    result = cli("report", "costs", "--period", "today", "--breakdown", "--aggregate-by", "daily", "--format", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert {"by_workflow", "by_model", "by_day", "total"} <= set(data)
    assert data["total"]["unpriced_runs"] == 1
    assert data["by_day"][0]["cost_usd"] == pytest.approx(9 * node_cost())


def test_seed_report_costs_writes_csv_and_json_files(filled, tmp_path):
    target = tmp_path / "out.csv"
    result = cli("report", "costs", "--aggregate-by", "monthly", "-o", str(target), "--format", "csv")
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(target.read_text())))
    assert rows[0]["month"] == datetime.now(UTC).strftime("%Y-%m") and rows[0]["runs"] == "4"
    as_json = tmp_path / "out.json"
    assert cli("report", "costs", "--status", "success", "-o", str(as_json)).exit_code == 0
    assert json.loads(as_json.read_text())["total"]["runs"] == 4


def test_seed_report_costs_table_and_bad_aggregate(filled):
    result = cli("report", "costs", "--breakdown")
    assert result.exit_code == 0 and "WORKFLOW" in result.stdout and "MODEL" in result.stdout
    assert "unpriced: 1 run(s)" in result.stdout
    bad = cli("report", "costs", "--aggregate-by", "hourly")
    assert bad.exit_code == 2 and "daily, weekly or monthly" in bad.stderr
