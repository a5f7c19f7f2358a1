"""A picture of the flow: Graphviz DOT text drawn from the parsed file.

It reads the *raw* data, not the validated model, so a file with errors is
still drawn as far as it can be: edges to unknown nodes appear as red dashed
boxes, and nodes that have problems are outlined in red. The DOT text is
rendered in the browser by Streamlit's built-in graphviz chart (no system
graphviz), and tests snapshot it so a change to the picture is a visible diff.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

START, END = "START", "END"
MAX_LABEL = 40


@dataclass(frozen=True)
class FlowEdge:
    source: str
    target: str
    kind: str  # "linear" | "route" | "parallel" | "join"
    label: str = ""


@dataclass
class FlowGraph:
    """Nodes in file order and the edges between them (START/END included)."""

    nodes: list[str] = field(default_factory=list)
    edges: list[FlowEdge] = field(default_factory=list)
    unknown: set[str] = field(default_factory=set)


def build_flow_graph(data: Any) -> FlowGraph:
    """Read nodes and edges from raw workflow data, skipping what cannot be read."""
    graph = FlowGraph()
    if not isinstance(data, dict):
        return graph
    nodes = data.get("nodes")
    for node in nodes if isinstance(nodes, list) else []:
        if isinstance(node, dict) and isinstance(node.get("id"), str) and node["id"] not in graph.nodes:
            graph.nodes.append(node["id"])
    known = {*graph.nodes, START, END}

    def add(source: Any, target: Any, kind: str, label: str = "") -> None:
        if not isinstance(source, str) or not isinstance(target, str):
            return
        for name in (source, target):
            if name not in known:
                graph.unknown.add(name)
        graph.edges.append(FlowEdge(source, target, kind, label))

    edges = data.get("edges")
    for edge in edges if isinstance(edges, list) else []:
        if not isinstance(edge, dict):
            continue
        source = edge.get("from")
        if edge.get("to") is not None:
            add(source, edge["to"], "linear")
        if isinstance(edge.get("routes"), list):
            for route in edge["routes"]:
                if isinstance(route, dict):
                    add(source, route.get("to"), "route", _condition_label(route.get("condition")))
        if isinstance(edge.get("parallel"), list):
            for branch in edge["parallel"]:
                add(source, branch, "parallel")
                if edge.get("join") is not None:
                    add(branch, edge["join"], "join")
    return graph


def _condition_label(condition: Any) -> str:
    logic = condition.get("logic") if isinstance(condition, dict) else None
    if not isinstance(logic, str):
        return "?"
    text = " ".join(logic.split())
    return text if len(text) <= MAX_LABEL else text[: MAX_LABEL - 1] + "…"


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


_EDGE_STYLE = {
    "linear": "",
    "route": ' style=dashed color="#8a6d00" fontcolor="#8a6d00"',
    "parallel": ' color="#5b4bdb" penwidth=1.6',
    "join": ' color="#5b4bdb" penwidth=1.6 arrowhead=empty',
}


def to_dot(graph: FlowGraph, problem_nodes: Iterable[str] = ()) -> str:
    """DOT text for ``graph``; nodes in ``problem_nodes`` are outlined in red."""
    flagged = set(problem_nodes)
    lines = [
        "digraph workflow {",
        '  graph [rankdir=TB fontname="Helvetica" bgcolor="transparent" nodesep=0.35 ranksep=0.45];',
        '  node [shape=box style="rounded,filled" fillcolor="#eef2ff" color="#6b7bb8" fontname="Helvetica" fontsize=12];',
        '  edge [fontname="Helvetica" fontsize=10 color="#555555"];',
        '  START [shape=oval fillcolor="#d8f3dc" color="#2d6a4f" label="START"];',
        '  END [shape=oval fillcolor="#e9ecef" color="#495057" label="END"];',
    ]
    for name in graph.nodes:
        extra = ' color="#d62828" penwidth=2' if name in flagged else ""
        lines.append(f"  {_quote(name)} [label={_quote(name)}{extra}];")
    for name in sorted(graph.unknown - {START, END}):
        lines.append(
            f'  {_quote(name)} [label={_quote(name + " (unknown)")} style="dashed" color="#d62828" fontcolor="#d62828"];'
        )
    for edge in graph.edges:
        label = f" label={_quote(edge.label)}" if edge.label else ""
        lines.append(f"  {_quote(edge.source)} -> {_quote(edge.target)} [{label.strip()}{_EDGE_STYLE[edge.kind]}];")
    lines.append("}")
    return "\n".join(lines).replace(" [];", ";").replace("[ ", "[") + "\n"
