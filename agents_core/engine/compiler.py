"""Workflow -> LangGraph ``StateGraph``.

One graph node per workflow node; linear edges; routes through the
condition evaluator; parallel fan-out with a join that waits for every
branch (LangGraph runs the branches of one step concurrently); loops bounded
by ``max_loop_iterations``. Besides the declared fields the state carries two
bookkeeping channels: how often each node that a route can lead back to ran
(for the loop bound), and the records of the nodes that finished in the last
step. The records channel is a LangGraph ``Topic`` that empties after every
step, so each checkpoint holds only its own step's records and its size does
not grow with the run; a resume gathers the earlier ones from the checkpoint
history (:func:`checkpointed_records`).

A node is a small callable object rather than a closure: LangGraph inspects a
closure's bytecode for subgraphs at every compile, a cost per node per run.

Compiling costs more than a short run itself, so :func:`compiled_graph` keeps
the compiled graph of each workflow (LRU) and every run reuses it: nodes built
for it hold nothing of one run; the run's id, its ``emit`` and its models
reach them through a context variable (:func:`running`) that ``execute`` sets
in the run's task (LangGraph's node tasks inherit it).
"""

from __future__ import annotations

import contextlib
import contextvars
import inspect
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterator
from dataclasses import dataclass
from typing import Annotated, Any, TypedDict, get_type_hints

from agents_core.config.conditions import ConditionEvalError, Default, evaluate, parse_condition
from agents_core.config.models import Workflow
from agents_core.engine.events import NodeFailed, NodeFinished, NodeRetried, NodeStarted, RunErrorInfo
from agents_core.engine.node import NodePlan, execute_node
from agents_core.errors import LoopLimitExceeded, RunError

__all__ = [
    "DURABILITY",
    "LoopLimitExceeded",
    "build_graph",
    "checkpointed_records",
    "compiled_graph",
    "loop_targets",
    "recursion_limit",
    "running",
    "state_schema",
]

VISITS = "__visits__"
#: The records of the nodes that finished in the last step (emptied after every step).
RECORDS = "__step_records__"
#: Where checkpoints written before records moved out of the state kept every record so far.
LEGACY_RECORDS = "__records__"
BOOKKEEPING = (VISITS, RECORDS, LEGACY_RECORDS)
#: LangGraph writes each checkpoint before the next step starts: a kill -9 mid-node never
#: loses the node before it (with "async" the last checkpoint can be lost and a paid node run again).
DURABILITY = "sync"


def _add_counts(left: dict[str, int] | None, right: dict[str, int] | None) -> dict[str, int]:
    merged = dict(left or {})
    for key, value in (right or {}).items():
        merged[key] = merged.get(key, 0) + value
    return merged


def state_schema(workflow: Workflow) -> type:
    """A TypedDict of the declared fields (typed by their type strings) plus the bookkeeping channels.

    Values are checked where they enter (run inputs, node outputs against their
    pydantic output models); the annotations make the graph's own schema
    (``get_input_jsonschema``) describe the workflow's state.
    """
    from langgraph.channels.topic import Topic

    from agents_core.engine.state import state_fields

    fields: dict[str, Any] = {name: spec.type.python_type() for name, spec in state_fields(workflow).items()}
    fields[VISITS] = Annotated[dict, _add_counts]
    fields[RECORDS] = Annotated[list, Topic(dict, accumulate=False)]
    return TypedDict("WorkflowState", fields)  # type: ignore[operator]


def loop_targets(workflow: Workflow) -> frozenset[str]:
    """The nodes a route leads to: the only ones whose runs the loop bound counts."""
    return frozenset(route.to for edge in workflow.edges for route in edge.routes or ())


def max_loops(workflow: Workflow) -> int:
    execution = workflow.config.execution if workflow.config and workflow.config.execution else None
    return execution.max_loop_iterations if execution else 10


def recursion_limit(workflow: Workflow) -> int:
    """LangGraph's step limit, high enough that our own loop bound always trips first."""
    return (len(workflow.nodes) + 2) * (max_loops(workflow) + 2) + 10


@dataclass(frozen=True)
class _Run:
    """What a shared graph's nodes take from the run they execute for."""

    run_id: str
    model_for: Callable[[NodePlan], Any]
    emit: Callable[[Any], None] | None


