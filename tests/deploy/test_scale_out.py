"""Scale-out over real HTTP: API processes (``serve --executor celery``) and Celery workers sharing one
PostgreSQL and one Redis (issue 12, §4).

Everything is a real process: two ``python -m agents_core serve … --executor celery`` APIs, two
``python -m agents_core worker`` processes, a throw-away PostgreSQL and Redis (tests/servers.py), and
the Gemini REST stub, which counts every model call of every worker (by prompt: ``<node>: <topic>``).
"""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
import yaml

from tests.conftest import REPO_ROOT
from tests.deploy.conftest import ServerProcess, wait_for
from tests.runs.test_celery_workers import NODES, Worker, calls, workflow
from tests.servers import Server
from tests.stubs.gemini import GeminiStub, delayed, serving_gemini, text_reply

pytestmark = pytest.mark.slow

TERMINAL = ("success", "failed", "cancelled", "interrupted")


@pytest.fixture
def stub(monkeypatch: pytest.MonkeyPatch) -> Iterator[GeminiStub]:
    with serving_gemini(monkeypatch, 0.05) as server:
        yield server


@pytest.fixture
def cluster_env(postgres_url: str, fresh_redis: Server, stub: GeminiStub) -> dict[str, str]:
    """What every API and worker process shares: the PostgreSQL store and the Redis broker."""
    return {
        "AGENTS_RUN_STORE": postgres_url,  # the store of record, given as a URL (DATABASE_URL works alike)
        "CELERY_BROKER_URL": fresh_redis.url,
        "AGENTS_SWEEP_SECONDS": "0.5",
        "AGENTS_RESEND_AFTER": "5",
        "GOOGLE_API_KEY": "stub-key",
        "NO_PROXY": "127.0.0.1,localhost",
        "PYTHONPATH": str(REPO_ROOT),
    }


@pytest.fixture
def flow_file(tmp_path: Path, stub: GeminiStub) -> Path:
    path = tmp_path / "three_on_workers.yaml"
    path.write_text(yaml.safe_dump(workflow(stub.url), sort_keys=False), encoding="utf-8")
    return path


@pytest.fixture
def apis(flow_file: Path, tmp_path: Path, cluster_env: dict[str, str]) -> Iterator[Callable[..., ServerProcess]]:
    """``apis(*serve_args)``: an API process with ``--executor celery`` on the shared store and broker."""
    started: list[ServerProcess] = []

    def start(*args: str) -> ServerProcess:
        folder = tmp_path / f"api-{len(started)}"
        env = {**cluster_env, "AGENTS_WORKSPACE": str(folder)}
        server = ServerProcess(flow_file, folder / "log", "--executor", "celery", *args, env=env).start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


@pytest.fixture
def workers(tmp_path: Path, cluster_env: dict[str, str]) -> Iterator[Callable[[int], list[Worker]]]:
    started: list[Worker] = []
    env = {**os.environ, **cluster_env}

    def start(n: int) -> list[Worker]:
        new = [Worker(env, tmp_path / f"worker-{len(started) + i}.log") for i in range(n)]
        started.extend(new)
        return [worker.wait_ready() for worker in new]

    yield start
    for worker in started:
        worker.stop()


def test_two_apis_and_two_workers_run_50_jobs_exactly_once_per_node(apis, workers, stub):
    first, second = apis("--sync-timeout", "0"), apis("--sync-timeout", "0")
    workers(2)
    clients = [first.client(), second.client()]
    jobs: list[str] = []
    for i in range(50):
        response = clients[i % 2].post("/run", json={"topic": f"t{i}"})
        assert response.status_code == 202, response.text
        assert response.json()["status"] in ("queued", "running", "success")
        jobs.append(response.json()["job_id"])
    assert len(set(jobs)) == 50
    for i, job_id in enumerate(jobs):  # each job seen through the API that did not accept it
        body = wait_for(clients[(i + 1) % 2], job_id, TERMINAL, timeout=120)
        assert body["status"] == "success", body
        assert body["outputs"] == {"a": "ok", "b": "ok", "c": "ok"}
        assert [n["id"] for n in body["nodes"]] == list(NODES)
    assert calls(stub) == Counter(f"{node}: t{i}" for node in NODES for i in range(50))
    for client in clients:  # both APIs see every job, finished
        assert {client.get(f"/status/{job_id}").json()["status"] for job_id in jobs} == {"success"}
    # the event log of a worker's run, streamed by the other API: gap-free from run_started to run_finished
    with clients[1].stream("GET", f"/runs/{jobs[0]}/events") as stream:
        events = [json.loads(line[5:]) for line in stream.iter_lines() if line.startswith("data:")]
    assert [e["seq"] for e in events] == list(range(1, len(events) + 1))
    assert events[0]["kind"] == "run_started" and events[-1]["kind"] == "run_finished"
    for client in clients:
        client.close()


