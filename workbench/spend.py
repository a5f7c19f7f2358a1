"""Spend this week and this month, as the Home page shows it (no Streamlit, nothing heavy).

Read from the run store through the run service with ``RunStore.spend`` (the
same sum the monthly budget check uses): every status counts, unpriced runs
add nothing and are counted apart, so a total is never a silent $0. Weeks
start on Monday and months on the 1st, in UTC, like the store's day keys.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from agents_core.runs.budgets import month_start
from agents_core.runs.lifecycle import TERMINAL_STATUSES


def week_start(now: datetime | None = None) -> float:
    """Monday 00:00 UTC of the current ISO week, as UNIX seconds."""
    now = (now or datetime.now(UTC)).astimezone(UTC)
    monday = now - timedelta(days=now.weekday())
    return monday.replace(hour=0, minute=0, second=0, microsecond=0).timestamp()


@dataclass(frozen=True)
class Spend:
    week_usd: float
    month_usd: float
    #: Ended runs of this week or month that used tokens on a model no source prices.
    unpriced_runs: int


def spend_summary(service: Any, now: datetime | None = None) -> Spend:
    """USD spent by the workspace's runs since Monday and since the 1st (UTC)."""
    week, month = week_start(now), month_start(now)
    since = min(week, month)
    unpriced = sum(
        1
        for info in service.list(since=since, limit=None)
        if info.cost_usd is None and info.status in TERMINAL_STATUSES and (info.input_tokens or info.output_tokens)
    )
    return Spend(service.store.spend(since=week), service.store.spend(since=month), unpriced)
