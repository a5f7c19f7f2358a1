"""Run: pick a workflow, fill its inputs, and watch it run node by node; cancel, reopen and resume runs.

The run lives in the run service's task (one service per process and store),
not in this script: the page keeps only run ids in session state and redraws
the shown run from its event log, every second while it runs. Leaving the page
and coming back re-attaches to the same run.
"""

from __future__ import annotations

from typing import Any

import streamlit as st

from agents_core.errors import AgentsError
from agents_core.observability import tracking_enabled_in
from agents_core.text import count
from workbench import run_form
from workbench.page import current_workspace, markdown_escape, setup_page
from workbench.run_form import FormField
from workbench.run_view import (
    Refusal,
    RunView,
    existing_service,
    failure_text,
    is_going,
    is_known,
    output_items,
    refusal_text,
    row_text,
    run_label,
    running_total_text,
    runs_table,
    stopped_text,
    summary_text,
    workflow_label,
)

ACTIVE = "run_active_id"  # the run this session started or resumed last
SHOWN = "run_shown_id"  # the run the panel shows (that one, or one opened from the list)
VIEW = "run_view"  # the shown run's rows so far (a cache of its log)
REFUSAL = "run_refusal"
FORM_ERRORS = "run_form_errors"
OPEN_CHOICE = "run_open_choice"
REFRESH_SECONDS = 1.0

setup_page("Run")
workspace = current_workspace()


def service():
    from agents_core.runs import default_service

    return default_service(workspace.root)


def field_key(name: str, field: FormField) -> str:
    return f"run_in:{name}:{field.name}:{field.kind}"


def field_widget(field: FormField, key: str) -> Any:
    """The widget of one input field."""
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


def show(run_id: str, *, active: bool = False, new: bool = False) -> None:
    """Show ``run_id`` in the panel; a ``new`` run also clears the list's choice (only from a callback)."""
    st.session_state[SHOWN] = run_id
    st.session_state.pop(REFUSAL, None)
    if active:
        st.session_state[ACTIVE] = run_id
    if new:
        st.session_state[OPEN_CHOICE] = None


def tracking_key(name: str) -> str:
    return f"run_tracking:{name}"


def start_run(name: str, fields: list[FormField]) -> None:
    """The Run button's callback: before the script reruns, so the page redraws with the run going."""
    values = {f.name: st.session_state.get(field_key(name, f)) for f in fields}
    inputs, errors = run_form.collect(fields, values)
    if errors:
        st.session_state[FORM_ERRORS] = errors
        return
    options: dict[str, Any] = run_form.overrides(
        st.session_state.get("run_provider"), st.session_state.get("run_model")
    )
    options |= run_form.tracking_option(st.session_state.get(tracking_key(name)))
    try:
        handle = service().start(str(workspace.root / name), inputs, **options)
    except AgentsError as exc:  # found before the first node: shown, never a traceback
        st.session_state[REFUSAL] = Refusal.from_error(exc)
        return
    show(handle.run_id, active=True, new=True)


def resume_run(run_id: str) -> None:
    try:
        service().resume(run_id)
    except AgentsError as exc:
        st.session_state[REFUSAL] = Refusal.from_error(exc)
        return
    show(run_id, active=True)


def open_chosen() -> None:
    if st.session_state.get(OPEN_CHOICE):
        show(st.session_state[OPEN_CHOICE])


def current_view(run_id: str) -> RunView:
    """The shown run's view, brought up to date with its log (rebuilt from the log for another run)."""
    view = st.session_state.get(VIEW)
    if view is None or view.run_id != run_id:
        view = st.session_state[VIEW] = RunView(run_id, workflow_label(service().get(run_id)))
    return view.catch_up(service())


def show_outcome(view: RunView) -> None:
    result = view.result
    assert result is not None
    if result.status == "success":
        st.success(f"Finished · {summary_text(result)}")
        st.subheader("Outputs")
        raw = st.toggle("Raw JSON", key=f"run_raw:{view.key}", help="The outputs as the run returned them.")
        with st.container(key="run_outputs"):
            if raw:
                st.json(result.outputs)
            for name, kind, value in [] if raw else output_items(result):
                st.markdown(f"**{markdown_escape(name)}**")
                if kind == "markdown":
                    st.markdown(value or "_(empty)_")
                else:
                    st.json(value)
        return
    if result.status == "failed":
        st.error(failure_text(result))
    else:
        st.warning(stopped_text(result))
    if st.button("Resume", type="primary", key=f"run_resume:{view.key}"):
        resume_run(view.run_id)
        st.rerun()  # the whole page: the Run button, the list and the panel's refresh follow the resumed run
    st.caption("Fix the cause (a key, a quota, a provider), then resume: finished nodes are not run again.")


