"""PostgreSQL restarted or down in the middle of a run: the run ends with a clear reason, never stays ``running``.

A real PostgreSQL (the session's server) is stopped while a node's model call
is in flight; the run's checkpoint write then fails. The run must end
``failed`` (or ``interrupted``) with a reason that names the store, and its
resume must finish it without calling the nodes that had finished.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest

from agents_core.runs.service import RunService
from agents_core.runs.store import open_store
from tests.runs.conftest import Slow
from tests.samples import THREE_STEPS

pytestmark = pytest.mark.slow


def _wait_for(predicate: Any, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.05)


def _started(service: RunService, run_id: str, node: str) -> bool:
    return any(e.kind == "node_started" and e.data["node"] == node for e in service.store.events(run_id))


@pytest.mark.parametrize("down_for", [0.0, 3.0], ids=["restarted", "down-when-the-node-ends"])
def test_postgresql_lost_mid_run_ends_the_run_with_a_reason_and_resume_finishes_it(
    postgres_server, postgres_url, script, down_for
):
    script.replies.update({"second": [Slow(1.5, "B")]})
    service = RunService(open_store(postgres_url))
    handle = service.start(THREE_STEPS, {"topic": "cats"})
    _wait_for(lambda: _started(service, handle.run_id, "second"))
    postgres_server.stop()
    back = threading.Timer(down_for, postgres_server.start)
    back.start()
    try:
        result = handle.wait(timeout=120)
    finally:
        back.join()
    info = service.get(handle.run_id)
    assert info.status == result.status == "failed"
    assert info.error_info is not None and info.error_info["type"] == "StoreUnavailable"
    assert "lost its run store" in info.error and "PostgreSQL" in info.error
    assert "--resume" in info.error_info["hint"]
    log = service.store.events(handle.run_id)
    assert log[-1].kind == "run_finished" and [e.seq for e in log] == list(range(1, len(log) + 1))

    resumed = service.resume(handle.run_id).wait(timeout=60)
    assert resumed.ok, resumed.error
    assert script.calls.count("first") == 1  # its checkpoint survived the restart
    assert service.get(handle.run_id).status == "success"
    service.shutdown()
