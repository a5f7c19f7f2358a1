"""The ``configurable-agents`` command: a thin face over the library.

Each command parses its arguments, calls one library function, renders the
result, and maps outcomes to exit codes here and nowhere else:
0 ok, 1 a workflow run failed, 2 bad usage or an invalid workflow.
Heavy libraries (LangChain, MLflow, Streamlit) are never imported on the
``--help``, ``validate`` and ``schema`` paths, so they start fast.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer

if TYPE_CHECKING:
    from agents_core.config.validator import ValidationReport
    from agents_core.errors import AgentsError, Problem

EXIT_OK, EXIT_RUN_FAILED, EXIT_INVALID = 0, 1, 2

app = typer.Typer(
    name="configurable-agents",
    help="Validate, run and deploy LLM agent workflows written in YAML.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


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


def _wants_colour(stream: Any = None) -> bool:
    """Colour on a terminal (or with FORCE_COLOR), never with NO_COLOR."""
    if os.environ.get("NO_COLOR"):
        return False
    return bool(os.environ.get("FORCE_COLOR")) or (stream or sys.stdout).isatty()


def _print_reports(reports: list[ValidationReport], strict: bool) -> None:
    failed, summary = _summary(reports, strict)
    problems = [problem for report in reports for problem in report.problems]
    _write_problems(problems, closing=(summary, "bold red" if failed else "bold green"))


def _summary(reports: list[ValidationReport], strict: bool) -> tuple[bool, str]:
    failed = [r for r in reports if not r.passes(strict)]
    errors = sum(len(r.errors) for r in reports)
    warnings = sum(len(r.warnings) for r in reports)
    counts = f"{errors} error{'s' * (errors != 1)}, {warnings} warning{'s' * (warnings != 1)}"
    checked = f"{len(reports)} file{'s' * (len(reports) != 1)} checked"
    if failed:
        return True, f"{checked}: {len(failed)} invalid ({counts})"
    return False, f"{checked}: all valid ({counts})"


_SEVERITY_STYLE = {"error": "bold red", "warning": "yellow"}


def _write_problems(problems: list[Problem], *, closing: tuple[str, str], stderr: bool = False) -> None:
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
    if not _wants_colour(stream):
        stream.write("".join("".join(text for text, _ in line) + "\n" for line in lines))
        return
    from rich.console import Console
    from rich.text import Text

    console = Console(stderr=stderr, highlight=False, soft_wrap=True)
    for line in lines:
        console.print(Text.assemble(*line))


@app.command()
def run(
    file: Annotated[
        Path | None, typer.Argument(help="Workflow file (not needed with --resume).", show_default=False)
    ] = None,
    inputs: Annotated[
        list[str] | None, typer.Option("--input", "-i", help="An input as name=value (typed by the state field).")
    ] = None,
    input_file: Annotated[Path | None, typer.Option("--input-file", help="A JSON object of inputs.")] = None,
    provider: Annotated[str | None, typer.Option("--provider", help="Use this provider for every node.")] = None,
    model: Annotated[str | None, typer.Option("--model", help="Use this model for every node.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object with the result.")] = False,
    resume: Annotated[str | None, typer.Option("--resume", help="Continue the failed run with this id.")] = None,
) -> None:
    """Run a workflow with live per-node progress (or resume a failed run)."""
    from agents_core.errors import AgentsError, ValidationFailed
    from agents_core.run_cli import collect_inputs, execute, print_result

    try:
        if resume:
            events = execute(None, {}, resume=resume)
        else:
            if file is None:
                _fail("give a workflow FILE to run (or --resume RUN_ID).")
            report = _validated(file)
            values = collect_inputs(report.workflow, inputs or [], input_file)
            events = execute(file, values, provider=provider, model=model)
        result = print_result(events, as_json=as_json)
    except ValidationFailed as exc:
        _print_problems(exc)
        raise typer.Exit(EXIT_INVALID) from None
    except AgentsError as exc:
        _fail(f"{exc.message} {exc.hint}".strip())
    raise typer.Exit(EXIT_OK if result.ok else EXIT_RUN_FAILED)


def _validated(file: Path) -> ValidationReport:
    from agents_core.config.validator import validate_file
    from agents_core.errors import ValidationFailed

    report = validate_file(file)
    if report.workflow is None:
        raise ValidationFailed(f"{file} is not a valid workflow.", "", report.problems)
    return report


def _print_problems(exc: AgentsError) -> None:
    _write_problems(exc.problems, closing=(f"error: {exc.message} {exc.hint}".strip(), "bold red"), stderr=True)


@app.command()
def schema() -> None:
    """Print the JSON Schema (draft 2020-12) of the workflow file format."""
    from agents_core.config.schema import workflow_json_schema_text

    sys.stdout.write(workflow_json_schema_text())


@app.command()
def ui(
    workspace: Annotated[
        Path | None, typer.Option("--workspace", help="Folder of workflows (default: $AGENTS_WORKSPACE or here).")
    ] = None,
    port: Annotated[int, typer.Option("--port", help="Port to serve on.")] = 8501,
    host: Annotated[
        str, typer.Option("--host", help="Address to bind; keep 127.0.0.1 unless you mean it.")
    ] = "127.0.0.1",
) -> None:
    """Start the workbench in the browser (the same app `make run` starts)."""
    import os

    from agents_core.errors import AgentsError
    from agents_core.launcher import LOOPBACK, workbench_command, workbench_environment

    try:
        command = workbench_command(workspace, port, host)
    except AgentsError as exc:
        _fail(f"{exc.message} {exc.hint}".strip())
    if host not in LOOPBACK:
        sys.stderr.write(f"warning: binding {host}; the workbench will be reachable from other machines.\n")
    sys.stderr.write(f"Configurable Agents workbench on http://{host}:{port} (Ctrl+C to stop)\n")
    sys.stderr.flush()
    # Become the Streamlit process (no child left behind when this one is stopped or killed).
    os.execve(command[0], command, workbench_environment())


def _fail(message: str, code: int = EXIT_INVALID) -> NoReturn:
    """Print one error line (no traceback) and exit."""
    sys.stderr.write(f"error: {message}\n")
    raise typer.Exit(code)


def main() -> None:
    """Entry point of the console script."""
    # pydantic's plugin discovery scans every installed package's metadata (~30 ms a start);
    # the CLI uses no pydantic plugins.
    os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")
    app()


if __name__ == "__main__":
    main()