_RUN: contextvars.ContextVar[_Run | None] = contextvars.ContextVar("configurable_agents_run", default=None)


@contextlib.contextmanager
def running(run_id: str, model_for: Callable[[NodePlan], Any], emit: Callable[[Any], None] | None) -> Iterator[None]:
    """The run whose id, models and ``emit`` the nodes of a :func:`compiled_graph` use, within this context."""
    token = _RUN.set(_Run(run_id, model_for, emit))
    try:
        yield
    finally:
        _RUN.reset(token)


class _NodeRunner:
    """One graph node: run the plan, report its events, return its updates and its record.

    ``emit`` is called directly (in order, from the run's task) when given; else the
    events go through LangGraph's custom stream. A node of a shared graph
    (``run_id`` ``None``) takes the run's id, model and ``emit`` from :func:`running`.
    """

    def __init__(
        self,
        plan: NodePlan,
        run_id: str | None,
        model: Any,
        emit: Callable[[Any], None] | None,
        counted: bool,
    ) -> None:
        self.plan, self.run_id, self.model, self.emit, self.counted = plan, run_id, model, emit, counted
        self.__name__ = f"node_{plan.id}"

    def _retried(self, run_id: str, emit: Callable[[Any], None]) -> Callable[[int, str, float], None]:
        def retried(attempt: int, reason: str, delay: float) -> None:
            emit(NodeRetried(run_id, self.plan.id, attempt, reason, delay))

        return retried

    async def __call__(self, state: dict[str, Any]) -> dict[str, Any]:
        plan, run_id, model, emit = self.plan, self.run_id, self.model, self.emit
        if run_id is None:
            run = _RUN.get()
            if run is None:
                raise RunError(f"node {plan.id!r} of a shared graph ran outside a run.", "Run it through execute().")
            run_id, model, emit = run.run_id, run.model_for(plan), run.emit
        if emit is None:
            from langgraph.config import get_stream_writer

            emit = get_stream_writer()
        emit(NodeStarted(run_id, plan.id, plan.llm.provider, plan.llm.model))
        try:
            updates, record = await execute_node(plan, state, model, self._retried(run_id, emit))
        except RunError as exc:
            if exc.record is not None:
                info = RunErrorInfo(plan.id, type(exc).__name__, exc.message, exc.hint, exc.category)
                emit(NodeFailed(run_id, exc.record, info))
            raise
        emit(NodeFinished(run_id, record))
        written = {**updates, RECORDS: dict(vars(record))}  # a shallow copy: asdict's deep copy costs per node
        if self.counted:
            written[VISITS] = {plan.id: 1}
        return written


# LangGraph reads a node's type hints and signature at every ``add_node`` (twice for a callable
# object); both are worked out once here instead of from strings and bound methods each time.
_NodeRunner.__call__.__annotations__ = get_type_hints(_NodeRunner.__call__)
_call_signature = inspect.signature(_NodeRunner.__call__)
_NodeRunner.__signature__ = _call_signature.replace(parameters=list(_call_signature.parameters.values())[1:])  # type: ignore[attr-defined]


async def checkpointed_records(checkpointer: Any, config: dict[str, Any]) -> list[dict[str, Any]]:
    """The records of every node whose result is in the run's checkpoints, oldest first.

    Each checkpoint holds its own step's records (and the latest one the pending
    writes of branches that finished in a step that did not); a checkpoint written
    before records left the state holds all of them in the legacy channel.
    """
    tuples = [item async for item in checkpointer.alist(config)]  # newest first
    records: list[dict[str, Any]] = []
    for item in reversed(tuples):
        values = item.checkpoint.get("channel_values", {})
        legacy = values.get(LEGACY_RECORDS)
        if legacy:
            records = list(legacy)  # it held every record up to this checkpoint
        records += list(values.get(RECORDS) or ())
    if tuples:
        records += [value for _task, channel, value in tuples[0].pending_writes or () if channel == RECORDS]
    return records


