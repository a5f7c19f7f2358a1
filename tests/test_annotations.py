"""Problems as Ace annotations and as the ordered list under the editor."""

from __future__ import annotations

from agents_core.errors import Problem
from workbench.annotations import ace_annotations, nodes_with_problems, problem_rows


def problem(code, line, column, severity="error", path="", hint="fix it"):
    return Problem(code, severity, f"{code} message", hint, path, "f.yaml", line, column)


def test_annotations_are_zero_based_and_typed_by_severity():
    marks = ace_annotations([problem("W-X", 3, 1, "warning"), problem("E-X", 1, 5)])
    assert marks == [
        {"row": 0, "column": 4, "type": "error", "text": "E-X: E-X message\nHint: fix it"},
        {"row": 2, "column": 0, "type": "warning", "text": "W-X: W-X message\nHint: fix it"},
    ]


def test_rows_are_ordered_by_line_then_column():
    rows = problem_rows([problem("E-B", 9, 2), problem("E-A", 2, 7), problem("E-C", 2, 3)])
    assert [r["where"] for r in rows] == ["2:3", "2:7", "9:2"]
    assert rows[0]["code"] == "E-C" and rows[0]["hint"] == "fix it"


def test_nodes_with_errors_are_found_from_problem_paths():
    data = {"nodes": [{"id": "a"}, {"id": "b"}, "junk"]}
    problems = [
        problem("E-X", 1, 1, path="nodes[1].prompt"),
        problem("W-X", 1, 1, "warning", path="nodes[0].prompt"),
        problem("E-Y", 1, 1, path="nodes[2].id"),
        problem("E-Z", 1, 1, path="edges[0].to"),
    ]
    assert nodes_with_problems(problems, data) == {"b"}
    assert nodes_with_problems(problems, None) == set()
