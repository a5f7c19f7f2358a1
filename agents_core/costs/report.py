"""Cost reports from the run store: one row per node execution, then totals by any dimension.

:func:`cost_rows` reads runs (through anything with the run service's
``list(status=, workflow=, since=, limit=)``: a :class:`~agents_core.runs.RunService`
or a store) and gives plain dict rows, one per node record (a run that never
reached a node gives one row with ``node=None``). :func:`aggregate` groups them
``by`` workflow, model, node, status, day, week or month; :func:`totals` is
the grand total. The Runs & Costs page, the CLI and the notebook all use these
(the page, which has its runs already, passes them to :func:`rows_for_runs`).

Unpriced is never $0: within a group, each run's share is summed; a run whose
share includes a node that used tokens on an unpriced model counts under
``unpriced_runs`` and adds nothing to ``cost_usd`` (``None`` when no run of the
group is priced), the same rule as ``RunStore.spend`` and ``RunResult.cost_usd``.
"""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from agents_core.costs.periods import Window
from agents_core.errors import InputError

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
#: Columns of an aggregated row after its key column.
SUM_COLUMNS = ("runs", "priced_runs", "unpriced_runs", "input_tokens", "output_tokens", "cost_usd")


@dataclass(frozen=True)
class CostFilters:
    """Which rows a report holds. Run-level filters (window, workflow, status) and node-level ones (model, node).

    ``model`` matches ``provider/model`` or the bare model name.
    """

    window: Window = field(default_factory=Window)
    workflow: str | None = None
    status: str | None = None
    model: str | None = None
    node: str | None = None


def _stamp(moment: float) -> tuple[str, str, str, str]:
    when = datetime.fromtimestamp(moment, UTC)
    year, week, _ = when.isocalendar()
    return when.isoformat(timespec="seconds"), when.strftime("%Y-%m-%d"), f"{year}-W{week:02d}", when.strftime("%Y-%m")


def _unpriced(node: dict[str, Any]) -> bool:
    return node.get("cost_usd") is None and bool(node.get("input_tokens") or node.get("output_tokens"))


def run_rows(info: Any) -> list[dict[str, Any]]:
    """The cost rows of one run (a ``RunInfo``)."""
    created, day, week, month = _stamp(info.created_at)
    base = {
        "run_id": info.run_id,
        "workflow": info.workflow_name,
        "status": info.status,
        "created_at": created,
        "day": day,
        "week": week,
        "month": month,
    }
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


def model_key(provider: Any, model: Any) -> str:
    """How a model is named in rows, filters and groups: ``provider/model`` (``-`` for none, the bare name without a provider)."""
    if not model:
        return "-"
    return f"{provider}/{model}" if provider else str(model)


def _model_matches(row: dict[str, Any], model: str) -> bool:
    return model in (row.get("model"), model_key(row.get("provider"), row.get("model")))


def cost_rows(runs_source: Any, filters: CostFilters | None = None) -> list[dict[str, Any]]:
    """Node-level cost rows of the runs that pass ``filters``, oldest first.

    ``runs_source`` is a run service or a run store (anything with their ``list``).
    """
    filters = filters or CostFilters()
    runs = runs_source.list(status=filters.status, workflow=filters.workflow, since=filters.window.since, limit=None)
    return rows_for_runs(runs, filters)


def rows_for_runs(runs: Iterable[Any], filters: CostFilters | None = None) -> list[dict[str, Any]]:
    """Node-level cost rows of runs already read (``RunInfo`` s), oldest first, that pass ``filters``."""
    filters = filters or CostFilters()
    rows: list[dict[str, Any]] = []
    for info in sorted(runs, key=lambda r: r.created_at):
        if not filters.window.contains(info.created_at):
            continue
        if filters.workflow is not None and info.workflow_name != filters.workflow:
            continue
        if filters.status is not None and info.status != filters.status:
            continue
        for row in run_rows(info):
            if filters.node is not None and row["node"] != filters.node:
                continue
            if filters.model is not None and not _model_matches(row, filters.model):
                continue
            rows.append(row)
    return rows


