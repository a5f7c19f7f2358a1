"""LangGraph's ``SqliteSaver`` with its async methods run inline on the run's event loop.

Why not LangGraph's ``AsyncSqliteSaver``: it runs every statement on an
aiosqlite thread, so each checkpoint write of a run is several hops between
the runs loop and that thread (execute, fetch, commit, each woken through the
loop's self-pipe). On a local file a checkpoint write takes a fraction of a
millisecond of SQLite's time, much less than those hops; running it inline
made a one-node run's checkpointing about as cheap as the run's own events.
The writes are LangGraph's own code (``SqliteSaver.put`` and friends), under
its lock; only the ``a…`` wrappers are ours. A write still never stays open
across an ``await``, so the deadlock that moved checkpoints to their own file
(see :mod:`agents_core.runs.stores.sqlite`) cannot come back.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from typing import Any

from langgraph.checkpoint.sqlite import SqliteSaver


class InlineSqliteSaver(SqliteSaver):
    """:class:`SqliteSaver` whose ``a…`` methods call the sync ones (on the caller's loop, no thread)."""

    async def aget_tuple(self, config: Any) -> Any:
        return self.get_tuple(config)

    async def alist(
        self, config: Any, *, filter: dict[str, Any] | None = None, before: Any = None, limit: int | None = None
    ) -> AsyncIterator[Any]:
        for item in self.list(config, filter=filter, before=before, limit=limit):
            yield item

    async def aput(self, config: Any, checkpoint: Any, metadata: Any, new_versions: Any) -> Any:
        return self.put(config, checkpoint, metadata, new_versions)

    async def aput_writes(
        self, config: Any, writes: Sequence[tuple[str, Any]], task_id: str, task_path: str = ""
    ) -> None:
        self.put_writes(config, writes, task_id, task_path)

    async def adelete_thread(self, thread_id: str) -> None:
        self.delete_thread(thread_id)

    async def aget_delta_channel_history(self, *, config: Any, channels: Sequence[str]) -> Mapping[str, Any]:
        return self.get_delta_channel_history(config=config, channels=channels)
