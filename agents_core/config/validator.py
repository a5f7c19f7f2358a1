"""``validate_workflow``: every problem of a workflow file in one pass (SPEC §4).

The order of checks follows the rules of SPEC §4: syntax (the loader),
shape (the pydantic models), types (state), references (nodes, edges),
graph, providers, and warnings. Each step reads the raw data and skips what
an earlier step found malformed, so one pass reports everything it can.
Nothing here imports an LLM library or touches the network.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

from agents_core.config.codes import severity_of
from agents_core.config.loader import LoadedDocument, load_text, read_source
from agents_core.config.models import Workflow
from agents_core.config.rules.context import Context
from agents_core.config.rules.edges import check_edges
from agents_core.config.rules.nodes import check_nodes
from agents_core.config.rules.providers import check_providers
from agents_core.config.rules.shape import check_shape
from agents_core.config.rules.state import check_state
from agents_core.config.rules.usage import check_usage
from agents_core.errors import ParseError, Problem
from agents_core.text import problem_summary

WORKFLOW_EXTENSIONS = (".yaml", ".yml", ".json")


@dataclass
class ValidationReport:
    """The outcome of validating one file: problems in source order, and the model if valid."""

    file: str | None
    problems: list[Problem] = field(default_factory=list)
    workflow: Workflow | None = None
    document: LoadedDocument | None = None

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.is_error]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if not p.is_error]

    @property
    def ok(self) -> bool:
        """True when there are no errors (warnings allowed)."""
        return not self.errors

    def passes(self, strict: bool = False) -> bool:
        return self.ok and not (strict and self.warnings)

    def summary(self) -> str:
        """``ok``, or ``1 error, 2 warnings`` (the wording every face shares)."""
        return problem_summary(len(self.errors), len(self.warnings))

    def to_dict(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "ok": self.ok,
            "problems": [problem.to_dict() for problem in self.problems],
        }


def validate_text(text: str, file: str | None = None) -> ValidationReport:
    """Validate workflow text; ``file`` names it in problems and picks YAML or JSON."""
    document = load_text(text, file)
    report = ValidationReport(file=file, document=document)
    if document.data is None:
        report.problems = list(document.problems)
        return report
    if not isinstance(document.data, dict):
        problem = Problem(
            "E-SHAPE-NOT-MAPPING",
            severity_of("E-SHAPE-NOT-MAPPING"),
            "the file must be a mapping of keys (schema_version, flow, state, nodes, edges), "
            f"not a {type(document.data).__name__}.",
            'Start from an example: `schema_version: "1.0"` on the first line, then `flow:` and so on.',
            "",
            file,
            *document.source.value_position(()),
        )
        report.problems = [*document.problems, problem]
        return report
    ctx = Context(document.data, document.source, file, list(document.problems))
    workflow = check_shape(ctx)
    check_state(ctx)
    check_nodes(ctx)
    check_edges(ctx)
    check_providers(ctx)
    check_usage(ctx)
    report.problems = _ordered(ctx.problems)
    report.workflow = workflow if report.ok else None
    return report


def validate_file(path: str | os.PathLike[str]) -> ValidationReport:
    """Validate a file on disk; unreadable files become a report with one problem."""
    shown = str(path)
    try:
        text = read_source(path)
    except ParseError as exc:
        return ValidationReport(file=shown, problems=list(exc.problems))
    return validate_text(text, shown)


def validate_workflow(source: str | os.PathLike[str] | dict[str, Any], *, file: str | None = None) -> ValidationReport:
    """Validate a workflow given as a path, as YAML/JSON text, or as already-parsed data.

    A ``Path`` (or a one-line string ending in .yaml/.yml/.json) is read from
    disk; any other string is taken as the file's text.
    """
    if isinstance(source, os.PathLike) or looks_like_path(source):
        return validate_file(source)  # type: ignore[arg-type]
    if isinstance(source, dict):
        import json

        return validate_text(json.dumps(source, indent=2, default=str), file or "<data>.json")
    return validate_text(source, file)


def looks_like_path(source: Any) -> bool:
    """A one-line string ending in a workflow extension is a file name, not workflow text."""
    return isinstance(source, str) and "\n" not in source and source.strip().lower().endswith(WORKFLOW_EXTENSIONS)


def _ordered(problems: list[Problem]) -> list[Problem]:
    """Source order, each problem once (the same finding may come from two rules)."""
    unique = {(p.code, p.line, p.column, p.message): p for p in problems}
    return sorted(unique.values(), key=lambda p: (p.line, p.column, p.severity != "error", p.code))
