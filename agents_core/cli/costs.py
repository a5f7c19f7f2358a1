"""``configurable-agents costs report|prune|reprice`` and the seed's ``report costs``: thin faces over :mod:`agents_core.costs`.

Runs are read through the run service (:func:`agents_core.runs.default_service`);
the aggregation, repricing and pruning are library functions the workbench
uses too. Unpriced runs are counted apart ("unpriced: N runs"), never summed as $0.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from agents_core.cli.app import PlainHelpGroup, app

costs_app = typer.Typer(
    cls=PlainHelpGroup, help="Cost reports, repricing and pruning of this workspace's runs.", no_args_is_help=True
)
app.add_typer(costs_app, name="costs")
report_app = typer.Typer(
    cls=PlainHelpGroup, help="Reports (the seed's spelling: `report costs`).", no_args_is_help=True
)
app.add_typer(report_app, name="report")

JSON_OPTION = typer.Option("--json", help="Print JSON on stdout (errors too).")
PERIOD_HELP = "today, yesterday, last_7_days, last_30_days or this_month (UTC)."
SINCE_HELP = "Runs created on or after this UTC day (YYYY-MM-DD) or ISO time."
UNTIL_HELP = "Runs created up to this UTC day (included) or before this ISO time."


def _dump(data: Any) -> None:
    from agents_core.cli.terminal import strict_json_value

    sys.stdout.write(json.dumps(strict_json_value(data), indent=2, ensure_ascii=False, allow_nan=False) + "\n")


def _service() -> Any:
    from agents_core.runs import default_service

    return default_service()


def _filters(
    period: str | None,
    since: str | None,
    until: str | None,
    workflow: str | None,
    status: str | None,
    model: str | None = None,
    node: str | None = None,
) -> Any:
    from agents_core.costs.periods import resolve_window
    from agents_core.costs.report import CostFilters
    from agents_core.errors import InputError
    from agents_core.runs.lifecycle import ACTIVE_STATUSES, TERMINAL_STATUSES

    if status is not None and status not in (*ACTIVE_STATUSES, *TERMINAL_STATUSES):
        known = ", ".join((*ACTIVE_STATUSES, *TERMINAL_STATUSES))
        raise InputError(f"--status {status!r} is not a run status.", f"Use one of: {known}.")
    return CostFilters(resolve_window(period, since, until), workflow, status, model, node)


def _usd(value: float | None) -> str:
    from agents_core.llm.pricing import format_usd

    return format_usd(value)


def _print_groups(data: dict[str, Any], by: str) -> None:
    from agents_core.cli.tables import write_table

    rows = [
        (
            str(g[by]),
            str(g["runs"]),
            str(g["unpriced_runs"]),
            f"{g['input_tokens']} / {g['output_tokens']}",
            _usd(g["cost_usd"]),
        )
        for g in data["groups"]
    ]
    if not rows:
        sys.stdout.write("no runs match.\n")
        return
    write_table((by.upper(), "RUNS", "UNPRICED", "TOKENS IN / OUT", "COST"), rows, right=(1, 2, 4))


def _print_total(data: dict[str, Any]) -> None:
    total = data["total"]
    line = f"total: {_usd(total['cost_usd'])} over {total['priced_runs']} priced run(s)"
    if total["unpriced_runs"]:
        line += f"; unpriced: {total['unpriced_runs']} run(s), not counted"
    sys.stdout.write(line + f" ({total['input_tokens']} in / {total['output_tokens']} out tokens)\n")


GROUP_COLUMNS = ("runs", "priced_runs", "unpriced_runs", "input_tokens", "output_tokens", "cost_usd")


@costs_app.command("report")
def costs_report(
    since: Annotated[str | None, typer.Option("--since", help=SINCE_HELP)] = None,
    until: Annotated[str | None, typer.Option("--until", help=UNTIL_HELP)] = None,
    period: Annotated[str | None, typer.Option("--period", help=PERIOD_HELP)] = None,
    workflow: Annotated[str | None, typer.Option("--workflow", help="Only runs of this workflow (its name).")] = None,
    model: Annotated[
        str | None, typer.Option("--model", help="Only nodes on this model (name or provider/name).")
    ] = None,
    node: Annotated[str | None, typer.Option("--node", help="Only this node id.")] = None,
    status: Annotated[str | None, typer.Option("--status", help="Only runs with this status.")] = None,
    by: Annotated[str, typer.Option("--by", help="day, week, month, workflow, model, node or status.")] = "workflow",
    as_json: Annotated[bool, JSON_OPTION] = False,
    csv_file: Annotated[Path | None, typer.Option("--csv", help="Write the report's rows to this CSV file.")] = None,
) -> None:
    """Cost totals of the workspace's runs by day, week, month, workflow, model or node (unpriced runs apart)."""
    from agents_core.cli.runs import exit_with_error
    from agents_core.costs.report import report, write_csv
    from agents_core.errors import InputError

    try:
        if as_json and csv_file is not None:
            raise InputError("--json and --csv cannot be combined.", "Choose one output.")
        filters = _filters(period, since, until, workflow, status, model, node)
        data = report(_service(), filters, by)
        if csv_file is not None:
            write_csv(csv_file, data["groups"], (by, *GROUP_COLUMNS))
    except Exception as exc:
        exit_with_error(exc, as_json=as_json)
    if as_json:
        _dump(data)
        return
    _print_groups(data, by)
    _print_total(data)
    if csv_file is not None:
        sys.stderr.write(f"wrote {len(data['groups'])} row(s) to {csv_file}\n")


