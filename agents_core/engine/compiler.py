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
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
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
    "loop_targets",
    "recursion_limit",
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


class _NodeRunner:
    """One graph node: run the plan, report its events, return its updates and its record.

    ``emit`` is called directly (in order, from the run's task) when given; else the
    events go through LangGraph's custom stream.
    """

    def __init__(
        self,
        plan: NodePlan,
        run_id: str,
        model: Any,
        emit: Callable[[Any], None] | None,
        counted: bool,
    ) -> None:
        self.plan, self.run_id, self.model, self.emit, self.counted = plan, run_id, model, emit, counted
        self.__name__ = f"node_{plan.id}"

    def _retried(self, emit: Callable[[Any], None]) -> Callable[[int, str, float], None]:
        def retried(attempt: int, reason: str, delay: float) -> None:
            emit(NodeRetried(self.run_id, self.plan.id, attempt, reason, delay))

        return retried

    async def __call__(self, state: dict[str, Any]) -> dict[str, Any]:
        plan, run_id = self.plan, self.run_id
        emit = self.emit
        if emit is None:
            from langgraph.config import get_stream_writer

            emit = get_stream_writer()
        emit(NodeStarted(run_id, plan.id, plan.llm.provider, plan.llm.model))
        try:
            updates, record = await execute_node(plan, state, self.model, self._retried(emit))
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
    run_id: str,
    model_for: Callable[[NodePlan], Any],
    emit: Callable[[Any], None] | None = None,
) -> Any:
    """The (uncompiled) LangGraph ``StateGraph`` of a validated workflow.

    ``emit`` receives the node events directly; without it they go to LangGraph's custom stream.
    """
    from langgraph.graph import END, START, StateGraph

    names = {"START": START, "END": END}
    graph = StateGraph(state_schema(workflow))
    counted = loop_targets(workflow)
    for node in workflow.nodes:
        plan = plans[node.id]
        graph.add_node(node.id, _NodeRunner(plan, run_id, model_for(plan), emit, node.id in counted))
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
