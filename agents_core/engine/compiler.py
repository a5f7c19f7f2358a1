"""Workflow -> LangGraph ``StateGraph``.

One graph node per workflow node; linear edges; routes through the
condition evaluator; parallel fan-out with a join that waits for every
branch (LangGraph runs the branches of one step concurrently); loops bounded
by ``max_loop_iterations``. Besides the declared fields the state carries two
bookkeeping channels: how often each node ran (for the loop bound) and the
records of finished nodes (so a resumed run still reports them).
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from typing import Annotated, Any, TypedDict

from agents_core.config.conditions import ConditionEvalError, Default, evaluate, parse_condition
from agents_core.config.models import Workflow
from agents_core.engine.events import NodeFailed, NodeFinished, NodeRetried, NodeStarted, RunErrorInfo
from agents_core.engine.node import NodePlan, execute_node
from agents_core.errors import LoopLimitExceeded, RunError

__all__ = ["DURABILITY", "LoopLimitExceeded", "build_graph", "recursion_limit", "state_schema"]

VISITS = "__visits__"
RECORDS = "__records__"
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
    from agents_core.engine.state import state_fields

    fields: dict[str, Any] = {name: spec.type.python_type() for name, spec in state_fields(workflow).items()}
    fields[VISITS] = Annotated[dict, _add_counts]
    fields[RECORDS] = Annotated[list, operator.add]
    return TypedDict("WorkflowState", fields)  # type: ignore[operator]


def max_loops(workflow: Workflow) -> int:
    execution = workflow.config.execution if workflow.config and workflow.config.execution else None
    return execution.max_loop_iterations if execution else 10


def recursion_limit(workflow: Workflow) -> int:
    """LangGraph's step limit, high enough that our own loop bound always trips first."""
    return (len(workflow.nodes) + 2) * (max_loops(workflow) + 2) + 10


def _node_function(plan: NodePlan, run_id: str, model_for: Callable[[NodePlan], Any]) -> Callable[..., Any]:
    async def run(state: dict[str, Any]) -> dict[str, Any]:
        from langgraph.config import get_stream_writer

        emit = get_stream_writer()
        emit(NodeStarted(run_id, plan.id, plan.llm.provider, plan.llm.model))

        def retried(attempt: int, reason: str, delay: float) -> None:
            emit(NodeRetried(run_id, plan.id, attempt, reason, delay))

        try:
            updates, record = await execute_node(plan, state, model_for(plan), retried)
        except RunError as exc:
            if exc.record is not None:
                info = RunErrorInfo(plan.id, type(exc).__name__, exc.message, exc.hint, exc.category)
                emit(NodeFailed(run_id, exc.record, info))
            raise
        emit(NodeFinished(run_id, record))
        return {**updates, VISITS: {plan.id: 1}, RECORDS: [_record_dict(record)]}

    run.__name__ = f"node_{plan.id}"
    return run


def _record_dict(record: Any) -> dict[str, Any]:
    from dataclasses import asdict

    return asdict(record)


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
    workflow: Workflow, plans: dict[str, NodePlan], run_id: str, model_for: Callable[[NodePlan], Any]
) -> Any:
    """The (uncompiled) LangGraph ``StateGraph`` of a validated workflow."""
    from langgraph.graph import END, START, StateGraph

    names = {"START": START, "END": END}
    graph = StateGraph(state_schema(workflow))
    for node in workflow.nodes:
        graph.add_node(node.id, _node_function(plans[node.id], run_id, model_for))
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
