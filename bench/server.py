"""What does the server cost per request? ``POST /run`` against a bare FastAPI endpoint, in one process.

Prints, for a one-node workflow on an instant model, over real HTTP on 127.0.0.1:
- sync ``POST /run`` requests per second and p50/p99 latency through :func:`agents_core.deploy.create_app`
  (body check, job book, run row, event log, checkpoint, status) next to a bare FastAPI endpoint that
  calls the same compiled LangGraph graph with no store; the ratios (targets: >= 0.8x req/s, p99 <= 2x);
- async submissions per second (``--sync-timeout 0``: each a run row and a 202) into the store.

Usage: python bench/server.py [--requests 200] [--clients 8]
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
from concurrent.futures import ThreadPoolExecutor
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


def bare_app() -> FastAPI:
    """The baseline: one endpoint calling the same compiled graph, no store, no checks beyond the engine's."""
    from agents_core.engine.compiler import build_graph
    from agents_core.engine.runner import prepare_run
    from agents_core.engine.state import check_inputs

    prepared = prepare_run(WORKFLOW, {"topic": "x"})
    graph = build_graph(prepared.workflow, prepared.plans, "bench", prepared.models).compile()
    app = FastAPI()

    @app.post("/run")
    async def run(body: dict[str, Any]) -> dict[str, Any]:
        state = await graph.ainvoke(check_inputs(prepared.workflow, body))
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


def load(url: str, requests: int, clients: int, expect: int) -> tuple[float, float, float]:
    """``requests`` POSTs from ``clients`` threads; (req/s, p50 ms, p99 ms)."""
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

    began = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        list(pool.map(worker, [requests // clients] * clients))
    wall = time.perf_counter() - began
    latencies.sort()
    p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
    return len(latencies) / wall, statistics.median(latencies) * 1000, p99 * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--clients", type=int, default=8)
    args = parser.parse_args()
    register_provider(ProviderInfo("instant", "instant bench model", "instant-1", factory=lambda s: InstantChatModel()))
    with tempfile.TemporaryDirectory() as tmp:
        sync_settings = ServerSettings(run_store=f"{tmp}/sync/runs.sqlite", max_concurrent=args.clients, max_queue=1000)
        ours_url, ours = serve(create_app(WORKFLOW, settings=sync_settings))
        bare_url, bare = serve(bare_app())
        load(ours_url, args.clients * 2, args.clients, 200)  # warm-up
        load(bare_url, args.clients * 2, args.clients, 200)
        ours_figures = load(ours_url, args.requests, args.clients, 200)
        bare_figures = load(bare_url, args.requests, args.clients, 200)
        async_settings = ServerSettings(
            run_store=f"{tmp}/async/runs.sqlite", sync_timeout=0, max_concurrent=args.clients, max_queue=100_000
        )
        async_url, submit = serve(create_app(WORKFLOW, settings=async_settings))
        async_app = submit.config.app
        async_figures = load(async_url, args.requests, args.clients, 202)
        while async_app.state.server.load():  # let the accepted runs finish before the store goes
            time.sleep(0.1)
        for server in (ours, bare, submit):
            server.should_exit = True
    print(f"POST /run, {args.requests} requests from {args.clients} clients, one node on an instant model")
    print(f"{'':28} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8}")
    print(f"{'bare FastAPI + graph':28} {bare_figures[0]:8.1f} {bare_figures[1]:8.1f} {bare_figures[2]:8.1f}")
    print(f"{'configurable-agents server':28} {ours_figures[0]:8.1f} {ours_figures[1]:8.1f} {ours_figures[2]:8.1f}")
    print(
        f"ratio: {ours_figures[0] / bare_figures[0]:.2f}x req/s (target >= 0.8), "
        f"p99 {ours_figures[2] / bare_figures[2]:.2f}x (target <= 2)"
    )
    print(f"async submissions (202, run row written): {async_figures[0]:.1f}/s, p50 {async_figures[1]:.1f} ms")


if __name__ == "__main__":
    asyncio.set_event_loop_policy(None)
    main()
