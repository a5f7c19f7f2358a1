"""In-process execution with a bound: at most ``limit`` runs execute at once, the rest wait their turn.

The server needs a queue with a limit (SPEC §10): every accepted run has its
row (and its owner, so nobody reaps it) from the moment it is accepted, but
only ``limit`` of them call models at once. Each run is a task on the
process's runs loop (:class:`~agents_core.runs.executors.inprocess.RunTask`); a
waiting run waits inside its task, so cancelling it works as for any run.
:meth:`BoundedExecutor.waiting` tells a face which runs have not begun.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Coroutine
from typing import Any

from agents_core.runs.executors.inprocess import InProcessExecutor, RunTask

_POLL_SECONDS = 0.01


class BoundedExecutor(InProcessExecutor):
    """:class:`InProcessExecutor` with at most ``limit`` runs executing; the others wait in order."""

    def __init__(self, limit: int) -> None:
        if limit < 1:
            raise ValueError(f"limit must be at least 1, not {limit}.")
        self.limit = limit
        self._slots = threading.Semaphore(limit)
        self._lock = threading.Lock()
        self._waiting: dict[str, None] = {}  # insertion order is the queue's order
        self._executing: set[str] = set()

    def submit(self, run_id: str, main: Callable[[], Coroutine[Any, Any, Any]]) -> RunTask:
        with self._lock:
            self._waiting[run_id] = None

        async def gated() -> None:
            took = False
            try:
                while not self._turn(run_id):
                    await asyncio.sleep(_POLL_SECONDS)
                took = True
            except asyncio.CancelledError:  # cancelled while waiting: the run still writes its own end
                with self._lock:
                    self._waiting.pop(run_id, None)
                task = asyncio.current_task()
                if task is not None:
                    task.uncancel()
                    task.cancel()  # delivered at the run's first await: it ends as cancelled
            try:
                await main()
            finally:
                if took:
                    with self._lock:
                        self._executing.discard(run_id)
                    self._slots.release()

        return RunTask(f"configurable-agents-run-{run_id}", gated, self.loop).start()

    def _turn(self, run_id: str) -> bool:
        """Take a slot when this run is first in line and one is free."""
        with self._lock:
            if next(iter(self._waiting), None) != run_id or not self._slots.acquire(blocking=False):
                return False
            self._waiting.pop(run_id)
            self._executing.add(run_id)
            return True

    def waiting(self, run_id: str) -> bool:
        """Whether the run was accepted but has not begun (it is in the queue)."""
        with self._lock:
            return run_id in self._waiting

    @property
    def queued(self) -> int:
        with self._lock:
            return len(self._waiting)

    @property
    def executing(self) -> int:
        with self._lock:
            return len(self._executing)
