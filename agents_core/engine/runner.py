"""The engine's run: prepare a workflow, then drive its LangGraph graph and report what happens.

Two halves. :func:`prepare_run` / :func:`prepare_resume` check everything that
can be checked before a run exists (the workflow, the inputs, the providers
and their keys) and raise on the spot. :func:`execute` drives a prepared run
to its end with a checkpointer it is given (``durability="sync"``), hands
every event to ``emit`` and turns every failure, and a cancellation, into a
``RunResult`` naming the node, with the state as it was before that node.

Neither half knows of stores, owners or threads: the run service
(:mod:`agents_core.runs.service`) owns those. The public functions at the
bottom (``run_workflow``, ``stream_run``, ``resume_run`` and their async
forms) are the seed's API, now thin layers over the run service.
"""

from __future__ import annotations

import asyncio
import math
import os
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from agents_core.config.models import Workflow
from agents_core.engine.budget import RunBudget, check_enforceable, unpriced_notices, using_budget
from agents_core.engine.compiler import (
    BOOKKEEPING,
    DURABILITY,
    checkpointed_records,
    compiled_graph,
    recursion_limit,
    with_checkpointer,
)
from agents_core.engine.compiler import (
    running as running_run,
)
from agents_core.engine.events import (
    NodeFailed,
    NodeFinished,
    NodeRecord,
    NodeStarted,
    RunErrorInfo,
    RunEvent,
    RunFinished,
    RunResult,
    total_cost,
)
from agents_core.engine.node import NodePlan, plan_node
from agents_core.engine.state import check_inputs
from agents_core.errors import AgentsError, InputError, RunCancelled, RunError, category_of, describe_exception
from agents_core.llm.pricing import PriceBook, price_book
from agents_core.llm.registry import DEFAULT_PROVIDER, get_provider

#: The key of ``overrides`` (kept with the run) that holds a budget given for the run itself.
BUDGET_OVERRIDE = "max_cost_usd"

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
    """One chat model per distinct setting, built before the run so missing keys fail first.

    With ``loop`` (where the run will execute) the models are the ones the loop's runs
    share (:func:`~agents_core.llm.factory.shared_chat_model`), built once, not per run.
    """

    def __init__(self, plans: Mapping[str, NodePlan], loop: asyncio.AbstractEventLoop | None = None) -> None:
        from agents_core.llm.factory import get_chat_model, shared_chat_model

        self._models = {}
        for plan in plans.values():
            if plan.llm not in self._models:
                self._models[plan.llm] = get_chat_model(plan.llm) if loop is None else shared_chat_model(plan.llm, loop)

    def __call__(self, plan: NodePlan) -> Any:
        return self._models[plan.llm]


def _check_models(plans: Mapping[str, NodePlan]) -> None:
    """What building the models would refuse (a missing key or package), without building them.

    For a run executed elsewhere (a Celery worker builds its models when it claims the run):
    building a Gemini client loads the CA bundle three times, ~0.2 s of CPU the submitting API
    would spend per run for nothing.
    """
    from agents_core.llm.factory import check_chat_model

    for settings in dict.fromkeys(plan.llm for plan in plans.values()):
        check_chat_model(settings)


def _public(state: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in state.items() if k not in BOOKKEEPING}


def _written_fields(workflow: Workflow) -> list[str]:
    seen: list[str] = []
    for node in workflow.nodes:
        seen += [name for name in node.outputs if name not in seen]
    return seen


@dataclass
class PreparedRun:
    """A run checked and ready: the workflow, its text, the initial state (``None`` on resume), models."""

    workflow: Workflow
    text: str
    file: str | None
    inputs: dict[str, Any]
    initial: dict[str, Any] | None
    overrides: dict[str, Any]
    plans: dict[str, NodePlan]
    #: ``None`` when the run was only checked to be executed elsewhere (``prepare_run(build_models=False)``).
    models: _Models | None
    notices: list[str] = field(default_factory=list)
    #: The run's prices (the workspace's pricing.yaml over the built-in sources) and its budget in USD.
    prices: PriceBook | None = None
    max_cost_usd: float | None = None

    @property
    def name(self) -> str:
        return self.workflow.flow.name

    def graph_key(self) -> tuple[Any, ...]:
        """What the compiled graph depends on: the text, the overrides, each node's resolved model."""
        import json

        overrides = json.dumps(self.overrides, sort_keys=True, default=str)
        return (self.text, overrides, tuple((node_id, plan.llm) for node_id, plan in self.plans.items()))

    def public_initial(self) -> dict[str, Any]:
        return _public(self.initial or {})


