"""How long a node waited for a shared model before its call could start.

The local model is one ``Llama`` object per file, used under a lock, so
parallel branches on it take turns. Without saying so, their durations read
as if the branches ran one after another. The node executor opens a
measurement (:func:`begin`) for each node; the local model reports every wait
for its lock (:func:`report_wait`) into it through a context variable, which
LangChain carries into the worker thread that runs the model; the node's
record then holds the sum as ``queue_ms``. No heavy imports here.
"""

from __future__ import annotations

import time
from contextvars import ContextVar, Token
from threading import Lock

_waits: ContextVar[list[float] | None] = ContextVar("agents_model_waits", default=None)


def begin() -> tuple[Token[list[float] | None], list[float]]:
    """Start collecting waits in this context; pass the token to :func:`end`, read the list for the seconds."""
    waits: list[float] = []
    return _waits.set(waits), waits


def end(token: Token[list[float] | None]) -> None:
    """Stop collecting (restores the outer measurement, if any)."""
    _waits.reset(token)


def report_wait(seconds: float) -> None:
    """Add a wait to the measurement of the calling context (ignored when none is open)."""
    waits = _waits.get()
    if waits is not None and seconds > 0:
        waits.append(seconds)


def acquire(lock: Lock) -> None:
    """Take ``lock``; when another call holds it, the time until it is free is reported as a wait."""
    if lock.acquire(blocking=False):
        return
    began = time.perf_counter()
    lock.acquire()
    report_wait(time.perf_counter() - began)
