"""Start the workbench (the Streamlit app) the same way `make run` does.

The workbench files (``app.py``, ``pages/``, ``workbench/``) live next to the
package in a source checkout; the command line passes every setting
explicitly, so it does not depend on the current directory's
``.streamlit/config.toml``.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from agents_core.errors import AgentsError
from agents_core.workspace import resolve_workspace

APP_PATH = Path(__file__).resolve().parents[2] / "app.py"
LOOPBACK = {"127.0.0.1", "localhost", "::1"}
QUIET_ENV = {
    "MLFLOW_DISABLE_TELEMETRY": "true",
    "MLFLOW_MODEL_CATALOG_URI": "",
    "DO_NOT_TRACK": "true",
    "STREAMLIT_BROWSER_GATHER_USAGE_STATS": "false",
}


def workbench_command(workspace: str | os.PathLike[str] | None, port: int, host: str) -> list[str]:
    """The ``streamlit run`` command line for the workbench; errors name what is missing."""
    if not APP_PATH.is_file():
        raise AgentsError(
            f"the workbench is not installed next to the package (no {APP_PATH}).",
            "Run it from a source checkout of Configurable Agents (`make run`).",
        )
    if not 0 < port < 65536:
        raise AgentsError(f"--port {port} is not a TCP port.", "Use a number from 1 to 65535, e.g. 8501.")
    root = resolve_workspace(workspace)
    return [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(APP_PATH),
        "--server.address",
        host,
        "--server.port",
        str(port),
        "--server.headless",
        "true",
        "--server.fileWatcherType",
        "none",
        "--browser.gatherUsageStats",
        "false",
        "--client.showSidebarNavigation",
        "false",
        "--client.toolbarMode",
        "minimal",
        "--",
        "--workspace",
        str(root),
    ]


def workbench_environment() -> dict[str, str]:
    return {**os.environ, **QUIET_ENV}