def _prepare(
    workflow: Workflow,
    overrides: dict[str, Any],
    build_models: bool = True,
    models_loop: asyncio.AbstractEventLoop | None = None,
) -> tuple[dict[str, NodePlan], _Models | None]:
    """Plan every node and build its model (or only check it): a missing key or package fails before any node runs."""
    plans = {node.id: plan_node(node, workflow, overrides) for node in workflow.nodes}
    if not build_models:
        _check_models(plans)
        return plans, None
    return plans, _Models(plans, models_loop)


def run_budget(workflow: Workflow, overrides: Mapping[str, Any]) -> float | None:
    """The run's budget: one given for the run (``run --max-cost-usd``) over ``config.execution.max_cost_usd``."""
    if overrides.get(BUDGET_OVERRIDE) is not None:
        return float(overrides[BUDGET_OVERRIDE])
    execution = workflow.config.execution if workflow.config and workflow.config.execution else None
    return execution.max_cost_usd if execution else None


def _price(prepared: PreparedRun) -> PreparedRun:
    """Prices and budget of a prepared run: a budget on an unpriced model refuses the run, else a notice per model."""
    book = price_book()
    prepared.prices = book
    prepared.max_cost_usd = run_budget(prepared.workflow, prepared.overrides)
    check_enforceable(prepared.max_cost_usd, prepared.plans.values(), book)
    prepared.notices += unpriced_notices(prepared.plans.values(), book)
    return prepared


def prepare_run(
    source: Any,
    inputs: Mapping[str, Any] | None = None,
    *,
    provider: str | None = None,
    model: str | None = None,
    inputs_as_text: bool = False,
    fallback_to_local: bool = True,
    max_cost_usd: float | None = None,
    build_models: bool = True,
    models_loop: asyncio.AbstractEventLoop | None = None,
) -> PreparedRun:
    """Check a new run: raises ``ValidationFailed``, ``InputError``, ``ProviderError``, ``PricingFileError``
    or ``BudgetUnenforceable`` before it exists. ``max_cost_usd`` overrides the workflow's budget (kept with the run).
    ``build_models=False`` checks the models without building them, for a run another process executes
    (the prepared run then only describes it: :func:`execute` needs one with its models).
    ``models_loop`` is the loop the run will execute on: its models are the ones that loop's runs share.
    """
    workflow, text, file = _load(source)
    initial = check_inputs(workflow, inputs or {}, from_text=inputs_as_text)
    overrides, notices = _overrides(workflow, provider, model, fallback_to_local)
    if max_cost_usd is not None:
        overrides[BUDGET_OVERRIDE] = _positive_budget(max_cost_usd)
    plans, models = _prepare(workflow, overrides, build_models, models_loop)
    given = {name: initial[name] for name in (inputs or {})}  # as parsed: what a resume would start from
    return _price(PreparedRun(workflow, text, file, given, initial, overrides, plans, models, notices))


def _positive_budget(value: float) -> float:
    """A budget given for one run: a positive, finite number of USD."""
    if not isinstance(value, int | float) or isinstance(value, bool) or not math.isfinite(value) or value <= 0:
        raise InputError(f"--max-cost-usd must be a positive number of USD; {value!r} is not.", "Example: 0.50")
    return float(value)


def prepare_resume(
    run_id: str,
    workflow_text: str,
    workflow_file: str | None,
    workflow_name: str,
    overrides: dict[str, Any],
    max_cost_usd: float | None = None,
) -> PreparedRun:
    """Check a saved run's workflow again and rebuild its models (a key may have been fixed meanwhile).

    The budget is read again: ``max_cost_usd`` (a higher budget to continue a run the old one stopped)
    over the budget the run was started with over the saved workflow's ``max_cost_usd``.
    """
    from agents_core.config.validator import validate_text
    from agents_core.errors import ValidationFailed

    report = validate_text(workflow_text, workflow_file or f"{workflow_name}.yaml")
    if report.workflow is None:
        raise ValidationFailed(
            f"the workflow saved with run {run_id!r} is no longer valid.",
            "Start a new run from the fixed file instead.",
            report.errors,
        )
    if max_cost_usd is not None:
        overrides = {**overrides, BUDGET_OVERRIDE: _positive_budget(max_cost_usd)}
    plans, models = _prepare(report.workflow, overrides)
    return _price(PreparedRun(report.workflow, workflow_text, workflow_file, {}, None, overrides, plans, models))


