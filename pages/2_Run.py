"""Run: pick a workflow, fill its inputs, and watch it run node by node; resume a failed run."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from functools import partial
from typing import Any

import streamlit as st

from agents_core.engine.events import RunEvent, RunStarted
from agents_core.engine.runner import stream_resume, stream_run
from agents_core.engine.store import default_store_path
from agents_core.errors import AgentsError
from agents_core.text import count
from workbench import run_form
from workbench.page import current_workspace, markdown_escape, setup_page
from workbench.run_form import FormField
from workbench.run_view import (
    Refusal,
    RunView,
    failed_runs,
    failure_text,
    output_items,
    refusal_text,
    row_text,
    run_label,
    summary_text,
)

LAST_VIEW = "run_last_view"
RESUME_REQUEST = "run_resume_request"

setup_page("Run")
workspace = current_workspace()
store_path = default_store_path(workspace.root)


def field_widget(field: FormField, key: str) -> Any:
    """The widget of one input field; returns its current value."""
    if field.kind == "text":
        return st.text_area(field.label, value=field.initial, help=field.help, key=key, height=68)
    if field.kind == "int":
        return st.number_input(field.label, value=field.initial, step=1, help=field.help, key=key)
    if field.kind == "float":
        return st.number_input(field.label, value=field.initial, step=0.1, format="%g", help=field.help, key=key)
    if field.kind == "bool":
        return st.checkbox(field.label, value=field.initial, help=field.help, key=key)
    return st.text_area(
        f"{field.label} (JSON)", value=field.initial, placeholder=field.placeholder, help=field.help, key=key
    )


def request_resume(run_id: str, workflow: str) -> None:
    st.session_state[RESUME_REQUEST] = (run_id, workflow)


def show_header(view: RunView) -> None:
    verb = "Resumed run" if view.resumed else "Run"
    st.markdown(f"**{verb} `{view.run_id}`** of {markdown_escape(view.workflow)}")
    if view.resumed:
        st.caption("Nodes that finished before are not called again.")
    for notice in view.notices:
        st.info(notice)


def show_rows(view: RunView) -> None:
    for row in view.rows:
        st.markdown(row_text(row))


def execute(view: RunView, events: Callable[[], Iterator[RunEvent]]) -> RunView:
    """Drive a run: a row per node appears as it starts and is rewritten when it ends."""
    header, rows_area = st.empty(), st.empty()
    with rows_area.container():
        slots: list[Any] = []
        try:
            for event in events():
                index = view.apply(event)
                if isinstance(event, RunStarted):
                    with header.container():
                        show_header(view)
                if index is not None:
                    if index == len(slots):
                        slots.append(st.empty())
                    slots[index].markdown(row_text(view.rows[index]))
        except AgentsError as exc:  # found before the first node: shown, never a traceback
            view.refusal = Refusal.from_error(exc)
    with rows_area.container():  # once more, with the rows a resumed run carried over
        show_rows(view)
    st.session_state[LAST_VIEW] = view
    return view


def show_outcome(view: RunView) -> None:
    if view.refusal is not None:
        st.error(refusal_text(view.refusal))
        return
    result = view.result
    if result is None:
        st.warning("The run stopped before it finished (the page was left or rerun).")
        return
    if result.status == "failed":
        st.error(failure_text(result))
        st.button(
            "Resume",
            type="primary",
            key="run_resume_last",
            on_click=request_resume,
            args=(result.run_id, view.workflow),
        )
        st.caption("Fix the cause (a key, a quota, a provider), then resume: finished nodes are not run again.")
        return
    st.success(f"Finished · {summary_text(result)}")
    st.subheader("Outputs")
    with st.container(key="run_outputs"):
        for name, kind, value in output_items(result):
            st.markdown(f"**{markdown_escape(name)}**")
            if kind == "markdown":
                st.markdown(value or "_(empty)_")
            else:
                st.json(value)


# -- choose a workflow ------------------------------------------------------------
st.title("Run")
names = workspace.workflows()
if not names:
    st.info("No workflow files in this workspace yet. Create one on the Editor page, from a template.")
    st.stop()
name = st.selectbox("Workflow", names, key="run_workflow")
report = run_form.check_file(workspace.root / name)
start: Callable[[], Iterator[RunEvent]] | None = None

if report.workflow is None:
    errors = count(len(report.errors), "error")
    st.error(f"{markdown_escape(name)} has {errors}; it cannot run until they are fixed.")
    st.page_link(
        "pages/1_Editor.py",
        label="Open the Editor to fix it",
        icon=":material/edit_note:",
        query_params={"file": name},  # the Editor opens this file, not its template
    )
else:
    if report.workflow.flow.description:
        st.caption(markdown_escape(report.workflow.flow.description))
    fields = run_form.form_fields(report.workflow)
    required = [f for f in fields if f.required]
    optional = [f for f in fields if not f.required]
    values: dict[str, Any] = {}
    with st.form("run_form", border=True):
        for field in required:
            values[field.name] = field_widget(field, f"run_in:{name}:{field.name}:{field.kind}")
        if optional:
            with st.expander(f"Optional inputs ({len(optional)})", expanded=not required):
                for field in optional:
                    values[field.name] = field_widget(field, f"run_in:{name}:{field.name}:{field.kind}")
        left, right = st.columns(2)
        provider = left.selectbox("Provider", run_form.provider_options(), key="run_provider")
        model = right.text_input("Model", placeholder="as configured", key="run_model")
        submitted = st.form_submit_button("Run", type="primary")
    if submitted:
        inputs, errors = run_form.collect(fields, values)
        for error in errors:
            st.error(f"{markdown_escape(error.message)}  \n{markdown_escape(error.hint)}".strip())
        if not errors:
            options = run_form.overrides(provider, model)
            start = partial(stream_run, str(workspace.root / name), inputs, store_path=store_path, **options)

# -- the run: live while it runs, from session state afterwards -----------------------
resume = st.session_state.pop(RESUME_REQUEST, None)
view: RunView | None = None
if start is not None:
    view = execute(RunView(name), start)
elif resume is not None:
    run_id, workflow = resume
    view = execute(RunView(workflow, resumed=True), lambda: stream_resume(run_id, store_path=store_path))
elif (view := st.session_state.get(LAST_VIEW)) is not None:
    if view.run_id:
        show_header(view)
    show_rows(view)
if view is not None:
    show_outcome(view)

# -- earlier failed runs of this workspace ------------------------------------------------
failed = failed_runs(store_path)
if failed:
    with st.expander(f"Failed runs in this workspace ({len(failed)})"):
        labels = {run_label(info): info for info in failed}
        chosen = labels[st.selectbox("Failed run", list(labels), key="run_failed_choice")]
        st.button(
            "Resume selected run",
            key="run_resume_selected",
            on_click=request_resume,
            args=(chosen.run_id, chosen.workflow_name),
        )
