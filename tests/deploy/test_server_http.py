"""The server over real HTTP: a ``serve`` subprocess on 127.0.0.1 calling a Gemini stub (see conftest)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from agents_core.runs.service import RunService
from agents_core.runs.store import SqliteRunStore
from tests.deploy.conftest import REPO, wait_for
from tests.stubs.gemini import GeminiStub, error_reply

TERMINAL = ("success", "failed", "cancelled", "interrupted")


def read_events(client: httpx.Client, job_id: str, last_event_id: int | None = None) -> list[dict[str, Any]]:
    """The job's server-sent events until the stream ends: ``[{id, event, data}]``."""
    headers = {"Last-Event-ID": str(last_event_id)} if last_event_id is not None else {}
    events: list[dict[str, Any]] = []
    current: dict[str, Any] = {}
    with client.stream("GET", f"/runs/{job_id}/events", headers=headers, timeout=60) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        for line in response.iter_lines():
            if not line:
                if "data" in current:
                    events.append(current)
                current = {}
            elif line.startswith(("id:", "event:", "data:")):
                key, value = line.split(":", 1)
                current[key] = value.strip()
    return [{"id": int(e["id"]), "event": e["event"], "data": json.loads(e["data"])} for e in events]


def store_service(server: Any) -> RunService:
    return RunService(SqliteRunStore(server.store))


def test_sync_run_answers_200_with_outputs_node_records_and_tokens(start_server: Any, gemini: GeminiStub) -> None:
    server = start_server()
    with server.client() as client:
        response = client.post("/run", json={"topic": "cats"})
        status = client.get(f"/status/{response.json()['job_id']}").json()
    assert response.status_code == 200, response.text
    body = response.json()
    assert body == status  # the answer given at the end is the job as the store keeps it, to the last field
    assert body["status"] == "success"
    assert body["outputs"] == {"a": "first done", "b": "second done", "c": "third done"}
    assert [node["id"] for node in body["nodes"]] == ["first", "second", "third"]
    assert all(node["input_tokens"] == 11 and node["output_tokens"] == 7 for node in body["nodes"])
    assert (body["input_tokens"], body["output_tokens"]) == (33, 21)
    assert "cost_usd" in body
    assert [request.prompt.split(":")[0] for request in gemini.requests] == ["first", "second", "third"]
    info = store_service(server).get(body["job_id"])  # the job is a run of the run service, in its store
    assert info.status == "success" and info.inputs == {"topic": "cats"}


def test_slow_run_answers_202_with_location_then_polling_gives_the_result(start_server: Any) -> None:
    server = start_server("--sync-timeout", "0.2")
    with server.client() as client:
        response = client.post("/run", json={"topic": "sleep:0.4 dogs"})
        assert response.status_code == 202, response.text
        job_id = response.json()["job_id"]
        assert response.headers["location"] == f"/status/{job_id}"
        assert store_service(server).get(job_id).run_id == job_id  # the row was written before the answer
        assert response.json()["status"] in ("queued", "running")
        done = wait_for(client, job_id, TERMINAL)
    assert done["status"] == "success"
    assert done["outputs"]["c"] == "third done"
    assert len(done["nodes"]) == 3 and done["error"] is None


def test_events_arrive_in_order_and_resume_after_last_event_id(start_server: Any) -> None:
    server = start_server("--sync-timeout", "0")
    with server.client() as client:
        job_id = client.post("/run", json={"topic": "sleep:0.2 owls"}).json()["job_id"]
        live = read_events(client, job_id)  # followed while it runs, until run_finished
        ids = [event["id"] for event in live]
        assert ids == list(range(1, len(ids) + 1))
        assert live[0]["event"] == "run_started" and live[-1]["event"] == "run_finished"
        assert [e["data"]["record"]["id"] for e in live if e["event"] == "node_finished"] == [
            "first",
            "second",
            "third",
        ]
        assert live[-1]["data"]["result"]["status"] == "success"
        resumed = read_events(client, job_id, last_event_id=3)
        assert [event["id"] for event in resumed] == ids[3:]
        assert resumed == live[3:]


def test_cancel_stops_a_running_job(start_server: Any) -> None:
    server = start_server("--sync-timeout", "0.1")
    with server.client() as client:
        job_id = client.post("/run", json={"topic": "sleep:30 slow"}).json()["job_id"]
        wait_for(client, job_id, ("running",))
        response = client.post(f"/runs/{job_id}/cancel")
        assert response.status_code == 200 and response.json()["cancel_requested"] is True
        done = wait_for(client, job_id, TERMINAL, timeout=20)
    assert done["status"] == "cancelled"
    assert done["error"]["category"] == "cancelled"


