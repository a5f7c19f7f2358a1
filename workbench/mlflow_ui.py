"""The MLflow UI of the workspace's tracking store: started, found and stopped from the workbench (no Streamlit here).

The Runs & Costs page links each tracked run to MLflow's own UI. MLflow's UI is
``mlflow server`` over the same store the tracking observer writes (by default
``sqlite:///<workspace>/mlflow.db``). One server per store is kept in a
module-level registry of this process, bound to 127.0.0.1 on a free port, and
killed when the process exits: a page rerun finds the server it started
before instead of starting another. ``MLFLOW_SERVER_ENABLE_JOB_EXECUTION=false``
skips MLflow's job runner, which brings the server up in ~5 s instead of 13-25 s.

Finding a workflow run's MLflow run reads the store with ``MlflowClient``
(imported only when asked): the tracking observer tags each parent run with
``configurable_agents.run_id``.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from agents_core.errors import AgentsError
from agents_core.observability.settings import TAG_RUN_ID, resolve_uri

HOST = "127.0.0.1"
START_TIMEOUT = 120.0
SERVER_ENV = {
    "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false",
    "MLFLOW_DISABLE_TELEMETRY": "true",
    "DO_NOT_TRACK": "true",
}


def tracking_uri(workspace: str | os.PathLike[str]) -> str:
    """The workspace's tracking store, as the tracking observer resolves it without a workflow's own URI.

    ``$MLFLOW_TRACKING_URI`` (a relative SQLite file taken in the workspace), else
    ``sqlite:///<workspace>/mlflow.db``: ``observability.settings.resolve_uri``, as the observer does.
    """
    return resolve_uri(os.environ.get("MLFLOW_TRACKING_URI", "").strip() or None, Path(workspace))


def is_remote(uri: str) -> bool:
    """An ``http(s)`` tracking URI is an MLflow server already: its UI is that address."""
    return uri.startswith(("http://", "https://"))


def store_exists(uri: str) -> bool:
    """Whether anything was ever tracked there (a SQLite file that exists; any other URI is assumed to)."""
    if uri.startswith("sqlite:///"):
        return Path(uri[len("sqlite:///") :]).exists()
    return True


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


@dataclass
class MlflowUI:
    """One ``mlflow server`` process serving ``backend_store_uri`` at :attr:`url`."""

    backend_store_uri: str
    port: int
    process: subprocess.Popen[bytes]
    log_path: Path
    started_at: float = field(default_factory=time.time)

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def alive(self) -> bool:
        return self.process.poll() is None

    def run_url(self, experiment_id: str, mlflow_run_id: str) -> str:
        return run_url(self.url, experiment_id, mlflow_run_id)

    def log_tail(self, lines: int = 20) -> str:
        try:
            text = self.log_path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def stop(self, timeout: float = 10.0) -> None:
        """Terminate the server and the workers it forked (its own process group), then kill what is left."""
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=timeout)
        with contextlib.suppress(ProcessLookupError, PermissionError):  # workers that outlived their parent
            os.killpg(self.process.pid, signal.SIGKILL)


def run_url(base: str, experiment_id: str, mlflow_run_id: str) -> str:
    """The page of one MLflow run in MLflow's UI at ``base``."""
    return f"{base.rstrip('/')}/#/experiments/{experiment_id}/runs/{mlflow_run_id}"


_RUNNING: dict[str, MlflowUI] = {}
_LOCK = threading.Lock()


def running_ui(backend_store_uri: str) -> MlflowUI | None:
    """The server this process started for the store, while it is alive."""
    with _LOCK:
        ui = _RUNNING.get(backend_store_uri)
        if ui is not None and not ui.alive():
            del _RUNNING[backend_store_uri]
            return None
        return ui


def _healthy(url: str) -> bool:
    import httpx

    try:
        # trust_env=False: the UI is on 127.0.0.1; never ask a proxy.
        response = httpx.get(f"{url}/health", timeout=2.0, trust_env=False)
    except httpx.HTTPError:
        return False
    return response.status_code == 200


