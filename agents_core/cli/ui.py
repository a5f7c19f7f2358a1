"""``configurable-agents ui``: become the Streamlit workbench process."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from agents_core.cli.app import app
from agents_core.cli.output import fail


@app.command()
def ui(
    workspace: Annotated[
        Path | None,
        typer.Option("--workspace", metavar="DIR", help="Folder of workflows (default: $AGENTS_WORKSPACE or here)."),
    ] = None,
    port: Annotated[int, typer.Option("--port", metavar="PORT", help="Port to serve on.")] = 8501,
    host: Annotated[
        str, typer.Option("--host", metavar="ADDRESS", help="Address to bind; keep 127.0.0.1 unless you mean it.")
    ] = "127.0.0.1",
) -> None:
    """Start the workbench in the browser (the same app `make run` starts)."""
    import os

    from agents_core.cli.launcher import LOOPBACK, workbench_command, workbench_environment
    from agents_core.errors import AgentsError

    try:
        command = workbench_command(workspace, port, host)
    except AgentsError as exc:
        fail(f"{exc.message} {exc.hint}".strip())
    if host not in LOOPBACK:
        sys.stderr.write(f"warning: binding {host}; the workbench will be reachable from other machines.\n")
    sys.stderr.write(f"Configurable Agents workbench on http://{host}:{port} (Ctrl+C to stop)\n")
    sys.stderr.flush()
    # Become the Streamlit process (no child left behind when this one is stopped or killed).
    os.execve(command[0], command, workbench_environment())
