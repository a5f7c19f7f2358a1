"""``configurable-agents validate``: every problem of every file, compiler style or JSON.

A folder stands for every workflow file under it (``.yaml``, ``.yml``,
``.json``, recursively), leaving out hidden folders (``.git``, ``.venv``, the
workspace's own ``.configurable-agents``), virtual environments, caches and
JSON Schemas (``*.schema.json``).
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from agents_core.cli.app import app
from agents_core.cli.output import EXIT_INVALID, EXIT_OK, fail, write_problems
from agents_core.text import count, problem_counts

if TYPE_CHECKING:
    from agents_core.config.validator import ValidationReport


@app.command()
def validate(
    files: Annotated[
        list[Path],
        typer.Argument(
            help="Workflow files (.yaml, .yml, .json), or folders: every workflow file under them.",
            show_default=False,
            metavar="PATH",
        ),
    ],
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object instead of text.")] = False,
    strict: Annotated[bool, typer.Option("--strict", help="Treat warnings as failures.")] = False,
) -> None:
    """Check workflow files and report every problem with its line and column."""
    from agents_core.config.validator import validate_file

    reports = [validate_file(path) for path in expand_folders(files)]
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


#: Folders never searched: caches and dependency trees (hidden folders and virtual environments are skipped too).
SKIPPED_FOLDERS = {"__pycache__", "node_modules", "site-packages"}


def expand_folders(paths: list[Path]) -> list[Path]:
    """Each folder replaced by the workflow files under it, in name order; a folder with none is an error."""
    from agents_core.config.validator import WORKFLOW_EXTENSIONS

    expanded: list[Path] = []
    for path in paths:
        if not path.is_dir():
            expanded.append(path)  # a missing or unreadable file is reported by the validator
            continue
        found = []
        for folder, dirs, names in os.walk(path):
            dirs[:] = sorted(d for d in dirs if not _skipped_folder(Path(folder) / d))
            found += [
                Path(folder) / name
                for name in sorted(names)
                if name.lower().endswith(WORKFLOW_EXTENSIONS)
                and not name.startswith(".")
                and not name.endswith(".schema.json")
            ]
        if not found:
            fail(f"no workflow files (.yaml, .yml, .json) found under the folder {str(path)!r}.")
        expanded += sorted(found, key=lambda p: p.relative_to(path).as_posix())
    return expanded


def _skipped_folder(folder: Path) -> bool:
    return folder.name.startswith(".") or folder.name in SKIPPED_FOLDERS or (folder / "pyvenv.cfg").exists()


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
