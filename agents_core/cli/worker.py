"""``configurable-agents worker``: a Celery worker that executes the workspace's queued runs.

The worker runs any workflow whose text the run row carries, from the store of
the workspace (as ``default_service`` opens it: ``$AGENTS_RUN_STORE``, then ``$DATABASE_URL``,
then ``--workspace`` or here); each worker
also sweeps: it re-queues runs whose owner died and sends again runs left
``queued`` (see :mod:`agents_core.runs.executors.celery`). Celery is imported
only when the command runs, so ``--help`` stays fast.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from agents_core.cli.app import app

#: ``agents_core.runs.executors.DEFAULT_QUEUE``, spelled here so ``--help`` imports no run machinery.
DEFAULT_QUEUE = "configurable-agents"

_LEVELS = ("debug", "info", "warning", "error")


@app.command()
def worker(
    concurrency: Annotated[
        int, typer.Option("--concurrency", "-c", min=1, help="Runs this worker executes at once.")
    ] = 1,
    queues: Annotated[
        str, typer.Option("--queues", "-Q", help="Comma-separated Celery queues to read.")
    ] = DEFAULT_QUEUE,
    broker: Annotated[
        str | None,
        typer.Option("--broker", metavar="URL", help="Redis broker URL (default: $CELERY_BROKER_URL)."),
    ] = None,
    workspace: Annotated[
        Path | None,
        typer.Option("--workspace", metavar="DIR", help="Workspace whose run store to use (default: here)."),
    ] = None,
    loglevel: Annotated[str, typer.Option("--loglevel", help="debug, info, warning or error.")] = "info",
) -> None:
    """Start a Celery worker that runs queued runs (needs CELERY_BROKER_URL, e.g. redis://127.0.0.1:6379/0)."""
    from agents_core.cli.runs import exit_with_error
    from agents_core.errors import InputError

    try:
        if loglevel.lower() not in _LEVELS:
            raise InputError(f"--loglevel {loglevel!r} is not a level.", f"Use one of: {', '.join(_LEVELS)}.")
        names = [name.strip() for name in queues.split(",") if name.strip()]
        if not names:
            raise InputError("--queues names no queue.", f"Give one or more names, e.g. --queues {DEFAULT_QUEUE}.")
        if workspace is not None:
            if not workspace.is_dir():
                raise InputError(f"--workspace {workspace}: no such folder.", "Give an existing workspace folder.")
            os.environ["AGENTS_WORKSPACE"] = str(workspace.resolve())
        from agents_core.runs.executors.celery import broker_url_from_env, make_app

        celery_app = make_app(broker or broker_url_from_env())
    except Exception as exc:
        exit_with_error(exc, as_json=False)
    celery_app.worker_main(
        [
            "worker",
            f"--concurrency={concurrency}",
            "--pool=threads",
            f"--queues={','.join(names)}",
            f"--loglevel={loglevel.upper()}",
            f"--hostname=configurable-agents-{os.getpid()}@%h",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
        ]
    )
