"""Run every run of this process as a task on one shared asyncio event loop, in a daemon thread.

The run service hands the executor a coroutine function; the executor keeps
the task, so a cancel from any thread can reach the in-flight model call
(``task.cancel()`` on the runs' loop). A caller that stops reading never stops
the run. The loop's thread is a daemon: when the process ends, unfinished
runs are found ``interrupted`` by the next service.

Why one loop and not a thread and loop per run: starting a thread, a loop and
its default executor for every run cost more than a one-node run itself
(``bench/engine.py``, ``bench/server.py``). Runs on the loop only await
(models without an async form run in the loop's thread pool, as before), so
they do not hold each other up. A ``KeyboardInterrupt`` raised inside one run
ends that run (as ``cancelled``), never the loop of the others. After a ``fork`` the
child starts a loop of its own.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import logging
import os
import threading
from collections.abc import Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import Any

log = logging.getLogger(__name__)

#: Threads for models without an async form (one per run calling such a model at once).
_BLOCKING_CALL_THREADS = 64


#: The run a task belongs to (set in the run's own task; every task it creates inherits it).
_OWNER: contextvars.ContextVar[RunTask | None] = contextvars.ContextVar("configurable_agents_run_task", default=None)


def _task_factory(
    loop: asyncio.AbstractEventLoop, coro: Any, context: contextvars.Context | None = None
) -> asyncio.Task[Any]:
    """Tasks as usual; those of a run report a ``KeyboardInterrupt``/``SystemExit`` to it (it then cancels)."""
    task: asyncio.Task[Any] = asyncio.Task(coro, loop=loop, context=context)
    owner = _OWNER.get() if context is None else context.get(_OWNER)
    if owner is not None:
        task.add_done_callback(owner._child_done)
    return task


class _RunLoop:
    """The loop all runs of this process execute on, served by one daemon thread."""

    def __init__(self) -> None:
        self.pid = os.getpid()
        self.loop = asyncio.new_event_loop()
        self.loop.set_task_factory(_task_factory)  # type: ignore[arg-type]
        self.loop.set_default_executor(
            ThreadPoolExecutor(_BLOCKING_CALL_THREADS, thread_name_prefix="configurable-agents-model")
        )
        self.thread = threading.Thread(target=self._serve, name="configurable-agents-runs", daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        asyncio.set_event_loop(self.loop)
        while True:
            try:
                self.loop.run_forever()
                return  # stopped on purpose
            except BaseException as exc:
                # asyncio lets a KeyboardInterrupt out of the task that raised it and out of the loop;
                # that task's run cancels itself (``_child_done``), as a loop of its own would end it. Serve on.
                log.warning("the runs loop stopped on %s; serving on.", type(exc).__name__)


_RUN_LOOP: _RunLoop | None = None
_RUN_LOOP_LOCK = threading.Lock()


def run_loop() -> asyncio.AbstractEventLoop:
    """The process's runs loop, started on first use (again in a forked child)."""
    global _RUN_LOOP
    with _RUN_LOOP_LOCK:
        if _RUN_LOOP is None or _RUN_LOOP.pid != os.getpid() or not _RUN_LOOP.thread.is_alive():
            _RUN_LOOP = _RunLoop()
        return _RUN_LOOP.loop


def adopt_loop(loop: asyncio.AbstractEventLoop) -> None:
    """Make a loop that is not ours (a server's) fit to execute runs: threads for blocking model calls.

    Its tasks are not made to report a ``KeyboardInterrupt`` to their run, as the runs loop's are
    (:func:`_task_factory`): such a loop stops when one leaves a task (uvicorn's does, and the
    process with it), so no run on it would hear; and the factory cost every task of a request.
    """
    loop.set_default_executor(
        ThreadPoolExecutor(_BLOCKING_CALL_THREADS, thread_name_prefix="configurable-agents-model")
    )


def running_loop() -> asyncio.AbstractEventLoop | None:
    """The calling thread's running loop, or ``None`` (``asyncio.get_running_loop`` raises instead)."""
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


class RunTask:
    """A run executing as a task on the runs loop (or a given one); cancellable from any thread,
    joinable from any other."""

    def __init__(
        self, name: str, main: Callable[[], Coroutine[Any, Any, Any]], loop: asyncio.AbstractEventLoop | None = None
    ) -> None:
        self.name = name
        self._main = main
        self._loop = loop if loop is not None and not loop.is_closed() else run_loop()
        self._task: asyncio.Task[Any] | None = None
        self._started = False
        self._cancel_early = False
        self.done = threading.Event()
        self.error: BaseException | None = None

    def start(self) -> RunTask:
        if running_loop() is self._loop:  # started on its own loop (a server's inline start)
            self._loop.call_soon(self._begin)  # no wake-up of the loop through its self-pipe
        else:
            self._loop.call_soon_threadsafe(self._begin)
        return self

    def _begin(self) -> None:
        self._task = self._loop.create_task(self._run(), name=self.name)

    async def _run(self) -> None:
        self._started = True
        _OWNER.set(self)
        try:
            if self._cancel_early:  # delivered at the run's first await, inside its own handling
                task = asyncio.current_task()
                if task is not None:
                    task.cancel()
            await self._main()
        except BaseException as exc:
            self.error = exc
        finally:
            self.done.set()

    def _child_done(self, task: asyncio.Task[Any]) -> None:
        """A task of this run ended; one that a ``KeyboardInterrupt`` or ``SystemExit`` ended cancels the run."""
        if not task.cancelled() and isinstance(task.exception(), KeyboardInterrupt | SystemExit):
            self._cancel()

    def cancel(self) -> None:
        """Cancel the run's task (the in-flight model call gets ``CancelledError``)."""
        with contextlib.suppress(RuntimeError):  # the loop is closed: the process is ending
            self._loop.call_soon_threadsafe(self._cancel)

    def _cancel(self) -> None:
        if self.done.is_set():
            return
        if not self._started or self._task is None:
            self._cancel_early = True  # a task cancelled before its first step would skip the run's own end
        else:
            self._task.cancel()

    def join(self, timeout: float | None = None) -> bool:
        return self.done.wait(timeout)


class InProcessExecutor:
    """The default executor: each run a task on the process's runs loop, or on the loop it is bound to.

    A server binds its executor to the loop that serves its requests (:meth:`bind`), so
    a run and the request waiting for it share one loop: no hand-over between two loop
    threads at each start and end, as a bare endpoint awaiting its graph has none.
    """

    name = "inprocess"
    loop: asyncio.AbstractEventLoop | None = None

    def bind(self, loop: asyncio.AbstractEventLoop | None) -> None:
        """Execute the runs started from now on ``loop`` (``None``: the process's runs loop again)."""
        if loop is not None:
            adopt_loop(loop)
        self.loop = loop

    def target_loop(self) -> asyncio.AbstractEventLoop:
        """The loop the next run will execute on."""
        return self.loop if self.loop is not None and not self.loop.is_closed() else run_loop()

    def submit(self, run_id: str, main: Callable[[], Coroutine[Any, Any, Any]]) -> RunTask:
        return RunTask(f"configurable-agents-run-{run_id}", main, self.loop).start()
