"""``validate_workflow``: every problem of a workflow file in one pass (SPEC §4).

The order of checks follows the rules of SPEC §4: syntax (the loader),
shape (the pydantic models), types (state), references (nodes, edges),
graph, providers, and warnings. Each step reads the raw data and skips what
an earlier step found malformed, so one pass reports everything it can.
Nothing here imports an LLM library or touches the network.
"""

from __future__ import annotations

import datetime
import os
from collections.abc import Mapping
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
        report.problems = list(document.problems) or [
            Problem(
                "E-FILE-EMPTY",
                severity_of("E-FILE-EMPTY"),
                "the file holds no workflow.",
                "Start from a template or an example.",
                "",
                file,
                1,
                1,
            )
        ]
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
    report.problems = _ordered(_load_cause_first(ctx.problems))
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


def validate_workflow(
    source: str | os.PathLike[str] | Mapping[str, Any] | bytes, *, file: str | None = None
) -> ValidationReport:
    """Validate a workflow given as a path, as YAML/JSON text, or as already-parsed data.

    A ``Path`` (or a one-line string ending in .yaml/.yml/.json) is read from
    disk; any other string is taken as the file's text; bytes are decoded as
    UTF-8. Data (a mapping) is checked to be plain data first, then validated
    as the JSON file it would be. Anything else is reported, never raised.
    """
    if isinstance(source, os.PathLike) or looks_like_path(source):
        return validate_file(source)  # type: ignore[arg-type]
    if isinstance(source, (bytes, bytearray)):
        try:
            source = bytes(source).decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            return ValidationReport(
                file=file,
                problems=[
                    _data_problem(file, "E-TEXT-ENCODING", f"byte {exc.start} is not UTF-8.", "Save the text as UTF-8.")
                ],
            )
    if isinstance(source, str):
        return validate_text(source, file)
    shown = file or "<data>.json"
    if not isinstance(source, Mapping):
        message = f"the workflow is {'empty (None)' if source is None else 'a ' + type(source).__name__}, not a mapping of keys."
        code = "E-FILE-EMPTY" if source is None else "E-SHAPE-NOT-MAPPING"
        hint = "Pass a path, the file's text, or a dict such as yaml.safe_load gives."
        return ValidationReport(file=shown, problems=[_data_problem(shown, code, message, hint)])
    problem = data_problem(source, shown)
    if problem is not None:
        return ValidationReport(file=shown, problems=[problem])
    import json

    return validate_text(json.dumps(source, indent=2, default=_as_json), shown)


def _as_json(value: Any) -> Any:
    """What ``json.dumps`` writes for the non-JSON values :func:`data_problem` lets through."""
    if isinstance(value, Mapping):
        return dict(value)
    return str(value)  # a date or time: the text a YAML file would hold for it


def _data_problem(file: str | None, code: str, message: str, hint: str, path: tuple[str | int, ...] = ()) -> Problem:
    """A problem in data handed to the API: data has no lines, so the place is line 1 and ``path``."""
    from agents_core.config.loader import format_path

    where = format_path(path) or "the top level"
    return Problem(code, severity_of(code), f"{where}: {message}", hint, format_path(path), file, 1, 1)


#: Types a YAML or JSON file can produce, besides mappings and lists.
_PLAIN = (str, int, float, bool, type(None), datetime.date, datetime.time)
#: An int with more bits than this has more digits than Python converts to text (4,300).
_MAX_INT_BITS = 14_000


def data_problem(data: Any, file: str | None = None) -> Problem | None:
    """The first reason plain data cannot stand for a workflow file, or None.

    Walked iteratively (no recursion to exhaust): keys must be strings, no
    mapping or list may contain itself, nesting and numbers stay within the
    limits the file reader enforces, text is valid Unicode, and every value
    is one a YAML or JSON file could hold. Data has no lines, so the place
    is ``path`` (line 1).
    """
    from agents_core.config.limits import MAX_NESTING_DEPTH, MAX_NUMBER_LENGTH
    from agents_core.config.loader import has_lone_surrogate

    stack: list[tuple[Any, tuple[str | int, ...], frozenset[int]]] = [(data, (), frozenset())]
    while stack:
        value, path, parents = stack.pop()
        if isinstance(value, str):
            if has_lone_surrogate(value):
                return _data_problem(
                    file,
                    "E-TEXT-ENCODING",
                    "the text holds a lone surrogate, which is not a character.",
                    "Delete the character or retype it; text must be valid Unicode.",
                    path,
                )
            continue
        if isinstance(value, int) and not isinstance(value, bool):
            if value.bit_length() > _MAX_INT_BITS or len(str(value)) > MAX_NUMBER_LENGTH:
                return _data_problem(
                    file,
                    "E-NUMBER-TOO-LONG",
                    f"this number has more than {MAX_NUMBER_LENGTH} digits.",
                    "Give a smaller number, or text if it is meant as text.",
                    path,
                )
            continue
        if isinstance(value, _PLAIN):
            continue
        if not isinstance(value, (Mapping, list, tuple)):
            return _data_problem(
                file,
                "E-SHAPE-TYPE",
                f"a {type(value).__name__} is not a value a workflow file can hold.",
                "Use text, numbers, true/false, null, mappings and lists only.",
                path,
            )
        if id(value) in parents:
            return _data_problem(
                file, "E-SHAPE-TYPE", "this value contains itself.", "Give plain data without self-references.", path
            )
        if len(path) > MAX_NESTING_DEPTH:
            return _data_problem(
                file,
                "E-NESTING-DEPTH",
                f"mappings and lists are nested more than {MAX_NESTING_DEPTH} levels deep.",
                "Flatten the structure; workflow files need only a few levels.",
                path,
            )
        inner = parents | {id(value)}
        if isinstance(value, Mapping):
            for key, item in value.items():
                if not isinstance(key, str):
                    return _data_problem(
                        file,
                        "E-SHAPE-TYPE",
                        f"the key {key!r} is a {type(key).__name__}, not a string.",
                        "Use string keys only, as in a YAML or JSON file.",
                        path,
                    )
                stack.append((key, path, inner))  # a bad key is placed at its mapping
                stack.append((item, (*path, key), inner))
        else:
            stack.extend((item, (*path, index), inner) for index, item in enumerate(value))
    return None


def looks_like_path(source: Any) -> bool:
    """A one-line string ending in a workflow extension is a file name, not workflow text."""
    return isinstance(source, str) and "\n" not in source and source.strip().lower().endswith(WORKFLOW_EXTENSIONS)


#: Loader problems about a value that could not be read: the value's later type or shape
#: errors at the same place are consequences, not further mistakes, and are dropped.
_UNREADABLE_VALUE = {"E-YAML-TAG-VALUE", "E-NUMBER-TOO-LONG", "E-YAML-DATE"}


def _load_cause_first(problems: list[Problem]) -> list[Problem]:
    places = {(p.line, p.column) for p in problems if p.code in _UNREADABLE_VALUE}
    return [p for p in problems if p.code in _UNREADABLE_VALUE or (p.line, p.column) not in places]


def _ordered(problems: list[Problem]) -> list[Problem]:
    """Source order, each problem once (the same finding may come from two rules)."""
    unique = {(p.code, p.line, p.column, p.message): p for p in problems}
    return sorted(unique.values(), key=lambda p: (p.line, p.column, p.severity != "error", p.code))
