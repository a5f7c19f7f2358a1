"""Plotly figures of the Runs & Costs page, from cost rows and budget lines (no Streamlit here).

Rows and their totals are ``agents_core.costs.report``'s (the same the CLI's
``costs report`` prints). Bars show the priced part of each group; a group's unpriced runs are named in
its hover text and never drawn as $0. Figures are plain ``plotly.graph_objects``
so tests can read their data back.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import plotly.graph_objects as go

from agents_core.costs.report import aggregate
from workbench.costs_view import BudgetLine

HOVER = "%{x}<br>%{y:$,.6g}<br>%{customdata[0]} runs, %{customdata[1]} unpriced<extra></extra>"


def _layout(figure: go.Figure, title: str, x_title: str, y_title: str = "USD") -> go.Figure:
    figure.update_layout(
        title=title,
        xaxis_title=x_title,
        yaxis_title=y_title,
        margin={"l": 40, "r": 20, "t": 50, "b": 40},
        height=340,
        legend={"orientation": "h"},
    )
    return figure


def cost_bars(rows: Sequence[dict[str, Any]], by: str, title: str) -> go.Figure:
    """Cost per ``by`` key (a period, workflow or model) as bars."""
    groups = aggregate(rows, by)
    figure = go.Figure(
        go.Bar(
            x=[str(group[by]) for group in groups],
            y=[group["cost_usd"] or 0.0 for group in groups],  # the priced part; unpriced runs are in the hover
            customdata=[(group["runs"], group["unpriced_runs"]) for group in groups],
            hovertemplate=HOVER,
            name="cost",
        )
    )
    figure.update_xaxes(type="category")
    return _layout(figure, title, by)


def cost_over_time(rows: Sequence[dict[str, Any]], period: str) -> go.Figure:
    """Cost per day, ISO week or month (UTC)."""
    return cost_bars(rows, period, f"Cost per {period}")


def tokens_per_node(rows: Sequence[dict[str, Any]]) -> go.Figure:
    """Input and output tokens of each node, summed over the runs shown (stacked)."""
    groups = aggregate([row for row in rows if row["node"] is not None], "node")
    groups.sort(key=lambda group: -(group["input_tokens"] + group["output_tokens"]))  # stable: ties keep cost order
    nodes = [str(group["node"]) for group in groups]
    figure = go.Figure(
        [
            go.Bar(x=nodes, y=[group["input_tokens"] for group in groups], name="input tokens"),
            go.Bar(x=nodes, y=[group["output_tokens"] for group in groups], name="output tokens"),
        ]
    )
    figure.update_layout(barmode="stack")
    figure.update_xaxes(type="category")
    return _layout(figure, "Tokens per node", "node", "tokens")


def budget_chart(lines: Sequence[BudgetLine]) -> go.Figure:
    """Month-to-date spend of each budgeted workflow beside its monthly budget."""
    names = [line.workflow for line in lines]
    figure = go.Figure(
        [
            go.Bar(
                x=names,
                y=[line.spent_usd for line in lines],
                name="spent this month",
                text=[f"{line.share:.0%}" for line in lines],
                textposition="outside",
            ),
            go.Bar(x=names, y=[line.budget_usd for line in lines], name="monthly budget", opacity=0.45),
        ]
    )
    figure.update_layout(barmode="group")
    figure.update_xaxes(type="category")
    return _layout(figure, "Month-to-date spend against monthly_budget_usd", "workflow")
