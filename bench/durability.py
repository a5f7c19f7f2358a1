"""What ``durability="sync"`` costs against "async": a raw LangGraph chain with the SQLite saver.

Prints the median time per node for each mode and the ratio (several rounds,
one process). Run: ``python bench/durability.py [nodes] [rounds]``.
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import TypedDict


class State(TypedDict):
    value: int


async def one_run(nodes: int, durability: str, path: Path, thread: str) -> float:
    import aiosqlite
    from langgraph.checkpoint.sqlite.aio import AsyncSqliteSaver
    from langgraph.graph import END, START, StateGraph

    graph = StateGraph(State)

    async def step(state: State) -> State:
        return {"value": state["value"] + 1}

    names = [f"n{i}" for i in range(nodes)]
    for name in names:
        graph.add_node(name, step)
    for a, b in zip([START, *names], [*names, END], strict=True):
        graph.add_edge(a, b)
    async with aiosqlite.connect(str(path)) as connection:
        await connection.execute("PRAGMA journal_mode=WAL")
        await connection.execute("PRAGMA synchronous=NORMAL")
        app = graph.compile(checkpointer=AsyncSqliteSaver(connection))
        config = {"configurable": {"thread_id": thread}, "recursion_limit": nodes + 10}
        began = time.perf_counter()
        async for _ in app.astream({"value": 0}, config, durability=durability):
            pass
        return (time.perf_counter() - began) / nodes


def main(nodes: int = 20, rounds: int = 7) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "bench.sqlite"
        timings: dict[str, list[float]] = {"async": [], "sync": []}
        for index in range(rounds):
            for mode in timings:
                timings[mode].append(asyncio.run(one_run(nodes, mode, path, f"{mode}-{index}")))
    medians = {mode: statistics.median(values) * 1000 for mode, values in timings.items()}
    for mode, value in medians.items():
        print(f"durability={mode:5}  {value:7.3f} ms per node  ({nodes} nodes, median of {rounds})")
    print(f"sync / async = {medians['sync'] / medians['async']:.2f}x")


if __name__ == "__main__":
    main(*(int(arg) for arg in sys.argv[1:3]))
