"""What the Runs & Costs page shows: runs filtered and sorted, one run in detail, spend against budgets (no Streamlit).

Everything is read from the run store through the run service (the store is
the record of every run and its cost, tracking on or off); MLflow only adds a
link. Money is ``format_usd``'s: an unpriced run reads "unpriced", never $0.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from agents_core.costs.periods import Window, day_window
from agents_core.costs.report import model_key, rows_for_runs, totals
from agents_core.errors import AgentsError
from agents_core.llm.pricing import format_cost, format_usd
from agents_core.runs import RunInfo
from agents_core.runs.budgets import month_start, monthly_budget
from agents_core.runs.lifecycle import ACTIVE_STATUSES
from workbench.run_form import check_file
from workbench.run_view import duration_text, tokens_of

STATUSES = ("success", "failed", "cancelled", "interrupted", "running", "queued")
#: Sort choices of the runs table: label -> (column of :func:`runs_frame`, newest/highest first by default).
SORTS = {
    "Started": "started",
    "Cost": "cost_usd",
    "Duration": "duration_s",
    "Tokens": "tokens",
    "Workflow": "workflow",
    "Status": "status",
}
#: The columns a person sees, in order (``runs_frame`` also has the numeric ones used to sort).
TABLE_COLUMNS = [
    "run_id",
    "workflow",
    "status",
    "started",
    "duration",
    "models",
    "input_tokens",
    "output_tokens",
    "cost",
]
PERIODS = {"Day": "day", "Week": "week", "Month": "month"}


@dataclass(frozen=True)
class RunFilters:
    """Which runs the page shows; an empty choice lets every value through. ``until`` is inclusive (a day)."""

    workflows: tuple[str, ...] = ()
    statuses: tuple[str, ...] = ()
    models: tuple[str, ...] = ()
    since: date | None = None
    until: date | None = None

    def window(self) -> Window:
        """``[since, until + 1 day)`` (UTC days, as the store's day keys are)."""
        return day_window(self.since, self.until)

    def admits(self, info: RunInfo) -> bool:
        if not self.window().contains(info.created_at):
            return False
        if self.workflows and info.workflow_name not in self.workflows:
            return False
        if self.statuses and info.status not in self.statuses:
            return False
        return not self.models or bool(set(models_of(info)) & set(self.models))


def date_span(value: Any) -> tuple[date | None, date | None]:
    """``(since, until)`` from ``st.date_input``'s range value (one date while the second is being picked)."""
    if isinstance(value, tuple | list):
        days = [*value, None, None]
        return days[0], days[1]
    return value, value


def models_of(info: RunInfo) -> list[str]:
    """``provider/model`` of each model the run's nodes used, in first-use order."""
    seen: dict[str, None] = {}
    for node in info.nodes:
        if node.get("model"):
            seen[model_key(node.get("provider"), node.get("model"))] = None
    return list(seen)


def filter_runs(runs: Iterable[RunInfo], filters: RunFilters) -> list[RunInfo]:
    return [info for info in runs if filters.admits(info)]


@dataclass(frozen=True)
class Choices:
    """The values the filters offer: what the listed runs hold."""

    workflows: list[str]
    statuses: list[str]
    models: list[str]
    first_day: date | None
    last_day: date | None


def choices(runs: Sequence[RunInfo]) -> Choices:
    days = [datetime.fromtimestamp(r.created_at, UTC).date() for r in runs]
    present = {r.status for r in runs}
    return Choices(
        workflows=sorted({r.workflow_name for r in runs}),
        statuses=[s for s in STATUSES if s in present] + sorted(present - set(STATUSES)),
        models=sorted({m for r in runs for m in models_of(r)}),
        first_day=min(days) if days else None,
        last_day=max(days) if days else None,
    )


def cost_text(info: RunInfo) -> str:
    """A run's cost: ``$0.0123``, ``unpriced``, ``$0.00`` for a run that used no tokens, empty while it goes on."""
    if info.status in ACTIVE_STATUSES:
        return ""
    return format_cost(info.cost_usd, *tokens_of(info))


def runs_frame(runs: Sequence[RunInfo], sort: str = "Started", descending: bool = True) -> pd.DataFrame:
    """One row per run with :data:`TABLE_COLUMNS` and the numbers they are sorted by; unpriced runs sort last."""
    rows = []
    for info in runs:
        tokens_in, tokens_out = tokens_of(info)
        seconds = info.duration_s
        rows.append(
            {
                "run_id": info.run_id,
                "workflow": info.workflow_name,
                "status": info.status,
                "started": datetime.fromtimestamp(info.started_at or info.created_at, UTC).replace(tzinfo=None),  # UTC
                "duration": duration_text(seconds * 1000) if seconds is not None else "",
                "duration_s": seconds,
                "models": ", ".join(models_of(info)),
                "input_tokens": tokens_in,
                "output_tokens": tokens_out,
                "tokens": tokens_in + tokens_out,
                "cost": cost_text(info),
                "cost_usd": info.cost_usd,
            }
        )
    columns = [*TABLE_COLUMNS, "duration_s", "tokens", "cost_usd"]
    data = pd.DataFrame(rows, columns=columns)
    data["cost_usd"] = pd.to_numeric(data["cost_usd"], errors="coerce")
    data["duration_s"] = pd.to_numeric(data["duration_s"], errors="coerce")
    key = SORTS.get(sort, "started")
    return data.sort_values(key, ascending=not descending, na_position="last", kind="stable", ignore_index=True)


def csv_text(data: pd.DataFrame) -> str:
    """The shown runs as CSV: the table's columns plus ``cost_usd`` as a number (empty when unpriced)."""
    out = data[[*TABLE_COLUMNS, "cost_usd"]].copy()
    out["started"] = out["started"].map(lambda t: t.isoformat(timespec="seconds") + "Z")
    return out.to_csv(index=False, lineterminator="\n")


# -- one run in detail ---------------------------------------------------------------------------


@dataclass(frozen=True)
class NodeDetail:
    node: str
    status: str
    model: str
    duration: str
    input_tokens: int
    output_tokens: int
    cost: str
    price_source: str
    retries: int
    prompt: str
    response: str
    error: str | None


@dataclass
class RunDetail:
    """A run's facts, a row per node execution, and what went in and came out."""

    info: RunInfo
    nodes: list[NodeDetail] = field(default_factory=list)

    @property
    def summary(self) -> str:
        tokens_in, tokens_out = tokens_of(self.info)
        seconds = self.info.duration_s
        parts = [
            f"**{self.info.status}**",
            f"started {datetime.fromtimestamp(self.info.started_at or self.info.created_at, UTC):%Y-%m-%d %H:%M} UTC",
            duration_text(seconds * 1000) if seconds is not None else "not started",
            f"{tokens_in} in / {tokens_out} out tokens",
            cost_text(self.info) or "cost when it ends",
        ]
        return " · ".join(parts)

    @property
    def error(self) -> str | None:
        details = self.info.error_details
        if details is None:
            return self.info.error
        where = f"node {details.node}: " if details.node and not details.message.startswith("node ") else ""
        return f"{details.type}: {where}{details.message}" + (f"  \n{details.hint}" if details.hint else "")

    def nodes_frame(self) -> pd.DataFrame:
        columns = ["node", "status", "model", "duration", "input_tokens", "output_tokens", "cost", "price_source"]
        return pd.DataFrame([{c: getattr(n, c) for c in [*columns, "retries"]} for n in self.nodes])

    @property
    def exchanges(self) -> list[NodeDetail]:
        """The nodes whose prompt or reply was kept."""
        return [n for n in self.nodes if n.prompt or n.response]


def run_detail(info: RunInfo) -> RunDetail:
    detail = RunDetail(info)
    for record in info.node_records:
        used = record.input_tokens or record.output_tokens
        detail.nodes.append(
            NodeDetail(
                node=record.id,
                status=record.status,
                model=model_key(record.provider, record.model),
                duration=duration_text(record.duration_ms),
                input_tokens=record.input_tokens,
                output_tokens=record.output_tokens,
                cost=format_cost(record.cost_usd, record.input_tokens, record.output_tokens),
                price_source=record.price_source or ("unpriced" if record.cost_usd is None and used else ""),
                retries=record.retries,
                prompt=record.prompt,
                response=record.response,
                error=record.error,
            )
        )
    return detail


def pretty_json(value: Any) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False, default=str)


