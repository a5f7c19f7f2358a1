"""The run service with a scripted provider: start, follow, cancel, resume, observers, exit paths.

Real components throughout (the store and LangGraph's checkpointer on SQLite and,
as a second parametrisation of every test, on a real PostgreSQL; the service's own
thread and loop); only the model is scripted.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from typing import Any

import pytest

from agents_core.engine.events import NodeRetried, NodeStarted, RunFinished, RunStarted, event_from_dict
from agents_core.errors import RunConflict, RunError, RunNotFound
from agents_core.runs.service import RunService
from tests.runs.conftest import Slow
from tests.samples import THREE_STEPS


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request: pytest.FixtureRequest) -> str:
    """Every test of the service on both stores (PostgreSQL skips without a server, except under CI=true)."""
    return request.param


class RateLimited(Exception):
    status_code = 429


def _wait_for(predicate: Any, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        time.sleep(0.02)


def _started(service: RunService, run_id: str, node: str) -> bool:
    return any(e.kind == "node_started" and e.data["node"] == node for e in service.store.events(run_id))


def test_a_run_is_recorded_with_owner_timestamps_nodes_and_outputs(service, script):
    script.replies.update({"first": ["A"], "second": ["B"], "third": ["C"]})
    handle = service.start(THREE_STEPS, {"topic": "cats"})
    result = handle.wait(timeout=30)
    assert result.ok and result.outputs == {"a": "A", "b": "B", "c": "C"}
    info = service.get(handle.run_id)
    assert info.status == "success" and info.error is None
    assert info.owner is not None and info.owner.pid > 0 and info.owner.token
    assert info.started_at is not None and info.finished_at is not None and info.finished_at >= info.started_at
    assert info.outputs == {"a": "A", "b": "B", "c": "C"}
    assert [n.id for n in info.node_records] == ["first", "second", "third"]
    assert info.inputs == {"topic": "cats"}
    assert [r.run_id for r in service.list(status="success", workflow="three_steps")] == [handle.run_id]
    assert service.list(status="failed") == [] and service.list(workflow="other") == []
    assert service.list(since=time.time() + 60) == []


def test_cancel_mid_node_keeps_the_checkpoint_and_resume_skips_finished_nodes(service, script):
    script.replies.update({"second": [Slow(60)]})
    handle = service.start(THREE_STEPS, {"topic": "cats"})
    _wait_for(lambda: _started(service, handle.run_id, "second"))
    began = time.monotonic()
    service.cancel(handle.run_id)
    result = handle.wait(timeout=10)
    assert time.monotonic() - began < 5  # the 60 s model call was cancelled, not awaited
    assert result.status == "cancelled"
    assert result.error is not None and result.error.node == "second" and result.error.category == "cancelled"
    assert "--resume" in result.error.hint
    assert result.state["a"] == "ok" and result.state["b"] == ""  # the state before the cancelled node
    info = service.get(handle.run_id)
    assert info.status == "cancelled" and service.store.has_checkpoint(handle.run_id)
    assert service.store.events(handle.run_id)[-1].kind == "run_finished"

    resumed = service.resume(handle.run_id).wait(timeout=30)
    assert resumed.status == "success", resumed.error
    assert script.calls == ["first", "second", "second", "third"]  # first was not called again
    assert resumed.outputs == {"a": "ok", "b": "ok", "c": "ok"}
    assert service.get(handle.run_id).status == "success"


def test_a_consumer_that_stops_reading_does_not_stop_the_run(service, script):
    script.replies.update({"second": [Slow(0.3, "B")]})
    handle = service.start(THREE_STEPS, {"topic": "cats"})
    events = handle.events()
    assert isinstance(next(events), RunStarted)
    events.close()  # the face went away (a Streamlit rerun, a closed tab)
    result = service.wait(handle.run_id, timeout=30)
    assert result.ok and result.outputs["b"] == "B"
    assert script.calls == ["first", "second", "third"]
    assert service.get(handle.run_id).status == "success"


def test_an_observer_that_raises_never_fails_the_run_and_is_logged_once(make_store, script, caplog):
    heard: list[Any] = []

    class Broken:
        def on_event(self, event: Any) -> None:
            raise ValueError("tracking is down")

    service = RunService(make_store(), observers=[Broken(), heard.append])
    with caplog.at_level(logging.WARNING, logger="agents_core.runs.service"):
        result = service.start(THREE_STEPS, {"topic": "cats"}).wait(timeout=30)
    assert result.ok
    assert [e.seq for e in heard] == list(range(1, len(heard) + 1))
    assert heard[0].kind == "run_started" and heard[-1].kind == "run_finished"
    assert [e.kind for e in heard] == [e.kind for e in service.events(result.run_id)]
    warnings = [r for r in caplog.records if "tracking is down" in r.getMessage()]
    assert len(warnings) == 1


def test_events_are_gap_free_replayable_from_any_seq_and_round_trip(service, script):
    script.replies.update({"second": [RateLimited("429 slow down"), ValueError("broken")]})
    failed = service.start(THREE_STEPS, {"topic": "cats"}).wait(timeout=30)
    assert failed.status == "failed"
    resumed = service.resume(failed.run_id).wait(timeout=30)
    assert resumed.ok
    everything = list(service.events(failed.run_id))
    assert [e.seq for e in everything] == list(range(1, len(everything) + 1))  # continuing across the resume
    assert [e.kind for e in everything].count("run_started") == 2
    assert [e.kind for e in everything].count("run_finished") == 2
    assert all(e.run_id == failed.run_id and e.at.tzinfo is not None for e in everything)
    for after in range(len(everything) + 1):
        assert list(service.events(failed.run_id, after_seq=after)) == everything[after:]
    for event in everything:
        assert event_from_dict(event.to_dict()) == event
        assert type(event).from_dict(event.to_dict()) == event
    [retried] = [e for e in everything if isinstance(e, NodeRetried)]
    assert retried.node == "second" and retried.attempt == 1 and "429" in retried.reason and retried.delay >= 0


def test_events_follow_a_live_run_from_the_log(service, script):
    script.replies.update({"first": [Slow(0.3, "A")], "third": [Slow(0.3, "C")]})
    handle = service.start(THREE_STEPS, {"topic": "cats"})
    _wait_for(lambda: _started(service, handle.run_id, "second"))
    late = list(service.events(handle.run_id, after_seq=1))  # joins mid-run: replay, then follow
    assert late[0].seq == 2 and isinstance(late[-1], RunFinished) and late[-1].result.ok
    assert [e.seq for e in late] == list(range(2, len(late) + 2))


def test_events_without_follow_give_what_is_logged_now_and_return(service, script):
    script.replies.update({"second": [Slow(60)]})
    handle = service.start(THREE_STEPS, {"topic": "cats"})
    _wait_for(lambda: _started(service, handle.run_id, "second"))
    now = list(service.events(handle.run_id, follow=False))  # returns at once although the run goes on
    assert [e.kind for e in now] == ["run_started", "node_started", "node_finished", "node_started"]
    assert list(service.events(handle.run_id, after_seq=now[-1].seq, follow=False)) == []
    service.cancel(handle.run_id)  # ends the 60 s call
    assert handle.wait(timeout=30).status == "cancelled"
    rest = list(service.events(handle.run_id, after_seq=now[-1].seq, follow=False))
    assert rest[0].seq == now[-1].seq + 1 and isinstance(rest[-1], RunFinished)


def test_two_concurrent_resumes_exactly_one_wins(make_store, script):
    script.replies.update({"second": [ValueError("down")], "third": [Slow(0.5, "C")]})
    first_service = RunService(make_store())
    failed = first_service.start(THREE_STEPS, {"topic": "cats"}).wait(timeout=30)
    assert failed.status == "failed"
    services = [first_service, RunService(make_store())]
    barrier = threading.Barrier(2)
    outcomes: list[Any] = [None, None]

    def resume(index: int) -> None:
        barrier.wait()
        try:
            outcomes[index] = services[index].resume(failed.run_id)
        except RunConflict as exc:
            outcomes[index] = exc

    threads = [threading.Thread(target=resume, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    refused = [o for o in outcomes if isinstance(o, RunConflict)]
    won = [o for o in outcomes if not isinstance(o, RunConflict)]
    assert len(refused) == 1 and len(won) == 1, outcomes
    assert "pid" in refused[0].message or "claimed" in refused[0].message
    assert won[0].wait(timeout=30).ok
    assert script.calls.count("third") == 1  # never executed by two owners
    for service in services:
        service.shutdown()


def test_resuming_a_run_under_a_live_owner_is_refused_naming_it(service, make_store, script):
    script.replies.update({"first": [Slow(60)]})
    handle = service.start(THREE_STEPS, {"topic": "cats"})
    _wait_for(lambda: _started(service, handle.run_id, "first"))
    other = RunService(make_store())
    with pytest.raises(RunConflict, match=r"is running under pid \d+ on") as caught:
        other.resume(handle.run_id)
    assert "runs cancel" in caught.value.hint
    service.cancel(handle.run_id)
    assert handle.wait(timeout=10).status == "cancelled"


def test_resume_refuses_success_unknown_and_runs_without_a_checkpoint(service, script):
    done = service.start(THREE_STEPS, {"topic": "cats"}).wait(timeout=30)
    with pytest.raises(RunConflict, match="already finished successfully"):
        service.resume(done.run_id)
    with pytest.raises(RunNotFound, match="no run with id 'nope'"):
        service.resume("nope")
    store = service.store
    store.insert("bare", "three_steps", None, "{}", {}, {}, status="failed")
    with pytest.raises(RunError, match="no checkpoint"):
        service.resume("bare")
    assert store.get("bare").status == "failed" and store.events("bare") == []  # raised before any event


def test_a_run_id_cannot_be_used_twice(service, script):
    service.start(THREE_STEPS, {"topic": "cats"}, run_id="fixed").wait(timeout=30)
    with pytest.raises(RunConflict, match="'fixed' exists already"):
        service.start(THREE_STEPS, {"topic": "cats"}, run_id="fixed")


def _engine_breaks(monkeypatch: pytest.MonkeyPatch) -> None:
    from agents_core.engine import runner

    async def broken(*args: Any, **kwargs: Any) -> Any:
        raise KeyError("boom")

    monkeypatch.setattr(runner, "execute", broken)


def _break_node_events(store: Any) -> None:
    """The store fails to write ``node_finished`` events (as a full disk would)."""
    append = store.append_events

    def append_events(rows: list[tuple[str, int, str, str, dict[str, Any]]]) -> None:
        if any(kind == "node_finished" for _, _, kind, _, _ in rows):
            raise OSError("disk full")
        append(rows)

    store.append_events = append_events
    finish = store.finish

    def finish_refusing_node_finished(*args: Any, events: Any = (), **kwargs: Any) -> None:
        if any(kind == "node_finished" for _, kind, _, _ in events):  # a run's last events go with its end
            raise OSError("disk full")
        finish(*args, events=events, **kwargs)

    store.finish = finish_refusing_node_finished


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("success", "success"),
        ("node failure", "failed"),
        ("cancel", "cancelled"),
        ("KeyboardInterrupt in the model", "cancelled"),
        ("exception in the engine", "failed"),
        ("exception in the store", "failed"),
    ],
)
def test_every_exit_path_writes_a_terminal_status_and_run_finished(make_store, script, monkeypatch, path, status):
    store = make_store()
    if path == "exception in the store":
        _break_node_events(store)
    service = RunService(store)
    if path == "node failure":
        script.replies["second"] = [ValueError("the model exploded")]
    if path == "cancel":
        script.replies["second"] = [Slow(60)]
    if path == "KeyboardInterrupt in the model":
        script.replies["second"] = [KeyboardInterrupt()]
    if path == "exception in the engine":
        _engine_breaks(monkeypatch)
    handle = service.start(THREE_STEPS, {"topic": "cats"})
    if path == "cancel":
        _wait_for(lambda: _started(service, handle.run_id, "second"))
        handle.cancel()
    result = handle.wait(timeout=30)
    info = service.get(handle.run_id)
    assert info.status == status == result.status
    log = store.events(handle.run_id)
    assert log[-1].kind == "run_finished" and log[-1].data["result"]["status"] == status
    assert [e.seq for e in log] == list(range(1, len(log) + 1))
    if status != "success":
        assert result.error is not None and info.error_info is not None
    if path == "exception in the engine":
        assert result.error.type == "KeyError" and result.error.message == "'boom'"  # not "KeyError: KeyError: …"
    service.shutdown()


def test_sync_followers_see_run_started_first_and_run_finished_last(service, script):
    handle = service.start(THREE_STEPS, {"topic": "cats"})
    events = list(handle.events())
    assert isinstance(events[0], RunStarted) and isinstance(events[-1], RunFinished)
    assert [e.kind for e in events if isinstance(e, NodeStarted)] == ["node_started"] * 3


def test_async_forms(make_store, script):
    import asyncio

    async def main() -> tuple[list[Any], Any]:
        service = RunService(make_store())
        handle = await service.astart(THREE_STEPS, {"topic": "cats"})
        events = [event async for event in service.aevents(handle.run_id)]
        return events, await service.await_run(handle.run_id, timeout=30)

    events, result = asyncio.run(main())
    assert events[0].kind == "run_started" and events[-1].kind == "run_finished" and result.ok


def test_async_starts_of_a_workflow_run_inline_once_its_models_are_built(make_store, script, monkeypatch):
    """astart: the first start of a workflow object on a loop is checked in a thread (it builds the models);
    the later ones run on the loop, checking only their inputs until the first checks are PREPARED_SECONDS old,
    then all again (inline: the models are built). A dict, or a workflow with a monthly budget, always goes
    to a thread."""
    from agents_core.engine import runner
    from agents_core.runs import service as service_module
    from agents_core.workflow import load_workflow

    workflow = load_workflow(THREE_STEPS)
    budgeted = load_workflow(
        {**THREE_STEPS, "config": {**THREE_STEPS.get("config", {}), "execution": {"monthly_budget_usd": 5.0}}}
    )
    service = RunService(make_store())
    calls: list[tuple[str, bool]] = []
    here: list[str] = []

    def record(name: str, real: Any) -> Any:
        return lambda *a, **k: calls.append((name, threading.current_thread().name == here[0])) or real(*a, **k)

    monkeypatch.setattr(service, "start", record("start", service.start))
    monkeypatch.setattr(service, "_prepare_new", record("check all", service._prepare_new))
    monkeypatch.setattr(runner, "prepare_again", record("check inputs", runner.prepare_again))

    async def main() -> list[Any]:
        here.append(threading.current_thread().name)
        handles = [await service.astart(workflow, {"topic": t}) for t in ("a", "b", "c")]
        handles.append(await service.astart(THREE_STEPS, {"topic": "d"}))
        handles.append(await service.astart(workflow, {"topic": "e"}, provider="scripted"))  # other models: a thread
        handles.append(await service.astart(workflow, {"topic": "f"}, provider="scripted"))
        handles += [await service.astart(budgeted, {"topic": t}) for t in ("g", "h")]
        monkeypatch.setattr(service_module, "PREPARED_SECONDS", 0.0)
        handles.append(await service.astart(workflow, {"topic": "i"}))  # the checks are old: all again, inline
        return [await service.await_run(h.run_id, timeout=30) for h in handles]

    results = asyncio.run(main())
    assert calls == [
        ("check all", False),
        ("check inputs", True),
        ("check inputs", True),
        ("start", False),
        ("check all", False),
        ("check all", False),
        ("check inputs", True),
        ("start", False),
        ("check all", False),
        ("start", False),
        ("check all", False),
        ("check all", True),
    ]
    assert all(result.ok for result in results)
    assert [r.outputs for r in results[:3]] == [results[0].outputs] * 3
    inputs = [service.get(r.run_id).inputs for r in results]
    assert [i["topic"] for i in inputs] == list("abcdefghi")  # each run its own inputs
    service.shutdown()


def test_the_runs_of_a_loop_share_the_graph_lent_to_their_checkpointer(make_store, script, monkeypatch):
    """LangGraph's copy of the compiled graph with the loop's shared checkpointer is made once, not per run;
    the runs still keep their own checkpoints (each resumable from its own thread)."""
    from langgraph.pregel import Pregel

    copies: list[Any] = []
    copy = Pregel.copy
    monkeypatch.setattr(Pregel, "copy", lambda self, *a, **k: copies.append(self) or copy(self, *a, **k))
    service = RunService(make_store())

    async def main() -> list[Any]:
        handles = [await service.astart(THREE_STEPS, {"topic": t}) for t in ("a", "b", "c")]
        return [await service.await_run(h.run_id, timeout=30) for h in handles]

    results = asyncio.run(main())
    assert all(r.ok for r in results) and len(copies) == 1
    assert all(service.store.has_checkpoint(r.run_id) for r in results)
    service.shutdown()


def test_one_task_watches_every_run_of_a_loop_and_ends_with_the_last(service, script):
    """Heartbeats and cancel requests of concurrent runs are polled by one task per loop, not one per run;
    a cancel request reaches the run it names only, and the task is gone once no run is left."""
    from agents_core.runs.executors.inprocess import run_loop

    script.replies["second"] = [Slow(1.5, "B")] * 3
    handles = [service.start(THREE_STEPS, {"topic": t}) for t in ("a", "b", "c")]
    _wait_for(lambda: all(_started(service, h.run_id, "second") for h in handles))
    watch = service._watches[run_loop()]  # this service's watch of the runs loop (other tests' services have theirs)
    assert set(watch.runs) == {h.run_id for h in handles} and watch.task is not None
    task = watch.task
    service.store.request_cancel(handles[1].run_id)  # as another process does: only the store hears it
    statuses = [h.wait(timeout=30).status for h in handles]
    assert statuses == ["success", "cancelled", "success"]
    assert watch.task is task  # the same task watched them all
    _wait_for(lambda: watch.task is None and task.done(), timeout=5)  # it ends within one poll after the last run


def test_a_short_runs_events_are_written_with_its_end_in_one_transaction(store_path, script, monkeypatch):
    """Group commit: a run that ends within the flush window writes row, then events + end together."""
    from agents_core.runs import event_batch
    from agents_core.runs.store import open_store

    monkeypatch.setattr(event_batch, "FLUSH_SECONDS", 30.0)  # a window no run here outlasts, however slow
    store = open_store(store_path)
    writes: list[str] = []

    def counted(name: str) -> Any:  # the store's ways into a write transaction
        opened = getattr(store, name)
        return lambda *args: writes.append(name) or opened(*args)

    store._write, store._hot_write, store._write_one = counted("_write"), counted("_hot_write"), counted("_write_one")
    service = RunService(store)
    result = service.start(THREE_STEPS, {"topic": "cats"}).wait(timeout=30)
    assert result.ok
    assert len(writes) == 2, writes  # the row (born claimed), then every event with the terminal status
    log = store.events(result.run_id)
    assert [e.seq for e in log] == list(range(1, len(log) + 1)) and log[-1].kind == "run_finished"
    assert [e.kind for e in log].count("node_finished") == 3
    service.shutdown()


def test_a_long_runs_progress_is_in_the_log_while_it_runs(service, script):
    """Events do not wait for the run's end: a node still running has its node_started in the log."""
    script.replies["second"] = [Slow(1.0, "B")]
    handle = service.start(THREE_STEPS, {"topic": "cats"})
    _wait_for(lambda: _started(service, handle.run_id, "second"), timeout=5)
    assert service.get(handle.run_id).status == "running"
    assert handle.wait(timeout=30).ok


def test_waiting_for_a_run_of_this_process_hears_its_end_without_reading_the_store(service, script, monkeypatch):
    """wait and await_end are woken by the run's recorded end and return it as it was written."""
    script.replies["second"] = [Slow(0.5, "B")]
    reads: list[str] = []
    read = service._end_through_outages
    monkeypatch.setattr(service, "_end_through_outages", lambda *a: reads.append("read") or read(*a))

    async def ended() -> Any:
        handle = await service.astart(THREE_STEPS, {"topic": "cats"})
        return await service.await_end(handle.run_id, timeout=30)

    event = asyncio.run(ended())
    assert event.kind == "run_finished" and event.result.ok and reads == []
    stored = service.store.events(event.run_id)[-1]
    assert stored.seq == event.seq and stored.data == event.to_dict()  # what the waiter got is what the log has
    script.replies["second"] = [Slow(0.5, "B")]
    handle = service.start(THREE_STEPS, {"topic": "dogs"})
    assert handle.wait(timeout=30).ok and reads == []
    assert service.wait(handle.run_id, timeout=5).ok and reads == ["read"]  # over: from the store
