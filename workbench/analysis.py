"""What the editor shows for a buffer: problems, gutter marks and the flow picture."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from agents_core.config.flowchart import build_flow_graph, to_dot
from agents_core.config.validator import ValidationReport, validate_text
from workbench.annotations import ace_annotations, nodes_with_problems, problem_rows


@dataclass(frozen=True)
class Analysis:
    """Everything derived from one buffer; ``dot`` is None when the text does not parse."""

    report: ValidationReport
    annotations: list[dict[str, Any]]
    rows: list[dict[str, Any]]
    dot: str | None

    @property
    def errors(self) -> int:
        return len(self.report.errors)

    @property
    def warnings(self) -> int:
        return len(self.report.warnings)


@lru_cache(maxsize=64)
def analyse(text: str, file_name: str) -> Analysis:
    """Validate the buffer once per distinct text (reruns with the same text are free)."""
    report = validate_text(text, file_name)
    data = report.document.data if report.document is not None else None
    dot = None
    if isinstance(data, dict):
        dot = to_dot(build_flow_graph(data), nodes_with_problems(report.problems, data))
    return Analysis(report, ace_annotations(report.problems), problem_rows(report.problems), dot)
