"""``configurable-agents runs list|show|cancel``: the workspace's runs, through the run service.

Every command asks :func:`agents_core.runs.default_service` (the workspace's
store, or ``AGENTS_RUN_STORE``), never the runner or the store directly, so a
run another process owns is seen, reaped and cancelled the same way. A run
that is not in the store is a clear error with exit code 2.
"""

from __future__ import annotations

import dataclasses
import json
import sys
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer

from agents_core.cli.app import app

if TYPE_CHECKING:
    from agents_core.runs.store import RunInfo

runs_app = typer.Typer(help="List, inspect and cancel runs of this workspace.", no_args_is_help=True)
app.add_typer(runs_app, name="runs")

JSON_OPTION = typer.Option("--json", help="Print JSON on stdout (errors too).")


def exit_with_error(exc: BaseException, *, as_json: bool) -> NoReturn:
    """Report an error and exit with the code the one table (``errors.exit_code``) gives its category.

    With ``as_json`` stdout gets ``{"ok": false, "error": {type, message, hint, node}}``;
    otherwise stderr gets one ``error:`` line (validation problems in compiler style).
    """
    from agents_core.cli.output import print_problems
    from agents_core.cli.terminal import neutralise
    from agents_core.errors import AgentsError, describe_exception, exit_code

    if as_json:
        print_json_error(exc)
    elif isinstance(exc, AgentsError) and exc.problems:
        print_problems(exc)
    else:
        text = f"{describe_exception(exc)} {getattr(exc, 'hint', '') or ''}".strip()
        sys.stderr.write(f"error: {neutralise(text)}\n")
    raise typer.Exit(exit_code(exc))


def print_json_error(exc: BaseException) -> None:
    """``{"ok": false, "error": {type, message, hint, node}}`` on stdout: an error as data for scripts."""
    from agents_core.errors import describe_exception

    body = {
        "ok": False,
        "error": {
            "type": type(exc).__name__,
            "message": describe_exception(exc),
            "hint": getattr(exc, "hint", "") or "",
            "node": getattr(exc, "node", None),
        },
    }
    sys.stdout.write(json.dumps(body, ensure_ascii=False, default=str) + "\n")


def _when(seconds: float | None) -> str:
    return datetime.fromtimestamp(seconds).strftime("%Y-%m-%d %H:%M:%S") if seconds else "-"


def _duration(info: RunInfo) -> str:
    seconds = info.duration_s
    return "-" if seconds is None else f"{seconds:.1f} s"


def _tokens(info: RunInfo) -> tuple[int, int]:
    records = info.node_records
    return sum(r.input_tokens for r in records), sum(r.output_tokens for r in records)


def _cost(info: RunInfo) -> float | None:
    """The run's USD (the row's, once finished; else the node records' so far); ``None``: unpriced."""
    from agents_core.engine.events import total_cost

    return info.cost_usd if info.finished_at is not None and info.nodes else total_cost(info.nodes)


def _summary(info: RunInfo) -> dict[str, Any]:
    tokens_in, tokens_out = _tokens(info)
    return {
        "run_id": info.run_id,
        "status": info.status,
        "workflow": info.workflow_name,
        "workflow_file": info.workflow_file,
        "started_at": info.started_at,
        "finished_at": info.finished_at,
        "duration_s": info.duration_s,
        "input_tokens": tokens_in,
        "output_tokens": tokens_out,
        "cost_usd": _cost(info),
    }


def _details(info: RunInfo) -> dict[str, Any]:
    owner = info.owner
    return {
        **_summary(info),
        "created_at": info.created_at,
        "owner": {"host": owner.host, "pid": owner.pid} if owner else None,
        "reason": info.reason,
        "inputs": info.inputs,
        "outputs": info.outputs,
        "nodes": info.nodes,
        "error": info.error_info,
    }


def _dump(data: Any) -> None:
    from agents_core.cli.terminal import strict_json_value

    sys.stdout.write(json.dumps(strict_json_value(data), indent=2, ensure_ascii=False, default=str) + "\n")


def _service() -> Any:
    from agents_core.runs import default_service

    return default_service()


@runs_app.command("list")
def list_runs(
    status: Annotated[
        list[str] | None, typer.Option("--status", help="Only runs with this status (repeatable).")
    ] = None,
    workflow: Annotated[str | None, typer.Option("--workflow", help="Only runs of this workflow (its name).")] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, help="At most this many runs, newest first.")] = 20,
    as_json: Annotated[bool, JSON_OPTION] = False,
) -> None:
    """The workspace's runs, newest first: id, status, workflow, started, duration, tokens."""
    from agents_core.errors import InputError
    from agents_core.runs.lifecycle import ACTIVE_STATUSES, TERMINAL_STATUSES

    known = (*ACTIVE_STATUSES, *TERMINAL_STATUSES)
    try:
        for value in status or []:
            if value not in known:
                raise InputError(f"--status {value!r} is not a run status.", f"Use one of: {', '.join(known)}.")
        runs = _service().list(status=status or None, workflow=workflow, limit=limit)
    except Exception as exc:
        exit_with_error(exc, as_json=as_json)
    if as_json:
        _dump([_summary(info) for info in runs])
        return
    _print_table(runs)


