"""Per-node overhead of our engine against a raw LangGraph graph doing the same work.

Both sides run a linear chain of N nodes on the same instant chat model; each
node renders its prompt with the same template code (``{state.x<i-1>}``),
calls the model and writes the reply to state. Like with like:

- without a checkpointer: our ``execute`` with ``checkpointer=None`` vs the raw
  graph compiled without one;
- with the SQLite checkpointer: both on LangGraph's ``AsyncSqliteSaver`` (WAL,
  synchronous=NORMAL) with ``durability="sync"``; the connection is opened
  before the clock starts for both.

"engine" is :func:`agents_core.engine.runner.execute` on a prepared run (graph
build, compile, stream, events, records, final state); "service" is the whole
path a face takes, ``RunService.start(...).wait()`` (checks, run row, event log
on every event, its own checkpointer connection, thread), so the service's cost
shows apart from the engine's. Both are timed as ms per node, median of several
rounds in one process, with their ratio to raw: once by the wall clock, once by
the CPU time of the process (``time.process_time``, all its threads), which a
busy machine disturbs far less (the work is CPU-bound: the model is instant and
SQLite commits do not fsync in WAL with synchronous=NORMAL).

The "input" column is the length in characters of the input ``x0`` that every
prompt quotes: the last rows quote a 2,000-character input in every prompt, as real prompts do, so whatever
is carried from checkpoint to checkpoint (node records hold prompt and reply)
shows.

Run: ``python bench/engine.py [rounds]`` (default 5).
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from instant import Instant, chain, register_instant  # noqa: E402
from langchain_core.messages import HumanMessage  # noqa: E402

#: A 2,000-character input every prompt quotes: what node records (prompt and reply in full) weigh in a real run.
LONG = "word " * 400
#: (nodes, the input x0 that every prompt quotes).
SIZES = ((1, "go"), (10, "go"), (100, "go"), (100, LONG))
TARGET = 1.25


# -- raw LangGraph ---------------------------------------------------------------------------


def raw_graph(nodes: int, model: Any) -> Any:
    """The same chain written by hand in LangGraph: render the prompt, call the model, write the reply."""
    from typing import TypedDict

    from langgraph.graph import END, START, StateGraph

    from agents_core.config.templates import parse_template, render

    State = TypedDict("State", {f"x{i}": str for i in range(nodes + 1)})  # type: ignore[misc]
    graph = StateGraph(State)

    def step(i: int) -> Any:
        template = parse_template(f"step {i}: {{state.x{i - 1}}} / {{state.x0}}")

        async def run(state):  # type: ignore[no-untyped-def]  # no hints: LangGraph evaluates them at every add_node
            reply = await model.ainvoke([HumanMessage(render(template, state))])
            return {f"x{i}": reply.text}

        return run

    names = [f"n{i}" for i in range(1, nodes + 1)]
    for i, name in enumerate(names, start=1):
        graph.add_node(name, step(i))
    for a, b in zip([START, *names], [*names, END], strict=True):
        graph.add_edge(a, b)
    return graph


async def time_raw(nodes: int, first: str, model: Any, saver: Any, thread: str) -> tuple[float, float]:
    from agents_core.engine.compiler import DURABILITY

    began, cpu = time.perf_counter(), time.process_time()
    app = raw_graph(nodes, model).compile(checkpointer=saver)
    config = {"configurable": {"thread_id": thread}, "recursion_limit": nodes + 10}
    options = {"durability": DURABILITY} if saver is not None else {}
    state = await app.ainvoke({"x0": first} | {f"x{i}": "" for i in range(1, nodes + 1)}, config, **options)
    elapsed = time.perf_counter() - began, time.process_time() - cpu
    assert state[f"x{nodes}"] == "ok", state
    return elapsed


# -- ours ------------------------------------------------------------------------------------


async def time_engine(prepared: Any, saver: Any, run_id: str) -> tuple[float, float]:
    from agents_core.engine.runner import execute

    events: list[Any] = []
    began, cpu = time.perf_counter(), time.process_time()
    result = await execute(prepared, run_id, saver, events.append)
    elapsed = time.perf_counter() - began, time.process_time() - cpu
    assert result.ok and len(result.nodes) == len(prepared.plans), result.error
    return elapsed


def time_service(service: Any, workflow: dict[str, Any], first: str) -> tuple[float, float]:
    began, cpu = time.perf_counter(), time.process_time()
    result = service.start(workflow, {"x0": first}).wait()
    elapsed = time.perf_counter() - began, time.process_time() - cpu
    assert result.ok and len(result.nodes) == len(workflow["nodes"]), result.error
    return elapsed


async def raw_saver(connection: Any) -> Any:
    from langgraph.checkpoint.sqlite.aio import AsyncSqliteSaver

    await connection.execute("PRAGMA journal_mode=WAL")
    await connection.execute("PRAGMA synchronous=NORMAL")
    return AsyncSqliteSaver(connection)


Medians = dict[str, dict[str, tuple[float, float]]]


async def measure(nodes: int, first: str, rounds: int, folder: Path, service: Any) -> Medians:
    """Median (wall, CPU) seconds per run: raw, engine (and service, checkpointed only), per checkpointer setting."""
    import aiosqlite

    from agents_core.engine.runner import prepare_run
    from agents_core.runs.store import SqliteRunStore

    model = Instant()
    workflow = chain(nodes, quote_input=True)
    prepared = prepare_run(workflow, {"x0": first})
    store = SqliteRunStore(folder / f"engine-{nodes}-{len(first)}.sqlite")
    times: dict[str, dict[str, list[tuple[float, float]]]] = {
        "none": {"raw": [], "engine": []},
        "sqlite": {"raw": [], "engine": [], "service": []},
    }
    async with (
        aiosqlite.connect(str(folder / f"raw-{nodes}-{len(first)}.sqlite")) as connection,
        store.checkpointer() as ours,
    ):
        raw = await raw_saver(connection)
        for index in range(rounds + 1):  # round 0 warms up (imports, schema, caches)
            row = {
                "none": {
                    "raw": await time_raw(nodes, first, model, None, f"r{index}"),
                    "engine": await time_engine(prepared, None, f"e{index}"),
                },
                "sqlite": {
                    "raw": await time_raw(nodes, first, model, raw, f"r{index}"),
                    "engine": await time_engine(prepared, ours, f"e{index}"),
                    "service": await asyncio.to_thread(time_service, service, workflow, first),
                },
            }
            if index:
                for saver, timings in row.items():
                    for side, value in timings.items():
                        times[saver][side].append(value)
    store.close()
    return {
        saver: {
            side: (statistics.median(v[0] for v in values), statistics.median(v[1] for v in values))
            for side, values in sides.items()
        }
        for saver, sides in times.items()
    }


def table(results: dict[tuple[int, str], Medians], clock: int, title: str) -> float:
    """Print one table (``clock`` 0: wall, 1: CPU); the worst engine ratio."""
    print(title)
    header = (
        f"{'nodes':>5} {'input':>6}  {'checkpointer':<12} {'raw ms/node':>11} {'engine ms/node':>14} {'ratio':>6}"
        f"  {'service ms/node':>15} {'ratio':>6}"
    )
    print(header)
    print("-" * len(header))
    worst = 0.0
    for (nodes, first), medians in results.items():
        for saver, sides in medians.items():
            raw = sides["raw"][clock] * 1000 / nodes
            engine = sides["engine"][clock] * 1000 / nodes
            worst = max(worst, engine / raw)
            line = f"{nodes:>5} {len(first):>6}  {saver:<12} {raw:>11.3f} {engine:>14.3f} {engine / raw:>5.2f}x"
            if "service" in sides:
                serviced = sides["service"][clock] * 1000 / nodes
                line += f"  {serviced:>15.3f} {serviced / raw:>5.2f}x"
            print(line)
    print(f"worst engine ratio: {worst:.2f}x ({'meets' if worst <= TARGET else 'misses'} the {TARGET}x target)\n")
    return worst


def main(rounds: int = 5) -> None:
    from agents_core.runs.service import RunService

    register_instant()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        service = RunService(folder / "service" / "runs.sqlite")
        results = {size: asyncio.run(measure(*size, rounds, folder, service)) for size in SIZES}
    about = f"instant model, median of {rounds} rounds, target <= {TARGET}x"
    table(results, 0, f"engine overhead per node, wall clock ({about})")
    table(results, 1, f"engine overhead per node, CPU time of the process ({about})")


if __name__ == "__main__":
    main(*(int(arg) for arg in sys.argv[1:2]))