def prepare_again(
    template: PreparedRun, inputs: Mapping[str, Any] | None, *, inputs_as_text: bool = False
) -> PreparedRun:
    """Another run of a prepared workflow: only its inputs are checked; the workflow, its checked
    models, prices and budget are the template's (a server starting the same workflow again)."""
    initial = check_inputs(template.workflow, inputs or {}, from_text=inputs_as_text)
    given = {name: initial[name] for name in (inputs or {})}
    return replace(template, inputs=given, initial=initial, notices=list(template.notices))


def prepare_queued(
    run_id: str,
    workflow_text: str,
    workflow_file: str | None,
    workflow_name: str,
    inputs: Mapping[str, Any],
    overrides: dict[str, Any],
) -> PreparedRun:
    """A run accepted elsewhere (a worker's job): check its saved workflow and inputs again, from the start.

    The inputs are the ones the row kept (as parsed), so they are checked without re-parsing text.
    """
    prepared = prepare_resume(run_id, workflow_text, workflow_file, workflow_name, overrides)
    prepared.initial = check_inputs(prepared.workflow, dict(inputs))
    prepared.inputs = dict(inputs)
    return prepared


def error_info(exc: BaseException, node: str | None = None) -> RunErrorInfo:
    """An exception as data: node, type, message (never doubled), hint and category."""
    if isinstance(exc, RunError) and exc.node:
        node = exc.node
    hint = exc.hint if isinstance(exc, AgentsError) else ""
    return RunErrorInfo(node, type(exc).__name__, describe_exception(exc), hint, category_of(exc))


async def execute(
    prepared: PreparedRun,
    run_id: str,
    checkpointer: Any,
    emit: Callable[[RunEvent], None],
) -> RunResult:
    """Drive a prepared run to its end; every outcome (also a cancellation) is a ``RunResult``.

    ``emit`` receives each node event as it happens (in order, from this task).
    On cancellation (``asyncio.CancelledError``) the in-flight node stops, the
    checkpoint before it stays, and the result's status is ``cancelled``.
    ``checkpointer`` may be ``None`` (nothing kept; the run cannot be resumed).

    The node records are gathered from the events of this execution, after those
    of earlier executions found in the checkpoints (a resume), so no checkpoint
    carries the run's whole history.
    """
    if prepared.models is None:
        raise ValueError("this run was prepared with build_models=False, to be executed elsewhere; it has no models.")
    workflow = prepared.workflow
    config = {"configurable": {"thread_id": run_id}, "recursion_limit": recursion_limit(workflow)}
    records: list[NodeRecord] = []
    if prepared.initial is None and checkpointer is not None:
        records = [NodeRecord.from_dict(record) for record in await checkpointed_records(checkpointer, config)]
    failed_record: NodeRecord | None = None
    running: list[str] = []

    def observe(event: Any) -> None:
        nonlocal failed_record
        if isinstance(event, NodeStarted):
            running.append(event.node)
        elif isinstance(event, NodeFinished | NodeFailed):
            if event.record.id in running:
                running.remove(event.record.id)
            if isinstance(event, NodeFinished):
                records.append(event.record)
            else:
                failed_record = event.record
        emit(event)

    app = compiled_graph(prepared.graph_key(), workflow, prepared.plans)
    if checkpointer is not None:
        app = with_checkpointer(app, checkpointer)
    # Without a checkpointer LangGraph refuses "sync" durability (there is nothing to write).
    options = {"durability": DURABILITY} if checkpointer is not None else {}
    latest: dict[str, Any] | None = prepared.initial
    error: RunErrorInfo | None = None
    status = "success"
    budget = RunBudget(prepared.prices or price_book(), prepared.max_cost_usd, run_id=run_id)
    try:
        if records:  # a resume: the nodes finished before count against the budget
            budget.spent_usd = total_cost(records) or 0.0
        with using_budget(budget), running_run(run_id, prepared.models, observe):
            async for chunk in app.astream(prepared.initial, config, stream_mode="values", **options):
                latest = chunk
    except asyncio.CancelledError:
        task = asyncio.current_task()
        if task is not None:
            task.uncancel()
        status = "cancelled"
        where = f"while node {running[-1]!r} was running" if running else "between nodes"
        error = RunErrorInfo(
            running[-1] if running else None,
            RunCancelled.__name__,
            f"run {run_id!r} was cancelled {where}; the state before that node is kept.",
            f"Resume it with: configurable-agents run --resume {run_id}",
            RunCancelled.category,
        )
    except Exception as exc:  # every failure becomes a failed result, never a traceback
        status = "failed"
        error = error_info(exc, failed_record.id if failed_record else None)
    if checkpointer is not None and (status != "success" or latest is None):
        latest = (await app.aget_state(config)).values  # the state of the last checkpoint
    if failed_record is not None:
        records.append(failed_record)
    state = _public(latest or {})
    outputs = {name: state.get(name) for name in _written_fields(workflow) if name in state}
    return RunResult(
        run_id=run_id,
        workflow_name=workflow.flow.name,
        status=status,  # type: ignore[arg-type]
        state=state,
        outputs=outputs if status == "success" else {},
        nodes=records,
        error=error,
        notices=list(prepared.notices),
    )


