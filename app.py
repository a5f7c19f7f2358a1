"""The workbench's entry point: page navigation around the pages in ``pages/``.

Run with ``make run``, ``configurable-agents ui`` or
``streamlit run app.py -- --workspace DIR``. Pages lay out widgets only;
everything they show comes from ``agents_core``.
"""

from __future__ import annotations

import streamlit as st

st.set_page_config(page_title="Configurable Agents", page_icon="🧩", layout="wide")

navigation = st.navigation(
    [
        st.Page("pages/home.py", title="Home", icon=":material/home:", default=True),
        st.Page("pages/editor.py", title="Editor", icon=":material/edit_note:", url_path="editor"),
    ]
)
navigation.run()
