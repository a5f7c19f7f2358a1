"""One checkpointer connection per service and event loop, shared by the runs executing on it.

Opening the store's checkpointer (a SQLite connection with its own thread)
for every run cost a few ms per run. The runs of a service all execute on the
process's runs loop, so they share one saver (LangGraph's savers serialise
their own writes, and every run is its own ``thread_id``). The connection is
closed once no run has used it for ``idle_seconds``, after a run that broke
it (an exception out of the engine), and when the process exits (idle ones at
once, busy ones when their last run ends), so nothing keeps the interpreter
from exiting.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import weakref
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

#: How long an unused connection stays open for the next run.
IDLE_SECONDS = 2.0
#: How long the exit hook waits for a connection to close.
_CLOSE_TIMEOUT = 5.0


@dataclass
class _Open:
    """A saver open on one loop, the runs using it, and the timer that closes it when idle."""

    stack: contextlib.AsyncExitStack
    saver: Any
    users: int = 0
    broken: bool = False
    closer: asyncio.TimerHandle | None = None
    closed: bool = field(default=False)


class SharedCheckpointer:
    """``async with shared.use() as saver``: the loop's open saver, opened on first use."""

    def __init__(self, open_saver: Callable[[], Any], idle_seconds: float = IDLE_SECONDS) -> None:
        self._open_saver = open_saver
        self.idle_seconds = idle_seconds
        self._open: dict[asyncio.AbstractEventLoop, _Open] = {}
        self._opening: dict[asyncio.AbstractEventLoop, asyncio.Lock] = {}
        self._closing: set[asyncio.Task[None]] = set()
        self._lock = threading.Lock()  # guards the dicts against the exit hook's thread
        _ALL.add(self)

    @contextlib.asynccontextmanager
    async def use(self) -> AsyncIterator[Any]:
        entry = await self._acquire()
        try:
            yield entry.saver
        except BaseException as exc:
            if not isinstance(exc, asyncio.CancelledError | GeneratorExit):
                entry.broken = True  # the next run gets a fresh connection
            raise
        finally:
            self._release(entry)

    async def _acquire(self) -> _Open:
        loop = asyncio.get_running_loop()
        opening = self._opening.get(loop)  # only this loop's thread touches its lock
        if opening is None:
            opening = self._opening[loop] = asyncio.Lock()
        async with opening:
            with self._lock:
                entry = self._open.get(loop)
            if entry is None or entry.broken or entry.closed:
                stack = contextlib.AsyncExitStack()
                saver = await stack.enter_async_context(self._open_saver())
                entry = _Open(stack, saver)
                with self._lock:
                    self._open[loop] = entry
            if entry.closer is not None:
                entry.closer.cancel()
                entry.closer = None
            entry.users += 1
            return entry

    def _release(self, entry: _Open) -> None:
        entry.users -= 1
        if entry.users > 0:
            return
        loop = asyncio.get_running_loop()
        if entry.broken or _EXITING.is_set():
            self._schedule_close(loop, entry)
        else:
            entry.closer = loop.call_later(self.idle_seconds, self._schedule_close, loop, entry)

    def _schedule_close(self, loop: asyncio.AbstractEventLoop, entry: _Open) -> None:
        task = loop.create_task(self._close(loop, entry))
        self._closing.add(task)  # a reference, so the task is not collected half-way
        task.add_done_callback(self._closing.discard)

    async def _close(self, loop: asyncio.AbstractEventLoop, entry: _Open) -> None:
        if entry.users > 0 or entry.closed:
            return
        entry.closed = True
        with self._lock:
            if self._open.get(loop) is entry:
                del self._open[loop]
        with contextlib.suppress(Exception):
            await entry.stack.aclose()

    def close_idle(self) -> None:
        """Close the connections no run uses now (from any thread but their loop's)."""
        with self._lock:
            idle = [(loop, entry) for loop, entry in self._open.items() if entry.users == 0]
            for loop, _entry in idle:
                if loop.is_closed():  # its loop is gone, and its connection with it: forget it
                    del self._open[loop]
        for loop, entry in idle:
            if loop.is_closed():
                continue
            with contextlib.suppress(Exception):
                asyncio.run_coroutine_threadsafe(self._close(loop, entry), loop).result(_CLOSE_TIMEOUT)

    async def aclose_here(self) -> None:
        """Close the running loop's connection now, if no run uses it (a server's loop is about to end)."""
        loop = asyncio.get_running_loop()
        with self._lock:
            entry = self._open.get(loop)
        if entry is not None:
            if entry.closer is not None:
                entry.closer.cancel()
                entry.closer = None
            await self._close(loop, entry)


_ALL: weakref.WeakSet[SharedCheckpointer] = weakref.WeakSet()
_EXITING = threading.Event()


def _at_exit() -> None:
    """Before the interpreter joins its non-daemon threads (a SQLite saver's is one): close idle savers."""
    _EXITING.set()
    for shared in list(_ALL):
        shared.close_idle()


_register = getattr(threading, "_register_atexit", None)  # runs before non-daemon threads are joined
if _register is not None:
    _register(_at_exit)
