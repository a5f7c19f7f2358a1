"""Editor: edit a workflow with live validation marked on its lines, and a picture of the flow."""

from __future__ import annotations

import streamlit as st
from streamlit_ace import st_ace

from agents_core.gallery import templates
from agents_core.text import count, problem_counts
from workbench.analysis import analyse
from workbench.editor_state import (
    Outcome,
    cancel,
    confirm,
    edit,
    editor_state,
    new_from_template,
    open_file,
    save,
    save_as,
)
from workbench.page import current_workspace, markdown_escape, setup_page

setup_page("Editor")
workspace = current_workspace()
state = editor_state(st.session_state)
gallery = templates()


def show(outcome: Outcome) -> None:
    st.session_state["editor_flash"] = outcome


# -- toolbar: open, new ---------------------------------------------------------
with st.sidebar:
    st.header("Workflows")
    names = workspace.workflows()
    chosen = st.selectbox("Workspace file", names, index=None, placeholder="Choose a file", key="editor_open_choice")
    if st.button("Open file", disabled=chosen is None, width="stretch"):
        show(open_file(state, workspace, chosen))
    st.divider()
    titles = {t.title: t for t in gallery}
    template_title = st.selectbox("Template", list(titles), key="editor_template_choice")
    if st.button("New from template", width="stretch"):
        show(new_from_template(state, titles[template_title]))

# -- the buffer: take the editor's latest text before validating it -------------
ace_key = f"editor_ace_{state.version}"
edit(state, st.session_state.get(ace_key))
analysis = analyse(state.buffer, state.display_name)
if analysis.dot is not None:
    state.last_dot = analysis.dot

st.title("Editor")
marker = " ● modified" if state.modified else " (saved)"
st.markdown(f"**{markdown_escape(state.display_name)}**{marker}")

# Messages and confirmations live in containers that are always there, so the
# editor below keeps its place in the page and is never re-created (which
# would drop the cursor) when a message appears or goes.
with st.container():
    outcome: Outcome | None = st.session_state.pop("editor_flash", None)
    if outcome is not None:
        text = f"{outcome.message} {outcome.hint}".strip()
        {"ok": st.success, "error": st.error}.get(outcome.kind, st.warning)(text)
with st.container():
    if state.pending:
        label = "Overwrite" if state.pending.get("action") == "save_as" else "Discard changes"
        yes, no, _ = st.columns([1, 1, 4])
        if yes.button(label, type="primary"):
            show(confirm(state, workspace))
            st.rerun()
        if no.button("Cancel"):
            show(cancel(state))
            st.rerun()

left, right = st.columns([3, 2], gap="medium")
with left:
    st_ace(
        value=state.buffer,
        language="yaml",
        theme="chrome",
        font_size=13,
        tab_size=2,
        height=620,  # a fixed height that scrolls; without it the editor grows with the file
        wrap=True,
        annotations=analysis.annotations,
        auto_update=True,
        key=ace_key,
    )
    if analysis.errors:
        st.error(problem_counts(analysis.errors, analysis.warnings))
    elif analysis.warnings:
        st.warning(f"Valid, with {count(analysis.warnings, 'warning')}")
    else:
        st.success("Valid: no problems found")
    for row in analysis.rows:
        icon = "🔴" if row["severity"] == "error" else "🟡"
        hint = f"  \n    _{markdown_escape(row['hint'])}_" if row["hint"] else ""
        st.markdown(
            f"{icon} `{row['where']}` **{row['code']}** {markdown_escape(row['message'])}{hint}",
            help=row["path"] or None,
        )

with right:
    st.subheader("Flow")
    if analysis.dot is None and state.last_dot is not None:
        st.caption("The text does not parse; showing the last readable version.")
    if state.last_dot is not None:
        st.graphviz_chart(state.last_dot)
    else:
        st.info("The picture appears once the file parses.")

    st.subheader("Save")
    col_save, col_download = st.columns(2)
    if col_save.button("Save", disabled=state.file is None, width="stretch"):
        show(save(state, workspace))
        st.rerun()
    col_download.download_button(
        "Download",
        data=state.buffer.encode("utf-8"),
        file_name=state.display_name.rsplit("/", 1)[-1],
        mime="application/yaml",
        width="stretch",
    )
    with st.form("save_as_form", clear_on_submit=False, border=False):
        new_name = st.text_input("Save as", placeholder="flows/my_workflow.yaml", key="editor_save_as_name")
        if st.form_submit_button("Save as", width="stretch"):
            show(save_as(state, workspace, new_name))
            st.rerun()
    if analysis.errors and not state.modified and state.file:
        st.caption(
            f"{state.file} is saved with {count(analysis.errors, 'error')}; it will not run until they are fixed."
        )
