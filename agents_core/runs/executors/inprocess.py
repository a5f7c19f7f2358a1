"""Run each run in a thread of its own with its own asyncio event loop.

The run service hands the executor a coroutine function; the executor keeps
the thread, the loop and the task, so a cancel from any thread can reach the
in-flight model call (``task.cancel()`` on the run's loop). A caller that
stops reading never stops the run. The threads are daemons: when the process
ends, unfinished runs are found ``interrupted`` by the next service.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Callable, Coroutine
from typing import Any


class RunTask:
    """A run executing in its own thread and loop; cancellable from any thread."""

    def __init__(self, name: str, main: Callable[[], Coroutine[Any, Any, Any]]) -> None:
        self._main = main
        self._loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Task[Any] | None = None
        self._ready = threading.Event()
        self._cancel_early = False
        self.done = threading.Event()
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._thread, name=name, daemon=True)

    def _thread(self) -> None:
        try:
            asyncio.run(self._run())
        except BaseException as exc:
            self.error = exc
        finally:
            self._ready.set()
            self.done.set()

    async def _run(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._task = asyncio.current_task()
        self._ready.set()
        if self._cancel_early:
            self._task.cancel()  # type: ignore[union-attr]
        await self._main()

    def start(self) -> RunTask:
        self.thread.start()
        return self

    def cancel(self) -> None:
        """Cancel the run's task (the in-flight model call gets ``CancelledError``)."""
        self._ready.wait(5)
        loop, task = self._loop, self._task
        if loop is None or task is None:
            self._cancel_early = True
            return
        with contextlib.suppress(RuntimeError):  # the loop already closed: the run is over
            loop.call_soon_threadsafe(task.cancel)

    def join(self, timeout: float | None = None) -> bool:
        return self.done.wait(timeout)


class InProcessExecutor:
    """The default executor: one daemon thread (and event loop) per run."""

    name = "inprocess"

    def submit(self, run_id: str, main: Callable[[], Coroutine[Any, Any, Any]]) -> RunTask:
        return RunTask(f"configurable-agents-run-{run_id}", main).start()
