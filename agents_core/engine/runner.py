"""Run and resume workflows; every entry point yields the same events.

``astream_run`` is the one implementation (async generator of events); the
sync iterator, ``run_workflow``/``arun_workflow`` and ``resume_run`` are thin
layers over it. The runner checks everything it can before the first node
runs (inputs, providers and their keys), checkpoints after every node with
LangGraph's SQLite saver, and turns any failure into a failed ``RunResult``
naming the node, with the state as it was before that node.
"""

from __future__ import annotations

import asyncio
import os
import queue
import threading
import uuid
from collections.abc import AsyncIterator, Iterator, Mapping
from typing import Any

from agents_core.config.models import Workflow
from agents_core.engine.compiler import RECORDS, VISITS, build_graph, recursion_limit
from agents_core.engine.events import (
    NodeFailed,
    NodeRecord,
    RunErrorInfo,
    RunEvent,
    RunFinished,
    RunResult,
    RunStarted,
)
from agents_core.engine.node import NodePlan, plan_node
from agents_core.engine.state import check_inputs
from agents_core.engine.store import RunStore, default_store_path
from agents_core.errors import AgentsError, RunError
from agents_core.llm.registry import DEFAULT_PROVIDER, get_provider

LOCAL_FALLBACK_NOTICE = (
    "No provider is named and GOOGLE_API_KEY is not set: running on the embedded local model "
    "(SmolLM2-135M). Set GOOGLE_API_KEY or config.llm.provider to choose another."
)


def _load(source: Any) -> tuple[Workflow, str, str | None]:
    """A validated workflow, its text, and its file name (if it came from one)."""
    from agents_core.config.loader import read_source
    from agents_core.config.validator import looks_like_path
    from agents_core.workflow import load_workflow

    if isinstance(source, Workflow):
        return source, source.model_dump_json(by_alias=True, exclude_none=True), None
    if isinstance(source, os.PathLike) or looks_like_path(source):
        text = read_source(source)
        return load_workflow(source), text, str(source)
    if isinstance(source, Mapping):
        import json

        return load_workflow(dict(source)), json.dumps(source, indent=2, default=str), None
    return load_workflow(source), str(source), None


def _names_a_provider(workflow: Workflow) -> bool:
    if workflow.config and workflow.config.llm and workflow.config.llm.provider:
        return True
    return any(node.llm is not None and node.llm.provider for node in workflow.nodes)


def _overrides(
    workflow: Workflow, provider: str | None, model: str | None, fallback: bool
) -> tuple[dict[str, Any], list[str]]:
    overrides: dict[str, Any] = {}
    notices: list[str] = []
    if provider:
        overrides["provider"] = provider
    if model:
        overrides["model"] = model
    info = get_provider(DEFAULT_PROVIDER)
    key_missing = info is not None and info.api_key_env and not os.environ.get(info.api_key_env)
    if fallback and not provider and not _names_a_provider(workflow) and key_missing:
        overrides["provider"] = "local"
        notices.append(LOCAL_FALLBACK_NOTICE)
    return overrides, notices


class _Models:
    """One chat model per distinct setting, built before the run so missing keys fail first."""

    def __init__(self, plans: Mapping[str, NodePlan]) -> None:
        from agents_core.llm.factory import get_chat_model

        self._models = {}
        for plan in plans.values():
            if plan.llm not in self._models:
                self._models[plan.llm] = get_chat_model(plan.llm)

    def __call__(self, plan: NodePlan) -> Any:
        return self._models[plan.llm]


def _public(state: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in state.items() if k not in (VISITS, RECORDS)}


def _written_fields(workflow: Workflow) -> list[str]:
    seen: list[str] = []
    for node in workflow.nodes:
        seen += [name for name in node.outputs if name not in seen]
    return seen