def _print_table(runs: list[RunInfo]) -> None:
    from agents_core.cli.output import wants_colour
    from agents_core.cli.terminal import neutralise
    from agents_core.llm.pricing import format_usd

    headers = ("RUN ID", "STATUS", "WORKFLOW", "STARTED", "DURATION", "TOKENS", "COST")
    rows = []
    for info in runs:
        tokens_in, tokens_out = _tokens(info)
        rows.append(
            (
                info.run_id,
                info.status,
                neutralise(info.workflow_name),
                _when(info.started_at or info.created_at),
                _duration(info),
                f"{tokens_in} in / {tokens_out} out",
                format_usd(_cost(info)),
            )
        )
    if not rows:
        sys.stderr.write("no runs yet.\n")
        return
    if wants_colour():
        from rich.console import Console
        from rich.table import Table

        table = Table(*headers, box=None, highlight=False)
        for row in rows:
            table.add_row(*row)
        Console(highlight=False).print(table)
        return
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headers)]
    for row in (headers, *rows):
        sys.stdout.write("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip() + "\n")


@runs_app.command("show")
def show_run(
    run_id: Annotated[str, typer.Argument(help="The run's id (see `runs list`).", show_default=False)],
    events: Annotated[bool, typer.Option("--events", help="Also show the run's event log.")] = False,
    as_json: Annotated[bool, JSON_OPTION] = False,
) -> None:
    """One run: status, owner, node records, outputs, error (and with --events its event log)."""
    try:
        service = _service()
        info = service.get(run_id)
        rows = service.store.events(run_id) if events or not info.nodes else []
        log = [row.data for row in rows] if events else None
        if not info.nodes:  # a run still going: its node records so far come from its event log
            done = [row.data["record"] for row in rows if row.kind in ("node_finished", "node_failed")]
            info = dataclasses.replace(info, nodes=done)
    except Exception as exc:
        exit_with_error(exc, as_json=as_json)
    if as_json:
        data = _details(info)
        if log is not None:
            data["events"] = log
        _dump(data)
        return
    _print_details(info, log)


def _print_details(info: RunInfo, log: list[dict[str, Any]] | None) -> None:
    from agents_core.cli.terminal import neutralise
    from agents_core.llm.pricing import format_usd

    out = sys.stdout
    tokens_in, tokens_out = _tokens(info)
    owner = info.owner.describe() if info.owner else "-"
    lines = [
        f"run {info.run_id}",
        f"  workflow: {info.workflow_name}" + (f" ({info.workflow_file})" if info.workflow_file else ""),
        f"  status:   {info.status}" + (f" ({info.reason})" if info.reason else ""),
        f"  owner:    {owner}",
        f"  started:  {_when(info.started_at)}",
        f"  finished: {_when(info.finished_at)}",
        f"  duration: {_duration(info)}",
        f"  tokens:   {tokens_in} in / {tokens_out} out",
        f"  cost:     {format_usd(_cost(info))}",
    ]
    if info.nodes:
        lines.append("nodes:")
        for record in info.node_records:
            mark = "✓" if record.status == "success" else "✗"
            retries = f", {record.retries} retries" if record.retries else ""
            lines.append(
                f"  {mark} {record.id:<20} {record.status:<8} {record.duration_ms / 1000:6.2f} s  "
                f"{record.input_tokens} in / {record.output_tokens} out tokens  "
                f"{format_usd(record.cost_usd)} ({record.price_source or 'not priced'}){retries}"
            )
    if info.outputs:
        lines.append("outputs:")
        for name, value in info.outputs.items():
            text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
            lines.append(f"  {name}: {text}")
    details = info.error_details
    if details:
        where = f" in node {details.node!r}" if details.node else ""
        lines.append(f"error{where}: {details.type}: {details.message}")
        if details.hint:
            lines.append(f"  hint: {details.hint}")
    elif info.error:
        lines.append(f"error: {info.error}")
    if log is not None:
        lines.append("events:")
        for event in log:
            record = event.get("record")
            extra = event.get("node") or (record.get("id") if isinstance(record, dict) else "") or ""
            lines.append(f"  {event.get('seq', ''):>4} {event.get('at', '')} {event.get('kind', '')} {extra}".rstrip())
    out.write("".join(neutralise(line) + "\n" for line in lines))


@runs_app.command("cancel")
def cancel_run(
    run_id: Annotated[str, typer.Argument(help="The run's id (see `runs list`).", show_default=False)],
    as_json: Annotated[bool, JSON_OPTION] = False,
) -> None:
    """Cancel a queued or running run, in this or another process (its owner stops it within 2 s)."""
    from agents_core.runs.lifecycle import ACTIVE_STATUSES

    try:
        service = _service()
        before = service.get(run_id)
        info = service.cancel(run_id)
    except Exception as exc:
        exit_with_error(exc, as_json=as_json)
    requested = before.status in ACTIVE_STATUSES
    if as_json:
        _dump({"ok": True, "run_id": run_id, "cancel_requested": requested, "status": info.status})
        return
    if requested:
        sys.stdout.write(f"cancel requested for run {run_id}; its owner stops it within 2 s.\n")
    else:
        sys.stdout.write(f"run {run_id} is {info.status} already; nothing to cancel.\n")