# -- the seed's public API, through the run service ----------------------------------------


def _service(store_path: str | os.PathLike[str] | None) -> Any:
    from agents_core.runs.service import default_service

    return default_service(store_path=store_path)


def _start_options(options: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
    store_path = options.pop("store_path", None)
    return _service(store_path), options


def stream_run(source: Any, inputs: Mapping[str, Any] | None = None, **options: Any) -> Iterator[RunEvent]:
    """The events of a new run, for synchronous code (CLI, Streamlit).

    Checks raise at the first ``next()``, before any event. Stopping to read
    does not stop the run; Ctrl+C while waiting for an event cancels it (and re-raises).
    """
    service, options = _start_options(options)
    handle = service.start(source, inputs, **options)
    yield from handle.follow(cancel_on_interrupt=True)


def stream_resume(run_id: str, **options: Any) -> Iterator[RunEvent]:
    """The events of a resumed run (only this execution's), for synchronous code."""
    service, options = _start_options(options)
    after = service.store.last_seq(run_id)
    handle = service.resume(run_id, **options)  # max_cost_usd: a higher budget to continue with
    yield from handle.follow(after_seq=after, cancel_on_interrupt=True)


async def astream_run(source: Any, inputs: Mapping[str, Any] | None = None, **options: Any) -> AsyncIterator[RunEvent]:
    """Run a workflow, yielding ``run_started``, node events and ``run_finished``.

    Raises before any event for what can be checked up front: an invalid
    workflow (``ValidationFailed``), bad inputs (``InputError``), a provider
    that cannot be used (``ProviderError``).
    """
    service, options = _start_options(options)
    handle = await service.astart(source, inputs, **options)
    async for event in service.aevents(handle.run_id):
        yield event


async def astream_resume(run_id: str, **options: Any) -> AsyncIterator[RunEvent]:
    """Continue a failed, cancelled or interrupted run from its last checkpoint; finished nodes are not called again."""
    service, options = _start_options(options)
    after = service.store.last_seq(run_id)
    handle = await service.aresume(run_id, **options)
    async for event in service.aevents(handle.run_id, after_seq=after):
        yield event


def _last_result(events: Iterator[RunEvent]) -> RunResult:
    result = None
    for event in events:
        if isinstance(event, RunFinished):
            result = event.result
    assert result is not None
    return result


async def _alast_result(events: AsyncIterator[RunEvent]) -> RunResult:
    result = None
    async for event in events:
        if isinstance(event, RunFinished):
            result = event.result
    assert result is not None
    return result


def run_workflow(source: Any, inputs: Mapping[str, Any] | None = None, **options: Any) -> RunResult:
    """Run a workflow to the end and return its result (failures are results, not exceptions)."""
    return _last_result(stream_run(source, inputs, **options))


async def arun_workflow(source: Any, inputs: Mapping[str, Any] | None = None, **options: Any) -> RunResult:
    return await _alast_result(astream_run(source, inputs, **options))


def resume_run(run_id: str, **options: Any) -> RunResult:
    return _last_result(stream_resume(run_id, **options))


async def aresume_run(run_id: str, **options: Any) -> RunResult:
    return await _alast_result(astream_resume(run_id, **options))