async def astream_run(
    source: Any,
    inputs: Mapping[str, Any] | None = None,
    *,
    provider: str | None = None,
    model: str | None = None,
    run_id: str | None = None,
    store_path: str | os.PathLike[str] | None = None,
    inputs_as_text: bool = False,
    fallback_to_local: bool = True,
) -> AsyncIterator[RunEvent]:
    """Run a workflow, yielding ``run_started``, node events and ``run_finished``.

    Raises before any event for what can be checked up front: an invalid
    workflow (``ValidationFailed``), bad inputs (``InputError``), a provider
    that cannot be used (``ProviderError``).
    """
    workflow, text, file = _load(source)
    initial = check_inputs(workflow, inputs or {}, from_text=inputs_as_text)
    overrides, notices = _overrides(workflow, provider, model, fallback_to_local)
    plans, models = _prepare(workflow, overrides)  # provider errors surface here, before the run exists
    run_id = run_id or uuid.uuid4().hex[:12]
    store = RunStore(store_path or default_store_path())
    store.create(run_id, workflow.flow.name, file, text, dict(inputs or {}), overrides)
    async for event in _drive(workflow, plans, models, run_id, store, initial, notices, resumed=False):
        yield event


async def astream_resume(run_id: str, *, store_path: str | os.PathLike[str] | None = None) -> AsyncIterator[RunEvent]:
    """Continue a failed or interrupted run from its last checkpoint; finished nodes are not called again."""
    from agents_core.config.validator import validate_text
    from agents_core.errors import ValidationFailed

    store = RunStore(store_path or default_store_path())
    info = store.get(run_id)
    if info.status == "success":
        raise RunError(f"run {run_id!r} already finished successfully.", "Start a new run instead.")
    name = info.workflow_file or f"{info.workflow_name}.yaml"
    report = validate_text(info.workflow_text, name)
    if report.workflow is None:
        raise ValidationFailed(f"the workflow saved with run {run_id!r} is no longer valid.", "", report.errors)
    plans, models = _prepare(report.workflow, info.overrides)
    async for event in _drive(report.workflow, plans, models, run_id, store, None, [], resumed=True):
        yield event


def _prepare(workflow: Workflow, overrides: dict[str, Any]) -> tuple[dict[str, NodePlan], _Models]:
    """Plan every node and build its model: a missing key or package fails before any node runs."""
    plans = {node.id: plan_node(node, workflow, overrides) for node in workflow.nodes}
    return plans, _Models(plans)


async def _drive(
    workflow: Workflow,
    plans: dict[str, NodePlan],
    models: _Models,
    run_id: str,
    store: RunStore,
    initial: dict[str, Any] | None,
    notices: list[str],
    resumed: bool,
) -> AsyncIterator[RunEvent]:
    from langgraph.checkpoint.sqlite.aio import AsyncSqliteSaver

    graph = build_graph(workflow, plans, run_id, models)
    config = {"configurable": {"thread_id": run_id}, "recursion_limit": recursion_limit(workflow)}
    yield RunStarted(run_id, workflow.flow.name, _public(initial or {}), resumed, tuple(notices))
    failed_record: NodeRecord | None = None
    error: RunErrorInfo | None = None
    import aiosqlite

    async with aiosqlite.connect(str(store.path)) as connection:
        # WAL with synchronous=NORMAL: a checkpoint per node stays durable across crashes of the
        # process, without an fsync per write (which cost ~10 ms a node here).
        await connection.execute("PRAGMA journal_mode=WAL")
        await connection.execute("PRAGMA synchronous=NORMAL")
        saver = AsyncSqliteSaver(connection, serde=_serializer())
        app = graph.compile(checkpointer=saver)
        if resumed:
            snapshot = await app.aget_state(config)
            if not snapshot.values:
                raise RunError(f"run {run_id!r} has no checkpoint to resume from.", "Start a new run instead.")
        try:
            async for _mode, chunk in app.astream(initial, config, stream_mode=["custom"]):
                if isinstance(chunk, NodeFailed):
                    failed_record = chunk.record
                yield chunk
        except Exception as exc:  # every failure becomes a failed result, never a traceback
            error = _error_info(exc, failed_record)
        snapshot = await app.aget_state(config)
    values = dict(snapshot.values or {})
    records = [NodeRecord(**record) for record in values.get(RECORDS, [])]
    if failed_record is not None:
        records.append(failed_record)
    state = _public(values)
    outputs = {name: state.get(name) for name in _written_fields(workflow) if name in state}
    result = RunResult(
        run_id=run_id,
        workflow_name=workflow.flow.name,
        status="failed" if error else "success",
        state=state,
        outputs=outputs if not error else {},
        nodes=records,
        error=error,
        notices=notices,
    )
    store.finish(run_id, result.status, error.message if error else None)
    yield RunFinished(run_id, result)


