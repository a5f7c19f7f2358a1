"""Home page of the workbench: the workspace, its workflows with their status, recent runs, providers.

Run with ``make run``, ``configurable-agents ui`` or
``streamlit run app.py -- --workspace DIR``. Pages lay out widgets only;
everything they show comes from ``agents_core``.
"""

from __future__ import annotations

import os
from pathlib import Path

import streamlit as st

from agents_core.llm.pricing import format_usd
from agents_core.providers_status import readiness
from agents_core.text import count
from agents_core.workspace import WorkflowStatus, workflow_status
from workbench.page import current_workspace, markdown_escape, setup_page
from workbench.run_view import existing_service, runs_table
from workbench.spend import spend_summary

KEY_VARIABLES = ("GOOGLE_API_KEY", "OPENAI_API_KEY", "SERPER_API_KEY")


@st.cache_data(show_spinner=False, max_entries=500)
def _status(root: str, path: str, mtime: float, keys_set: tuple[bool, ...]) -> WorkflowStatus:
    """Validation of one file, recomputed when the file or the API-key environment changes."""
    return workflow_status(Path(root), Path(path))


@st.cache_resource(show_spinner=False)
def _apply_retention(root: str) -> None:
    """Once per workbench process and workspace: delete runs past each workflow's ``retention_days``."""
    from agents_core.observability.retention import apply_retention

    try:
        apply_retention(root)
    except Exception as exc:  # retention must never keep the workbench from starting
        st.warning(f"Old runs were not pruned: {exc}")


setup_page("Home")
st.title("Configurable Agents")
st.caption("LLM agent workflows written in YAML: validate, run, track and deploy them.")

workspace = current_workspace()
_apply_retention(str(workspace.root))
st.markdown(f"**Workspace:** `{workspace.root}`")

st.subheader("Workflows")
paths = [workspace.root / name for name in workspace.workflows()]
if not paths:
    st.info("No workflow files in this workspace yet. Create one on the Editor page, from a template.")
else:
    keys_set = tuple(bool(os.environ.get(name)) for name in KEY_VARIABLES)
    statuses = [_status(str(workspace.root), str(p), p.stat().st_mtime, keys_set) for p in paths]
    rows = ["| Workflow | File | Status | Description |", "|---|---|---|---|"]
    for s in statuses:
        icon = "✅" if s.label == "ok" else ("❌" if s.errors else "⚠️")
        rows.append(
            f"| {markdown_escape(s.name)} | {markdown_escape(s.path)} | {icon} {s.label} | "
            f"{markdown_escape(s.description)} |"
        )
    st.markdown("\n".join(rows))
    invalid = sum(1 for s in statuses if s.errors)
    st.caption(f"{count(len(statuses), 'workflow')}, {invalid} with errors.")

st.subheader("Recent runs")
service = existing_service(workspace.root)  # through the run service, which marks runs of dead owners interrupted
runs = service.list(limit=8) if service is not None else []
if not runs:
    st.caption("No runs yet in this workspace. Start one on the Run page or with `configurable-agents run`.")
else:
    st.markdown(runs_table(runs))
    st.page_link("pages/2_Run.py", label="Open a run on the Run page", icon=":material/play_arrow:")
    spend = spend_summary(service)
    week, month = st.columns(2)
    week.metric("Spend this week", format_usd(spend.week_usd), help="Runs created since Monday 00:00 UTC.")
    month.metric("Spend this month", format_usd(spend.month_usd), help="Runs created since the 1st, 00:00 UTC.")
    if spend.unpriced_runs:
        st.caption(f"Not counted: {count(spend.unpriced_runs, 'unpriced run')} (a model no price source knows).")

st.subheader("Providers and tools")
table = ["| Name | Kind | Ready | Details |", "|---|---|---|---|"]
for row in readiness():
    table.append(f"| {row.name} | {row.kind} | {'yes' if row.ready else 'no'} | {markdown_escape(row.detail)} |")
st.markdown("\n".join(table))

st.subheader("Quick start")
st.markdown(
    """
1. Open the **Editor** page, pick a workflow or start from a template; problems are marked on their lines as you type.
2. Check a workflow from a terminal: `configurable-agents validate examples/article_writer.yaml`
3. Get the JSON Schema for your editor: `configurable-agents schema > workflow.schema.json`
"""
)
