"""Runs & Costs: every run of the workspace filtered and sorted, one in detail, cost charts, CSV, and MLflow's UI.

The run store (through the run service) is the record; MLflow adds a link to
each tracked run and its own UI, started here for the workspace's store.
Logic lives in ``workbench.costs_view``, ``workbench.cost_charts`` and
``workbench.mlflow_ui``; cost rows and totals are ``agents_core.costs.report``'s.
"""

from __future__ import annotations

import streamlit as st

from agents_core.costs.report import rows_for_runs
from agents_core.errors import AgentsError
from agents_core.llm.pricing import format_usd
from agents_core.text import count
from workbench import mlflow_ui
from workbench.cost_charts import budget_chart, cost_bars, cost_over_time, tokens_per_node
from workbench.costs_view import (
    PERIODS,
    SORTS,
    TABLE_COLUMNS,
    RunFilters,
    budget_lines,
    choices,
    csv_text,
    date_span,
    filter_runs,
    pretty_json,
    run_detail,
    runs_frame,
    workflow_budgets,
)
from workbench.page import current_workspace, markdown_escape, setup_page
from workbench.run_view import existing_service, run_label

setup_page("Runs & Costs")
st.title("Runs & Costs")
workspace = current_workspace()
uri = mlflow_ui.tracking_uri(workspace.root)


@st.cache_data(ttl=30, show_spinner=False)
def tracked_run(uri: str, run_id: str) -> mlflow_ui.TrackedRun | None:
    return mlflow_ui.find_tracked_run(uri, run_id)


def mlflow_panel() -> None:
    """Start, open and stop MLflow's UI over the workspace's tracking store."""
    st.subheader("MLflow UI")
    if mlflow_ui.is_remote(uri):
        st.markdown(f"Runs are tracked on an MLflow server: [{uri}]({uri})")
        return
    ui = mlflow_ui.running_ui(uri)
    if ui is None:
        st.caption(f"Store: `{uri}`. The UI runs on 127.0.0.1 only and stops with the workbench.")
        if st.button("Start MLflow UI", key="costs_mlflow_start"):
            with st.spinner("Starting the MLflow UI (it answers in a few seconds)…"):
                try:
                    mlflow_ui.start_ui(uri, cwd=workspace.root)
                except AgentsError as exc:
                    st.error(f"{exc.message}\n\n{exc.hint}")
                    return
            st.rerun()
        return
    st.markdown(f"MLflow UI: [{ui.url}]({ui.url})")
    if st.button("Stop MLflow UI", key="costs_mlflow_stop"):
        mlflow_ui.stop_ui(uri)
        st.rerun()


service = existing_service(workspace.root)
runs = service.list(limit=None) if service is not None else []
if not runs:
    st.info("No runs yet in this workspace. Start one on the Run page or with `configurable-agents run`.")
    mlflow_panel()
    st.stop()
assert service is not None

# -- filters and sorting ------------------------------------------------------------------------
options = choices(runs)
left, middle, right, dates = st.columns([3, 2, 3, 3])
workflows = left.multiselect("Workflow", options.workflows, key="costs_workflows", placeholder="all")
statuses = middle.multiselect("Status", options.statuses, key="costs_statuses", placeholder="all")
models = right.multiselect("Model", options.models, key="costs_models", placeholder="all")
span = dates.date_input("Dates (UTC)", value=(options.first_day, options.last_day), key="costs_dates")
since, until = date_span(span)
sort_col, order_col = st.columns([3, 2])
sort = sort_col.selectbox("Sort by", list(SORTS), key="costs_sort")
descending = order_col.toggle("Newest / highest first", value=True, key="costs_descending")
filters = RunFilters(tuple(workflows), tuple(statuses), tuple(models), since, until)
shown = filter_runs(runs, filters)
data = runs_frame(shown, sort, descending)
rows = rows_for_runs(shown)

