"""A run owned by another process: killed with -9 (-> interrupted, then resumed here), cancelled from here."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from agents_core.runs.service import RunService
from agents_core.runs.store import SqliteRunStore
from tests.conftest import REPO_ROOT

pytestmark = pytest.mark.slow


def _owner(store_path: Path) -> tuple[subprocess.Popen[str], str]:
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.runs.owner_process", str(store_path)],
        cwd=REPO_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        text=True,
    )
    run_id = process.stdout.readline().strip()  # type: ignore[union-attr]
    assert run_id, "the owner process did not start its run"
    return process, run_id


def _wait_for_node(store: SqliteRunStore, run_id: str, node: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not any(e.kind == "node_started" and e.data["node"] == node for e in store.events(run_id)):
        assert time.monotonic() < deadline, "the owner never reached the node"
        time.sleep(0.05)


def test_a_killed_owner_leaves_an_interrupted_run_that_resumes_here(store_path, script):
    process, run_id = _owner(store_path)
    try:
        store = SqliteRunStore(store_path)
        _wait_for_node(store, run_id, "second")
        assert store.get(run_id).status == "running"
        os.kill(process.pid, signal.SIGKILL)
        process.wait(10)
    finally:
        process.kill()
    service = RunService(SqliteRunStore(store_path))  # a new service reaps on start, and so does list
    [info] = service.list()
    assert info.status == "interrupted"
    assert f"pid {process.pid}" in (info.reason or "") and "no longer running" in info.reason
    last = service.store.events(run_id)[-1]
    assert last.kind == "run_finished" and last.data["result"]["status"] == "interrupted"

    result = service.resume(run_id).wait(timeout=30)
    assert result.ok, result.error
    assert script.calls == ["second", "third"]  # "first" finished in the killed process: not called again
    assert result.outputs == {"a": "ok", "b": "ok", "c": "ok"}
    seqs = [e.seq for e in service.store.events(run_id)]
    assert seqs == list(range(1, len(seqs) + 1))


def test_cancel_from_another_process_reaches_the_owner(store_path):
    process, run_id = _owner(store_path)
    try:
        service = RunService(SqliteRunStore(store_path))
        _wait_for_node(service.store, run_id, "second")
        began = time.monotonic()
        service.cancel(run_id)
        result = service.wait(run_id, timeout=10)
        assert time.monotonic() - began < 5  # the owner polls the request (every 0.5 s)
        assert result.status == "cancelled" and result.error.node == "second"
        assert process.stdout.readline().strip() == "cancelled"  # type: ignore[union-attr]
        assert process.wait(20) == 0
    finally:
        process.kill()
    assert service.get(run_id).status == "cancelled"