def test_post_run_answers_200_when_a_worker_finishes_within_the_sync_timeout(apis, workers, stub):
    api = apis("--sync-timeout", "60")
    workers(1)
    with httpx.Client(base_url=api.url, timeout=90) as client:
        response = client.post("/run", json={"topic": "quick"})
        assert response.status_code == 200, response.text
        assert response.json()["status"] == "success" and response.json()["outputs"]["c"] == "ok"
        assert client.get("/").json()["executor"] == "celery"


def test_cancel_through_the_api_reaches_the_worker_and_a_queued_run(apis, workers, stub):
    stub.handler = lambda r: delayed(text_reply("slow"), 120) if r.prompt.startswith("second") else None
    api = apis("--sync-timeout", "0")
    workers(1)
    with api.client() as client:
        running = client.post("/run", json={"topic": "slow"}).json()["job_id"]
        wait_for(client, running, ("running",))
        queued = client.post("/run", json={"topic": "waits"}).json()["job_id"]  # the only worker is busy
        assert client.get(f"/status/{queued}").json()["status"] == "queued"
        assert client.post(f"/runs/{queued}/cancel").json()["status"] == "cancelled"
        assert client.post(f"/runs/{running}/cancel").json()["cancel_requested"] is True
        body = wait_for(client, running, TERMINAL, timeout=30)
        assert body["status"] == "cancelled"
    assert not any(prompt.endswith(": waits") for prompt in calls(stub))  # cancelled before a worker took it


def test_redis_down_post_run_still_answers_202_queued_and_completes_once_it_is_back(apis, workers, stub, fresh_redis):
    api = apis("--sync-timeout", "0")
    workers(1)
    fresh_redis.stop()
    with api.client() as client:
        jobs = []
        for i in range(3):
            response = client.post("/run", json={"topic": f"down{i}"})
            assert response.status_code == 202, response.text
            assert response.json()["status"] == "queued"
            jobs.append(response.json()["job_id"])
        fresh_redis.start()
        for job_id in jobs:
            assert wait_for(client, job_id, TERMINAL, timeout=90)["status"] == "success"
    assert calls(stub) == Counter(f"{node}: down{i}" for node in NODES for i in range(3))


def test_the_queue_limit_counts_the_cluster_s_queued_runs_so_every_api_answers_429_alike(apis, workers, stub):
    """``--max-queue N`` with Celery bounds the runs no worker has taken yet, in the shared store: whichever
    replica took them, every replica refuses the next one (429), and accepts again once workers drain the queue."""
    first, second = apis("--sync-timeout", "0", "--max-queue", "3"), apis("--sync-timeout", "0", "--max-queue", "3")
    with first.client() as one, second.client() as two:
        accepted = [client.post("/run", json={"topic": f"q{i}"}) for i, client in enumerate((one, one, two))]
        assert [r.status_code for r in accepted] == [202, 202, 202], [r.text for r in accepted]
        assert one.get("/").json()["load"] == two.get("/").json()["load"] == 3  # both count the same rows
        for client in (one, two):  # three runs wait for a worker: both replicas are full, not only the first
            refused = client.post("/run", json={"topic": "one too many"})
            assert refused.status_code == 429, refused.text
            assert refused.headers["Retry-After"] == "2"
            assert "3 runs wait for a worker" in refused.json()["detail"]
        workers(1)
        for response in accepted:
            assert wait_for(two, response.json()["job_id"], TERMINAL, timeout=60)["status"] == "success"
        again = one.post("/run", json={"topic": "after"})
        assert again.status_code == 202, again.text
        assert wait_for(two, again.json()["job_id"], TERMINAL, timeout=60)["status"] == "success"
    assert not any(prompt.endswith(": one too many") for prompt in calls(stub))  # a refused run never ran


def test_serve_with_the_celery_executor_needs_a_broker(flow_file: Path, monkeypatch: pytest.MonkeyPatch):
    from typer.testing import CliRunner

    from agents_core.cli import app

    monkeypatch.delenv("CELERY_BROKER_URL", raising=False)
    result = CliRunner().invoke(app, ["serve", str(flow_file), "--executor", "celery", "--port", "0"])
    assert result.exit_code == 2, result.output
    assert "CELERY_BROKER_URL" in result.output and "Traceback" not in result.output
    result = CliRunner().invoke(app, ["serve", str(flow_file), "--executor", "threads"])
    assert result.exit_code == 2 and "executor" in result.output.lower()