# -- the runs -----------------------------------------------------------------------------------
priced = data["cost_usd"].dropna()
unpriced = int((data["cost"] == "unpriced").sum())
st.caption(
    f"{count(len(shown), 'run')} of {len(runs)} · {format_usd(float(priced.sum()))} priced"
    + (f" · {count(unpriced, 'unpriced run')} not counted" if unpriced else "")
)
st.dataframe(
    data[TABLE_COLUMNS],
    hide_index=True,
    key="costs_table",
    column_config={
        "run_id": "Run",
        "workflow": "Workflow",
        "status": "Status",
        "started": st.column_config.DatetimeColumn("Started (UTC)", format="YYYY-MM-DD HH:mm"),
        "duration": "Duration",
        "models": "Models",
        "input_tokens": "Tokens in",
        "output_tokens": "Tokens out",
        "cost": "Cost",
    },
)
st.download_button(
    "Download CSV", csv_text(data), file_name="runs.csv", mime="text/csv", key="costs_csv", icon=":material/download:"
)

# -- charts -------------------------------------------------------------------------------------
st.subheader("Charts")
if not rows:
    st.caption("No runs match the filters.")
else:
    period = st.radio("Cost over time per", list(PERIODS), horizontal=True, key="costs_period")
    one, two = st.columns(2)
    one.plotly_chart(cost_over_time(rows, PERIODS[period]), key="chart_time")
    two.plotly_chart(cost_bars(rows, "workflow", "Cost by workflow"), key="chart_workflow")
    three, four = st.columns(2)
    three.plotly_chart(cost_bars(rows, "model", "Cost by model"), key="chart_model")
    four.plotly_chart(tokens_per_node(rows), key="chart_tokens")
lines = budget_lines(service, workflow_budgets(workspace.root, workspace.workflows()))
if lines:
    st.plotly_chart(budget_chart(lines), key="chart_budget")
    for line in lines:
        (st.error if line.share >= 1 else st.caption)(markdown_escape(line.text))
else:
    st.caption("No workflow sets `config.execution.monthly_budget_usd`; set one to see spend against it here.")

# -- one run in detail ------------------------------------------------------------------------
st.subheader("Run detail")
labels = {info.run_id: run_label(info) for info in shown}
chosen = st.selectbox("Run", list(data["run_id"]), format_func=labels.get, key="costs_run") if labels else None
if chosen:
    detail = run_detail(service.get(chosen))
    st.markdown(f"**`{chosen}`** of {markdown_escape(detail.info.workflow_name)} · {detail.summary}")
    if detail.error:
        st.error(markdown_escape(detail.error))
    if detail.nodes:
        st.dataframe(detail.nodes_frame(), hide_index=True, key="costs_nodes")
    for node in detail.exchanges:
        with st.expander(f"Prompt and reply of {node.node}"):
            st.code(node.prompt or "", language=None, wrap_lines=True)
            st.code(node.response or "(no reply)", language=None, wrap_lines=True)
    inputs, outputs = st.columns(2)
    inputs.markdown("**Inputs**")
    inputs.code(pretty_json(detail.info.inputs), language="json")
    outputs.markdown("**Outputs**")
    outputs.code(pretty_json(detail.info.outputs), language="json")
    tracked = tracked_run(uri, chosen) if mlflow_ui.store_exists(uri) else None
    ui = mlflow_ui.running_ui(uri)
    if tracked is None:
        st.caption("Not tracked in MLflow (turn tracking on for a run on the Run page).")
    elif mlflow_ui.is_remote(uri) or ui is not None:
        link = mlflow_ui.run_url(uri if ui is None else ui.url, tracked.experiment_id, tracked.mlflow_run_id)
        st.markdown(f"[Open this run in MLflow]({link})")
    else:
        st.caption(f"Tracked in MLflow as run `{tracked.mlflow_run_id}`: start the MLflow UI below to open it.")

mlflow_panel()
