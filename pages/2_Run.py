"""Run: pick a workflow, fill its inputs, and watch it run node by node (being built)."""

from __future__ import annotations

import streamlit as st

from workbench.page import current_workspace, setup_page

setup_page("Run")
workspace = current_workspace()
st.title("Run")
st.info("The Run page is being built.")
