"""Home page of the workbench: the workspace, its workflows and their status.

Run with ``make run`` or ``streamlit run app.py -- --workspace DIR``. The page
lays out widgets only; everything it shows comes from ``agents_core``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import streamlit as st

from agents_core.errors import WorkspaceError
from agents_core.providers_status import readiness
from agents_core.workspace import WorkflowStatus, list_workflows, resolve_workspace, workflow_status


def _workspace_argument() -> str | None:
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--workspace", default=None)
    known, _ = parser.parse_known_args(sys.argv[1:])
    return known.workspace


@st.cache_data(show_spinner=False)
def _status(root: str, path: str, mtime: float) -> WorkflowStatus:
    """Validation result of one file, recomputed only when the file changes."""
    return workflow_status(Path(root), Path(path))


def _escape(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


st.set_page_config(page_title="Configurable Agents", page_icon="🧩", layout="wide")
st.title("Configurable Agents")
st.caption("LLM agent workflows written in YAML: validate, run, track and deploy them.")

try:
    workspace = resolve_workspace(_workspace_argument())
except WorkspaceError as exc:
    st.error(f"{exc.message} {exc.hint}")
    st.stop()

st.markdown(f"**Workspace:** `{workspace}`")

st.subheader("Workflows")
paths = list_workflows(workspace)
if not paths:
    st.info("No workflow files in this workspace yet. Copy one from `examples/` to start.")
else:
    statuses = [_status(str(workspace), str(p), p.stat().st_mtime) for p in paths]
    rows = ["| Workflow | File | Status | Description |", "|---|---|---|---|"]
    for s in statuses:
        icon = "✅" if s.label == "ok" else ("❌" if s.errors else "⚠️")
        rows.append(f"| {_escape(s.name)} | `{s.path}` | {icon} {s.label} | {_escape(s.description)} |")
    st.markdown("\n".join(rows))
    invalid = sum(1 for s in statuses if s.errors)
    st.caption(f"{len(statuses)} workflows, {invalid} with errors.")

st.subheader("Providers and tools")
st.markdown(
    "\n".join(f"- {'🟢' if r.ready else '⚪'} **{r.name}** ({r.kind}): {_escape(r.detail)}" for r in readiness())
)

st.subheader("Quick start")
st.markdown(
    """
1. Check a workflow from a terminal: `configurable-agents validate examples/article_writer.yaml`
2. Get the JSON Schema for your editor: `configurable-agents schema > workflow.schema.json`
3. Every problem is reported as `file:line:col: error CODE: message` with a hint to fix it.
"""
)