def _serializer() -> Any:
    """LangGraph's serializer, allowed to restore only plain data and our own error types."""
    from langgraph.checkpoint.serde.jsonplus import JsonPlusSerializer

    from agents_core import errors
    from agents_core.engine import compiler, node

    allowed = [
        (module.__name__, name)
        for module in (errors, compiler, node)
        for name, value in vars(module).items()
        if isinstance(value, type) and issubclass(value, BaseException) and value.__module__ == module.__name__
    ]
    return JsonPlusSerializer(allowed_msgpack_modules=allowed)


def _error_info(exc: BaseException, failed: NodeRecord | None) -> RunErrorInfo:
    node = failed.id if failed else None
    if isinstance(exc, AgentsError):
        return RunErrorInfo(node, type(exc).__name__, str(exc))
    return RunErrorInfo(node, type(exc).__name__, f"{type(exc).__name__}: {exc}")


# -- sync and collected forms ---------------------------------------------------------
_DONE = object()


def _iterate_in_thread(agen_factory: Any) -> Iterator[RunEvent]:
    """Drive an async generator on a private event loop in a thread; yield its items here."""
    items: queue.Queue[Any] = queue.Queue()

    def worker() -> None:
        async def consume() -> None:
            async for item in agen_factory():
                items.put(item)

        try:
            asyncio.run(consume())
        except BaseException as exc:  # handed to the caller's thread
            items.put(exc)
        finally:
            items.put(_DONE)

    thread = threading.Thread(target=worker, name="configurable-agents-run", daemon=True)
    thread.start()
    while True:
        item = items.get()
        if item is _DONE:
            break
        if isinstance(item, BaseException):
            thread.join()
            raise item
        yield item
    thread.join()


def stream_run(source: Any, inputs: Mapping[str, Any] | None = None, **options: Any) -> Iterator[RunEvent]:
    """The events of a run, for synchronous code (CLI, Streamlit)."""
    return _iterate_in_thread(lambda: astream_run(source, inputs, **options))


def stream_resume(run_id: str, **options: Any) -> Iterator[RunEvent]:
    return _iterate_in_thread(lambda: astream_resume(run_id, **options))


async def arun_workflow(source: Any, inputs: Mapping[str, Any] | None = None, **options: Any) -> RunResult:
    result = None
    async for event in astream_run(source, inputs, **options):
        if isinstance(event, RunFinished):
            result = event.result
    assert result is not None
    return result


def run_workflow(source: Any, inputs: Mapping[str, Any] | None = None, **options: Any) -> RunResult:
    """Run a workflow to the end and return its result (failures are results, not exceptions)."""
    return _last_result(stream_run(source, inputs, **options))


async def aresume_run(run_id: str, **options: Any) -> RunResult:
    result = None
    async for event in astream_resume(run_id, **options):
        if isinstance(event, RunFinished):
            result = event.result
    assert result is not None
    return result


def resume_run(run_id: str, **options: Any) -> RunResult:
    return _last_result(stream_resume(run_id, **options))


def _last_result(events: Iterator[RunEvent]) -> RunResult:
    result = None
    for event in events:
        if isinstance(event, RunFinished):
            result = event.result
    assert result is not None
    return result
