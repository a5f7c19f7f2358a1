"""Group commit of run events: the events of every run on one event loop, written in one transaction a loop turn.

Why: the runs of a service share one event loop, and writing each event in a
transaction of its own made that loop spend most of its time in the store
(a 1-node run wrote four transactions). An event is now stamped with its
``seq`` at once, queued, and written with every other event queued within
:data:`FLUSH_SECONDS` (a group commit): the events of many runs go in one
transaction, and a short run's events go in the transaction of its end.

What holds, as before:

- a run's observers hear an event, and its followers are woken, only once the
  event is in the log, in ``seq`` order;
- the log has no gap: a batch the store refuses is retried run by run, and a
  run whose events were refused gets the error (:meth:`EventBatch.failure`),
  which the run service raises into the run so it ends with the reason, and
  its next event takes the seq after the last one written;
- the terminal status is written after every event of the run: the run's
  end takes its queued events (:meth:`EventBatch.take`) and writes them in the
  transaction of its terminal status.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from agents_core.runs.store import RunStore

#: How long an event may wait for others to share its transaction. Followers see it that much later
#: at most (pages poll each second); a run that ends sooner writes its events with its end, in one go.
FLUSH_SECONDS = 0.05


@dataclass
class QueuedEvent:
    run_id: str
    event: Any  # a stamped RunEvent
    written: Callable[[Any], None]
    lost: Callable[[BaseException], None]

    def row(self) -> tuple[str, int, str, str, dict[str, Any]]:
        event = self.event
        return (self.run_id, event.seq, event.kind, event.at.isoformat(), event.to_dict())


class EventBatch:
    """The events queued on one event loop for one store; flushed at the loop's next turn."""

    def __init__(self, store: RunStore, loop: asyncio.AbstractEventLoop) -> None:
        self.store = store
        self.loop = loop
        self._queued: list[QueuedEvent] = []
        self._scheduled = False

    def add(
        self, run_id: str, event: Any, written: Callable[[Any], None], lost: Callable[[BaseException], None]
    ) -> None:
        """Queue a stamped event; ``written(event)`` once it is in the log, ``lost(error)`` if the store refused it."""
        self._queued.append(QueuedEvent(run_id, event, written, lost))
        if not self._scheduled:
            self._scheduled = True
            self.loop.call_later(FLUSH_SECONDS, self.flush)

    def take(self, run_id: str) -> list[QueuedEvent]:
        """Remove and return the run's queued events (the run's end writes them with its status)."""
        mine = [item for item in self._queued if item.run_id == run_id]
        if mine:
            self._queued = [item for item in self._queued if item.run_id != run_id]
        return mine

    def flush(self) -> None:
        """Write every queued event now (one transaction; run by run if the store refuses the batch)."""
        self._scheduled = False
        queued, self._queued = self._queued, []
        if not queued:
            return
        try:
            self.store.append_events([item.row() for item in queued])
        except Exception:
            self._write_run_by_run(queued)
            return
        for item in queued:
            item.written(item.event)

    def _write_run_by_run(self, queued: list[QueuedEvent]) -> None:
        by_run: dict[str, list[QueuedEvent]] = {}
        for item in queued:
            by_run.setdefault(item.run_id, []).append(item)
        for items in by_run.values():
            try:
                self.store.append_events([item.row() for item in items])
            except Exception as exc:
                items[0].lost(exc)
                continue
            for item in items:
                item.written(item.event)
