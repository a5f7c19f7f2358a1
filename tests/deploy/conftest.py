"""A real server in a subprocess (``python -m agents_core serve``) on a free 127.0.0.1 port, over a Gemini stub.

The workflow is three nodes on the real ``google`` provider whose ``api_base``
is :class:`tests.stubs.gemini.GeminiStub` in the test process, so the server
process calls a real HTTP model. A job's ``topic`` steers the stub: a topic
containing ``sleep:S`` makes every model call of that job take ``S`` seconds
(for queues, cancels and kills mid-run); any other topic is answered at once.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from tests.stubs.gemini import GeminiStub, RecordedRequest, Reply, delayed, text_reply

REPO = Path(__file__).resolve().parents[2]
_SLEEP = re.compile(r"sleep:(\d+(?:\.\d+)?)")


def workflow(api_base: str) -> dict[str, Any]:
    """Three nodes in a line on the google provider, pointed at the stub."""
    return {
        "schema_version": "1.0",
        "flow": {"name": "three_steps", "description": "Three steps for the server tests."},
        "state": {
            "fields": {
                "topic": {"type": "str", "required": True, "description": "What to write about."},
                "count": {"type": "int", "default": 1},
                "a": {"type": "str", "default": ""},
                "b": {"type": "str", "default": ""},
                "c": {"type": "str", "default": ""},
            }
        },
        "nodes": [
            {"id": "first", "prompt": "first: {state.topic}", "outputs": ["a"]},
            {"id": "second", "prompt": "second: {state.topic} {state.a}", "outputs": ["b"]},
            {"id": "third", "prompt": "third: {state.topic} {state.b}", "outputs": ["c"]},
        ],
        "edges": [
            {"from": "START", "to": "first"},
            {"from": "first", "to": "second"},
            {"from": "second", "to": "third"},
            {"from": "third", "to": "END"},
        ],
        "config": {
            "llm": {"provider": "google", "model": "gemini-2.5-flash", "api_base": api_base},
            "execution": {"timeout": 60, "max_retries": 1},
        },
    }


def _answer(request: RecordedRequest) -> Reply:
    prompt = request.prompt
    node = prompt.split(":", 1)[0]
    reply = text_reply(f"{node} done")
    found = _SLEEP.search(prompt)
    return delayed(reply, float(found.group(1))) if found else reply


@pytest.fixture
def gemini() -> Iterator[GeminiStub]:
    stub = GeminiStub()
    stub.handler = _answer
    stub.start()
    try:
        yield stub
    finally:
        stub.stop()


@pytest.fixture
def workflow_file(tmp_path: Path, gemini: GeminiStub) -> Path:
    path = tmp_path / "three_steps.yaml"
    path.write_text(yaml.safe_dump(workflow(gemini.url), sort_keys=False), encoding="utf-8")
    return path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class ServerProcess:
    """``python -m agents_core serve FILE`` on a free port; ``client`` talks to it over real HTTP."""

    def __init__(self, file: Path, store: Path, *args: str, env: dict[str, str] | None = None) -> None:
        self.file, self.store, self.args = file, store, args
        self.extra_env = env or {}
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen[str] | None = None
        self.log = store.parent / f"server-{self.port}.log"

    def start(self) -> ServerProcess:
        env = {
            **os.environ,
            "PYTHONPATH": str(REPO),
            "GOOGLE_API_KEY": "test-key",
            "AGENTS_RUN_STORE": str(self.store),
            "MLFLOW_DISABLE_TELEMETRY": "true",
            "DO_NOT_TRACK": "true",
            **self.extra_env,
        }
        command = [sys.executable, "-m", "agents_core", "serve", str(self.file), "--port", str(self.port), *self.args]
        self.log.parent.mkdir(parents=True, exist_ok=True)
        handle = self.log.open("a", encoding="utf-8")
        self.process = subprocess.Popen(command, env=env, stdout=handle, stderr=subprocess.STDOUT, text=True)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the server exited with {self.process.returncode}:\n{self.output()}")
            try:
                if httpx.get(f"{self.url}/health", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"the server did not answer /health within 60 s:\n{self.output()}")

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace") if self.log.exists() else ""

    def client(self, **headers: str) -> httpx.Client:
        return httpx.Client(base_url=self.url, headers=headers, timeout=30)

    def kill(self) -> None:
        """``kill -9``: no shutdown code runs."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.kill()


@pytest.fixture
def start_server(workflow_file: Path, tmp_path: Path) -> Iterator[Any]:
    """``start_server(*serve_args, env={...})`` starts a server on this test's store; all are stopped after."""
    started: list[ServerProcess] = []
    store = tmp_path / "store" / "runs.sqlite"

    def start(*args: str, env: dict[str, str] | None = None) -> ServerProcess:
        server = ServerProcess(workflow_file, store, *args, env=env).start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


def wait_for(client: httpx.Client, job_id: str, statuses: tuple[str, ...], timeout: float = 60) -> dict[str, Any]:
    """Poll ``/status/{job_id}`` until its status is one of ``statuses``."""
    deadline = time.monotonic() + timeout
    body: dict[str, Any] = {}
    while time.monotonic() < deadline:
        body = client.get(f"/status/{job_id}").json()
        if body.get("status") in statuses:
            return body
        time.sleep(0.1)
    raise AssertionError(f"job {job_id} did not reach {statuses} within {timeout} s; last: {body}")