def run_panel(run_id: str, live: bool) -> None:
    """The shown run: header, a row per node (prompt and reply in an expander), then Cancel or the outcome.

    ``live`` is what the page saw when it last ran whole; the panel alone redraws every
    second while the run goes on, and the whole page once when it ends.
    """
    view = current_view(run_id)
    verb = "Resumed run" if view.resumed else "Run"
    st.markdown(f"**{verb} `{view.run_id}`** of {markdown_escape(view.workflow)}")
    if view.resumed:
        st.caption("Nodes that finished before are not called again.")
    for notice in view.notices:
        st.info(notice)
    for row in view.rows:
        st.markdown(row_text(row))
        if row.prompt or row.response:
            with st.expander(f"Prompt and reply of {row.node}"):
                st.code(row.prompt or "", language=None, wrap_lines=True)
                st.code(row.response or "(no reply)", language=None, wrap_lines=True)
    if view.active:
        if any(row.status != "running" for row in view.rows):
            st.caption(running_total_text(view))
        st.button("Cancel", key=f"run_cancel:{view.key}", on_click=lambda: service().cancel(run_id))
        return
    if live:  # it just ended: redraw the whole page, so the Run button comes back
        st.rerun()
    show_outcome(view)


# -- choose a workflow ------------------------------------------------------------
st.title("Run")
names = workspace.workflows()
if not names:
    st.info("No workflow files in this workspace yet. Create one on the Editor page, from a template.")
    st.stop()
runs = existing_service(workspace.root)
active_id = st.session_state.get(ACTIVE)
busy = bool(runs and active_id and is_going(runs, active_id))
name = st.selectbox("Workflow", names, key="run_workflow")
report = run_form.check_file(workspace.root / name)

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
    with st.form("run_form", border=True):
        for field in required:
            field_widget(field, field_key(name, field))
        if optional:
            with st.expander(f"Optional inputs ({len(optional)})", expanded=not required):
                for field in optional:
                    field_widget(field, field_key(name, field))
        left, right = st.columns(2)
        left.selectbox("Provider", run_form.provider_options(), key="run_provider")
        right.text_input("Model", placeholder="as configured", key="run_model")
        st.toggle(
            "Track in MLflow",
            value=tracking_enabled_in(report.workflow),
            key=tracking_key(name),
            help="Mirror this run into the workspace's MLflow store (see it on the Runs & Costs page). "
            "The default is the file's config.observability.mlflow.enabled.",
        )
        st.form_submit_button(
            "Run",
            type="primary",
            disabled=busy,
            on_click=start_run,
            args=(name, fields),
            help="A run is going; cancel it or wait for it to end." if busy else None,
        )
    for error in st.session_state.pop(FORM_ERRORS, []):
        st.error(f"{markdown_escape(error.message)}  \n{markdown_escape(error.hint)}".strip())

# -- the shown run: followed live while it runs, its outcome afterwards -------------------
if (refusal := st.session_state.get(REFUSAL)) is not None:
    st.error(refusal_text(refusal))
shown = st.session_state.get(SHOWN)
if busy and shown != active_id:
    st.info(f"Your run `{active_id}` is still going.")
    st.button("Show it", key="run_show_active", on_click=show, args=(active_id,))
if shown and runs is not None and is_known(runs, shown):
    live = is_going(runs, shown)
    st.fragment(run_every=REFRESH_SECONDS if live else None)(run_panel)(shown, live)

# -- every run of this workspace ---------------------------------------------------------
recent = runs.list(limit=20) if runs is not None else []
if recent:
    st.subheader("Recent runs")
    st.markdown(runs_table(recent))
    labels = {info.run_id: run_label(info) for info in recent}
    st.selectbox(
        "Open a run",
        list(labels),
        index=None,
        format_func=labels.get,
        key=OPEN_CHOICE,
        on_change=open_chosen,
        placeholder="Choose a run to see its nodes, prompts, outputs and error",
    )