def _router(source: str, routes: list[tuple[Any, str]], limit: int) -> Callable[[dict[str, Any]], str]:
    def route(state: dict[str, Any]) -> str:
        for condition, target in routes:
            try:
                chosen = isinstance(condition, Default) or evaluate(condition, state)
            except ConditionEvalError as exc:
                raise RunError(f"route from {source!r}: {exc}", "Fix the condition or the values it reads.") from None
            if not chosen:
                continue
            visits = state.get(VISITS, {}).get(target, 0)
            if target != "END" and visits > limit:
                raise LoopLimitExceeded(
                    f"the loop {source} -> {target} reached config.execution.max_loop_iterations ({limit}): "
                    f"{target!r} already ran {visits} times.",
                    "Raise max_loop_iterations, or make the route's condition reachable sooner.",
                )
            return target
        raise RunError(f"no route from {source!r} matched the state.", "End the routes with a `default` route.")

    route.__name__ = f"route_{source}"
    return route


def build_graph(
    workflow: Workflow,
    plans: dict[str, NodePlan],
    run_id: str | None,
    model_for: Callable[[NodePlan], Any] | None,
    emit: Callable[[Any], None] | None = None,
) -> Any:
    """The (uncompiled) LangGraph ``StateGraph`` of a validated workflow.

    ``emit`` receives the node events directly; without it they go to LangGraph's custom stream.
    With ``run_id`` ``None`` the graph belongs to no run: its nodes read the run from :func:`running`.
    """
    from langgraph.graph import END, START, StateGraph

    names = {"START": START, "END": END}
    graph = StateGraph(state_schema(workflow))
    counted = loop_targets(workflow)
    for node in workflow.nodes:
        plan = plans[node.id]
        model = model_for(plan) if run_id is not None and model_for is not None else None
        graph.add_node(node.id, _NodeRunner(plan, run_id, model, emit, node.id in counted))
    limit = max_loops(workflow)
    for edge in workflow.edges:
        source = names.get(edge.from_, edge.from_)
        if edge.to is not None:
            graph.add_edge(source, names.get(edge.to, edge.to))
        elif edge.routes is not None:
            routes = [(parse_condition(route.condition.logic), route.to) for route in edge.routes]
            targets = {route.to: names.get(route.to, route.to) for route in edge.routes}
            graph.add_conditional_edges(source, _router(edge.from_, routes, limit), targets)
        elif edge.parallel is not None:
            for branch in edge.parallel:
                graph.add_edge(source, branch)
            if edge.join is not None:
                graph.add_edge(list(edge.parallel), edge.join)
    return graph


#: Compiled graphs kept for reuse (a server serves one workflow; a workbench a few).
_COMPILED_SIZE = 32
_compiled: OrderedDict[Hashable, Any] = OrderedDict()
_compiled_lock = threading.Lock()


def compiled_graph(key: Hashable, workflow: Workflow, plans: dict[str, NodePlan]) -> Any:
    """The workflow's graph compiled without a checkpointer, shared by every run with the same ``key``.

    ``key`` must name everything the plans hold (the workflow's text, the overrides,
    each node's resolved model); per run, ``execute`` lends the graph its
    checkpointer (``copy``) and its run through :func:`running`.
    """
    with _compiled_lock:
        app = _compiled.get(key)
        if app is not None:
            _compiled.move_to_end(key)
            return app
    app = build_graph(workflow, plans, None, None).compile()
    with _compiled_lock:
        _compiled[key] = app
        while len(_compiled) > _COMPILED_SIZE:
            _compiled.popitem(last=False)
    return app


#: Compiled graphs lent a checkpointer, by (graph, checkpointer); both are held, so their ids stay theirs.
_lent: OrderedDict[tuple[int, int], tuple[Any, Any, Any]] = OrderedDict()


def with_checkpointer(app: Any, checkpointer: Any) -> Any:
    """``app`` writing its checkpoints to ``checkpointer``, made once per pair.

    Why: the runs of a loop share one checkpointer (:mod:`agents_core.runs.savers`), and
    LangGraph's ``copy`` validates and deep-copies the graph's specs, which cost a server
    more per run than the rest of starting the graph.
    """
    key = (id(app), id(checkpointer))
    with _compiled_lock:
        held = _lent.get(key)
        if held is not None:
            _lent.move_to_end(key)
            return held[2]
    lent = app.copy({"checkpointer": checkpointer})
    with _compiled_lock:
        _lent[key] = (app, checkpointer, lent)
        while len(_lent) > _COMPILED_SIZE:
            _lent.popitem(last=False)
    return lent
