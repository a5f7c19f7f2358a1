"""``configurable-agents validate``: every problem of every file, compiler style or JSON."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from agents_core.cli.app import app
from agents_core.cli.output import EXIT_INVALID, EXIT_OK, write_problems
from agents_core.text import count, problem_counts

if TYPE_CHECKING:
    from agents_core.config.validator import ValidationReport


@app.command()
def validate(
    files: Annotated[list[Path], typer.Argument(help="Workflow files (.yaml, .yml, .json).", show_default=False)],
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object instead of text.")] = False,
    strict: Annotated[bool, typer.Option("--strict", help="Treat warnings as failures.")] = False,
) -> None:
    """Check workflow files and report every problem with its line and column."""
    from agents_core.config.validator import validate_file

    reports = [validate_file(path) for path in files]
    passed = all(report.passes(strict) for report in reports)
    if as_json:
        body = {
            "ok": passed,
            "files": [
                {"file": r.file, "ok": r.passes(strict), "problems": [p.to_dict() for p in r.problems]} for r in reports
            ],
        }
        sys.stdout.write(json.dumps(body, indent=2, ensure_ascii=False) + "\n")
    else:
        _print_reports(reports, strict)
    raise typer.Exit(EXIT_OK if passed else EXIT_INVALID)


def _print_reports(reports: list[ValidationReport], strict: bool) -> None:
    failed, summary = _summary(reports, strict)
    problems = [problem for report in reports for problem in report.problems]
    write_problems(problems, closing=(summary, "bold red" if failed else "bold green"))


def _summary(reports: list[ValidationReport], strict: bool) -> tuple[bool, str]:
    failed = [r for r in reports if not r.passes(strict)]
    errors = sum(len(r.errors) for r in reports)
    warnings = sum(len(r.warnings) for r in reports)
    counts = problem_counts(errors, warnings)
    checked = f"{count(len(reports), 'file')} checked"
    if failed:
        return True, f"{checked}: {len(failed)} invalid ({counts})"
    return False, f"{checked}: all valid ({counts})"
