"""A deployment that runs in a background thread while the Deploy page polls it (no Streamlit here).

Streamlit stops a script run as soon as the user touches a widget, so a build
done inside the run would be abandoned half-way, and a long build would hold
the page. The page starts a :class:`DeployJob` instead, keeps it in session
state and re-reads it on a timer: the thread owns the deploy (the same
:func:`agents_core.deploy.deployment.deploy` as the CLI's), the page only reads
:meth:`DeployJob.view`, so the build log streams and the page stays usable.

The workbench process remembers its latest job (:func:`latest_job`), so a page
reloaded in the browser (a new session) finds the build still going, and a
second build cannot start beside it.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from agents_core.errors import AgentsError
from workbench.deploy_view import LogTail

log = logging.getLogger(__name__)

#: ``run(on_step, on_log)`` does the deployment and returns it (something with ``to_dict()``).
DeployCall = Callable[[Callable[[str], None], Callable[[str], None]], Any]


@dataclass(frozen=True)
class JobView:
    """What the page shows of a job at one moment (a copy: the thread goes on changing the job)."""

    state: str  # running | done | failed
    steps: tuple[str, ...]
    log: str
    log_lines: int
    result: dict[str, Any] | None
    error: str | None

    @property
    def running(self) -> bool:
        return self.state == "running"


class DeployJob:
    """One deployment in its own thread: its steps, the tail of its build log, then its result or its error."""

    def __init__(self, call: DeployCall, *, name: str = "deploy", log_size: int = 40) -> None:
        self._call = call
        self._lock = threading.Lock()
        self._steps: list[str] = []
        self._log = LogTail(size=log_size)
        self._state = "running"
        self._result: dict[str, Any] | None = None
        self._error: str | None = None
        self._thread = threading.Thread(target=self._run, name=f"deploy-{name}", daemon=True)

    @classmethod
    def start(cls, call: DeployCall, *, name: str = "deploy") -> DeployJob:
        global _LATEST
        job = cls(call, name=name)
        with _LATEST_LOCK:
            _LATEST = job
        job._thread.start()
        return job

    def _step(self, line: str) -> None:
        with self._lock:
            self._steps.append(line)

    def _add_log(self, line: str) -> None:
        with self._lock:
            self._log.add(line)

    def _run(self) -> None:
        try:
            outcome = self._call(self._step, self._add_log)
            result = outcome.to_dict() if hasattr(outcome, "to_dict") else {"result": str(outcome)}
            with self._lock:
                self._result, self._state = result, "done"
        except AgentsError as exc:
            with self._lock:
                self._error, self._state = f"{exc.message} {exc.hint}".strip(), "failed"
        except Exception as exc:  # the thread must always end with a status the page can show
            log.exception("deployment failed unexpectedly")
            with self._lock:
                self._error, self._state = f"The deployment failed unexpectedly: {type(exc).__name__}: {exc}", "failed"

    def view(self) -> JobView:
        with self._lock:
            return JobView(
                state=self._state,
                steps=tuple(self._steps),
                log=self._log.text(),
                log_lines=self._log.count,
                result=self._result,
                error=self._error,
            )

    def wait(self, timeout: float | None = None) -> JobView:
        """Block until the thread ends (tests and scripts; the page polls instead)."""
        self._thread.join(timeout)
        return self.view()


_LATEST: DeployJob | None = None
_LATEST_LOCK = threading.Lock()


def latest_job() -> DeployJob | None:
    """The last deployment this process started (running or ended), for a session that has none of its own."""
    with _LATEST_LOCK:
        return _LATEST
