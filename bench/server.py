"""What does the server cost per request? ``POST /run`` against a bare FastAPI endpoint, in one process.

Prints, for a one-node workflow on an instant model, over real HTTP on 127.0.0.1:
- sync ``POST /run`` requests per second, p50/p99 latency and CPU per request through
  :func:`agents_core.deploy.create_app` (body check, run row, event log, checkpoints, status)
  next to two bare FastAPI endpoints calling the same compiled LangGraph graph: one with the
  checkpointer the server's graph runs with (the store's SQLite saver, ``durability="sync"``,
  a thread per request: the issue's "same compiled graph") and one with no checkpointer at all;
  the ratios (targets: >= 0.8x req/s, p99 <= 2x);
- async submissions per second (``--sync-timeout 0``: each a run row and a 202) into the store.

Each server is loaded in turn in this one process (the clients too), so CPU per request is the
whole process's CPU time over the requests: a figure other load on the machine does not move.

Rounds are interleaved (every server loaded once per round), and the ratios are given two ways: from
each server's best round, and as the median of the rounds' own ratios, which a machine whose speed
drifts during the run (a shared VM) moves least, as both servers of a round meet the same conditions.

Usage: python bench/server.py [--requests 1000] [--clients 8] [--rounds 5]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import statistics
import sys
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
os.environ.setdefault("DO_NOT_TRACK", "true")

import httpx  # noqa: E402
import uvicorn  # noqa: E402
from fastapi import FastAPI  # noqa: E402
from langchain_core.language_models.chat_models import BaseChatModel  # noqa: E402
from langchain_core.messages import AIMessage  # noqa: E402
from langchain_core.outputs import ChatGeneration, ChatResult  # noqa: E402

from agents_core.deploy import ServerSettings, create_app  # noqa: E402
from agents_core.llm.registry import ProviderInfo, register_provider  # noqa: E402

WORKFLOW: dict[str, Any] = {
    "schema_version": "1.0",
    "flow": {"name": "bench_one"},
    "state": {"fields": {"topic": {"type": "str", "required": True}, "answer": {"type": "str", "default": ""}}},
    "nodes": [{"id": "answer", "prompt": "Say something about {state.topic}", "outputs": ["answer"]}],
    "edges": [{"from": "START", "to": "answer"}, {"from": "answer", "to": "END"}],
    "config": {"llm": {"provider": "instant"}},
}


class InstantChatModel(BaseChatModel):
    """Answers at once, with a token count, so only the server's and engine's own costs are measured."""

    @property
    def _llm_type(self) -> str:
        return "instant"

    def _generate(self, messages: Any, stop: Any = None, run_manager: Any = None, **kw: Any) -> ChatResult:
        message = AIMessage(content="ok")
        message.usage_metadata = {"input_tokens": 10, "output_tokens": 2, "total_tokens": 12}
        return ChatResult(generations=[ChatGeneration(message=message)])


def bare_app(checkpoints: str | None = None) -> FastAPI:
    """The baseline: one endpoint calling the compiled graph, with no store, no run row, no events.

    With ``checkpoints`` (a file), the graph runs with the saver the server's runs use on it
    (one thread per request, ``durability="sync"``), as the engine compiles it for a run.
    """
    from agents_core.engine.compiler import DURABILITY, build_graph
    from agents_core.engine.runner import prepare_run
    from agents_core.engine.state import check_inputs

    prepared = prepare_run(WORKFLOW, {"topic": "x"})
    graph = build_graph(prepared.workflow, prepared.plans, "bench", prepared.models)
    options: dict[str, Any] = {}
    if checkpoints is not None:
        import sqlite3

        from agents_core.runs.store import checkpoint_serializer
        from agents_core.runs.stores.sqlite_saver import InlineSqliteSaver

        connection = sqlite3.connect(checkpoints, check_same_thread=False)
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("PRAGMA synchronous=NORMAL")
        saver = InlineSqliteSaver(connection, serde=checkpoint_serializer())
        saver.setup()
        compiled = graph.compile(checkpointer=saver)
        options = {"durability": DURABILITY}
    else:
        compiled = graph.compile()
    app = FastAPI()

    @app.post("/run")
    async def run(body: dict[str, Any]) -> dict[str, Any]:
        config = {"configurable": {"thread_id": uuid.uuid4().hex}}
        state = await compiled.ainvoke(check_inputs(prepared.workflow, body), config, **options)
        return {"status": "success", "outputs": {"answer": state["answer"]}}

    return app


def serve(app: Any) -> tuple[str, uvicorn.Server]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    threading.Thread(target=server.run, daemon=True).start()
    url = f"http://127.0.0.1:{port}"
    while True:
        try:
            httpx.get(url + "/docs", timeout=1)
            return url, server
        except httpx.HTTPError:
            time.sleep(0.05)


def load(url: str, requests: int, clients: int, expect: int) -> tuple[float, float, float, float]:
    """``requests`` POSTs from ``clients`` threads; (req/s, p50 ms, p99 ms, process CPU ms per request)."""
    latencies: list[float] = []
    lock = threading.Lock()

    def worker(count: int) -> None:
        with httpx.Client(base_url=url, timeout=60) as client:
            for i in range(count):
                began = time.perf_counter()
                response = client.post("/run", json={"topic": f"t{i}"})
                elapsed = time.perf_counter() - began
                assert response.status_code == expect, response.text
                with lock:
                    latencies.append(elapsed)

    began, cpu = time.perf_counter(), time.process_time()
    with ThreadPoolExecutor(clients) as pool:
        list(pool.map(worker, [requests // clients] * clients))
    wall, cpu = time.perf_counter() - began, time.process_time() - cpu
    latencies.sort()
    p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
    return len(latencies) / wall, statistics.median(latencies) * 1000, p99 * 1000, cpu / len(latencies) * 1000


def best(url: str, requests: int, clients: int, expect: int, rounds: int) -> tuple[float, float, float, float]:
    """The best of ``rounds`` loads (by req/s): other load on the machine only ever slows a round down."""
    return max((load(url, requests, clients, expect) for _ in range(rounds)), key=lambda figures: figures[0])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=5, help="loads of each server, interleaved")
    args = parser.parse_args()
    # with a check, as every built-in provider has, so the server shares the model between runs as it would theirs
    instant = ProviderInfo("instant", "instant bench model", "instant-1", factory=lambda s: InstantChatModel())
    register_provider(replace(instant, check=lambda settings: "no key"))
    with tempfile.TemporaryDirectory() as tmp:
        sync_settings = ServerSettings(run_store=f"{tmp}/sync/runs.sqlite", max_concurrent=args.clients, max_queue=1000)
        servers = {
            "bare FastAPI + graph": serve(bare_app()),
            "bare + graph + checkpoints": serve(bare_app(f"{tmp}/bare-checkpoints.sqlite")),
            "configurable-agents server": serve(create_app(WORKFLOW, settings=sync_settings)),
        }
        figures: dict[str, list[tuple[float, float, float, float]]] = {name: [] for name in servers}
        for url, _ in servers.values():
            load(url, args.clients * 2, args.clients, 200)  # warm-up
        for _ in range(args.rounds):  # interleaved, so a burst of other load hits every server alike
            for name, (url, _) in servers.items():
                figures[name].append(load(url, args.requests, args.clients, 200))
        async_settings = ServerSettings(
            run_store=f"{tmp}/async/runs.sqlite", sync_timeout=0, max_concurrent=args.clients, max_queue=100_000
        )
        async_url, submit = serve(create_app(WORKFLOW, settings=async_settings))
        async_app = submit.config.app
        async_figures = load(async_url, args.requests, args.clients, 202)
        while async_app.state.server.load():  # let the accepted runs finish before the store goes
            time.sleep(0.1)
        for _, server in [*servers.values(), (async_url, submit)]:
            server.should_exit = True
    top = {name: max(rounds, key=lambda f: f[0]) for name, rounds in figures.items()}
    print(f"POST /run, {args.requests} requests from {args.clients} clients, one node on an instant model")
    print(f"best of {args.rounds} interleaved rounds; CPU = this process's CPU time per request (clients included)")
    print(f"{'':28} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'CPU ms':>8}")
    for name, (rate, p50, p99, cpu) in top.items():
        print(f"{name:28} {rate:8.1f} {p50:8.1f} {p99:8.1f} {cpu:8.2f}")
    ours = top["configurable-agents server"]
    for baseline in ("bare + graph + checkpoints", "bare FastAPI + graph"):
        base = top[baseline]
        print(
            f"vs {baseline}: {ours[0] / base[0]:.2f}x req/s (target >= 0.8), p99 {ours[2] / base[2]:.2f}x "
            f"(target <= 2), CPU {ours[3] / base[3]:.2f}x   (best rounds)"
        )
        paired = sorted(
            o[0] / b[0] for o, b in zip(figures["configurable-agents server"], figures[baseline], strict=True)
        )
        tails = sorted(
            o[2] / b[2] for o, b in zip(figures["configurable-agents server"], figures[baseline], strict=True)
        )
        print(
            f"{'':>{len(baseline) + 4}}{statistics.median(paired):.2f}x req/s, p99 {statistics.median(tails):.2f}x"
            f"   (median of the rounds' ratios; req/s from {paired[0]:.2f}x to {paired[-1]:.2f}x)"
        )
    print(f"async submissions (202, run row written): {async_figures[0]:.1f}/s, p50 {async_figures[1]:.1f} ms")


if __name__ == "__main__":
    asyncio.set_event_loop_policy(None)
    main()
