"""What the workbench shows of a run, read from the run service's event log (no Streamlit here).

The run lives in the run service's task, not in the page: the page keeps
only run ids in session state. :class:`RunView` folds a run's logged events
into one row per node execution (a node in a loop gets a row per visit) and
the final result; :meth:`RunView.catch_up` applies the events logged since
the last call, so a page that redraws on a timer follows a live run, and a
page that comes back later (or another session) replays the log and shows
the same rows. A run with no log (recorded before events were kept) is
shown from its stored row.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from agents_core.engine.events import (
    NodeFailed,
    NodeFinished,
    NodeRecord,
    NodeRetried,
    NodeStarted,
    RunErrorInfo,
    RunEvent,
    RunFinished,
    RunResult,
    RunStarted,
    total_cost,
)
from agents_core.errors import AgentsError
from agents_core.llm.pricing import format_cost, format_usd
from agents_core.runs import RunInfo, RunService, default_service, default_store_path
from agents_core.runs.lifecycle import ACTIVE_STATUSES, RESUMABLE_STATUSES, TERMINAL_STATUSES
from workbench.text import markdown_escape

ICONS = {
    "running": "⏳",
    "queued": "⏳",
    "success": "✅",
    "failed": "❌",
    "cancelled": "⏹️",
    "interrupted": "⚠️",
}
#: Waits shorter than this are noise (thread hand-over), not queueing.
QUEUE_NOTICE_MS = 10.0


def existing_service(root: Path) -> RunService | None:
    """The workspace's run service, or ``None`` while it has no store yet (looking creates nothing)."""
    return default_service(root) if default_store_path(root).exists() else None


def is_known(service: RunService, run_id: str) -> bool:
    """Whether the store has the run (a session may remember one from another store)."""
    try:
        service.get(run_id)
    except AgentsError:
        return False
    return True


def is_going(service: RunService, run_id: str) -> bool:
    """Whether a run is queued or running (a run no longer in the store is not)."""
    try:
        return service.get(run_id).status in ACTIVE_STATUSES
    except AgentsError:
        return False


@dataclass
class NodeRow:
    """One node execution as a row: running until its finish or failure event arrives."""

    node: str
    status: str = "running"
    provider: str = ""
    model: str = ""
    duration_ms: float = 0.0
    queue_ms: float = 0.0
    input_tokens: int = 0
    output_tokens: int = 0
    retries: int = 0
    error: str | None = None
    #: USD of the node's calls (``None``: unpriced) and who priced them.
    cost_usd: float | None = None
    price_source: str | None = None
    prompt: str = ""
    response: str = ""
    started_at: datetime | None = None
    #: The last retry of a running node ("attempt 2: 429 …"), until it finishes.
    retrying: str | None = None
    #: Finished before the run was resumed (known from the result, not from live events).
    earlier: bool = False

    def update(self, record: NodeRecord) -> None:
        self.status = record.status
        self.provider = record.provider or self.provider
        self.model = record.model or self.model
        self.duration_ms = record.duration_ms
        self.queue_ms = getattr(record, "queue_ms", 0.0) or 0.0
        self.input_tokens = record.input_tokens
        self.output_tokens = record.output_tokens
        self.retries = record.retries
        self.error = record.error
        self.cost_usd, self.price_source = record.cost_usd, record.price_source
        self.prompt = record.prompt
        self.response = record.response
        self.retrying = None

    @classmethod
    def from_record(cls, record: NodeRecord, *, earlier: bool = False) -> NodeRow:
        row = cls(record.id, earlier=earlier)
        row.update(record)
        return row


@dataclass
class Refusal:
    """A run that did not start (or resume): the service raised before its first event."""

    kind: str
    message: str
    hint: str = ""
    problems: list[str] = field(default_factory=list)

    @classmethod
    def from_error(cls, exc: AgentsError) -> Refusal:
        return cls(type(exc).__name__, exc.message, exc.hint, [p.describe() for p in exc.problems if p.is_error])


