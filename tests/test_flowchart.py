"""The flow picture: DOT text for each example (snapshots) and drawing files with errors."""

from __future__ import annotations

import os

import pytest
import yaml

from agents_core.config.flowchart import build_flow_graph, to_dot
from tests.conftest import EXAMPLE_FILES, REPO_ROOT

SNAPSHOTS = REPO_ROOT / "tests" / "snapshots" / "flows"


@pytest.mark.parametrize("path", EXAMPLE_FILES, ids=lambda p: p.stem)
def test_dot_of_each_example_matches_its_snapshot(path):
    """Set UPDATE_SNAPSHOTS=1 to rewrite the snapshots after an intended change."""
    dot = to_dot(build_flow_graph(yaml.safe_load(path.read_text())))
    snapshot = SNAPSHOTS / f"{path.stem}.dot"
    if os.environ.get("UPDATE_SNAPSHOTS") == "1":
        snapshot.write_text(dot)
    assert dot == snapshot.read_text()


def test_parallel_fanout_and_join_are_drawn():
    data = yaml.safe_load((REPO_ROOT / "examples" / "parallel_research.yaml").read_text())
    graph = build_flow_graph(data)
    kinds = {(e.source, e.target): e.kind for e in graph.edges}
    for branch in ("science", "history", "practice"):
        assert kinds[("plan", branch)] == "parallel"
        assert kinds[(branch, "combine")] == "join"
    assert kinds[("START", "plan")] == "linear" and kinds[("combine", "END")] == "linear"


def test_routes_carry_their_conditions_as_labels():
    data = yaml.safe_load((REPO_ROOT / "examples" / "review_loop.yaml").read_text())
    labels = {(e.source, e.target): e.label for e in build_flow_graph(data).edges if e.kind == "route"}
    assert labels[("review", "write")] == "default"
    assert labels[("review", "END")].startswith("{state.score} >= 7")


def test_broken_files_are_drawn_as_far_as_possible():
    data = {
        "nodes": [{"id": "a"}, "not a node", {"id": 3}, {"id": "b"}],
        "edges": [{"from": "START", "to": "a"}, {"from": "a", "to": "missing"}, "junk", {"from": "b", "routes": "x"}],
    }
    graph = build_flow_graph(data)
    assert graph.nodes == ["a", "b"]
    assert graph.unknown == {"missing"}
    dot = to_dot(graph, problem_nodes={"a"})
    assert '"missing" [label="missing (unknown)"' in dot
    assert '"a" [label="a" color="#d62828"' in dot
    assert build_flow_graph(None).nodes == [] and build_flow_graph([1, 2]).edges == []


def test_labels_are_escaped():
    data = {
        "nodes": [{"id": "a"}],
        "edges": [{"from": "a", "routes": [{"condition": {"logic": '{state.x} == "q\\\\"'}, "to": "END"}]}],
    }
    dot = to_dot(build_flow_graph(data))
    assert 'label="{state.x} == \\"q\\\\\\\\\\""' in dot