_SEED_AGGREGATE = {"daily": "day", "weekly": "week", "monthly": "month"}
_SEED_STATUS = {"failure": "failed"}


@report_app.command("costs")
def seed_report_costs(
    period: Annotated[str | None, typer.Option("--period", help=PERIOD_HELP)] = None,
    start_date: Annotated[str | None, typer.Option("--start-date", "--since", help=SINCE_HELP)] = None,
    end_date: Annotated[str | None, typer.Option("--end-date", "--until", help=UNTIL_HELP)] = None,
    workflow: Annotated[str | None, typer.Option("--workflow", help="Only runs of this workflow (its name).")] = None,
    status: Annotated[
        str | None, typer.Option("--status", help="success, failure (= failed) or another run status.")
    ] = None,
    breakdown: Annotated[
        bool, typer.Option("--breakdown", help="Also break the costs down by workflow and model.")
    ] = False,
    aggregate_by: Annotated[str | None, typer.Option("--aggregate-by", help="daily, weekly or monthly totals.")] = None,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write the report to this file.")] = None,
    fmt: Annotated[
        str | None, typer.Option("--format", help="table, json or csv (default: table; with -o, by its extension).")
    ] = None,
) -> None:
    """The seed's `report costs` (same options), answered by the same report as `costs report`."""
    from agents_core.cli.runs import exit_with_error
    from agents_core.costs.report import aggregate, cost_rows, to_csv, totals
    from agents_core.errors import InputError

    fmt_json = fmt == "json"
    try:
        if fmt not in (None, "table", "json", "csv"):
            raise InputError(f"--format {fmt!r} is not a format.", "Use table, json or csv.")
        if aggregate_by is not None and aggregate_by not in _SEED_AGGREGATE:
            raise InputError(f"--aggregate-by {aggregate_by!r} is not daily, weekly or monthly.", "Use one of those.")
        chosen = fmt or (
            output.suffix.lstrip(".").lower() if output and output.suffix.lower() in (".csv", ".json") else None
        )
        chosen = chosen or ("json" if output else "table")
        fmt_json = chosen == "json"
        filters = _filters(period, start_date, end_date, workflow, _SEED_STATUS.get(status or "", status))
        rows = cost_rows(_service(), filters)
        sections = {"workflow": aggregate(rows, "workflow")}
        if breakdown:
            sections["model"] = aggregate(rows, "model")
        if aggregate_by:
            key = _SEED_AGGREGATE[aggregate_by]
            sections[key] = aggregate(rows, key)
        data = {
            "window": {"since": _iso(filters.window.since), "until": _iso(filters.window.until)},
            **{f"by_{key}": groups for key, groups in sections.items()},
            "total": totals(rows),
        }
        if chosen == "csv":
            key = _SEED_AGGREGATE.get(aggregate_by or "", "model" if breakdown else "workflow")
            text = to_csv(sections[key], (key, *GROUP_COLUMNS))
        elif chosen == "json":
            from agents_core.cli.terminal import strict_json_value

            text = json.dumps(strict_json_value(data), indent=2, ensure_ascii=False, allow_nan=False) + "\n"
        else:
            text = ""
        if output is not None:
            if chosen == "table":
                raise InputError("-o/--output writes json or csv, not a table.", "Add --format json or --format csv.")
            try:
                output.write_text(text, encoding="utf-8")
            except OSError as exc:
                raise InputError(
                    f"{output} cannot be written ({exc.strerror or exc}).", "Choose a writable path."
                ) from None
    except Exception as exc:
        exit_with_error(exc, as_json=fmt_json)
    if output is not None:
        sys.stderr.write(f"wrote the cost report to {output}\n")
        return
    if chosen != "table":
        sys.stdout.write(text)
        return
    for key, groups in sections.items():
        _print_groups({"groups": groups}, key)
        sys.stdout.write("\n")
    _print_total(data)


