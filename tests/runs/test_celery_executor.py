"""The ``celery`` executor inside one process: queueing, sending, claiming, re-queueing, cancelling.

Worker processes and kill -9 are in ``test_celery_workers.py``; here the
worker's half (:meth:`RunService.execute_queued`, :meth:`RunService.sweep`)
is called directly, on the scripted model, against a real Redis (or a port
where nothing listens, for a broker that is down).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from agents_core.errors import InputError
from agents_core.runs.executors import make_executor
from agents_core.runs.executors.celery import DEFAULT_QUEUE, CeleryExecutor
from agents_core.runs.lifecycle import Owner
from agents_core.runs.service import RunService
from agents_core.runs.store import SqliteRunStore
from tests.conftest import REPO_ROOT
from tests.runs.conftest import Slow
from tests.samples import THREE_STEPS
from tests.servers import Server as RedisServer
from tests.servers import free_port, redis_server


@pytest.fixture
def redis(fresh_redis: RedisServer) -> RedisServer:
    return fresh_redis


def _down_broker() -> str:
    return f"redis://127.0.0.1:{free_port()}/0"  # nothing listens there


def _dead_owner() -> Owner:
    process = subprocess.Popen(["true"])
    process.wait()
    return Owner(socket.gethostname(), process.pid, "dead-token")


def _service(store_path: Path, broker: str) -> RunService:
    return RunService(SqliteRunStore(store_path), executor=CeleryExecutor(broker))


def test_start_with_the_broker_down_leaves_the_run_queued(store_path, script):
    api = _service(store_path, _down_broker())
    handle = api.start(THREE_STEPS, {"topic": "cats"})  # no exception: the run is accepted
    info = api.get(handle.run_id)
    assert (info.status, info.executor, info.sent_at, info.owner) == ("queued", "celery", None, None)
    assert api.reap() == [] and api.get(handle.run_id).status == "queued"  # a queued run has no owner by design
    assert script.calls == []  # nothing ran in the API process


def test_start_sends_the_run_id_to_the_queue(store_path, script, redis):
    import redis as redis_client

    api = _service(store_path, redis.url)
    handle = api.start(THREE_STEPS, {"topic": "cats"})
    assert api.get(handle.run_id).sent_at is not None
    client = redis_client.Redis.from_url(redis.url)
    [message] = client.lrange(DEFAULT_QUEUE, 0, -1)
    assert handle.run_id.encode() in message


def test_a_worker_runs_a_queued_run_once_and_a_second_delivery_does_nothing(store_path, script):
    api = _service(store_path, _down_broker())
    worker = _service(store_path, _down_broker())
    handle = api.start(THREE_STEPS, {"topic": "cats"})
    assert worker.execute_queued(handle.run_id) == "ran"
    result = api.wait(handle.run_id, timeout=30)
    assert result.ok and result.outputs == {"a": "ok", "b": "ok", "c": "ok"}
    assert worker.execute_queued(handle.run_id) == "over"
    assert script.calls == ["first", "second", "third"]
    info = api.get(handle.run_id)
    assert info.attempts == 1 and info.owner == worker.owner
    events = api.store.events(handle.run_id)
    assert [e.seq for e in events] == list(range(1, len(events) + 1))
    assert events[0].kind == "run_started" and events[0].data["resumed"] is False


def test_a_redelivery_while_a_live_owner_runs_it_does_nothing(store_path, script):
    script.replies["second"] = [Slow(60)]
    api = _service(store_path, _down_broker())
    first, second = _service(store_path, _down_broker()), _service(store_path, _down_broker())
    handle = api.start(THREE_STEPS, {"topic": "cats"})
    assert first.execute_queued(handle.run_id, wait=False) == "ran"
    assert second.execute_queued(handle.run_id) == "owned"
    api.cancel(handle.run_id)  # from another service: the owner polls the request
    result = api.wait(handle.run_id, timeout=10)
    assert result.status == "cancelled" and result.error.node == "second"
    assert script.calls == ["first", "second"]


def test_cancelling_a_queued_run_ends_it_at_once(store_path, script):
    api = _service(store_path, _down_broker())
    handle = api.start(THREE_STEPS, {"topic": "cats"})
    assert api.cancel(handle.run_id).status == "cancelled"
    result = api.wait(handle.run_id, timeout=5)
    assert result.status == "cancelled" and "before a worker started it" in result.error.message
    assert _service(store_path, _down_broker()).execute_queued(handle.run_id) == "over"
    assert script.calls == []


def test_a_dead_owners_run_is_requeued_and_then_failed_at_the_attempt_limit(store_path, script):
    store = SqliteRunStore(store_path)
    store.insert("r1", "three_steps", None, "text", {"topic": "cats"}, {}, status="queued", executor="celery")
    sweeper = RunService(SqliteRunStore(store_path), executor=CeleryExecutor(_down_broker()), max_attempts=2)
    assert store.claim("r1", _dead_owner(), ("queued",))
    swept = sweeper.sweep(resend_after=30)
    assert swept == {"reaped": ["r1"], "resent": []}  # re-queued; the broker is down, so not sent yet
    info = store.get("r1")
    assert info.status == "queued" and info.owner is None and info.attempts == 1
    assert "interrupted on attempt 1 of 2" in info.reason and "queued again" in info.reason
    assert store.claim("r1", _dead_owner(), ("queued",))
    assert sweeper.sweep(resend_after=30)["reaped"] == ["r1"]
    info = store.get("r1")
    assert info.status == "failed" and "no attempts are left" in info.error
    result = sweeper.wait("r1", timeout=5)
    assert result.status == "failed" and result.error.type == "RunInterrupted"


def test_the_sweeper_sends_queued_runs_again_once_the_broker_is_back(store_path, script):
    port = free_port()
    api = _service(store_path, f"redis://127.0.0.1:{port}/0")
    handle = api.start(THREE_STEPS, {"topic": "cats"})
    assert api.get(handle.run_id).sent_at is None
    with redis_server() as redis:
        worker = _service(store_path, redis.url)
        assert worker.sweep(resend_after=30)["resent"] == [handle.run_id]
        assert worker.get(handle.run_id).sent_at is not None
        assert worker.sweep(resend_after=30)["resent"] == []  # sent recently: not again
        assert worker.sweep(resend_after=0)["resent"] == [handle.run_id]  # long ago: its message may be lost


def test_a_run_that_cannot_start_on_the_worker_fails_with_the_reason(store_path, script):
    api = _service(store_path, _down_broker())
    handle = api.start(THREE_STEPS, {"topic": "cats"})
    from agents_core.llm.registry import unregister_provider

    unregister_provider("scripted")  # the worker lacks the provider the run needs
    try:
        assert _service(store_path, _down_broker()).execute_queued(handle.run_id) == "failed"
    finally:
        script.__init__()
    result = api.wait(handle.run_id, timeout=5)
    assert result.status == "failed" and "scripted" in result.error.message
    assert api.get(handle.run_id).status == "failed"


def test_concurrent_deliveries_claim_once(store_path, script):
    api = _service(store_path, _down_broker())
    handle = api.start(THREE_STEPS, {"topic": "cats"})
    workers = [_service(store_path, _down_broker()) for _ in range(4)]
    outcomes: list[str] = []
    threads = [threading.Thread(target=lambda w=w: outcomes.append(w.execute_queued(handle.run_id))) for w in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert outcomes.count("ran") == 1 and script.calls == ["first", "second", "third"]


def test_executor_settings_are_checked(monkeypatch):
    monkeypatch.setenv("AGENTS_EXECUTOR", "kubernetes")
    with pytest.raises(InputError, match="AGENTS_EXECUTOR='kubernetes' is not an executor"):
        make_executor()
    monkeypatch.setenv("AGENTS_EXECUTOR", "celery")
    monkeypatch.delenv("CELERY_BROKER_URL", raising=False)
    with pytest.raises(InputError, match="CELERY_BROKER_URL is not set"):
        make_executor()
    monkeypatch.setenv("CELERY_BROKER_URL", "redis://127.0.0.1:1/0")
    assert make_executor().name == "celery"
    monkeypatch.delenv("AGENTS_EXECUTOR")
    assert make_executor().name == "inprocess"


def test_the_cli_imports_no_celery_and_names_the_same_queue():
    from agents_core.cli import worker

    assert worker.DEFAULT_QUEUE == DEFAULT_QUEUE
    code = "import sys, agents_core.cli; print(sorted(m for m in ('celery', 'kombu', 'redis') if m in sys.modules))"
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_a_worker_leaves_alone_a_run_that_its_own_process_is_starting(store_path, script):
    store = SqliteRunStore(store_path)
    store.insert("r1", "three_steps", None, "text", {}, {}, status="queued", executor="inprocess")
    assert _service(store_path, _down_broker()).execute_queued("r1") == "over"
    assert store.get("r1").attempts == 0 and store.get("r1").owner is None  # not claimed here
    assert _service(store_path, _down_broker()).execute_queued("nope") == "missing"


# -- submitting builds no models: the worker does (a provider's own check refuses what building would) --------


@pytest.fixture
def counted_provider() -> Iterator[dict[str, int]]:
    """A provider ``counted`` with a ``check`` (refuses the model ``nope``); counts checks and builds."""
    from agents_core.errors import ProviderError
    from agents_core.llm.registry import ProviderInfo, register_provider, unregister_provider
    from tests.fakes import Script, ScriptedChatModel

    counts = {"checked": 0, "built": 0}

    def check(settings: Any) -> None:
        counts["checked"] += 1
        if settings.model == "nope":
            raise ProviderError("provider 'counted' has no model 'nope'.", "Use counted-1.")

    def build(settings: Any) -> Any:
        check(settings)
        counts["built"] += 1
        return ScriptedChatModel(script=Script())

    register_provider(ProviderInfo("counted", "counts", default_model="counted-1", factory=build, check=check))
    try:
        yield counts
    finally:
        unregister_provider("counted")


def _on(provider: str, model: str | None = None) -> dict[str, Any]:
    llm = {"provider": provider} | ({"model": model} if model else {})
    return {**THREE_STEPS, "config": {**THREE_STEPS["config"], "llm": llm}}


def test_submitting_to_workers_checks_the_models_without_building_them(store_path, counted_provider):
    from agents_core.errors import ProviderError

    api = _service(store_path, _down_broker())
    handle = api.start(_on("counted"), {"topic": "cats"})
    assert api.get(handle.run_id).status == "queued"
    assert counted_provider == {"checked": 1, "built": 0}  # one setting, checked once, built by nobody here
    with pytest.raises(ProviderError, match="no model 'nope'"):  # what building would refuse is still refused
        api.start(_on("counted", "nope"), {"topic": "cats"})
    assert len(api.list()) == 1  # and the refused run was never written
    here = RunService(SqliteRunStore(store_path), executor="inprocess")  # a run executed here builds its model
    assert here.start(_on("counted"), {"topic": "dogs"}).wait(timeout=30).ok
    assert counted_provider["built"] == 1


def test_submitting_to_workers_still_refuses_a_missing_key_and_bad_inputs(store_path, monkeypatch, script):
    from agents_core.errors import ProviderError

    monkeypatch.delenv("GOOGLE_API_KEY", raising=False)
    api = _service(store_path, _down_broker())
    with pytest.raises(ProviderError, match="GOOGLE_API_KEY"):
        api.start(_on("google"), {"topic": "cats"})
    with pytest.raises(InputError, match="topic"):
        api.start(THREE_STEPS, {})  # a required input is missing
    with pytest.raises(InputError, match="colour"):
        api.start(THREE_STEPS, {"topic": "cats", "colour": "red"})  # an unknown input
    assert api.list() == [] and script.calls == []
    # a provider without a check of its own is built to be checked, as before (the scripted one)
    assert api.get(api.start(THREE_STEPS, {"topic": "cats"}).run_id).status == "queued"


def test_the_submitting_side_does_not_import_the_model_libraries(tmp_path):
    """An API in front of workers never needs langchain-google-genai: its start-up and memory stay small."""
    code = (
        "import sys\n"
        "from agents_core.runs.service import RunService\n"
        "from agents_core.runs.executors.celery import CeleryExecutor\n"
        "from tests.servers import free_port\n"
        "from tests.samples import THREE_STEPS\n"
        f"api = RunService({str(tmp_path / 'runs.sqlite')!r}, executor=CeleryExecutor(f'redis://127.0.0.1:{{free_port()}}/0'))\n"
        "flow = {**THREE_STEPS, 'config': {'llm': {'provider': 'google', 'api_base': 'http://127.0.0.1:9'}}}\n"
        "run_id = api.start(flow, {'topic': 'cats'}).run_id\n"
        "print(api.get(run_id).status, 'langchain_google_genai' in sys.modules)\n"
    )
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT), "GOOGLE_API_KEY": "stub-key"}
    done = subprocess.run([sys.executable, "-c", code], env=env, cwd=REPO_ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["queued", "False"]