@pytest.mark.parametrize(
    ("body", "loc"),
    [
        ({"topic": 3}, ["body", "topic"]),
        ({}, ["body", "topic"]),
        ({"topic": "x", "nope": 1}, ["body", "nope"]),
        ({"topic": "x", "count": "3"}, ["body", "count"]),
    ],
)
def test_a_body_off_the_state_schema_is_422_with_loc_msg_type(start_server: Any, body: Any, loc: list[str]) -> None:
    server = start_server()
    with server.client() as client:
        response = client.post("/run", json=body)
        assert response.status_code == 422
        details = response.json()["detail"]
        assert any(item["loc"] == loc and item["msg"] and item["type"] for item in details), details
        assert (
            client.post("/run", content=b"{not json", headers={"content-type": "application/json"}).status_code == 422
        )
    assert store_service(server).list() == []  # nothing was started


def test_with_a_key_every_endpoint_but_health_needs_it(start_server: Any) -> None:
    server = start_server(env={"AGENTS_API_KEY": "s3cret"})
    with server.client() as client:
        assert client.get("/health").status_code == 200
        for method, path in [
            ("GET", "/"),
            ("GET", "/schema"),
            ("GET", "/docs"),
            ("GET", "/openapi.json"),
            ("POST", "/run"),
            ("GET", "/status/x"),
            ("POST", "/runs/x/cancel"),
        ]:
            response = client.request(method, path, json={"topic": "a"} if method == "POST" else None)
            assert response.status_code == 401, (path, response.text)
            assert "Traceback" not in response.text
        assert client.get("/schema", headers={"Authorization": "Bearer wrong"}).status_code == 401
        assert client.get("/schema", headers={"Authorization": "Bearer s3cret"}).status_code == 200
        assert client.get("/schema", headers={"X-API-Key": "s3cret"}).status_code == 200
        ok = client.post("/run", json={"topic": "a"}, headers={"X-API-Key": "s3cret"})
        assert ok.status_code == 200 and ok.json()["status"] == "success"


def test_a_body_over_the_limit_is_413_announced_or_chunked(start_server: Any) -> None:
    server = start_server(env={"MAX_BODY_BYTES": "2000"})
    with server.client() as client:
        big = {"topic": "x" * 5000}
        assert client.post("/run", json=big).status_code == 413

        def chunks() -> Any:
            for _ in range(10):
                yield b" " * 500
            yield json.dumps(big).encode()

        response = client.post("/run", content=chunks(), headers={"content-type": "application/json"})
        assert response.status_code == 413
        assert "limit" in response.json()["detail"]
        assert client.post("/run", json={"topic": "small"}).status_code == 200
    # a body longer than its announced length is cut there by the HTTP parser: never read past the limit
    body = json.dumps(big).encode()
    head = "POST /run HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 20\r\n\r\n"
    with socket.create_connection(("127.0.0.1", server.port), timeout=30) as sock:
        sock.sendall(head.encode() + body)
        status_line = sock.recv(65536).split(b"\r\n", 1)[0]
    assert status_line.startswith(b"HTTP/1.1 422"), status_line  # the first 20 bytes: JSON cut short


def test_a_full_queue_answers_429_with_retry_after(start_server: Any) -> None:
    server = start_server("--sync-timeout", "0.1", "--max-concurrent", "1", "--max-queue", "1")
    with server.client() as client:
        first = client.post("/run", json={"topic": "sleep:30 one"})
        second = client.post("/run", json={"topic": "sleep:30 two"})
        assert (first.status_code, second.status_code) == (202, 202)
        wait_for(client, first.json()["job_id"], ("running",))
        assert client.get(f"/status/{second.json()['job_id']}").json()["status"] == "queued"
        third = client.post("/run", json={"topic": "three"})
        assert third.status_code == 429
        assert int(third.headers["retry-after"]) >= 1
        for job in (second, first):
            client.post(f"/runs/{job.json()['job_id']}/cancel")
        for job in (first, second):
            assert wait_for(client, job.json()["job_id"], TERMINAL, timeout=20)["status"] == "cancelled"
        assert client.post("/run", json={"topic": "four"}).status_code in (200, 202)  # room again


