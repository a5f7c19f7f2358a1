"""What recorded runs would cost at today's prices, as a diff; optionally written back (``costs reprice``).

Each node record keeps its tokens, so a run can be priced again with any
:class:`~agents_core.llm.pricing.PriceBook` (the workspace's ``pricing.yaml``
over genai-prices, or another pricing file). A node record sums its model
calls, so a tiered price is applied to the node's total (a node whose calls
each stayed under a tier boundary may be repriced at the higher tier).

Nothing is changed unless :func:`apply_reprice` is called: it rewrites each
run's node costs and price sources and the run's total in the store, so
history then says which prices it was priced at.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from agents_core.costs.report import CostFilters
from agents_core.llm.pricing import PriceBook


@dataclass
class RepricedRun:
    """One run's node records priced again (``nodes`` are the new records)."""

    run_id: str
    workflow: str
    old_usd: float | None
    new_usd: float | None
    nodes: list[dict[str, Any]]
    changed: bool


@dataclass
class Reprice:
    """The diff: per (workflow, model) group and in total, old vs new USD, and the runs priced again."""

    groups: list[dict[str, Any]]
    total: dict[str, Any]
    runs: list[RepricedRun] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"groups": self.groups, "total": self.total, "price_sources": self.sources}


def _unpriced(cost: float | None, node: dict[str, Any]) -> bool:
    return cost is None and bool(node.get("input_tokens") or node.get("output_tokens"))


def _new_node(node: dict[str, Any], book: PriceBook) -> dict[str, Any]:
    provider, model = node.get("provider") or "", node.get("model") or ""
    if not provider or not model:
        return dict(node)
    cost = book.cost(
        provider, model, int(node.get("input_tokens") or 0), int(node.get("output_tokens") or 0), warn=False
    )
    return {**node, "cost_usd": cost.usd, "price_source": cost.source}


def _add(bucket: dict[str, Any], side: str, cost: float | None, node: dict[str, Any]) -> None:
    if _unpriced(cost, node):
        bucket[f"{side}_unpriced_nodes"] += 1
    else:
        bucket[f"{side}_usd"] += float(cost or 0.0)


def _bucket(**keys: Any) -> dict[str, Any]:
    return {**keys, "nodes": 0, "old_usd": 0.0, "new_usd": 0.0, "old_unpriced_nodes": 0, "new_unpriced_nodes": 0}


def _finish(bucket: dict[str, Any]) -> dict[str, Any]:
    bucket["delta_usd"] = bucket["new_usd"] - bucket["old_usd"]
    return bucket


def reprice(runs_source: Any, book: PriceBook, filters: CostFilters | None = None) -> Reprice:
    """Price the node records of finished runs again with ``book``; nothing is written."""
    from agents_core.engine.events import total_cost

    filters = filters or CostFilters()
    runs = runs_source.list(status=filters.status, workflow=filters.workflow, since=filters.window.since, limit=None)
    groups: dict[tuple[str, str], dict[str, Any]] = {}
    total = _bucket()
    repriced: list[RepricedRun] = []
    sources: set[str] = set()
    for info in sorted(runs, key=lambda r: r.created_at):
        if info.finished_at is None or not info.nodes or not filters.window.contains(info.created_at):
            continue
        new_nodes = []
        for node in info.nodes:
            new = _new_node(node, book)
            new_nodes.append(new)
            model = f"{node.get('provider')}/{node.get('model')}"
            if filters.model is not None and filters.model not in (node.get("model"), model):
                continue
            if filters.node is not None and node.get("id") != filters.node:
                continue
            if new.get("price_source"):
                sources.add(new["price_source"])
            for bucket in (
                groups.setdefault((info.workflow_name, model), _bucket(workflow=info.workflow_name, model=model)),
                total,
            ):
                bucket["nodes"] += 1
                _add(bucket, "old", node.get("cost_usd"), node)
                _add(bucket, "new", new.get("cost_usd"), new)
        changed = any(
            (a.get("cost_usd"), a.get("price_source")) != (b.get("cost_usd"), b.get("price_source"))
            for a, b in zip(info.nodes, new_nodes, strict=True)
        )
        repriced.append(
            RepricedRun(
                info.run_id, info.workflow_name, total_cost(info.nodes), total_cost(new_nodes), new_nodes, changed
            )
        )
    total["runs"] = len(repriced)
    ordered = sorted(groups.values(), key=lambda g: (g["workflow"], g["model"]))
    return Reprice([_finish(g) for g in ordered], _finish(total), repriced, sorted(sources))


def apply_reprice(store: Any, result: Reprice) -> int:
    """Write the new node costs, price sources and run totals into the store; the number of runs changed."""
    changed = 0
    for run in result.runs:
        if run.changed:
            store.rewrite_costs(run.run_id, run.nodes)
            changed += 1
    return changed
