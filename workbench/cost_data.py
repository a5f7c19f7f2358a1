"""Cost rows of runs and their totals by a dimension, with pandas (no Streamlit here).

The Runs & Costs page's aggregation. It keeps the row shape and the rules of
``agents_core.costs.report`` (``cost_rows`` / ``aggregate``, written in
parallel for the ``costs report`` command), so the page can switch to that
module by changing its imports: one row per node execution (a run that never
reached a node gives one row with ``node`` empty); within a group each run's
share is summed, and a run whose share holds a node that used tokens on an
unpriced model counts under ``unpriced_runs`` and adds nothing to
``cost_usd``, which is empty (never 0) when no run of the group is priced.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

import pandas as pd

from agents_core.runs import RunInfo

#: Dimensions of :func:`aggregate`.
DIMENSIONS = ("workflow", "model", "node", "status", "day", "week", "month")
#: Columns of a cost row, in CSV order.
ROW_COLUMNS = (
    "run_id",
    "workflow",
    "status",
    "created_at",
    "day",
    "week",
    "month",
    "node",
    "provider",
    "model",
    "input_tokens",
    "output_tokens",
    "cost_usd",
    "price_source",
)
SUM_COLUMNS = ("runs", "priced_runs", "unpriced_runs", "input_tokens", "output_tokens", "cost_usd")


def stamps(moment: float) -> dict[str, str]:
    """``created_at`` (ISO, UTC), and its ``day``, ISO ``week`` and ``month`` keys."""
    when = datetime.fromtimestamp(moment, UTC)
    year, week, _ = when.isocalendar()
    return {
        "created_at": when.isoformat(timespec="seconds"),
        "day": when.strftime("%Y-%m-%d"),
        "week": f"{year}-W{week:02d}",
        "month": when.strftime("%Y-%m"),
    }


def run_rows(info: RunInfo) -> list[dict[str, Any]]:
    """The cost rows of one run."""
    base = {"run_id": info.run_id, "workflow": info.workflow_name, "status": info.status, **stamps(info.created_at)}
    if not info.nodes:
        return [
            base
            | {
                "node": None,
                "provider": None,
                "model": None,
                "input_tokens": int(info.input_tokens or 0),
                "output_tokens": int(info.output_tokens or 0),
                "cost_usd": info.cost_usd if info.finished_at is not None else 0.0,
                "price_source": None,
            }
        ]
    return [
        base
        | {
            "node": node.get("id"),
            "provider": node.get("provider") or None,
            "model": node.get("model") or None,
            "input_tokens": int(node.get("input_tokens") or 0),
            "output_tokens": int(node.get("output_tokens") or 0),
            "cost_usd": node.get("cost_usd"),
            "price_source": node.get("price_source"),
        }
        for node in info.nodes
    ]


def cost_rows(runs: Iterable[RunInfo]) -> list[dict[str, Any]]:
    """Node-level cost rows of ``runs``, oldest run first."""
    return [row for info in sorted(runs, key=lambda r: r.created_at) for row in run_rows(info)]


def frame(rows: Sequence[dict[str, Any]]) -> pd.DataFrame:
    """The rows as a DataFrame with :data:`ROW_COLUMNS` (an unpriced cost is ``NaN``)."""
    data = pd.DataFrame(list(rows), columns=list(ROW_COLUMNS))
    data["cost_usd"] = pd.to_numeric(data["cost_usd"], errors="coerce")
    for column in ("input_tokens", "output_tokens"):
        data[column] = pd.to_numeric(data[column]).fillna(0).astype(int)
    return data


def model_key(provider: Any, model: Any) -> str:
    if not model or pd.isna(model):
        return "-"
    return f"{provider}/{model}" if provider and not pd.isna(provider) else str(model)


def aggregate(rows: Sequence[dict[str, Any]], by: str) -> pd.DataFrame:
    """Totals ``by`` one of :data:`DIMENSIONS`: ``[by, runs, priced_runs, unpriced_runs, input_tokens, output_tokens, cost_usd]``.

    Time keys sort in time order; the others by cost, highest first.
    """
    if by not in DIMENSIONS:
        raise ValueError(f"{by!r} is not a dimension; use one of {', '.join(DIMENSIONS)}.")
    data = frame(rows)
    if data.empty:
        return pd.DataFrame(columns=[by, *SUM_COLUMNS])
    if by == "model":
        data["key"] = [model_key(p, m) for p, m in zip(data["provider"], data["model"], strict=True)]
    else:
        data["key"] = data[by].fillna("-").astype(str)
    data["unpriced"] = data["cost_usd"].isna() & ((data["input_tokens"] + data["output_tokens"]) > 0)
    shares = data.groupby(["key", "run_id"], sort=False).agg(
        cost=("cost_usd", lambda c: float(c.fillna(0.0).sum())),
        unpriced=("unpriced", "any"),
        input_tokens=("input_tokens", "sum"),
        output_tokens=("output_tokens", "sum"),
    )
    shares["priced"] = ~shares["unpriced"]
    shares["share"] = shares["cost"].where(shares["priced"])
    groups = shares.groupby(level="key", sort=False).agg(
        runs=("priced", "size"),
        priced_runs=("priced", "sum"),
        input_tokens=("input_tokens", "sum"),
        output_tokens=("output_tokens", "sum"),
        cost_usd=("share", lambda s: s.sum(min_count=1)),
    )
    groups["unpriced_runs"] = groups["runs"] - groups["priced_runs"]
    result = groups.reset_index().rename(columns={"key": by})[[by, *SUM_COLUMNS]]
    result = result.astype({c: int for c in SUM_COLUMNS if c != "cost_usd"})
    if by in ("day", "week", "month"):
        return result.sort_values(by, ignore_index=True)
    order = result.assign(_cost=result["cost_usd"].fillna(0.0)).sort_values(["_cost", by], ascending=[False, True])
    return order.drop(columns="_cost").reset_index(drop=True)
