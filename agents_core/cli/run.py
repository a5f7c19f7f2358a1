"""``configurable-agents run``: inputs from the command line, a run through the run service, live progress.

The run is started (or resumed) by :func:`agents_core.runs.default_service`
and its events are followed from the store, so ``runs list`` in another
terminal sees it and ``runs cancel`` reaches it. Ctrl+C (SIGINT) or SIGTERM
cancels the run, waits for its terminal status, prints how to resume it and
exits 130 (143 for SIGTERM); the checkpoint of the last finished node stays.
"""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from agents_core.cli.app import app
from agents_core.cli.output import EXIT_OK, EXIT_RUN_FAILED, validated

if TYPE_CHECKING:
    from agents_core.cli.run_progress import RunProgress

#: How long a cancelled run may take to write its terminal status before the command gives up waiting.
CANCEL_WAIT_SECONDS = 10.0
EXIT_SIGTERM = 143


class _Terminated(KeyboardInterrupt):
    """SIGTERM, raised in the main thread so it takes the same path as Ctrl+C."""


def _raise_terminated(signum: int, frame: Any) -> None:
    raise _Terminated()


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
    as_json: Annotated[
        bool, typer.Option("--json", help="Print one JSON object with the result (errors too) on stdout.")
    ] = False,
    resume: Annotated[
        str | None, typer.Option("--resume", help="Continue a failed, cancelled or interrupted run with this id.")
    ] = None,
    max_cost_usd: Annotated[
        float | None,
        typer.Option(
            "--max-cost-usd",
            metavar="USD",
            help="Budget of this run in USD (over config.execution.max_cost_usd); with --resume, "
            "a higher budget to continue a run the old one stopped.",
        ),
    ] = None,
    mlflow: Annotated[
        bool | None,
        typer.Option(
            "--mlflow/--no-mlflow",
            help="Record the run in MLflow (default: as the file's config.observability.mlflow.enabled says).",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Run a workflow with live per-node progress (or resume a failed run). Ctrl+C cancels it."""
    from agents_core.cli.run_progress import RunProgress, collect_inputs, print_result
    from agents_core.cli.runs import exit_with_error
    from agents_core.errors import InputError
    from agents_core.runs import default_service

    os.environ.setdefault("MLFLOW_LOGGING_LEVEL", "WARNING")  # MLflow's set-up chatter stays out of the progress
    previous = signal.signal(signal.SIGTERM, _raise_terminated)
    handle = None
    progress = RunProgress(as_json=as_json)
    try:
        try:
            service = default_service()
            if resume:
                handle = service.resume(resume, max_cost_usd=max_cost_usd, tracking=mlflow)
            else:
                if file is None:
                    raise InputError("give a workflow FILE to run (or --resume RUN_ID).", "")
                report = validated(file)
                values = collect_inputs(report.workflow, inputs or [], input_file)
                handle = service.start(
                    file, values, provider=provider, model=model, max_cost_usd=max_cost_usd, tracking=mlflow
                )
            result = print_result(handle.events(), progress)
            _flush_tracking(service)
        except KeyboardInterrupt as interrupt:
            _cancelled(handle, interrupt, progress)
        except Exception as exc:
            exit_with_error(exc, as_json=as_json)
    finally:
        signal.signal(signal.SIGTERM, previous)
    if result.status == "cancelled":  # cancelled from elsewhere (runs cancel, the workbench)
        _cancel_message(result.run_id)
        raise typer.Exit(130)
    raise typer.Exit(EXIT_OK if result.ok else EXIT_RUN_FAILED)


def _flush_tracking(service: Any) -> None:
    """Wait (bounded) for the run's MLflow mirror, so the command ends with its tracking written."""
    from agents_core.observability.writer import EXIT_FLUSH_SECONDS

    if not service.flush_tracking(EXIT_FLUSH_SECONDS):
        sys.stderr.write("warning: MLflow tracking is still being written; it continues while the process exits.\n")


def _cancel_message(run_id: str) -> None:
    sys.stderr.write(f"cancelled run {run_id}; resume it with: configurable-agents run --resume {run_id}\n")


def _cancelled(handle: Any, interrupt: KeyboardInterrupt, progress: RunProgress) -> None:
    """Ctrl+C or SIGTERM: cancel the run (if it exists yet), wait for its terminal status, say how to resume."""
    from agents_core.errors import RunCancelled, exit_code

    code = EXIT_SIGTERM if isinstance(interrupt, _Terminated) else exit_code(interrupt)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl+C must not cut the terminal status short
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    try:
        if handle is None:
            sys.stderr.write("cancelled before the run started.\n")
            raise typer.Exit(code)
        handle.cancel()
        progress.stop()
        try:
            handle.wait(timeout=CANCEL_WAIT_SECONDS)
        except TimeoutError:
            sys.stderr.write(f"warning: run {handle.run_id} has not stopped yet; it is marked for cancel.\n")
        else:
            progress.show_rest(handle.events(progress.last_seq))  # nodes that ended as the Ctrl+C came
        _cancel_message(handle.run_id)
        if progress.as_json:
            error = RunCancelled(
                f"run {handle.run_id!r} was cancelled; the state of its last finished node is kept.",
                f"Resume it with: configurable-agents run --resume {handle.run_id}",
            )
            from agents_core.cli.runs import print_json_error

            print_json_error(error)
        raise typer.Exit(code)
    finally:
        signal.signal(signal.SIGINT, signal.default_int_handler)
