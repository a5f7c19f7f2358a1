"""What the Run page shows of a run, built from the engine's events (no Streamlit here).

:class:`RunView` folds the event stream into one row per node execution
(a node in a loop gets a row per visit) and keeps the final result; the page
gives each row a placeholder and rewrites it when :meth:`RunView.apply` says
that row changed. The view is plain data, so it is kept in session state and
redrawn unchanged on every rerun after the run.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

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
from agents_core.engine.store import RunInfo, RunStore
from agents_core.errors import AgentsError
from agents_core.llm.pricing import format_usd
from workbench.text import markdown_escape

ICONS = {"running": "⏳", "success": "✅", "failed": "❌"}


@dataclass
class NodeRow:
    """One node execution as a row: running until its finish or failure event arrives."""

    node: str
    status: str = "running"
    provider: str = ""
    model: str = ""
    duration_ms: float = 0.0
    input_tokens: int = 0
    output_tokens: int = 0
    retries: int = 0
    error: str | None = None
    #: USD of the node's calls (``None``: unpriced) and who priced them.
    cost_usd: float | None = None
    price_source: str | None = None
    #: Finished before the run was resumed (known from the result, not from live events).
    earlier: bool = False

    def update(self, record: NodeRecord) -> None:
        self.status = record.status
        self.provider = record.provider or self.provider
        self.model = record.model or self.model
        self.duration_ms = record.duration_ms
        self.input_tokens = record.input_tokens
        self.output_tokens = record.output_tokens
        self.retries = record.retries
        self.error = record.error
        self.cost_usd, self.price_source = record.cost_usd, record.price_source

    @classmethod
    def from_record(cls, record: NodeRecord, *, earlier: bool = False) -> NodeRow:
        row = cls(record.id, earlier=earlier)
        row.update(record)
        return row


@dataclass
class Refusal:
    """A run that did not start: the engine raised before its first event."""

    kind: str
    message: str
    hint: str = ""
    problems: list[str] = field(default_factory=list)

    @classmethod
    def from_error(cls, exc: AgentsError) -> Refusal:
        return cls(type(exc).__name__, exc.message, exc.hint, [p.describe() for p in exc.problems if p.is_error])


@dataclass
class RunView:
    """Everything the page shows about the last run (or resume) started from it."""

    workflow: str
    resumed: bool = False
    run_id: str | None = None
    notices: list[str] = field(default_factory=list)
    rows: list[NodeRow] = field(default_factory=list)
    result: RunResult | None = None
    refusal: Refusal | None = None

    def apply(self, event: RunEvent) -> int | None:
        """Take one event; the index of the row it added or changed, if any."""
        if isinstance(event, RunStarted):
            self.run_id = event.run_id
            self.resumed = event.resumed
            self.notices = list(event.notices)
            return None
        if isinstance(event, NodeStarted):
            self.rows.append(NodeRow(event.node, provider=event.provider, model=event.model))
            return len(self.rows) - 1
        if isinstance(event, NodeFinished | NodeFailed):
            index = self._running(event.record.id)
            if index is None:
                self.rows.append(NodeRow.from_record(event.record))
                return len(self.rows) - 1
            self.rows[index].update(event.record)
            return index
        if isinstance(event, RunFinished):
            self.result = event.result
            self.notices = self.notices or list(event.result.notices)
            # A resumed run's result also holds the nodes that finished before the resume.
            earlier = len(event.result.nodes) - len(self.rows)
            if earlier > 0:
                carried = [NodeRow.from_record(r, earlier=True) for r in event.result.nodes[:earlier]]
                self.rows = carried + self.rows
        return None

    def _running(self, node: str) -> int | None:
        for index in range(len(self.rows) - 1, -1, -1):
            if self.rows[index].node == node and self.rows[index].status == "running":
                return index
        return None

    @property
    def failed(self) -> bool:
        return self.result is not None and self.result.status == "failed"


def duration_text(ms: float) -> str:
    return f"{ms:.0f} ms" if ms < 1000 else f"{ms / 1000:.1f} s"


def row_text(row: NodeRow) -> str:
    """One Markdown line: icon, node, status or numbers, model (and the error of a failed node)."""
    model = f"{row.provider} / {row.model}" if row.provider else row.model
    head = f"{ICONS.get(row.status, '•')} **{markdown_escape(row.node)}**"
    if row.status == "running":
        return f"{head} · running · {markdown_escape(model)}"
    numbers = (
        f"{duration_text(row.duration_ms)} · {row.input_tokens} in / {row.output_tokens} out tokens · "
        f"{row.retries} {'retry' if row.retries == 1 else 'retries'} · {markdown_escape(model)} · "
        f"{_row_cost(row)}"
    )
    if row.status == "failed":
        return f"{head} · failed after {numbers}"
    return f"{head} · {numbers}{' · before the resume' if row.earlier else ''}"


def _row_cost(row: NodeRow) -> str:
    """``$0.0012`` or ``unpriced``; a node that used no tokens cost nothing."""
    if row.cost_usd is None and not (row.input_tokens or row.output_tokens):
        return format_usd(0.0)
    return format_usd(row.cost_usd)


def summary_text(result: RunResult) -> str:
    ran = len(result.nodes)
    return (
        f"{ran} node run{'s' * (ran != 1)} · {result.total_input_tokens} in / {result.total_output_tokens} out "
        f"tokens · {format_usd(result.cost_usd)} · {duration_text(result.duration_ms)} in nodes"
    )


def failure_text(result: RunResult) -> str:
    """``Node **write** failed (ProviderError): message`` for ``st.error``."""
    error = result.error
    if error is None:
        return "The run failed."
    where = f"Node **{markdown_escape(error.node)}** failed" if error.node else "The run failed"
    message = error.message
    if error.node and message.startswith(f"node {error.node!r}: "):  # said already, in bold
        message = message[len(f"node {error.node!r}: ") :]
    return f"{where} ({error.type}): {markdown_escape(message)}"


def output_items(result: RunResult) -> list[tuple[str, str, Any]]:
    """``(name, "markdown" | "json", value)`` per output: text as Markdown, anything else as JSON."""
    items = []
    for name, value in result.outputs.items():
        if isinstance(value, str):
            items.append((name, "markdown", value))
        else:
            items.append((name, "json", json.loads(json.dumps(value, default=str))))
    return items


def refusal_text(refusal: Refusal) -> str:
    lines = [f"{markdown_escape(refusal.message)} {markdown_escape(refusal.hint)}".strip()]
    lines += [f"- {markdown_escape(problem)}" for problem in refusal.problems]
    return "\n".join(lines)


def failed_runs(store_path: Path, limit: int = 20) -> list[RunInfo]:
    """The workspace's recent runs that failed, newest first (what the page offers to resume)."""
    if not Path(store_path).exists():
        return []
    return [info for info in RunStore(store_path).recent(limit) if info.status == "failed"]


def run_label(info: RunInfo) -> str:
    when = time.strftime("%Y-%m-%d %H:%M", time.localtime(info.created_at))
    error = (info.error or "").split(". ")[0]
    error = error if len(error) <= 80 else error[:77] + "..."
    return f"{info.run_id} · {info.workflow_name} · {when} · {error}"