# -- month-to-date spend against monthly budgets ----------------------------------------------------


@dataclass(frozen=True)
class BudgetLine:
    """One workflow's month-to-date spend (priced runs) against its ``monthly_budget_usd``."""

    workflow: str
    budget_usd: float
    spent_usd: float
    unpriced_runs: int

    @property
    def share(self) -> float:
        return self.spent_usd / self.budget_usd if self.budget_usd else float("inf")

    @property
    def text(self) -> str:
        unpriced = (
            f" (+ {self.unpriced_runs} unpriced run{'s' * (self.unpriced_runs != 1)})" if self.unpriced_runs else ""
        )
        return (
            f"{self.workflow}: {format_usd(self.spent_usd)} of {format_usd(self.budget_usd)} "
            f"({self.share:.0%}){unpriced}"
        )


def workflow_budgets(root: Path, names: Iterable[str]) -> dict[str, float]:
    """``flow.name -> monthly_budget_usd`` of the workspace's workflow files that set one (unreadable files skipped)."""
    budgets: dict[str, float] = {}
    for name in names:
        try:
            workflow = check_file(root / name).workflow  # cached until the file changes
        except (AgentsError, OSError):
            continue
        if workflow is None:
            continue
        budget = monthly_budget(workflow)
        if budget is not None:
            budgets[workflow.flow.name] = float(budget)
    return budgets


def budget_lines(service: Any, budgets: dict[str, float], now: datetime | None = None) -> list[BudgetLine]:
    """Spend since the first of this UTC month of each budgeted workflow, as the run service's budget check sees it."""
    since = month_start(now)
    lines = []
    for workflow, budget in sorted(budgets.items()):
        ended = [r for r in service.list(workflow=workflow, since=since, limit=None) if r.status not in ACTIVE_STATUSES]
        unpriced = totals(rows_for_runs(ended))["unpriced_runs"]
        lines.append(BudgetLine(workflow, budget, service.spend(workflow=workflow, since=since), unpriced))
    return lines