def test_an_idempotency_key_returns_the_same_job(start_server: Any, gemini: GeminiStub) -> None:
    server = start_server()
    with server.client() as client:
        headers = {"Idempotency-Key": "order-42"}
        first = client.post("/run", json={"topic": "cats"}, headers=headers)
        again = client.post("/run", json={"topic": "cats"}, headers=headers)
        assert first.status_code == again.status_code == 200
        assert again.json()["job_id"] == first.json()["job_id"]
        assert again.json()["outputs"] == first.json()["outputs"]
        other = client.post("/run", json={"topic": "dogs"}, headers=headers)
        assert other.status_code == 409
    assert len(store_service(server).list()) == 1
    assert len(gemini.requests) == 3  # the repeated request ran nothing


def test_replicas_on_one_store_share_idempotency_keys_and_jobs(start_server: Any, gemini: GeminiStub) -> None:
    """Two API processes on one run store: a key sent to either finds the one job; either answers for it."""
    one, two = start_server("--sync-timeout", "0"), start_server("--sync-timeout", "0")
    headers = {"Idempotency-Key": "order-7"}
    with one.client() as first_client, two.client() as second_client:
        first = first_client.post("/run", json={"topic": "cats"}, headers=headers)
        again = second_client.post("/run", json={"topic": "cats"}, headers=headers)
        assert first.status_code == 202 and again.status_code in (200, 202)
        job = first.json()["job_id"]
        assert again.json()["job_id"] == job and again.headers["Idempotent-Replayed"] == "true"
        assert second_client.post("/run", json={"topic": "dogs"}, headers=headers).status_code == 409
        assert wait_for(second_client, job, TERMINAL)["status"] == "success"
        assert first_client.get(f"/status/{job}").json()["outputs"]["c"] == "third done"
    assert len(store_service(one).list()) == 1
    assert len(gemini.requests) == 3  # three nodes, once


def test_a_failed_run_maps_to_its_category_status_without_a_traceback(start_server: Any, gemini: GeminiStub) -> None:
    server = start_server()
    gemini.handler = lambda request: error_reply(400, "stub refuses") if "refuse" in request.prompt else None
    with server.client() as client:
        response = client.post("/run", json={"topic": "refuse"})
        assert response.status_code == 500
        body = response.json()
        assert body["status"] == "failed"
        assert body["error"]["node"] == "first" and body["error"]["message"]
        assert "Traceback" not in response.text
        assert client.get("/status/nope").status_code == 404


def test_schema_info_and_docs(start_server: Any) -> None:
    server = start_server()
    with server.client() as client:
        schema = client.get("/schema").json()
        assert schema["input"]["required"] == ["topic"]
        assert schema["input"]["properties"]["count"] == {"type": "integer", "default": 1}
        assert set(schema["output"]["properties"]) == {"a", "b", "c"}
        info = client.get("/").json()
        assert info["workflow"] == "three_steps" and info["endpoints"]["run"] == "POST /run"
        assert client.get("/docs").status_code == 200
        openapi = client.get("/openapi.json").json()
        body_schema = openapi["paths"]["/run"]["post"]["requestBody"]["content"]["application/json"]["schema"]
        assert body_schema["$ref"].endswith("/ThreeStepsInput")
        assert openapi["components"]["schemas"]["ThreeStepsInput"]["required"] == ["topic"]