@dataclass
class RunView:
    """Everything a page shows about one run: header, node rows, and the outcome once it ends."""

    run_id: str
    workflow: str = ""
    resumed: bool = False
    notices: list[str] = field(default_factory=list)
    rows: list[NodeRow] = field(default_factory=list)
    result: RunResult | None = None
    #: The ``seq`` of the last event applied (the next read starts after it).
    seq: int = 0
    #: The ``seq`` of the last ``run_started``: which execution (first run or a resume) the rows are of.
    started_seq: int = 0

    def apply(self, event: RunEvent) -> int | None:
        """Take one event; the index of the row it added or changed, if any."""
        self.seq = max(self.seq, event.seq)
        if isinstance(event, RunStarted):
            self.started_seq = event.seq
            self.resumed = event.resumed
            self.notices = list(event.notices)
            self.result = None
            if event.resumed:  # what finished before is kept by the checkpoint; the rest runs again
                self.rows = [row for row in self.rows if row.status == "success"]
                for row in self.rows:
                    row.earlier = True
            return None
        if isinstance(event, NodeStarted):
            self.rows.append(NodeRow(event.node, provider=event.provider, model=event.model, started_at=event.at))
            return len(self.rows) - 1
        if isinstance(event, NodeRetried):
            index = self._running(event.node)
            if index is not None:
                self.rows[index].retrying = f"attempt {event.attempt + 1} after {event.reason}"
            return index
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
            for row in self.rows:  # a cancelled or interrupted run leaves its node running in the log
                if row.status == "running":
                    row.status = event.result.status if event.result.status != "success" else "failed"
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

    def catch_up(self, service: RunService) -> RunView:
        """Apply what the run's log holds beyond :attr:`seq` (never waits); a run with no log, from its row."""
        for event in service.events(self.run_id, after_seq=self.seq, follow=False):
            self.apply(event)
        if self.seq == 0 and self.result is None:
            info = service.get(self.run_id)
            if info.status in TERMINAL_STATUSES:
                self.result = result_of(info)
                self.rows = [NodeRow.from_record(record) for record in self.result.nodes]
        return self

    @property
    def active(self) -> bool:
        """Still going: no ``run_finished`` seen yet."""
        return self.result is None

    @property
    def key(self) -> str:
        """Names this execution of the run in widget keys: a button drawn for one execution never acts for the next."""
        return f"{self.run_id}:{self.started_seq}"

    @property
    def failed(self) -> bool:
        return self.result is not None and self.result.status == "failed"

    @property
    def resumable(self) -> bool:
        return self.result is not None and self.result.status in RESUMABLE_STATUSES


def result_of(info: RunInfo) -> RunResult:
    """The result of a stored run row (for runs whose event log is empty)."""
    error = info.error_details
    if error is None and info.error:
        error = RunErrorInfo(None, "RunError", info.error)
    status: Any = info.status
    return RunResult(info.run_id, info.workflow_name, status, {}, dict(info.outputs), info.node_records, error)


def workflow_label(info: RunInfo) -> str:
    """The file name a run came from (what the page's workflow list shows), else the flow's name."""
    return Path(info.workflow_file).name if info.workflow_file else info.workflow_name


def duration_text(ms: float) -> str:
    return f"{ms:.0f} ms" if ms < 1000 else f"{ms / 1000:.1f} s"


def elapsed_text(started: datetime | None, now: datetime | None = None) -> str:
    """``running 12 s`` for a node that started at ``started`` (whole seconds; the page redraws each second)."""
    if started is None:
        return "running"
    seconds = max(((now or datetime.now(UTC)) - started).total_seconds(), 0.0)
    return f"running {seconds:.0f} s" if seconds < 60 else f"running {int(seconds // 60)} min {seconds % 60:.0f} s"


def row_text(row: NodeRow, now: datetime | None = None) -> str:
    """One Markdown line: icon, node, run time and numbers, model, and a wait for the local model apart.

    The run time excludes the queue time: a branch that waited for the one local
    model says so, instead of looking slow (or sequential).
    """
    model = f"{row.provider} / {row.model}" if row.provider else row.model
    head = f"{ICONS.get(row.status, '•')} **{markdown_escape(row.node)}**"
    if row.status == "running":
        retry = f" · {markdown_escape(row.retrying)}" if row.retrying else ""
        return f"{head} · {elapsed_text(row.started_at, now)} · {markdown_escape(model)}{retry}"
    if row.status in ("cancelled", "interrupted"):
        return f"{head} · {row.status} while running · {markdown_escape(model)}"
    numbers = (
        f"{duration_text(max(row.duration_ms - row.queue_ms, 0.0))} · "
        f"{row.input_tokens} in / {row.output_tokens} out tokens · "
        f"{row.retries} {'retry' if row.retries == 1 else 'retries'} · {markdown_escape(model)} · "
        f"{_row_cost(row)}"
    )
    if row.queue_ms >= QUEUE_NOTICE_MS:
        numbers += f" · waited {duration_text(row.queue_ms)} for the local model"
    if row.status == "failed":
        return f"{head} · failed after {numbers}"
    return f"{head} · {numbers}{' · before the resume' if row.earlier else ''}"