def _iso(moment: float | None) -> str | None:
    from datetime import UTC, datetime

    return None if moment is None else datetime.fromtimestamp(moment, UTC).isoformat(timespec="seconds")


@costs_app.command("prune")
def costs_prune(
    older_than: Annotated[
        float | None,
        typer.Option(
            "--older-than",
            metavar="DAYS",
            help="Delete runs created more than DAYS ago (default: each workflow's retention_days; "
            "runs of workflows without one are kept).",
        ),
    ] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Only say which runs would be deleted.")] = False,
    as_json: Annotated[bool, JSON_OPTION] = False,
) -> None:
    """Delete old runs from the run store (and from MLflow when tracking is installed); running runs are kept."""
    from agents_core.cli.runs import exit_with_error
    from agents_core.costs.prune import prune_runs

    try:
        result = prune_runs(_service().store, older_than, dry_run=dry_run)
    except Exception as exc:
        exit_with_error(exc, as_json=as_json)
    if as_json:
        _dump(result.to_dict())
        return
    rule = f"older than {older_than:g} days" if older_than is not None else "past their workflow's retention_days"
    verb = "would delete" if dry_run else "deleted"
    sys.stdout.write(f"{verb} {len(result.run_ids)} run(s) {rule}.\n")
    for name, count in result.tracking_deleted.items():
        sys.stdout.write(f"  {name}: {count} deleted\n")


@costs_app.command("reprice")
def costs_reprice(
    pricing: Annotated[
        Path | None,
        typer.Option("--pricing", help="Price with this pricing file (default: the workspace's pricing.yaml)."),
    ] = None,
    since: Annotated[str | None, typer.Option("--since", help=SINCE_HELP)] = None,
    until: Annotated[str | None, typer.Option("--until", help=UNTIL_HELP)] = None,
    period: Annotated[str | None, typer.Option("--period", help=PERIOD_HELP)] = None,
    workflow: Annotated[str | None, typer.Option("--workflow", help="Only runs of this workflow (its name).")] = None,
    apply: Annotated[
        bool, typer.Option("--apply", help="Write the new costs and price sources into the run store.")
    ] = False,
    as_json: Annotated[bool, JSON_OPTION] = False,
) -> None:
    """What recorded runs would cost at today's prices, as a diff (old vs new); history changes only with --apply."""
    from agents_core.cli.runs import exit_with_error
    from agents_core.costs.reprice import apply_reprice, reprice
    from agents_core.errors import InputError
    from agents_core.llm.pricing import PriceBook, price_book

    try:
        if pricing is not None and not pricing.is_file():
            raise InputError(f"--pricing {pricing}: no such file.", "Give the path of a pricing.yaml.")
        book = PriceBook.from_file(pricing) if pricing is not None else price_book()
        service = _service()
        result = reprice(service, book, _filters(period, since, until, workflow, None))
        applied = apply_reprice(service.store, result) if apply else 0
    except Exception as exc:
        exit_with_error(exc, as_json=as_json)
    if as_json:
        _dump(result.to_dict() | {"applied": apply, "runs_changed": applied})
        return
    _print_reprice(result, apply, applied)


def _side(group: dict[str, Any], side: str) -> str:
    text = _usd(group[f"{side}_usd"])
    unpriced = group[f"{side}_unpriced_nodes"]
    return f"{text} + {unpriced} unpriced" if unpriced else text


def _print_reprice(result: Any, apply: bool, applied: int) -> None:
    from agents_core.cli.tables import write_table

    if not result.groups:
        sys.stdout.write("no finished runs to reprice.\n")
        return
    rows = [
        (g["workflow"], g["model"], str(g["nodes"]), _side(g, "old"), _side(g, "new"), _delta(g["delta_usd"]))
        for g in result.groups
    ]
    t = result.total
    rows.append(("TOTAL", "", str(t["nodes"]), _side(t, "old"), _side(t, "new"), _delta(t["delta_usd"])))
    write_table(("WORKFLOW", "MODEL", "NODES", "RECORDED", "AT TODAY'S PRICES", "DIFFERENCE"), rows, right=(2, 3, 4, 5))
    sys.stdout.write(f"priced by: {', '.join(result.sources) or '-'}; {t['runs']} run(s).\n")
    if apply:
        sys.stdout.write(f"applied: {applied} run(s) rewritten with today's prices.\n")
    else:
        sys.stdout.write("nothing was changed; --apply writes these prices into the run store.\n")


def _delta(value: float) -> str:
    if value == 0:
        return "$0.00"
    return ("+" if value > 0 else "-") + _usd(abs(value))
