"""One background thread of ours that does every MLflow write, so tracking stays off a run's critical path.

MLflow's own async logging is slower for us (ending a run drains its queue,
~1 s per run), so the observer only puts a job on this queue (microseconds)
and this thread writes. :meth:`BackgroundWriter.flush` waits for the queue
to drain (bounded); at process exit an ``atexit`` hook does the same, for at
most :data:`EXIT_FLUSH_SECONDS`, then says how many jobs were left unwritten.
"""

from __future__ import annotations

import atexit
import logging
import queue
import threading
import weakref
from collections.abc import Callable

log = logging.getLogger(__name__)

#: How long the process waits at exit for tracking that is still being written.
EXIT_FLUSH_SECONDS = 15.0

_WRITERS: weakref.WeakSet[BackgroundWriter] = weakref.WeakSet()


class BackgroundWriter:
    """A daemon thread that runs submitted jobs in order; a job that raises is logged and the next one runs."""

    def __init__(self, name: str = "mlflow-tracking") -> None:
        self._queue: queue.Queue[Callable[[], None]] = queue.Queue()
        self._idle = threading.Condition()
        self._pending = 0
        self._thread = threading.Thread(target=self._loop, name=name, daemon=True)
        self._thread.start()
        _WRITERS.add(self)

    def submit(self, job: Callable[[], None]) -> None:
        with self._idle:
            self._pending += 1
        self._queue.put(job)

    @property
    def pending(self) -> int:
        with self._idle:
            return self._pending

    def flush(self, timeout: float | None = 30.0) -> bool:
        """Wait until every submitted job has run; False if ``timeout`` passed first."""
        with self._idle:
            return self._idle.wait_for(lambda: self._pending == 0, timeout)

    def _loop(self) -> None:
        while True:
            job = self._queue.get()
            try:
                job()
            except Exception:  # a job guards itself; this is the last net so the thread never dies
                log.exception("tracking job failed")
            finally:
                with self._idle:
                    self._pending -= 1
                    self._idle.notify_all()


def _flush_all_at_exit() -> None:
    for writer in list(_WRITERS):
        if not writer.flush(EXIT_FLUSH_SECONDS) and writer.pending:
            log.warning(
                "MLflow tracking: %d write(s) were still pending after %.0f s at exit and were dropped; "
                "the run store keeps every run.",
                writer.pending,
                EXIT_FLUSH_SECONDS,
            )


def register_exit_flush() -> None:
    """(Re-)register the exit flush so it runs before MLflow's own exit hooks (``atexit`` runs last-in first-out).

    Called once MLflow is imported: our pending writes (traces included) must reach
    MLflow while its trace exporter still runs.
    """
    atexit.unregister(_flush_all_at_exit)
    atexit.register(_flush_all_at_exit)


atexit.register(_flush_all_at_exit)