def _row_cost(row: NodeRow) -> str:
    """``$0.0012`` or ``unpriced``; a node that used no tokens cost nothing."""
    return format_cost(row.cost_usd, row.input_tokens, row.output_tokens)


def summary_text(result: RunResult) -> str:
    ran = len(result.nodes)
    return (
        f"{ran} node run{'s' * (ran != 1)} · {result.total_input_tokens} in / {result.total_output_tokens} out "
        f"tokens · {format_usd(result.cost_usd)} · {duration_text(result.duration_ms)} in nodes"
    )


def running_total_text(view: RunView) -> str:
    """The total so far of a run that goes on: its finished node runs, their tokens and cost."""
    done = [row for row in view.rows if row.status != "running"]
    tokens_in = sum(row.input_tokens for row in done)
    tokens_out = sum(row.output_tokens for row in done)
    return (
        f"So far: {len(done)} node run{'s' * (len(done) != 1)} · {tokens_in} in / {tokens_out} out tokens · "
        f"{format_usd(total_cost(done))}"
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


def stopped_text(result: RunResult) -> str:
    """What a cancelled or interrupted run says: the status, where it stopped, and why."""
    error = result.error
    where = f" at node **{markdown_escape(error.node)}**" if error and error.node else ""
    reason = f" {markdown_escape(error.message)}" if error and result.status == "interrupted" else ""
    kept = " The state of its last finished node is kept; resume it to go on."
    return f"Run {result.status}{where}.{reason}{kept}"


def output_items(result: RunResult) -> list[tuple[str, str, Any]]:
    """``(name, "markdown" | "json", value)`` per output: text as Markdown, anything else as JSON."""
    items = []
    for name, value in result.outputs.items():
        if isinstance(value, str):
            items.append((name, "markdown", value))
        else:
            items.append((name, "json", json_ready(value)))
    return items


def json_ready(value: Any) -> Any:
    return json.loads(json.dumps(value, default=str))


def refusal_text(refusal: Refusal) -> str:
    lines = [f"{markdown_escape(refusal.message)} {markdown_escape(refusal.hint)}".strip()]
    lines += [f"- {markdown_escape(problem)}" for problem in refusal.problems]
    return "\n".join(lines)


# -- the list of runs -----------------------------------------------------------------------


def tokens_of(info: RunInfo) -> tuple[int, int]:
    """Input and output tokens of a run: the row's totals when the store keeps them, else its node records."""
    if info.input_tokens is not None and info.output_tokens is not None:
        return info.input_tokens, info.output_tokens
    return (
        sum(int(n.get("input_tokens") or 0) for n in info.nodes),
        sum(int(n.get("output_tokens") or 0) for n in info.nodes),
    )


def started_text(info: RunInfo) -> str:
    return time.strftime("%Y-%m-%d %H:%M", time.localtime(info.started_at or info.created_at))


def runs_table(runs: list[RunInfo]) -> str:
    """The Markdown table of runs: status, workflow, started, duration, tokens and cost ("unpriced", never $0)."""
    lines = ["| Run | Workflow | Status | Started | Duration | Tokens | Cost |", "|---" * 7 + "|"]
    for info in runs:
        duration = info.duration_s
        tokens_in, tokens_out = tokens_of(info)
        cells = [
            info.run_id,
            markdown_escape(info.workflow_name),
            info.status,
            started_text(info),
            duration_text(duration * 1000) if duration is not None else "",
            f"{tokens_in} in / {tokens_out} out",
            format_usd(info.cost_usd) if info.cost_usd is not None or tokens_in or tokens_out else "",
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def run_label(info: RunInfo) -> str:
    """One line naming a run in a chooser: id, workflow, status, start, and the first words of its error."""
    error = (info.error or "").split(". ")[0]
    error = error if len(error) <= 80 else error[:77] + "..."
    parts = [info.run_id, info.workflow_name, info.status, started_text(info)]
    return " · ".join(parts + ([error] if error else []))
