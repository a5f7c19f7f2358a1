"""Editor: edit a workflow with live validation marked on its lines, and a picture of the flow."""

from __future__ import annotations

import streamlit as st
from streamlit_ace import st_ace

from agents_core.drafts import Drafts
from agents_core.gallery import templates
from agents_core.text import count, problem_counts
from workbench.analysis import analyse
from workbench.editor_state import (
    OPEN_PARAM,
    Outcome,
    autosave,
    cancel,
    check_drafts,
    confirm,
    discard_draft,
    edit,
    editor_state,
    fit_annotations,
    new_from_template,
    offer_text,
    open_file,
    open_requested,
    restore_draft,
    save,
    save_as,
)
from workbench.page import current_workspace, markdown_escape, setup_page

setup_page("Editor")
workspace = current_workspace()
state = editor_state(st.session_state)
drafts = Drafts(workspace)
gallery = templates()
check_drafts(state, drafts)


def show(outcome: Outcome) -> None:
    st.session_state["editor_flash"] = outcome


# -- a file another page asked for (the Run page's "fix it" link): ?file=NAME ----------
if OPEN_PARAM in st.query_params:
    requested = st.query_params[OPEN_PARAM]
    del st.query_params[OPEN_PARAM]  # once: a reload must not open it over later edits
    if (outcome := open_requested(state, workspace, requested)) is not None:
        show(outcome)

# -- toolbar: open, new ---------------------------------------------------------
with st.sidebar:
    st.header("Workflows")
    listing = workspace.scan()
    names = [path.relative_to(workspace.root).as_posix() for path in listing.found]
    chosen = st.selectbox("Workspace file", names, index=None, placeholder="Choose a file", key="editor_open_choice")
    if st.button("Open file", disabled=chosen is None, width="stretch"):
        show(open_file(state, workspace, chosen))
    st.divider()
    titles = {t.title: t for t in gallery}
    template_title = st.selectbox("Template", list(titles), key="editor_template_choice")
    if st.button("New from template", width="stretch"):
        show(new_from_template(state, titles[template_title]))
    if listing.skipped:
        with st.expander(f"Skipped files ({len(listing.skipped)})"):
            for skipped in listing.skipped:
                st.caption(f"`{markdown_escape(skipped.path)}`: {markdown_escape(skipped.reason)}")

# -- the buffer: take the editor's latest text before validating it -------------
ace_key = f"editor_ace_{state.version}"
edit(state, st.session_state.get(ace_key))
if (failure := autosave(state, drafts)) is not None:
    show(failure)
analysis = analyse(state.buffer, state.display_name)
if analysis.dot is not None:
    state.last_dot = analysis.dot

st.title("Editor")
st.markdown(f"**{markdown_escape(state.display_name)}** {state.marker}")

# Messages and confirmations live in containers that are always there, so the
# editor below keeps its place in the page and is never re-created (which
# would drop the cursor) when a message appears or goes.
with st.container():
    outcome: Outcome | None = st.session_state.pop("editor_flash", None)
    if outcome is not None:
        text = f"{outcome.message} {outcome.hint}".strip()
        {"ok": st.success, "error": st.error}.get(outcome.kind, st.warning)(text)
with st.container():
    if state.offers:
        st.info(offer_text(state.offers[0]))
        yes, no, _ = st.columns([1, 1, 4])
        if yes.button("Restore draft", type="primary"):
            show(restore_draft(state, drafts))
            st.rerun()
        if no.button("Discard draft"):
            show(discard_draft(state, drafts))
            st.rerun()
with st.container():
    if state.pending:
        label = "Overwrite" if state.pending.get("action") == "save_as" else "Discard changes"
        yes, no, _ = st.columns([1, 1, 4])
        if yes.button(label, type="primary"):
            show(confirm(state, workspace, drafts))
            st.rerun()
        if no.button("Cancel"):
            show(cancel(state))
            st.rerun()

# The editor and, beside it, the problem count and list (scrolling in their own
# box), so both are in view with the editor at 1440x900; the picture and the
# save controls follow in the same column.
left, right = st.columns([3, 2], gap="medium")
with left:
    st_ace(
        value=state.buffer,
        language="yaml",
        theme="chrome",
        font_size=13,
        tab_size=2,
        height=560,  # a fixed height that scrolls; without it the editor grows with the file
        wrap=True,
        annotations=fit_annotations(analysis.annotations),
        auto_update=True,
        key=ace_key,
    )

with right:
    if analysis.errors:
        st.error(problem_counts(analysis.errors, analysis.warnings))
    elif analysis.warnings:
        st.warning(f"Valid, with {count(analysis.warnings, 'warning')}")
    else:
        st.success("Valid: no problems found")
    if analysis.rows:
        with st.container(height=240, key="editor_problems"):
            for row in analysis.rows:
                icon = "🔴" if row["severity"] == "error" else "🟡"
                hint = f"  \n    _{markdown_escape(row['hint'])}_" if row["hint"] else ""
                st.markdown(
                    f"{icon} `{row['where']}` **{row['code']}** {markdown_escape(row['message'])}{hint}",
                    help=row["path"] or None,
                )

    st.subheader("Save")
    col_save, col_download = st.columns(2)
    if col_save.button("Save", disabled=state.file is None, width="stretch"):
        show(save(state, workspace, drafts))
        st.rerun()
    col_download.download_button(
        "Download",
        data=state.buffer.encode("utf-8", errors="replace"),  # a lone surrogate must not break the page
        file_name=state.display_name.rsplit("/", 1)[-1],
        mime="application/yaml",
        width="stretch",
    )
    with st.form("save_as_form", clear_on_submit=False, border=False):
        new_name = st.text_input("Save as", placeholder="flows/my_workflow.yaml", key="editor_save_as_name")
        if st.form_submit_button("Save as", width="stretch"):
            show(save_as(state, workspace, new_name, drafts=drafts))
            st.rerun()
    if analysis.errors and not state.modified and state.file:
        st.caption(
            f"{state.file} is saved with {count(analysis.errors, 'error')}; it will not run until they are fixed."
        )

    st.subheader("Flow")
    if analysis.dot is None and state.last_dot is not None:
        st.caption("The text does not parse; showing the last readable version.")
    if state.last_dot is not None:
        st.graphviz_chart(state.last_dot)
    else:
        st.info("The picture appears once the file parses.")
