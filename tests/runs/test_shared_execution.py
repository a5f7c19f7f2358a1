"""Runs share the process's runs loop, one checkpointer connection and the compiled graph, yet stay apart.

Real service and SQLite store; only the model is scripted.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from typing import Any

from agents_core.engine import compiler
from agents_core.runs.savers import SharedCheckpointer
from agents_core.runs.service import RunService
from tests.runs.conftest import Slow
from tests.samples import THREE_STEPS


def test_concurrent_runs_of_one_workflow_share_its_graph_and_keep_their_own_events(service: RunService, script):
    script.replies["second"] = [Slow(0.3, "slow b")]  # the first run to reach "second" waits there
    compiler._compiled.clear()  # earlier tests may have compiled THREE_STEPS already
    first = service.start(THREE_STEPS, {"topic": "one"})
    second = service.start(THREE_STEPS, {"topic": "two"})
    results = [first.wait(timeout=30), second.wait(timeout=30)]
    assert [r.status for r in results] == ["success", "success"]
    assert len(compiler._compiled) == 1  # one compiled graph for both runs
    for handle in (first, second):
        log = service.store.events(handle.run_id)
        assert {row.data["run_id"] for row in log} == {handle.run_id}
        assert [row.kind for row in log].count("node_finished") == 3
    assert sorted(r.outputs["b"] for r in results) == ["ok", "slow b"]


def test_a_keyboard_interrupt_in_one_run_cancels_that_run_only(service: RunService, script):
    script.replies["second"] = [Slow(0.5, "fine"), KeyboardInterrupt()]
    calm = service.start(THREE_STEPS, {"topic": "calm"})
    deadline = time.monotonic() + 20
    while "second" not in script.calls and time.monotonic() < deadline:  # calm took the slow reply
        time.sleep(0.01)
    broken = service.start(THREE_STEPS, {"topic": "broken"})
    assert broken.wait(timeout=30).status == "cancelled"
    assert calm.wait(timeout=30).status == "success"
    again = service.start(THREE_STEPS, {"topic": "after"})  # the loop serves on
    assert again.wait(timeout=30).status == "success"


def test_the_checkpointer_connection_is_shared_reopened_after_a_failure_and_closed_when_idle():
    opened: list[str] = []
    closed: list[str] = []

    @contextlib.asynccontextmanager
    async def open_saver() -> AsyncIterator[Any]:
        name = f"saver{len(opened)}"
        opened.append(name)
        try:
            yield name
        finally:
            closed.append(name)

    async def main() -> None:
        shared = SharedCheckpointer(open_saver, idle_seconds=0.05)
        async with shared.use() as a, shared.use() as b:
            assert a == b == "saver0"
        async with shared.use() as c:  # within the idle time: the same connection
            assert c == "saver0"
        assert closed == []
        await asyncio.sleep(0.2)
        assert closed == ["saver0"]  # idle: closed
        with contextlib.suppress(RuntimeError):
            async with shared.use():
                raise RuntimeError("the store broke")
        await asyncio.sleep(0)  # the broken connection closes at once, not after the idle time
        await asyncio.sleep(0)
        assert closed == ["saver0", "saver1"]
        async with shared.use() as d:
            assert d == "saver2"
        await asyncio.sleep(0.2)
        assert closed == ["saver0", "saver1", "saver2"]

    asyncio.run(main())
