"""``serve``'s options over the environment (flag > env > default), and a taken port as bad usage, with real servers."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import EXAMPLES_DIR, REPO_ROOT
from tests.servers import free_port

ARTICLE = EXAMPLES_DIR / "article_writer.yaml"


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if key not in ("PORT", "HOST", "SYNC_TIMEOUT")}
    env.update(
        PYTHONPATH=str(REPO_ROOT),
        NO_COLOR="1",
        AGENTS_RUN_STORE=str(tmp_path / "runs.sqlite"),
        MLFLOW_DISABLE_TELEMETRY="true",
        DO_NOT_TRACK="true",
    )
    env.update(extra)
    return env


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[object]:
    """``serve(*args, env=...)``: ``python -m agents_core serve ARTICLE *args``; every process is stopped after."""
    started: list[subprocess.Popen[str]] = []

    def start(*args: str, env: dict[str, str]) -> subprocess.Popen[str]:
        log = (tmp_path / f"serve-{len(started)}.log").open("w", encoding="utf-8")
        process = subprocess.Popen(
            [sys.executable, "-m", "agents_core", "serve", str(ARTICLE), *args],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            text=True,
        )
        started.append(process)
        return process

    yield start
    for process in started:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(10)


def _info(port: int, process: subprocess.Popen[str]) -> dict:
    """``GET /`` of the server on ``port`` once it answers (it must answer there, and nowhere else)."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert process.poll() is None, f"the server exited with {process.returncode}"
        try:
            return httpx.get(f"http://127.0.0.1:{port}/", timeout=2).json()
        except httpx.HTTPError:
            time.sleep(0.1)
    raise AssertionError(f"nothing answered on port {port} within 60 s")


def test_port_and_sync_timeout_come_from_the_environment_unless_a_flag_says_otherwise(tmp_path: Path, serve) -> None:
    from_env = free_port()
    first = serve(env=_env(tmp_path, PORT=str(from_env), SYNC_TIMEOUT="7"))  # no options: the environment applies
    assert _info(from_env, first)["sync_timeout"] == 7
    flagged = free_port()  # PORT names the port the first server holds: only the flag lets the second one start
    second = serve(
        "--port", str(flagged), "--sync-timeout", "3", env=_env(tmp_path, PORT=str(from_env), SYNC_TIMEOUT="7")
    )
    assert _info(flagged, second)["sync_timeout"] == 3


def test_a_taken_port_is_bad_usage_naming_the_option_before_anything_starts(tmp_path: Path) -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        command = [sys.executable, "-m", "agents_core", "serve", str(ARTICLE), "--port", str(port)]
        done = subprocess.run(command, env=_env(tmp_path), capture_output=True, text=True, timeout=60)
        assert done.returncode == 2, done.stderr
        assert f"--port {port}: the port is already in use" in done.stderr
        assert "--port" in done.stderr.split("already in use", 1)[1]  # the hint says how to pick another
        assert "Serving" not in done.stderr and "Errno" not in done.stderr and "Traceback" not in done.stderr
        from_env = subprocess.run(
            command[:-2], env=_env(tmp_path, PORT=str(port)), capture_output=True, text=True, timeout=60
        )
        assert from_env.returncode == 2 and f"PORT={port}: the port is already in use" in from_env.stderr


def test_check_bindable_names_what_the_user_set() -> None:
    from agents_core.deploy.ports import check_bindable
    from agents_core.errors import InputError, exit_code

    check_bindable("127.0.0.1", 0)  # any free port: always fine
    check_bindable("127.0.0.1", free_port())
    with pytest.raises(InputError, match=r"--host 192\.0\.2\.1: not an address of this machine") as caught:
        check_bindable("192.0.2.1", free_port())  # TEST-NET-1: never an address of this machine
    assert exit_code(caught.value) == 2
