"""Real Celery workers (``python -m agents_core worker``) on a real Redis, sharing one run store.

The model is the Gemini REST stub on 127.0.0.1, so every model call of every
worker process is counted in this process (by prompt: ``<node>: <topic>``).
Every test runs twice: on a SQLite file, and on a fresh database of a real
PostgreSQL (the store of record of a scale-out deployment; it skips without
the server locally, never under ``CI=true``). The store reaches the workers as
``$AGENTS_RUN_STORE`` in their environment, a path or a ``postgresql+psycopg://`` URL.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from agents_core.runs.executors.celery import CeleryExecutor
from agents_core.runs.service import RunService
from tests.conftest import REPO_ROOT
from tests.servers import Server as RedisServer
from tests.stubs.gemini import GeminiStub, RecordedRequest, Reply, delayed, serving_gemini, text_reply

pytestmark = pytest.mark.slow

NODES = ("first", "second", "third")


def workflow(api_base: str) -> dict[str, Any]:
    """Three nodes in a line on the google provider, pointed at the stub."""
    fields: dict[str, Any] = {"topic": {"type": "str", "required": True}}
    fields |= {name: {"type": "str", "default": ""} for name in ("a", "b", "c")}
    return {
        "schema_version": "1.0",
        "flow": {"name": "three_on_workers"},
        "state": {"fields": fields},
        "nodes": [
            {"id": "first", "prompt": "first: {state.topic}", "outputs": ["a"]},
            {"id": "second", "prompt": "second: {state.topic}", "outputs": ["b"]},
            {"id": "third", "prompt": "third: {state.topic}", "outputs": ["c"]},
        ],
        "edges": [
            {"from": "START", "to": "first"},
            {"from": "first", "to": "second"},
            {"from": "second", "to": "third"},
            {"from": "third", "to": "END"},
        ],
        "config": {
            "llm": {"provider": "google", "api_base": api_base},
            "execution": {"timeout": 90, "max_retries": 1},
        },
    }


class Worker:
    """One ``python -m agents_core worker`` process; its output goes to a log file."""

    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.log = log
        self.process = subprocess.Popen(
            [sys.executable, "-m", "agents_core", "worker", "--concurrency", "1", "--loglevel", "warning"],
            cwd=REPO_ROOT,
            env=env,
            stdout=log.open("w"),
            stderr=subprocess.STDOUT,
        )

    def wait_ready(self, timeout: float = 60) -> Worker:
        deadline = time.monotonic() + timeout
        while "configurable-agents worker ready" not in self.log.read_text(errors="replace"):
            assert self.process.poll() is None, f"the worker exited:\n{self.log.read_text()}"
            assert time.monotonic() < deadline, f"the worker never got ready:\n{self.log.read_text()}"
            time.sleep(0.05)
        return self

    @property
    def pid(self) -> int:
        return self.process.pid

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request: pytest.FixtureRequest) -> str:
    """The store of every test: a SQLite file, then PostgreSQL (the issue's store of record)."""
    return request.param


@pytest.fixture
def store(backend: str, run_store: Path, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """This test's run store (a SQLite path or a fresh PostgreSQL database's URL), as ``$AGENTS_RUN_STORE``."""
    target = str(run_store) if backend == "sqlite" else request.getfixturevalue("postgres_url")
    monkeypatch.setenv("AGENTS_RUN_STORE", target)
    return target


@pytest.fixture
def redis(fresh_redis: RedisServer) -> RedisServer:
    return fresh_redis


@pytest.fixture
def stub(monkeypatch: pytest.MonkeyPatch) -> Iterator[GeminiStub]:
    """The Gemini stub; every call answers after 0.1 s unless a test's handler says otherwise."""
    with serving_gemini(monkeypatch, 0.1) as server:
        yield server


@pytest.fixture
def workers(redis: RedisServer, store: str, tmp_path: Path) -> Iterator[Callable[[int], list[Worker]]]:
    """Start ``n`` workers on this test's Redis and run store; all stopped after."""
    started: list[Worker] = []
    env = {
        **os.environ,
        "AGENTS_RUN_STORE": store,
        "CELERY_BROKER_URL": redis.url,
        "PYTHONPATH": str(REPO_ROOT),
        "AGENTS_SWEEP_SECONDS": "0.5",
    }

    def start(n: int) -> list[Worker]:
        new = [Worker(env, tmp_path / f"worker-{len(started) + i}.log") for i in range(n)]
        started.extend(new)
        return [worker.wait_ready() for worker in new]

    try:
        yield start
    finally:
        for worker in started:
            worker.stop()


@pytest.fixture
def api(redis: RedisServer, store: str) -> Iterator[RunService]:
    """The submitting side: a run service on this test's store whose executor is Celery on its Redis."""
    service = RunService(store, executor=CeleryExecutor(redis.url))
    yield service
    service.store.close()


def calls(stub: GeminiStub) -> Counter[str]:
    """Model calls by prompt (``<node>: <topic>``), across every worker process."""
    return Counter(request.prompt for request in stub.requests)


def assert_gap_free(service: RunService, run_id: str) -> list[Any]:
    events = service.store.events(run_id)
    assert [e.seq for e in events] == list(range(1, len(events) + 1))
    return events


def wait_for_event(service: RunService, run_id: str, kind: str, node: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not any(e.kind == kind and e.data.get("node") == node for e in service.store.events(run_id)):
        assert time.monotonic() < deadline, f"run {run_id} never had {kind} of {node}"
        time.sleep(0.05)


def test_two_workers_run_every_job_exactly_once_per_node(api, stub, workers):
    two = workers(2)
    flow = workflow(stub.url)
    handles = [api.start(flow, {"topic": f"t{i}"}) for i in range(10)]
    for handle in handles:
        result = handle.wait(timeout=120)
        assert result.ok, result.error and result.error.message
        assert result.outputs == {"a": "ok", "b": "ok", "c": "ok"}
    assert calls(stub) == Counter(f"{node}: t{i}" for node in NODES for i in range(10))
    owners = {api.get(handle.run_id).owner.pid for handle in handles}
    assert owners == {worker.pid for worker in two}  # both workers took jobs
    for handle in handles:
        events = assert_gap_free(api, handle.run_id)
        assert [e.kind for e in events].count("run_started") == 1
        assert api.get(handle.run_id).attempts == 1


def test_a_killed_worker_s_run_is_finished_by_the_other_from_its_checkpoint(api, stub, workers):
    held: list[RecordedRequest] = []

    def slow_first_second(request: RecordedRequest) -> Reply | None:
        if request.prompt.startswith("second") and not held:
            held.append(request)
            return delayed(text_reply("never seen"), 120)  # the worker is killed while it waits
        return None

    stub.handler = slow_first_second
    first, second = workers(2)
    handle = api.start(workflow(stub.url), {"topic": "cats"})
    wait_for_event(api, handle.run_id, "node_started", "second")
    victim = api.get(handle.run_id).owner
    assert victim is not None and victim.pid in (first.pid, second.pid)
    os.kill(victim.pid, signal.SIGKILL)
    survivor = second if victim.pid == first.pid else first

    result = handle.wait(timeout=90)
    assert result.ok, result.error and result.error.message
    assert calls(stub) == Counter({"first: cats": 1, "second: cats": 2, "third: cats": 1})  # "first" is not redone
    info = api.get(handle.run_id)
    assert info.owner.pid == survivor.pid and info.attempts == 2
    assert "interrupted on attempt 1" in (info.reason or "") or info.reason is None
    events = assert_gap_free(api, handle.run_id)
    started = [e for e in events if e.kind == "run_started"]
    assert [e.data["resumed"] for e in started] == [False, True]


def test_runs_submitted_while_redis_is_down_complete_once_it_is_back(api, stub, workers, redis):
    workers(2)
    redis.stop()
    flow = workflow(stub.url)
    handles = [api.start(flow, {"topic": f"t{i}"}) for i in range(4)]  # returns: the publish timeout is bounded
    for handle in handles:
        info = api.get(handle.run_id)
        assert info.status == "queued" and info.sent_at is None
    redis.start()
    for handle in handles:
        result = handle.wait(timeout=120)
        assert result.ok, result.error and result.error.message
    assert calls(stub) == Counter(f"{node}: t{i}" for node in NODES for i in range(4))


def test_cancel_from_here_reaches_the_worker_that_runs_it(api, stub, workers):
    stub.handler = lambda r: delayed(text_reply("slow"), 120) if r.prompt.startswith("second") else None
    workers(1)
    handle = api.start(workflow(stub.url), {"topic": "cats"})
    wait_for_event(api, handle.run_id, "node_started", "second")
    api.cancel(handle.run_id)
    result = handle.wait(timeout=20)  # the owner polls cancel requests every 0.5 s
    assert result.status == "cancelled" and result.error.node == "second"
    stub.handler = None
    after = api.start(workflow(stub.url), {"topic": "dogs"})  # the worker is free again
    assert after.wait(timeout=60).ok
    assert_gap_free(api, handle.run_id)
