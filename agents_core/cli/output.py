"""How the command prints: problems in compiler style, one-line errors, exit codes.

Exit codes are decided here and nowhere else: 0 ok, 1 a workflow run failed,
2 bad usage or an invalid workflow. Rich is imported only when printing to a
terminal, so piped output and ``validate`` stay light.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import typer

if TYPE_CHECKING:
    from agents_core.config.validator import ValidationReport
    from agents_core.errors import AgentsError, Problem

EXIT_OK, EXIT_RUN_FAILED, EXIT_INVALID = 0, 1, 2


def wants_colour(stream: Any = None) -> bool:
    """Colour on a terminal (or with FORCE_COLOR), never with NO_COLOR."""
    if os.environ.get("NO_COLOR"):
        return False
    return bool(os.environ.get("FORCE_COLOR")) or (stream or sys.stdout).isatty()


_SEVERITY_STYLE = {"error": "bold red", "warning": "yellow"}


def write_problems(problems: list[Problem], *, closing: tuple[str, str], stderr: bool = False) -> None:
    """Problems in the compiler style ``file:line:col: severity CODE: message`` plus hints, then a closing line.

    Coloured with rich on a terminal; plain text otherwise (and then rich is never imported).
    """
    lines: list[list[tuple[str, str]]] = []
    for p in problems:
        lines.append(
            [
                (f"{p.file}:{p.line}:{p.column}: ", "bold"),
                (f"{p.severity} {p.code}: ", _SEVERITY_STYLE[p.severity]),
                (p.message, ""),
            ]
        )
        if p.hint:
            lines.append([(f"    hint: {p.hint}", "dim")])
    lines.append([closing])
    stream = sys.stderr if stderr else sys.stdout
    if not wants_colour(stream):
        stream.write("".join("".join(text for text, _ in line) + "\n" for line in lines))
        return
    from rich.console import Console
    from rich.text import Text

    console = Console(stderr=stderr, highlight=False, soft_wrap=True)
    for line in lines:
        console.print(Text.assemble(*line))


def validated(file: Path) -> ValidationReport:
    from agents_core.config.validator import validate_file
    from agents_core.errors import ValidationFailed

    report = validate_file(file)
    if report.workflow is None:
        raise ValidationFailed(f"{file} is not a valid workflow.", "", report.problems)
    return report


def print_problems(exc: AgentsError) -> None:
    write_problems(exc.problems, closing=(f"error: {exc.message} {exc.hint}".strip(), "bold red"), stderr=True)


def plain_warnings() -> None:
    """Our own warnings (a broken plugin) print as ``warning: ...`` lines, not as Python source excerpts."""
    import warnings

    from agents_core.plugins import PluginWarning

    shown = warnings.showwarning

    def show(message: Warning | str, category: type[Warning], *args: Any, **kwargs: Any) -> None:
        if issubclass(category, PluginWarning):
            sys.stderr.write(f"warning: {message}\n")
        else:
            shown(message, category, *args, **kwargs)

    warnings.showwarning = show


def fail(message: str, code: int = EXIT_INVALID) -> NoReturn:
    """Print one error line (no traceback) and exit."""
    sys.stderr.write(f"error: {message}\n")
    raise typer.Exit(code)
