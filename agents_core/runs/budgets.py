"""A workflow's monthly budget: a run is refused once the month-to-date spend in the run store has reached it.

The month is the UTC calendar month (the run store keeps UNIX times); the
spend is every run of the workflow created since its first day, whatever its
status (a failed run cost money too), as written at each run's finish.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from agents_core.errors import MonthlyBudgetReached
from agents_core.llm.pricing import format_usd


def month_start(now: datetime | None = None) -> float:
    """The first instant of the current UTC calendar month, as UNIX seconds."""
    now = now or datetime.now(UTC)
    return now.astimezone(UTC).replace(day=1, hour=0, minute=0, second=0, microsecond=0).timestamp()


def monthly_budget(workflow: Any) -> float | None:
    execution = workflow.config.execution if workflow.config and workflow.config.execution else None
    return getattr(execution, "monthly_budget_usd", None) if execution else None


def check_monthly_budget(store: Any, workflow: Any) -> None:
    """``MonthlyBudgetReached`` when the workflow's month-to-date spend has reached ``monthly_budget_usd``."""
    budget = monthly_budget(workflow)
    if budget is None:
        return
    name = workflow.flow.name
    spent = store.spend(workflow=name, since=month_start())
    if spent >= budget:
        month = datetime.now(UTC).strftime("%B %Y")
        raise MonthlyBudgetReached(
            f"workflow {name!r} has spent {format_usd(spent)} in {month} (UTC), which reaches its "
            f"config.execution.monthly_budget_usd of {format_usd(budget)}; the run was refused.",
            "Raise monthly_budget_usd in the workflow file, or wait for next month "
            "(configurable-agents runs list shows this month's runs).",
        )
