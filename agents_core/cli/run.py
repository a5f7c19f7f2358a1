"""``configurable-agents run``: inputs from the command line, live progress, the result."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from agents_core.cli.app import app
from agents_core.cli.output import EXIT_INVALID, EXIT_OK, EXIT_RUN_FAILED, fail, print_problems, validated


@app.command()
def run(
    file: Annotated[
        Path | None, typer.Argument(help="Workflow file (not needed with --resume).", show_default=False)
    ] = None,
    inputs: Annotated[
        list[str] | None, typer.Option("--input", "-i", help="An input as name=value (typed by the state field).")
    ] = None,
    input_file: Annotated[
        Path | None, typer.Option("--input-file", help="A JSON object of inputs (UTF-8, at most 10 MiB).")
    ] = None,
    provider: Annotated[str | None, typer.Option("--provider", help="Use this provider for every node.")] = None,
    model: Annotated[str | None, typer.Option("--model", help="Use this model for every node.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object with the result.")] = False,
    resume: Annotated[str | None, typer.Option("--resume", help="Continue the failed run with this id.")] = None,
) -> None:
    """Run a workflow with live per-node progress (or resume a failed run)."""
    from agents_core.cli.run_progress import collect_inputs, execute, print_result
    from agents_core.cli.terminal import neutralise
    from agents_core.errors import AgentsError, ValidationFailed

    try:
        if resume:
            events = execute(None, {}, resume=resume)
        else:
            if file is None:
                fail("give a workflow FILE to run (or --resume RUN_ID).")
            report = validated(file)
            values = collect_inputs(report.workflow, inputs or [], input_file)
            events = execute(file, values, provider=provider, model=model)
        result = print_result(events, as_json=as_json)
    except ValidationFailed as exc:
        print_problems(exc)
        raise typer.Exit(EXIT_INVALID) from None
    except AgentsError as exc:
        fail(neutralise(f"{exc.message} {exc.hint}".strip()))
    raise typer.Exit(EXIT_OK if result.ok else EXIT_RUN_FAILED)