def start_ui(
    backend_store_uri: str, *, cwd: str | os.PathLike[str] | None = None, timeout: float = START_TIMEOUT
) -> MlflowUI:
    """Start (or find) ``mlflow server`` for the store on 127.0.0.1 and wait until ``/health`` answers.

    ``cwd`` is where MLflow puts artifacts it has no location for (the workspace).
    Raises ``AgentsError`` naming the store and the server's last log lines when it
    exits or does not answer within ``timeout`` seconds (the process is stopped then).
    """
    if (ui := running_ui(backend_store_uri)) is not None:
        return ui
    with _LOCK:
        logs = Path(tempfile.mkdtemp(prefix="mlflow-ui-"))
        port = free_port()
        log_path = logs / f"mlflow-{port}.log"
        command = [
            sys.executable,
            "-m",
            "mlflow",
            "server",
            "--backend-store-uri",
            backend_store_uri,
            "--host",
            HOST,
            "--port",
            str(port),
            "--workers",
            "1",
        ]
        with log_path.open("wb") as log:
            process = subprocess.Popen(
                command,
                cwd=str(cwd) if cwd else None,
                env={**os.environ, **SERVER_ENV},
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: stop() ends the workers it forks too
            )
        ui = MlflowUI(backend_store_uri, port, process, log_path)
        _RUNNING[backend_store_uri] = ui
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not ui.alive():
            stop_ui(backend_store_uri)
            raise AgentsError(
                f"The MLflow UI for {backend_store_uri} exited with code {process.returncode} before it answered.",
                f"Its last lines:\n{ui.log_tail()}",
            )
        if _healthy(ui.url):
            return ui
        time.sleep(0.3)
    stop_ui(backend_store_uri)
    raise AgentsError(
        f"The MLflow UI for {backend_store_uri} did not answer {ui.url}/health within {timeout:g} s; it was stopped.",
        f"Try again when the machine is less busy. Its last lines:\n{ui.log_tail()}",
    )


def stop_ui(backend_store_uri: str) -> bool:
    """Stop the store's server; False when none was running."""
    with _LOCK:
        ui = _RUNNING.pop(backend_store_uri, None)
    if ui is None:
        return False
    ui.stop()
    return True


@atexit.register
def stop_all() -> None:
    """Every server this process started ends with it (the workbench's exit, a test session's end)."""
    for uri in list(_RUNNING):
        with contextlib.suppress(Exception):
            stop_ui(uri)


# -- finding a run in MLflow ------------------------------------------------------------------


@dataclass(frozen=True)
class TrackedRun:
    """Where a workflow run's mirror is in MLflow."""

    experiment_id: str
    mlflow_run_id: str


def find_tracked_run(uri: str, run_id: str) -> TrackedRun | None:
    """The MLflow run (the parent, not a node's child) tagged with this workflow run's id, or ``None``.

    ``None`` too when the store does not exist or cannot be read: a link is a
    convenience, never a reason for the page to fail.
    """
    if not store_exists(uri):
        return None
    try:
        from mlflow.tracking import MlflowClient

        client = MlflowClient(tracking_uri=uri)
        experiments = [e.experiment_id for e in client.search_experiments()]
        if not experiments:
            return None
        found: list[Any] = client.search_runs(
            experiments, filter_string=f"tags.`{TAG_RUN_ID}` = '{_quoted(run_id)}'", max_results=50
        )
    except Exception:  # an unreadable or foreign store: no link
        return None
    parents = [r for r in found if "mlflow.parentRunId" not in r.data.tags]
    if not parents:
        return None
    return TrackedRun(parents[0].info.experiment_id, parents[0].info.run_id)


def _quoted(text: str) -> str:
    return text.replace("\\", "\\\\").replace("'", "\\'")
