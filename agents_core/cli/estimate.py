"""``configurable-agents estimate FILE``: what a run may cost, before it runs (logic in :mod:`agents_core.costs.estimate`)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from agents_core.cli.app import app

if TYPE_CHECKING:
    from agents_core.costs.estimate import Estimate


@app.command()
def estimate(
    file: Annotated[Path, typer.Argument(help="Workflow file.", show_default=False)],
    inputs: Annotated[
        list[str] | None,
        typer.Option("--input", "-i", help="An input as name=value, to size the prompts (typed by the state field)."),
    ] = None,
    input_file: Annotated[
        Path | None, typer.Option("--input-file", help="A JSON object of inputs (UTF-8, at most 10 MiB).")
    ] = None,
    provider: Annotated[
        str | None, typer.Option("--provider", help="Estimate with this provider for every node.")
    ] = None,
    model: Annotated[str | None, typer.Option("--model", help="Estimate with this model for every node.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object (errors too) on stdout.")] = False,
) -> None:
    """A per-node and total cost range of one run (prompt sizes, max_tokens, loop bounds, prices), plus p50/p95 of past runs."""
    from agents_core.cli.output import validated
    from agents_core.cli.run_progress import collect_inputs
    from agents_core.cli.runs import exit_with_error
    from agents_core.costs.estimate import estimate_workflow
    from agents_core.runs import default_service

    try:
        report = validated(file)
        values = collect_inputs(report.workflow, inputs or [], input_file)
        overrides = {k: v for k, v in (("provider", provider), ("model", model)) if v}
        result = estimate_workflow(report.workflow, values, runs_source=default_service(), overrides=overrides)
    except Exception as exc:
        exit_with_error(exc, as_json=as_json)
    if as_json:
        from agents_core.cli.terminal import strict_json_value

        sys.stdout.write(json.dumps(strict_json_value(result.to_dict()), indent=2, allow_nan=False) + "\n")
        return
    _print(result)


def _range(low: float | None, high: float | None) -> tuple[str, str]:
    from agents_core.llm.pricing import format_usd

    return format_usd(low), format_usd(high)


def _print(result: Estimate) -> None:
    from agents_core.cli.tables import write_table
    from agents_core.llm.pricing import format_usd

    rows = []
    for n in result.nodes:
        counted = "exact" if n.tokens_exact else "approx."
        prompt = (
            f"{n.prompt_tokens}"
            if n.prompt_tokens == n.prompt_tokens_high
            else f"{n.prompt_tokens}-{n.prompt_tokens_high}"
        )
        visits = f"{n.max_visits} (loop)" if n.in_loop else str(n.max_visits)
        low, high = _range(n.low_usd, n.high_usd)
        rows.append(
            (
                n.id,
                f"{n.provider}/{n.model}",
                f"{prompt} ({counted})",
                str(n.max_output_tokens),
                visits,
                str(n.calls_high),
                low,
                high,
                n.price_source,
            )
        )
    sys.stdout.write(f"estimate of one run of {result.workflow} (max_loop_iterations {result.max_loop_iterations})\n")
    write_table(
        ("NODE", "MODEL", "PROMPT TOKENS", "MAX OUT", "MAX VISITS", "MAX CALLS", "LOW", "HIGH", "PRICED BY"),
        rows,
        right=(3, 4, 5, 6, 7),
    )
    out = sys.stdout
    if result.unpriced_nodes:
        total = result.to_dict()["total"]
        line = f"total: unpriced ({', '.join(result.unpriced_nodes)} on a model no price source knows)"
        if len(result.unpriced_nodes) < len(result.nodes):
            low, high = format_usd(total["priced_low_usd"]), format_usd(total["priced_high_usd"])
            line += f"; the priced nodes: {low} to {high}"
        out.write(line + "\n")
    else:
        out.write(f"total: {format_usd(result.low_usd)} to {format_usd(result.high_usd)}\n")
    past = result.history
    if past.p50_usd is not None:
        out.write(
            f"past runs: p50 {format_usd(past.p50_usd)}, p95 {format_usd(past.p95_usd)} ({past.runs} successful runs)\n"
        )
    else:
        out.write(f"past runs: {past.runs} successful priced run(s); p50/p95 from 3 on.\n")
    for note in result.notes:
        out.write(f"note: {note}\n")
