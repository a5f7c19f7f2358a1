"""Problems as the editor shows them: Ace gutter annotations and an ordered list.

Ace counts rows and columns from 0; problems count from 1. The list under
the editor and the gutter marks come from the same problems, so they always
agree.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from agents_core.errors import Problem


def ace_annotations(problems: Iterable[Problem]) -> list[dict[str, Any]]:
    """One Ace annotation per problem: gutter icon by severity, message on hover."""
    annotations = []
    for problem in sorted(problems, key=lambda p: (p.line, p.column)):
        text = f"{problem.code}: {problem.message}"
        if problem.hint:
            text += f"\nHint: {problem.hint}"
        annotations.append(
            {
                "row": max(problem.line - 1, 0),
                "column": max(problem.column - 1, 0),
                "type": "error" if problem.is_error else "warning",
                "text": text,
            }
        )
    return annotations


def problem_rows(problems: Iterable[Problem]) -> list[dict[str, Any]]:
    """The problem list under the editor, ordered by line then column."""
    return [
        {
            "where": f"{problem.line}:{problem.column}",
            "severity": problem.severity,
            "code": problem.code,
            "message": problem.message,
            "hint": problem.hint,
            "path": problem.path,
        }
        for problem in sorted(problems, key=lambda p: (p.line, p.column, p.severity != "error"))
    ]


def nodes_with_problems(problems: Iterable[Problem], data: Any) -> set[str]:
    """Ids of the nodes that some error points into (``nodes[i]...``), for the flow picture."""
    nodes = data.get("nodes") if isinstance(data, dict) else None
    if not isinstance(nodes, list):
        return set()
    flagged: set[str] = set()
    for problem in problems:
        if not problem.is_error or not problem.path.startswith("nodes["):
            continue
        index_text = problem.path[len("nodes[") :].split("]", 1)[0]
        if index_text.isdigit() and int(index_text) < len(nodes):
            node = nodes[int(index_text)]
            if isinstance(node, dict) and isinstance(node.get("id"), str):
                flagged.add(node["id"])
    return flagged
