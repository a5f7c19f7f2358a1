"""Spend this week and this month, as the Home page shows it (no Streamlit, nothing heavy).

Read from the run store through the run service with ``RunStore.spend`` (the
same sum the monthly budget check uses): every status counts, unpriced runs
add nothing and are counted apart by the cost report's rule
(``agents_core.costs.report.totals``), so a total is never a silent $0. Weeks
start on Monday and months on the 1st, in UTC, like the store's day keys.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from agents_core.costs.periods import week_start
from agents_core.costs.report import rows_for_runs, totals
from agents_core.runs.budgets import month_start
from agents_core.runs.lifecycle import TERMINAL_STATUSES


@dataclass(frozen=True)
class Spend:
    week_usd: float
    month_usd: float
    #: Ended runs of this week or month that used tokens on a model no source prices.
    unpriced_runs: int


def spend_summary(service: Any, now: datetime | None = None) -> Spend:
    """USD spent by the workspace's runs since Monday and since the 1st (UTC)."""
    week, month = week_start(now), month_start(now)
    ended = [info for info in service.list(since=min(week, month), limit=None) if info.status in TERMINAL_STATUSES]
    unpriced = totals(rows_for_runs(ended))["unpriced_runs"]
    return Spend(service.spend(since=week), service.spend(since=month), unpriced)