def _key(row: dict[str, Any], by: str) -> str:
    if by == "model":
        return model_key(row.get("provider"), row.get("model"))
    value = row.get(by)
    return "-" if value is None else str(value)


def _summarise(rows: Iterable[dict[str, Any]]) -> dict[str, Any]:
    shares: dict[str, float | None] = {}
    tokens_in = tokens_out = 0
    for row in rows:
        tokens_in += row["input_tokens"]
        tokens_out += row["output_tokens"]
        run = row["run_id"]
        before = shares.get(run, 0.0)
        if before is None or _unpriced(row):
            shares[run] = None
        else:
            shares[run] = before + float(row["cost_usd"] or 0.0)
    priced = [share for share in shares.values() if share is not None]
    return {
        "runs": len(shares),
        "priced_runs": len(priced),
        "unpriced_runs": len(shares) - len(priced),
        "input_tokens": tokens_in,
        "output_tokens": tokens_out,
        "cost_usd": sum(priced) if priced else (None if shares else 0.0),
    }


def aggregate(rows: Sequence[dict[str, Any]], by: str) -> list[dict[str, Any]]:
    """Rows grouped by one of :data:`DIMENSIONS`: ``{by: key, runs, priced_runs, unpriced_runs, tokens…, cost_usd}``.

    Time keys sort in time order; the others by cost, highest first.
    """
    if by not in DIMENSIONS:
        raise InputError(f"--by {by!r} is not a dimension.", f"Use one of: {', '.join(DIMENSIONS)}.")
    groups: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        groups.setdefault(_key(row, by), []).append(row)
    result = [{by: key, **_summarise(members)} for key, members in groups.items()]
    if by in ("day", "week", "month"):
        return sorted(result, key=lambda r: r[by])
    return sorted(result, key=lambda r: (-(r["cost_usd"] or 0.0), r[by]))


def totals(rows: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """The grand total of the rows (same fields as an aggregated row, without a key)."""
    return _summarise(rows)


def report(runs_source: Any, filters: CostFilters | None = None, by: str = "workflow") -> dict[str, Any]:
    """The whole report as data: ``{"window", "filters", "by", "groups", "total"}`` (what ``--json`` prints)."""
    filters = filters or CostFilters()
    rows = cost_rows(runs_source, filters)
    return {
        "window": {"since": _iso(filters.window.since), "until": _iso(filters.window.until)},
        "filters": {
            "workflow": filters.workflow,
            "status": filters.status,
            "model": filters.model,
            "node": filters.node,
        },
        "by": by,
        "groups": aggregate(rows, by),
        "total": totals(rows),
    }


def _iso(moment: float | None) -> str | None:
    return None if moment is None else datetime.fromtimestamp(moment, UTC).isoformat(timespec="seconds")


def to_csv(rows: Sequence[dict[str, Any]], columns: Sequence[str] | None = None) -> str:
    """Rows as CSV text (an unpriced cost is an empty cell, never 0)."""
    columns = list(columns or (rows[0].keys() if rows else ROW_COLUMNS))
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: ("" if row.get(k) is None else row.get(k)) for k in columns})
    return buffer.getvalue()


def write_csv(
    path: str | os.PathLike[str], rows: Sequence[dict[str, Any]], columns: Sequence[str] | None = None
) -> None:
    """Write :func:`to_csv` to ``path`` (UTF-8); ``InputError`` when it cannot be written."""
    try:
        with open(path, "w", encoding="utf-8", newline="") as handle:
            handle.write(to_csv(rows, columns))
    except OSError as exc:
        raise InputError(f"{path} cannot be written ({exc.strerror or exc}).", "Choose a writable path.") from None


def dataframe(rows: Sequence[dict[str, Any]]) -> Any:
    """The rows as a pandas DataFrame (pandas is imported here, never at start-up)."""
    import pandas as pd

    frame = pd.DataFrame(list(rows), columns=list(rows[0].keys()) if rows else list(ROW_COLUMNS))
    return frame