def test_serving_beyond_loopback_without_a_key_is_refused(workflow_file: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    env.pop("AGENTS_API_KEY", None)
    result = subprocess.run(
        [sys.executable, "-m", "agents_core", "serve", str(workflow_file), "--host", "0.0.0.0"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert result.returncode == 2
    assert "without an API key" in result.stderr and "--no-auth" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.slow
def test_a_restart_with_jobs_in_flight_finishes_every_job(start_server: Any, gemini: GeminiStub) -> None:
    server = start_server("--sync-timeout", "0", "--max-concurrent", "1")
    with server.client() as client:
        jobs = [client.post("/run", json={"topic": f"sleep:1 job{i}"}).json()["job_id"] for i in range(3)]
        deadline = time.monotonic() + 30  # the first job is between nodes: one checkpoint, more to come
        while not client.get(f"/status/{jobs[0]}").json()["nodes"] and time.monotonic() < deadline:
            time.sleep(0.05)
    server.kill()
    again = start_server("--sync-timeout", "0", "--max-concurrent", "2")
    with again.client() as client:
        done = [wait_for(client, job, TERMINAL, timeout=60) for job in jobs]
    assert [body["status"] for body in done] == ["success"] * 3, done
    assert all(body["outputs"]["c"] == "third done" for body in done)
    first_calls = [r for r in gemini.requests if r.prompt.startswith("first: sleep:1 job0")]
    assert len(first_calls) == 1  # resumed from its checkpoint: the finished node was not called again
    assert done[0]["attempts"] == 2


@pytest.mark.slow
def test_a_job_that_keeps_losing_its_server_is_failed_with_the_reason(start_server: Any) -> None:
    server = start_server("--sync-timeout", "0", env={"MAX_ATTEMPTS": "1"})
    with server.client() as client:
        job = client.post("/run", json={"topic": "sleep:30 doomed"}).json()["job_id"]
        wait_for(client, job, ("running",))
    server.kill()
    again = start_server(env={"MAX_ATTEMPTS": "1"})
    with again.client() as client:
        body = wait_for(client, job, TERMINAL, timeout=30)
    assert body["status"] == "failed"
    assert "given up after 1 attempts" in body["error"]["message"]
    assert "no longer running" in body["error"]["message"]


@pytest.mark.slow
def test_schemathesis_finds_no_server_error(start_server: Any) -> None:
    """Generated requests (bodies, headers, ids, stateful sequences) against /openapi.json: no 5xx."""
    server = start_server("--sync-timeout", "5", env={"AGENTS_API_KEY": "k"})
    command = [
        str(Path(sys.executable).with_name("st")),
        "run",
        f"{server.url}/openapi.json",
        "--checks",
        "not_a_server_error",
        "--max-examples",
        "10",
        "--generation-deterministic",
        "-H",
        "X-API-Key: k",
    ]
    result = subprocess.run(command, capture_output=True, text=True, timeout=300, cwd=server.store.parent)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert " passed" in result.stdout and "Server error" not in result.stdout


@pytest.mark.slow
def test_the_local_model_serves_an_example(tmp_path: Path) -> None:
    """The real embedded model behind a real server: POST /run of article_writer.yaml gives its outputs."""
    from tests.deploy.conftest import ServerProcess

    server = ServerProcess(REPO / "examples" / "article_writer.yaml", tmp_path / "runs.sqlite").start()
    try:
        with server.client() as client:
            schema = client.get("/schema").json()
            inputs = {name: "tea" for name in schema["input"]["required"]}
            response = client.post("/run", json=inputs, timeout=300)
            body = (
                response.json()
                if response.status_code == 200
                else wait_for(client, response.json()["job_id"], TERMINAL, 600)
            )
        assert body["status"] == "success", body
        assert set(body["outputs"]) == set(schema["output"]["properties"])
        assert all(node["provider"] == "local" for node in body["nodes"])
    finally:
        server.stop()


def test_a_restarted_server_picks_up_only_its_own_jobs_under_their_ids(
    workflow_file: Path, tmp_path: Path, gemini: GeminiStub, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A job that died before its first checkpoint runs again from its inputs under its own id; a CLI run
    of the same workflow, interrupted in the same store, is left for its user to resume."""
    from agents_core.deploy.server import SERVER_ORIGIN, JobServer, recover_jobs
    from agents_core.deploy.settings import ServerSettings
    from agents_core.workflow import load_workflow

    monkeypatch.setenv("GOOGLE_API_KEY", "test-key")
    text = workflow_file.read_text(encoding="utf-8")
    store = SqliteRunStore(tmp_path / "runs.sqlite")
    for run_id, origin in (("job-1", SERVER_ORIGIN), ("cli-1", None)):
        store.insert(
            run_id, "three_steps", str(workflow_file), text, {"topic": run_id}, {}, "interrupted", origin=origin
        )
    service = RunService(store, origin=SERVER_ORIGIN)
    server = JobServer(load_workflow(workflow_file), service, ServerSettings(run_store=str(store.path)))
    assert recover_jobs(server) == ["job-1"]
    result = service.wait("job-1", timeout=60)
    assert result.ok and result.outputs["c"] == "third done"
    assert service.get("job-1").attempts == 1 and service.get("cli-1").status == "interrupted"
    assert [e.kind for e in service.store.events("job-1")][-1] == "run_finished"
    service.shutdown()
