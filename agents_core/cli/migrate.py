"""``configurable-agents migrate``: rewrite the seed project's edge forms into ours, then validate.

The rewritten file goes to ``-o OUT`` or, without it, to stdout; the source
is never overwritten unless it is named as ``-o`` itself. What was changed,
and the problems of the result, go to stderr, so stdout stays the file.
Exit 0 when the result is valid, 2 when it is not (or cannot be read).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from agents_core.cli.app import app
from agents_core.cli.output import EXIT_INVALID, EXIT_OK, fail, print_problems, write_problems
from agents_core.text import problem_counts


def _is_json(path: Path) -> bool:
    return path.suffix.lower() == ".json"


@app.command()
def migrate(
    file: Annotated[Path, typer.Argument(help="A workflow file in the seed project's format.", show_default=False)],
    output: Annotated[
        Path | None,
        typer.Option("-o", "--output", help="Write the result here (default: print it).", show_default=False),
    ] = None,
) -> None:
    """Rewrite the seed project's `loop:` edges and list-valued `to:` forks into routes and parallel fan-outs."""
    from agents_core.config.loader import read_source
    from agents_core.config.migrate import migrate_text
    from agents_core.config.validator import validate_text
    from agents_core.errors import ParseError

    if output is not None and _is_json(output) != _is_json(file):
        fail(f"{output}: the result keeps the format of {file}; give -o a {file.suffix or '.yaml'} name.")
    try:
        text = read_source(file)
    except ParseError as exc:
        print_problems(exc)
        raise typer.Exit(EXIT_INVALID) from None
    result = migrate_text(text, str(file))
    for note in result.notes:
        sys.stderr.write(f"migrate: {note}\n")
    for note in result.left:
        sys.stderr.write(f"migrate: {note}\n")
    if not result.notes and not result.left:
        sys.stderr.write(f"{file}: nothing to migrate.\n")
    shown = str(output) if output is not None else f"{file} (migrated)"
    report = validate_text(result.text, shown)
    if output is None:
        sys.stdout.write(result.text)
        sys.stdout.flush()
    else:
        try:
            output.write_text(result.text, encoding="utf-8")
        except OSError as exc:
            fail(f"{output}: cannot be written ({exc.strerror}).")
        sys.stderr.write(f"wrote {output}\n")
    errors, warnings = len(report.errors), len(report.warnings)
    counts = problem_counts(errors, warnings)
    if report.problems:
        verdict = "the result is valid" if not errors else "the result is not valid yet"
        write_problems(
            report.problems, closing=(f"{verdict} ({counts})", "bold red" if errors else "bold green"), stderr=True
        )
    else:
        sys.stderr.write("the result is valid.\n")
    raise typer.Exit(EXIT_INVALID if errors else EXIT_OK)
