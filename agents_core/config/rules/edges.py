"""Rules 4 and 5 for edges: endpoints, route conditions, and the graph's shape.

The graph rules work on a small adjacency model built from the edges that
could be read: every node needs exactly one outgoing block (a linear edge,
a routes block or a parallel fan-out), START one entry, every node must be
reachable from START and able to reach END, and loops must go through a
conditional route (a cycle of plain edges could never stop).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import Any

from agents_core.config.conditions import (
    Compare,
    ConditionSyntaxError,
    Default,
    Literal,
    StateRef,
    iter_nodes,
    parse_condition,
)
from agents_core.config.loader import PathKey, format_path
from agents_core.config.migrate import SeedEdge, plan_seed_edges
from agents_core.config.rules.context import Context, did_you_mean, known
from agents_core.config.rules.nodes import check_state_path
from agents_core.config.types import TypeRef

START, END = "START", "END"
_SCALARS = {"str": str, "int": int, "float": float, "bool": bool}


@dataclass
class _Graph:
    """Who follows whom; ``plain`` holds the edges that are not conditional."""

    successors: dict[str, set[str]] = field(default_factory=dict)
    plain: dict[str, list[tuple[str, PathKey]]] = field(default_factory=dict)
    blocks: dict[str, PathKey] = field(default_factory=dict)
    branch_of: dict[str, PathKey] = field(default_factory=dict)
    #: Some edge could not be read (bad shape, unknown endpoint): then "unreachable",
    #: "dead end" and "no way to END" cannot be judged, and are not reported.
    incomplete: bool = False

    def link(self, source: str, target: str, path: PathKey, conditional: bool) -> None:
        self.successors.setdefault(source, set()).add(target)
        if not conditional:
            self.plain.setdefault(source, []).append((target, path))


def check_edges(ctx: Context) -> None:
    if not ctx.nodes_readable or not isinstance(ctx.data.get("edges"), list):
        return  # the shape check reported it; endpoints cannot be judged without nodes
    graph = _Graph()
    graph.incomplete = any(not isinstance(edge, dict) for edge in ctx.data["edges"])
    seed_edges = {plan.index: plan for plan in plan_seed_edges(ctx.data)}
    for index, edge in ctx.edges():
        path: PathKey = ("edges", index)
        if index in seed_edges:
            _report_seed_edge(ctx, path, seed_edges[index])
            graph.incomplete = True
            continue
        source = edge.get("from")
        if not isinstance(source, str):
            graph.incomplete = True
            continue
        source_ok = _check_source(ctx, path, source)
        graph.incomplete |= not source_ok
        kinds = [k for k in ("to", "routes", "parallel") if edge.get(k) is not None]
        if len(kinds) != 1:
            _report_shape(ctx, path, kinds)
            graph.incomplete = True
            continue
        if "join" in edge and kinds != ["parallel"]:
            ctx.add(
                "E-EDGE-SHAPE",
                (*path, "join"),
                "`join` belongs to a parallel fan-out, but this edge has no `parallel`.",
                "Remove `join`, or add `parallel: [...]`.",
                at_key=True,
            )
        if source_ok:
            _claim_block(ctx, graph, source, path)
        links: list[tuple[str, str, PathKey, bool]] = []
        kind = kinds[0]
        if kind == "to":
            target = edge["to"]
            if isinstance(target, str) and _check_target(ctx, (*path, "to"), target):
                links.append((source, target, (*path, "to"), False))
            else:
                graph.incomplete = True
        elif kind == "routes":
            _check_routes(ctx, graph, links, path, source, edge["routes"])
        else:
            _check_parallel(ctx, graph, links, path, source, edge)
        if source_ok:
            for link in links:
                graph.link(*link)
    _check_graph(ctx, graph)


def _report_seed_edge(ctx: Context, path: PathKey, plan: SeedEdge) -> None:
    """A `loop:` edge or a `to: [a, b]` fork of the seed project: the hint gives our exact equivalent."""
    if plan.kind == "loop":
        ctx.add(
            "E-EDGE-SEED-LOOP",
            (*path, "loop"),
            "`loop:` edges are the seed project's form; here a loop is a route that goes back to the node.",
            plan.hint(),
            at_key=True,
        )
    else:
        ctx.add(
            "E-EDGE-SEED-FORK",
            (*path, "to"),
            "`to` names one node; a list of nodes is the seed project's fork. Here a fan-out is "
            "`parallel: [...]` with a `join` node.",
            plan.hint(),
        )


def _report_shape(ctx: Context, path: PathKey, kinds: list[str]) -> None:
    if kinds:
        message = f"an edge has {' and '.join(repr(k) for k in kinds)}; give exactly one of them."
    else:
        message = "an edge needs one of `to`, `routes` or `parallel`."
    ctx.add(
        "E-EDGE-SHAPE",
        path,
        message,
        "Linear: {from: a, to: b}. Conditional: {from: a, routes: [...]}. Fan-out: {from: a, parallel: [b, c], join: d}.",
    )


def _check_source(ctx: Context, path: PathKey, source: str) -> bool:
    if source == START:
        return True
    if source == END:
        ctx.add("E-EDGE-FROM-END", (*path, "from"), "an edge cannot leave END.", "Remove this edge.")
        return False
    if source not in ctx.node_ids:
        _unknown_node(ctx, (*path, "from"), source)
        return False
    return True


def _check_target(ctx: Context, path: PathKey, target: str, allow_end: bool = True) -> bool:
    if target == END and allow_end:
        return True
    if target == START:
        ctx.add("E-EDGE-TO-START", path, "no edge can enter START.", "Point the edge at a node or END.")
        return False
    if target not in ctx.node_ids:
        _unknown_node(ctx, path, target, allow_end)
        return False
    return True


def _unknown_node(ctx: Context, path: PathKey, name: str, with_end: bool = True) -> None:
    names = list(ctx.node_ids)
    extra = [START, END] if with_end else []
    ctx.add(
        "E-EDGE-UNKNOWN-NODE",
        path,
        f"{name!r} is not a node.{did_you_mean(name, names + extra)} {known(names, 'Nodes')}",
        "Use a node id from `nodes`, or START / END.",
    )


def _claim_block(ctx: Context, graph: _Graph, source: str, path: PathKey) -> None:
    """A node owns exactly one outgoing block; a second one is an error."""
    if source in graph.blocks:
        first = graph.blocks[source]
        code = "E-GRAPH-ENTRY" if source == START else "E-GRAPH-MULTI-OUT"
        what = (
            "START has more than one entry edge" if source == START else f"node {source!r} has a second outgoing edge"
        )
        ctx.add(
            code,
            (*path, "from"),
            f"{what} (the first is edges[{first[1]}]).",
            "Merge them into one `routes` block for a choice, or one `parallel` block to run both.",
        )
        return
    graph.blocks[source] = path


def _check_routes(ctx: Context, graph: _Graph, links: list[Any], path: PathKey, source: str, routes: Any) -> None:
    if not isinstance(routes, list):
        graph.incomplete = True
        return
    default_seen = False
    unreadable = False
    for position, route in enumerate(routes):
        route_path = (*path, "routes", position)
        if not isinstance(route, dict):
            unreadable = graph.incomplete = True
            continue
        condition = route.get("condition")
        logic = condition.get("logic") if isinstance(condition, dict) else None
        if not isinstance(logic, str):
            unreadable = True  # reported by the shape check; whether it is `default` is unknown
        else:
            logic_path = (*route_path, "condition", "logic")
            is_default = _check_condition(ctx, logic_path, logic)
            if is_default:
                if position != len(routes) - 1:
                    ctx.add(
                        "E-ROUTE-DEFAULT-POSITION",
                        logic_path,
                        "the `default` route must be the last one; routes after it are never taken.",
                        "Move the default route to the end of the list.",
                    )
                default_seen = True
        target = route.get("to")
        if isinstance(target, str) and _check_target(ctx, (*route_path, "to"), target):
            links.append((source, target, (*route_path, "to"), True))
        else:
            graph.incomplete = True
    if routes and not default_seen and not unreadable:
        ctx.add(
            "E-ROUTE-NO-DEFAULT",
            (*path, "routes"),
            "these routes have no `default`, so a state matching none of them would stop the run.",
            "Add a last route: {condition: {logic: default}, to: <node or END>}.",
            at_key=True,
        )


def _check_condition(ctx: Context, path: PathKey, logic: str) -> bool:
    """Parse one condition and check its references; returns whether it is `default`."""
    try:
        tree = parse_condition(logic)
    except ConditionSyntaxError as exc:
        ctx.add_in_text("E-COND-SYNTAX", path, logic, exc.offset, 1, f"condition: {exc.message}", exc.hint)
        return logic.strip() == "default"
    if isinstance(tree, Default):
        return True
    types: dict[int, TypeRef | None] = {}
    for node in iter_nodes(tree):
        if isinstance(node, StateRef):
            types[id(node)] = check_state_path(ctx, path, logic, node.offset, node.text, node.path)
    for node in iter_nodes(tree):
        if isinstance(node, Compare):
            _check_comparison(ctx, path, logic, node, types)
    return False


def _check_comparison(ctx: Context, path: PathKey, logic: str, node: Compare, types: dict[int, TypeRef | None]) -> None:
    for ref, literal in ((node.left, node.right), (node.right, node.left)):
        if not (isinstance(ref, StateRef) and isinstance(literal, Literal)) or literal.value is None:
            continue
        declared = types.get(id(ref))
        if declared is None or declared.name not in _SCALARS:
            continue
        value = literal.value
        numeric = declared.name in ("int", "float")
        fits = (
            (numeric and isinstance(value, int | float) and not isinstance(value, bool))
            or (declared.name == "str" and isinstance(value, str))
            or (declared.name == "bool" and isinstance(value, bool))
        )
        if not fits:
            ctx.add_in_text(
                "E-COND-TYPE",
                path,
                logic,
                literal.offset,
                1,
                f"{ref.text} is {declared}, but it is compared with {value!r}; this can never be true.",
                f"Compare with a {declared} value (strings are quoted, numbers are not).",
            )


def _check_parallel(
    ctx: Context, graph: _Graph, links: list[Any], path: PathKey, source: str, edge: dict[str, Any]
) -> None:
    branches = [b for b in edge["parallel"] if isinstance(b, str)] if isinstance(edge["parallel"], list) else []
    join = edge.get("join")
    if len(branches) != len(edge["parallel"]) if isinstance(edge["parallel"], list) else True:
        graph.incomplete = True
    if len(branches) < 2:
        ctx.add(
            "E-EDGE-SHAPE",
            (*path, "parallel"),
            "a parallel fan-out needs at least two branches.",
            "List two or more node ids, or use a linear edge `to:`.",
        )
    if join is None:
        ctx.add(
            "E-EDGE-SHAPE",
            path,
            "a parallel fan-out needs a `join` node that runs when every branch is done.",
            "Add `join: <node id>`.",
        )
    join_ok = isinstance(join, str) and _check_target(ctx, (*path, "join"), join, allow_end=False)
    graph.incomplete |= not join_ok
    writes: dict[str, str] = {}
    for position, branch in enumerate(branches):
        branch_path = (*path, "parallel", position)
        if not _check_target(ctx, branch_path, branch, allow_end=False):
            graph.incomplete = True
            continue
        links.append((source, branch, branch_path, False))
        graph.branch_of[branch] = branch_path
        if join_ok:
            links.append((branch, str(join), (*path, "join"), False))
        for written in _outputs_of(ctx, branch):
            if written in writes and writes[written] != branch:
                ctx.add(
                    "E-PARALLEL-CONFLICT",
                    branch_path,
                    f"parallel branches {writes[written]!r} and {branch!r} both write state field {written!r}.",
                    "Let each branch write its own fields and combine them in the join node.",
                )
            writes.setdefault(written, branch)


def _outputs_of(ctx: Context, node_id: str) -> list[str]:
    index = ctx.node_ids.get(node_id)
    if index is None:
        return []
    outputs = ctx.data["nodes"][index].get("outputs")
    return [o for o in outputs if isinstance(o, str)] if isinstance(outputs, list) else []


def _check_graph(ctx: Context, graph: _Graph) -> None:
    if START not in graph.blocks and not graph.incomplete:
        ctx.add(
            "E-GRAPH-ENTRY",
            ("edges",),
            "no edge leaves START, so the workflow has no first node.",
            "Add {from: START, to: <first node>}.",
            at_key=True,
        )
    for branch, branch_path in graph.branch_of.items():
        own = graph.blocks.get(branch)
        if own is not None:
            ctx.add(
                "E-PARALLEL-BRANCH-EDGE",
                (*own, "from"),
                f"{branch!r} is a parallel branch (at {format_path(branch_path)}); it continues to the join, "
                "so it cannot have an outgoing edge of its own.",
                "Remove this edge; put later steps after the join node.",
            )
    reachable = _walk(START, graph.successors)
    predecessors: dict[str, set[str]] = {}
    for source, targets in graph.successors.items():
        for target in targets:
            predecessors.setdefault(target, set()).add(source)
    reaches_end = _walk(END, predecessors)
    for node_id, index in ctx.node_ids.items() if not graph.incomplete else ():
        id_path = ("nodes", index, "id")
        if node_id not in reachable and START in graph.blocks:
            ctx.add(
                "E-GRAPH-UNREACHABLE",
                id_path,
                f"node {node_id!r} can never run: no path from START leads to it.",
                f"Add an edge into {node_id!r}, or remove the node.",
            )
        if node_id not in graph.blocks and node_id not in graph.branch_of:
            ctx.add(
                "E-GRAPH-DEAD-END",
                id_path,
                f"node {node_id!r} has no outgoing edge.",
                f"Add {{from: {node_id}, to: END}} or an edge to the next node.",
            )
        elif node_id not in reaches_end:
            ctx.add(
                "E-GRAPH-NO-END",
                id_path,
                f"from node {node_id!r} no path leads to END, so a run that gets there never finishes.",
                "Add a route (usually `default`) that leads towards END.",
            )
    _check_plain_cycles(ctx, graph)


def _walk(start: str, links: dict[str, set[str]]) -> set[str]:
    seen = {start}
    queue = deque([start])
    while queue:
        for nxt in links.get(queue.popleft(), ()):
            if nxt not in seen:
                seen.add(nxt)
                queue.append(nxt)
    return seen


def _check_plain_cycles(ctx: Context, graph: _Graph) -> None:
    """Report each plain edge that closes a cycle of plain edges (iterative DFS)."""
    color: dict[str, int] = {}
    for root in list(graph.plain):
        if color.get(root):
            continue
        stack: list[tuple[str, int]] = [(root, 0)]
        color[root] = 1
        while stack:
            node, position = stack[-1]
            out = graph.plain.get(node, [])
            if position >= len(out):
                color[node] = 2
                stack.pop()
                continue
            stack[-1] = (node, position + 1)
            target, path = out[position]
            state = color.get(target, 0)
            if state == 1:
                loop = [n for n, _ in stack[next(i for i, (n, _) in enumerate(stack) if n == target) :]]
                ctx.add(
                    "E-GRAPH-CYCLE",
                    path,
                    f"the plain edges {' -> '.join([*loop, target])} form a loop that can never stop.",
                    "Loop back through a conditional route (with a `default` that leaves the loop).",
                )
            elif state == 0:
                color[target] = 1
                stack.append((target, 0))
