"""The MLflow tracking observer of the run service: events in, one background writer out.

The run service calls :meth:`MlflowTracker.track` for each run that should be
tracked (the workflow's ``config.observability.mlflow.enabled``, ``run
--mlflow``, the workbench toggle, a server with ``MLFLOW_TRACKING_URI``), then
:meth:`MlflowTracker.on_event` with every event. ``on_event`` only queues the
event for the writer thread (``async_logging: false`` writes at once instead),
so a run pays microseconds per event. A tracking server that does not answer
is found by a socket probe on the writer: one warning, and the run goes on
untracked. ``flush`` waits for the writes (the CLI and tests call it; an
``atexit`` hook does it at exit, bounded).
"""

from __future__ import annotations

import logging
import os
import threading
import time
from pathlib import Path
from typing import Any

from agents_core.engine.events import RunFinished
from agents_core.observability.settings import TrackingSettings, resolve_settings
from agents_core.observability.writer import BackgroundWriter

log = logging.getLogger(__name__)

# MLflow's HTTP client retries a failing server for minutes by default; a mirror should give up sooner.
os.environ.setdefault("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "2")
os.environ.setdefault("MLFLOW_HTTP_REQUEST_TIMEOUT", "20")
# MLflow prints "View run … at: http://…" on stdout when a remote run ends; stdout belongs to the face (run --json).
os.environ.setdefault("MLFLOW_SUPPRESS_PRINTING_URL_TO_STDOUT", "true")
# Costing a trace's LLM spans makes MLflow fetch a model catalog from github.com for a model it does not
# know; a run's traffic stays on this machine (empty: no remote fetch), and MLflow's usage telemetry is off.
os.environ.setdefault("MLFLOW_MODEL_CATALOG_URI", "")
os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")


class MlflowTracker:
    """Mirrors the runs it is told to track into MLflow, off the run's critical path."""

    name = "mlflow-tracking"

    def __init__(self, workspace: str | os.PathLike[str] | None = None, *, tracking_uri: str | None = None) -> None:
        self.workspace = Path(workspace or os.environ.get("AGENTS_WORKSPACE") or os.getcwd())
        self.tracking_uri = tracking_uri
        self._runs: dict[str, Any] = {}
        self._lock = threading.Lock()
        self._writer: BackgroundWriter | None = None
        self._sync_lock = threading.Lock()
        self._warned: set[str] = set()
        self._open: set[str] = set()  # tracked runs whose run_finished is not written yet
        self._closed = threading.Condition()
        self.warnings: list[str] = []

    # -- which runs ----------------------------------------------------------------------------
    def settings_for(self, workflow: Any) -> TrackingSettings:
        return resolve_settings(workflow, self.workspace, tracking_uri=self.tracking_uri)

    def track(self, run_id: str, prepared: Any, settings: TrackingSettings | None = None) -> TrackingSettings:
        """Mirror run ``run_id`` (prepared by the engine) when its events come."""
        from agents_core.observability.mirror import RunContext, RunMirror

        settings = settings or self.settings_for(prepared.workflow)
        mirror = RunMirror(settings, RunContext.from_prepared(prepared))
        with self._lock:
            self._runs[run_id] = mirror
        with self._closed:
            self._open.add(run_id)
        return settings

    def open_runs(self) -> set[str]:
        """Tracked runs whose mirror is not complete yet."""
        with self._closed:
            return set(self._open)

    def tracked(self, run_id: str) -> bool:
        with self._lock:
            return run_id in self._runs

    # -- events --------------------------------------------------------------------------------
    def on_event(self, event: Any) -> None:
        with self._lock:
            mirror = self._runs.get(event.run_id)
            if mirror is not None and isinstance(event, RunFinished):
                del self._runs[event.run_id]
        if mirror is None:
            return
        if mirror.settings.async_logging:
            self._writer_thread().submit(lambda: self._write(mirror, event))
        else:
            with self._sync_lock:
                self._write(mirror, event)

    def _writer_thread(self) -> BackgroundWriter:
        with self._lock:
            if self._writer is None:
                self._writer = BackgroundWriter()
            return self._writer

    def _write(self, mirror: Any, event: Any) -> None:
        try:
            self._write_event(mirror, event)
        finally:
            if isinstance(event, RunFinished):
                with self._closed:
                    self._open.discard(event.run_id)
                    self._closed.notify_all()

    def _write_event(self, mirror: Any, event: Any) -> None:
        if mirror.broken:
            return
        if event.kind == "run_started":
            from agents_core.observability.probe import unreachable

            why = unreachable(mirror.settings.tracking_uri)
            if why is not None:
                mirror.broken = True
                self._warn(
                    mirror.settings.tracking_uri,
                    f"MLflow tracking is off for run {event.run_id}: the tracking server "
                    f"{mirror.settings.tracking_uri} is unreachable ({why}). The run goes on untracked; "
                    "it is still in the run store.",
                )
                return
        try:
            mirror.handle(event)
        except Exception as exc:
            if event.kind == "run_started":
                mirror.broken = True
            self._warn(
                f"{mirror.settings.tracking_uri}:{event.run_id}",
                f"MLflow tracking of run {event.run_id} failed on {event.kind} "
                f"({type(exc).__name__}: {str(exc)[:300]}); the run goes on and is kept in the run store.",
            )

    def _warn(self, key: str, message: str) -> None:
        with self._lock:
            if key in self._warned:
                return
            self._warned.add(key)
            self.warnings.append(message)
        log.warning("%s", message)

    def flush(self, timeout: float | None = 30.0, *, runs: set[str] | None = None) -> bool:
        """Wait until everything queued so far, and the mirrors of ``runs`` (ended runs), are written.

        False if ``timeout`` passed first.
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        if runs:
            with self._closed:
                left = None if deadline is None else max(deadline - time.monotonic(), 0)
                if not self._closed.wait_for(lambda: not (runs & self._open), left):
                    return False
        writer = self._writer
        left = None if deadline is None else max(deadline - time.monotonic(), 0)
        return True if writer is None else writer.flush(left)
