"""``configurable-agents serve WORKFLOW``: the workflow's HTTP server (FastAPI under uvicorn), without Docker.

The command checks the workflow and the settings, then hands over to
:func:`agents_core.deploy.serve`; FastAPI and uvicorn are imported only here,
inside the command, so ``--help`` and ``validate`` stay fast. Binding beyond
loopback without ``AGENTS_API_KEY`` is refused unless ``--no-auth`` says so.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from agents_core.cli.app import app


@app.command()
def serve(
    file: Annotated[Path, typer.Argument(help="Workflow file to serve.", show_default=False)],
    port: Annotated[
        int | None,
        typer.Option("--port", metavar="PORT", min=0, max=65535, help="Port to serve on ($PORT, else 8000)."),
    ] = None,
    host: Annotated[
        str | None,
        typer.Option(
            "--host", metavar="ADDRESS", help="Address to bind ($HOST, else 127.0.0.1); beyond loopback it needs a key."
        ),
    ] = None,
    sync_timeout: Annotated[
        float | None,
        typer.Option(
            "--sync-timeout", min=0, help="Seconds POST /run waits for the result before 202 ($SYNC_TIMEOUT, else 30)."
        ),
    ] = None,
    max_concurrent: Annotated[
        int | None, typer.Option("--max-concurrent", min=1, help="Runs executing at once (default 4).")
    ] = None,
    max_queue: Annotated[
        int | None,
        typer.Option(
            "--max-queue",
            min=0,
            help="Accepted runs that may wait (with --executor celery: in the shared store, cluster-wide); beyond it 429 (default 64).",
        ),
    ] = None,
    executor: Annotated[
        str | None,
        typer.Option(
            "--executor",
            metavar="inprocess|celery",
            help="Where runs execute: in this process (default), or on Celery workers "
            "(needs CELERY_BROKER_URL; start workers with `configurable-agents worker`).",
        ),
    ] = None,
    no_auth: Annotated[
        bool, typer.Option("--no-auth", help="Serve beyond loopback without AGENTS_API_KEY (anyone can run it).")
    ] = False,
) -> None:
    """Serve a workflow over HTTP: POST /run, GET /status/ID, events, cancel, /schema, /docs.

    Each option left out falls back to its environment variable (the table in
    docs/DEPLOYMENT.md), then to its default: flag > env > default.
    """
    from agents_core.cli.output import validated
    from agents_core.cli.runs import exit_with_error
    from agents_core.deploy import serve as serve_app
    from agents_core.deploy.ports import check_bindable
    from agents_core.deploy.settings import ServerSettings

    try:
        validated(file)  # every problem listed, exit 2
        settings = ServerSettings.from_env(
            workflow=str(file),
            host=host,
            port=port,
            sync_timeout=sync_timeout,
            max_concurrent=max_concurrent,
            max_queue=max_queue,
            executor=executor.strip().lower() if executor else None,
            no_auth=no_auth or None,
        )
        settings.check_exposure()
        if settings.executor == "celery" and not settings.broker_url:
            from agents_core.runs.executors.celery import broker_url_from_env

            broker_url_from_env()  # the clear error: CELERY_BROKER_URL is needed
        check_bindable(
            settings.host,
            settings.port,
            port_name="--port" if port is not None else _origin("port", "--port"),
            host_name="--host" if host is not None else _origin("host", "--host"),
        )
    except Exception as exc:
        exit_with_error(exc, as_json=False)
    auth = "API key required" if settings.api_key else "no API key (AGENTS_API_KEY unset)"
    where = "; runs go to Celery workers" if settings.executor == "celery" else ""
    url = f"http://{settings.host}:{settings.port}"
    sys.stderr.write(f"Serving {file} on {url} ({auth}{where}); docs at {url}/docs. Ctrl+C stops.\n")
    sys.stderr.flush()
    try:
        serve_app(settings)
    except Exception as exc:
        exit_with_error(exc, as_json=False)


def _origin(setting: str, option: str) -> str:
    """The environment variable that set ``setting`` (e.g. ``PORT``), else the option that would have."""
    import os

    from agents_core.deploy.settings import ENV_NAMES

    return next((variable for variable in ENV_NAMES[setting] if os.environ.get(variable)), option)
