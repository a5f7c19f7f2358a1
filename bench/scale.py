"""Scale-out on this machine: async jobs per second on 1, 2 and 4 Celery workers vs the in-process executor.

Every job is a 3-node workflow on the Gemini REST stub (127.0.0.1) that answers
each call after a fixed latency (0.5 s), so a job needs 1.5 s of waiting and
little CPU. Each worker runs one job at a time (``--concurrency 1``). The store
is PostgreSQL, the store of record of a scale-out deployment: a throw-away
server started here (tests/servers.py) with a fresh database per configuration
(``--store sqlite``: one SQLite file per configuration instead); the broker is
a fresh ``redis-server`` per configuration. The jobs are submitted as one burst
before the workers start (pre-filling the queue keeps the submitting side out
of the workers' figure; its cost per job is printed apart: it checks the
workflow and the inputs and writes the row, the models are built by the
worker), so jobs/s is the workers' rate from the first claim to the last
finish, and submit -> done is the time a burst of that many jobs takes to
drain, counted from the moment the workers could start. The in-process
executor gets the same burst (every job its own task), and one job at a time
as the baseline of one worker. Last, the time from a worker's ``kill -9`` in
the middle of a node to its run resuming on the other worker (its
``run_started`` with ``resumed=true``).

Run: ``python bench/scale.py [--jobs 16] [--latency 0.5] [--store postgresql|sqlite]``
(needs ``redis-server``, and PostgreSQL's binaries for the default store).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
os.environ.setdefault("DO_NOT_TRACK", "true")
os.environ["NO_PROXY"] = "127.0.0.1,localhost"
os.environ["GOOGLE_API_KEY"] = "stub-key"
for _name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
    os.environ.pop(_name, None)

from agents_core.runs.executors.celery import CeleryExecutor  # noqa: E402
from agents_core.runs.service import RunService  # noqa: E402
from tests.servers import Server, create_database, postgres_server, redis_server  # noqa: E402
from tests.stubs.gemini import GeminiStub, RecordedRequest, Reply, delayed, text_reply  # noqa: E402


def workflow(api_base: str) -> dict[str, Any]:
    fields: dict[str, Any] = {"topic": {"type": "str", "required": True}}
    fields |= {name: {"type": "str", "default": ""} for name in ("a", "b", "c")}
    nodes = [
        {"id": "first", "prompt": "first: {state.topic}", "outputs": ["a"]},
        {"id": "second", "prompt": "second: {state.topic}", "outputs": ["b"]},
        {"id": "third", "prompt": "third: {state.topic}", "outputs": ["c"]},
    ]
    return {
        "schema_version": "1.0",
        "flow": {"name": "scale_bench"},
        "state": {"fields": fields},
        "nodes": nodes,
        "edges": [
            {"from": "START", "to": "first"},
            {"from": "first", "to": "second"},
            {"from": "second", "to": "third"},
            {"from": "third", "to": "END"},
        ],
        "config": {"llm": {"provider": "google", "api_base": api_base}, "execution": {"timeout": 120}},
    }


@contextmanager
def started_workers(n: int, broker: str, store: str, folder: Path) -> Iterator[float]:
    """``n`` workers (concurrency 1) on ``store`` (a path or a URL); yields when the first was ready to consume."""
    env = {**os.environ, "CELERY_BROKER_URL": broker, "AGENTS_RUN_STORE": store, "PYTHONPATH": str(REPO)}
    logs = [folder / f"worker-{i}.log" for i in range(n)]
    processes = [
        subprocess.Popen(
            [sys.executable, "-m", "agents_core", "worker", "--concurrency", "1", "--loglevel", "warning"],
            env=env,
            cwd=REPO,
            stdout=log.open("w"),
            stderr=subprocess.STDOUT,
        )
        for log in logs
    ]
    try:
        deadline = time.monotonic() + 120
        first_ready: float | None = None
        waiting = list(logs)
        while waiting:
            for log in list(waiting):
                if "worker ready" in log.read_text(errors="replace"):
                    waiting.remove(log)
                    first_ready = first_ready or time.time()
            if time.monotonic() > deadline:
                raise RuntimeError(f"a worker did not start:\n{waiting[0].read_text()}")
            time.sleep(0.02)
        yield first_ready or time.time()
    finally:
        for process in processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in processes:
            try:
                process.wait(20)
            except subprocess.TimeoutExpired:
                process.kill()


def submit(service: RunService, flow: dict[str, Any], jobs: int, costs: list[float] | None = None) -> list[str]:
    """Start ``jobs`` runs; the CPU seconds each ``start`` took are added to ``costs``."""
    run_ids = []
    for i in range(jobs):
        began = time.process_time()
        run_ids.append(service.start(flow, {"topic": f"t{i}"}).run_id)
        if costs is not None:
            costs.append(time.process_time() - began)
    return run_ids


class Stores:
    """A fresh store per configuration: a new database on one PostgreSQL, or a new SQLite file."""

    def __init__(self, kind: str, folder: Path, postgres: Server | None) -> None:
        self.kind, self.folder, self.postgres = kind, folder, postgres

    def new(self, name: str) -> str:
        if self.postgres is None:
            return str(self.folder / f"{name}.sqlite")
        return create_database(self.postgres, name.replace("-", "_"))


def drained(service: RunService, run_ids: list[str], since: float) -> dict[str, float]:
    """Wait for every run; jobs/s from the first claim to the last finish, and each finish - ``since``."""
    for run_id in run_ids:
        result = service.wait(run_id, timeout=600, poll=0.05)
        if not result.ok:
            raise RuntimeError(f"run {run_id} ended {result.status}: {result.error}")
    infos = [service.get(run_id) for run_id in run_ids]
    first = min(info.started_at for info in infos)  # type: ignore[type-var]
    last = max(info.finished_at for info in infos)  # type: ignore[type-var]
    latencies = sorted(info.finished_at - since for info in infos)  # type: ignore[operator]
    p99 = latencies[min(len(latencies) - 1, round(0.99 * (len(latencies) - 1)))]
    return {"jobs_s": len(run_ids) / (last - first), "p50": statistics.median(latencies), "p99": p99}


def kill_to_resume(stub: GeminiStub, broker: str, store: str, folder: Path) -> float:
    """Seconds from ``kill -9`` of the worker in the middle of node 2 to the run resuming on the other worker."""
    held: list[str] = []

    def hold_once(request: RecordedRequest) -> Reply | None:
        if request.prompt.startswith("second") and not held:
            held.append(request.prompt)
            return delayed(text_reply("never seen"), 300)
        return None

    stub.handler = hold_once
    try:
        with started_workers(2, broker, store, folder):
            service = RunService(store, executor=CeleryExecutor(broker))
            run_id = service.start(workflow(stub.url), {"topic": "kill"}).run_id
            while not any(
                e.kind == "node_started" and e.data["node"] == "second" for e in service.store.events(run_id)
            ):
                time.sleep(0.02)
            owner = service.get(run_id).owner
            assert owner is not None
            os.kill(owner.pid, signal.SIGKILL)
            killed = time.time()
            result = service.wait(run_id, timeout=300, poll=0.05)
            assert result.ok, result.error
            resumed = [e for e in service.store.events(run_id) if e.kind == "run_started" and e.data["resumed"]]
            return datetime.fromisoformat(resumed[0].at).timestamp() - killed
    finally:
        stub.handler = None


def main(jobs: int = 16, latency: float = 0.5, store_kind: str = "postgresql") -> None:
    stub = GeminiStub().start()
    stub.default = delayed(text_reply("ok"), latency)
    flow = workflow(stub.url)
    rows: list[tuple[str, dict[str, float]]] = []
    submit_cpu: list[float] = []
    try:
        with contextlib.ExitStack() as stack:
            folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="scale-bench-")))
            postgres = stack.enter_context(postgres_server()) if store_kind == "postgresql" else None
            stores = Stores(store_kind, folder, postgres)
            service = RunService(stores.new("inprocess"), executor="inprocess")
            rows.append(("in-process, 1 at a time", measure_serial(service, flow, max(4, jobs // 4))))
            began = time.time()
            rows.append((f"in-process, {jobs} at once", drained(service, submit(service, flow, jobs), began)))
            service.store.close()
            for n in (1, 2, 4):
                with redis_server() as redis:
                    store = stores.new(f"workers-{n}")
                    service = RunService(store, executor=CeleryExecutor(redis.url))
                    run_ids = submit(service, flow, jobs, submit_cpu)
                    with started_workers(n, redis.url, store, folder) as ready:
                        figures = drained(service, run_ids, ready)
                    service.store.close()
                    rows.append((f"celery, {n} worker{'s' if n > 1 else ''}", figures))
            with redis_server() as redis:
                resume_s = kill_to_resume(stub, redis.url, stores.new("kill"), folder)
    finally:
        stub.stop()
    base = next(figures["jobs_s"] for name, figures in rows if name == "celery, 1 worker")
    where = "PostgreSQL" if store_kind == "postgresql" else "SQLite"
    print(
        f"{jobs} jobs (a burst) of 3 nodes x {latency:g} s stub latency; workers run one job at a time; "
        f"{where} store, Redis broker\n"
    )
    print(f"| {'executor':28} | jobs/s | vs 1 worker | p50 burst->done  | p99 burst->done  |")
    print(f"|{'-' * 30}|--------|-------------|------------------|------------------|")
    for name, figures in rows:
        ratio = figures["jobs_s"] / base
        print(
            f"| {name:28} | {figures['jobs_s']:6.2f} | {ratio:10.2f}x | "
            f"{figures['p50']:14.2f} s | {figures['p99']:14.2f} s |"
        )
    print(
        f"\nsubmitting to the workers (check the workflow and inputs, write the row, publish): "
        f"{statistics.median(submit_cpu) * 1000:.1f} ms of CPU per job (median of {len(submit_cpu)})"
    )
    print(f"kill -9 of a worker mid-node -> run resumed on the other worker: {resume_s:.2f} s")


def measure_serial(service: RunService, flow: dict[str, Any], jobs: int) -> dict[str, float]:
    """The in-process executor one job at a time (what one worker of concurrency 1 does, without a broker)."""
    latencies = []
    began = time.time()
    for i in range(jobs):
        at = time.time()
        result = service.start(flow, {"topic": f"s{i}"}).wait(timeout=600)
        if not result.ok:
            raise RuntimeError(f"in-process run ended {result.status}: {result.error}")
        latencies.append(time.time() - at)
    latencies.sort()
    return {"jobs_s": jobs / (time.time() - began), "p50": statistics.median(latencies), "p99": latencies[-1]}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=16, help="jobs in each burst (default 16)")
    parser.add_argument("--latency", type=float, default=0.5, help="seconds the stub takes per model call")
    parser.add_argument("--store", choices=("postgresql", "sqlite"), default="postgresql", help="the run store")
    arguments = parser.parse_args()
    main(arguments.jobs, arguments.latency, arguments.store)
