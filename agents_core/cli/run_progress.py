"""What `configurable-agents run` shows: inputs from the command line, live progress, the result.

Progress is one line per node: a spinner while it runs (on a terminal), then
its duration, tokens and retries. Off a terminal (pipes, CI logs) each node
prints one plain line when it ends. With ``--json`` nothing but the result's
JSON object (strict JSON: no NaN) reaches stdout. Every human-readable line
shows control characters as visible escapes (``cli/terminal.py``), so a
model's reply cannot drive the terminal.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from agents_core.cli.terminal import neutralise, strict_json_value
from agents_core.config.models import Workflow
from agents_core.engine.events import (
    NodeFailed,
    NodeFinished,
    NodeRecord,
    NodeStarted,
    RunEvent,
    RunFinished,
    RunResult,
    RunStarted,
)
from agents_core.engine.state import (
    MAX_INPUT_FILE_BYTES,
    InputError,
    parse_json_text,
    parse_text_value,
    state_fields,
)
from agents_core.llm.pricing import format_cost, format_usd
from agents_core.text import count


def read_input_file(path: Path) -> dict[str, Any]:
    """The JSON object of ``--input-file``, read with a size limit (never more than the limit and one byte)."""
    where = f"--input-file {path}"
    try:
        with open(path, "rb") as handle:
            data = handle.read(MAX_INPUT_FILE_BYTES + 1)
    except FileNotFoundError:
        raise InputError(f"{where}: no such file.", "Check the path.") from None
    except IsADirectoryError:
        raise InputError(f"{where} is a folder, not a file.", "Give a JSON file of inputs.") from None
    except OSError as exc:
        raise InputError(
            f"{where} cannot be read ({exc.strerror or exc}).", "Check the path and its permissions."
        ) from None
    if len(data) > MAX_INPUT_FILE_BYTES:
        raise InputError(
            f"{where} is larger than {MAX_INPUT_FILE_BYTES // (1024 * 1024)} MiB; it was not read.",
            "Inputs are a JSON object of state fields; put large data in a file the workflow's tools read.",
        )
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(f"{where} is not UTF-8 text (byte {exc.start}).", "Save the file as UTF-8 JSON.") from None
    loaded = parse_json_text(text, where)
    if not isinstance(loaded, dict):
        raise InputError(f"{where} must hold a JSON object of inputs.", 'Example: {"topic": "cats"}')
    return loaded


def collect_inputs(workflow: Workflow | None, pairs: Iterable[str], input_file: Path | None) -> dict[str, Any]:
    """``--input-file`` (typed JSON) overlaid by ``--input name=value`` (parsed by the field's type)."""
    assert workflow is not None
    values: dict[str, Any] = {}
    if input_file is not None:
        values.update(read_input_file(input_file))
    fields = state_fields(workflow)
    for pair in pairs:
        name, sep, text = pair.partition("=")
        name = name.strip()
        if not sep or not name:
            raise InputError(f"--input {pair!r} is not name=value.", "Example: --input topic=cats")
        if name not in fields:
            raise InputError(
                f"unknown input {name!r}; this workflow's state fields are: {', '.join(fields)}.",
                "Pass only declared state fields as inputs.",
            )
        values[name] = parse_text_value(fields[name], text)
    return values


def _node_line(record: NodeRecord) -> str:
    mark = "✓" if record.status == "success" else "✗"
    retries = f", {record.retries} retr{'y' if record.retries == 1 else 'ies'}" if record.retries else ""
    return neutralise(
        f"{mark} {record.id:<20} {record.duration_ms / 1000:6.2f} s  "
        f"{record.input_tokens:>6} in / {record.output_tokens:<6} out tokens  {_cost(record)}{retries}"
    )


def _cost(record: NodeRecord) -> str:
    """``$0.0012`` or ``unpriced`` (never $0 for an unknown price)."""
    return format_cost(record.cost_usd, record.input_tokens, record.output_tokens)


def _run_cost(result: RunResult) -> str:
    """The run total with the sources that priced it: ``$0.0042 (genai-prices 0.2.3)`` or ``unpriced``."""
    sources = sorted({n.price_source for n in result.nodes if n.price_source and n.price_source != "unpriced"})
    total = format_usd(result.cost_usd)
    return f"{total} ({', '.join(sources)})" if sources and result.cost_usd is not None else total


class RunProgress:
    """The progress lines of one run, remembering the last event shown.

    Why: a Ctrl+C can land between an event reaching the log and its line
    reaching the terminal (events are written in groups), so the cancel shows
    the rest of the log with :meth:`show_rest` and no finished node goes unsaid.
    """

    def __init__(self, *, as_json: bool) -> None:
        from rich.console import Console

        self.as_json = as_json
        self.console = Console(stderr=True, highlight=False, soft_wrap=True)
        self.spinners = self.console.is_terminal and not as_json  # off once stopped: lines print plainly
        self.live: _Progress | None = None
        self.last_seq = 0
        self.result: RunResult | None = None

    def show(self, event: RunEvent) -> None:
        """One event: the run's start with its notices, a node's spinner or line, the result."""
        self.last_seq = max(self.last_seq, event.seq)
        console = self.console
        if isinstance(event, RunStarted) and not self.as_json:
            for notice in event.notices:
                console.print("[yellow]note:[/] ", markup=True, end="")
                console.print(neutralise(notice), markup=False)
            verb = "resuming" if event.resumed else "running"
            console.print(neutralise(f"{verb} {event.workflow_name} (run id {event.run_id})"), markup=False)
        elif isinstance(event, NodeStarted) and self.spinners:
            if self.live is None:
                self.live = _Progress(console)
            self.live.start(event.node)
        elif isinstance(event, NodeFinished | NodeFailed):
            if self.live:
                self.live.finish(event.record.id, _node_line(event.record))
            elif not self.as_json:
                console.print(_node_line(event.record), markup=False)
        elif isinstance(event, RunFinished):
            self.result = event.result

    def show_rest(self, events: Iterator[RunEvent]) -> None:
        """The events after the last one shown (an ended run's log: the iterator stops at its end)."""
        for event in events:
            if event.seq > self.last_seq:
                self.show(event)

    def stop(self) -> None:
        self.spinners = False
        if self.live:
            self.live.stop()
            self.live = None


def print_result(events: Iterator[RunEvent], progress: RunProgress) -> RunResult:
    """Consume the events, showing progress (unless ``as_json``); print outputs; return the result."""
    try:
        for event in events:
            progress.show(event)
    finally:
        progress.stop()
    result = progress.result
    assert result is not None
    if progress.as_json:
        body = strict_json_value(result.to_dict())
        sys.stdout.write(json.dumps(body, indent=2, ensure_ascii=False, allow_nan=False, default=str) + "\n")
    else:
        _print_outcome(result)
    return result


def _print_outcome(result: RunResult) -> None:
    from rich.console import Console

    out = Console(highlight=False, soft_wrap=True)
    if result.ok:
        tokens = f"{result.total_input_tokens} in / {result.total_output_tokens} out tokens, {_run_cost(result)}"
        Console(stderr=True, highlight=False, soft_wrap=True).print(
            f"[green]✓ {neutralise(result.workflow_name)} finished[/] ({count(len(result.nodes), 'node')}, {tokens})"
        )
        for name, value in result.outputs.items():
            text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
            out.print(f"[bold]{neutralise(name)}:[/] ", end="")
            out.print(neutralise(text), markup=False)
        return
    error = result.error
    where = f"node {error.node!r}" if error and error.node else "the run"
    err = Console(stderr=True, highlight=False, soft_wrap=True)
    err.print(f"[bold red]✗ {neutralise(result.workflow_name)} failed in {neutralise(where)}[/]")
    if error:
        err.print(neutralise(f"{error.type}: {error.message}"), markup=False)
    err.print(f"Spent: {_run_cost(result)}", markup=False)
    if error and error.category == "budget_exceeded" and error.hint:
        err.print(neutralise(error.hint), markup=False)
        return
    err.print(f"Resume it with: configurable-agents run --resume {result.run_id}", markup=False)


class _Progress:
    """Spinner lines for running nodes on a terminal (rich Live)."""

    def __init__(self, console: Any) -> None:
        from rich.live import Live

        self.console = console
        self.running: dict[str, Any] = {}
        self.live = Live(self._render(), console=console, refresh_per_second=8, transient=True)
        self.live.start()

    def _render(self) -> Any:
        from rich.console import Group
        from rich.spinner import Spinner

        return Group(*(Spinner("dots", text=f" {name}") for name in self.running))

    def start(self, node: str) -> None:
        self.running[node] = True
        self.live.update(self._render())

    def finish(self, node: str, line: str) -> None:
        self.running.pop(node, None)
        self.live.console.print(line, markup=False)
        self.live.update(self._render())

    def stop(self) -> None:
        self.live.stop()
