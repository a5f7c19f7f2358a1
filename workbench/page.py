"""Pieces every workbench page shares (the only module here that imports Streamlit)."""

from __future__ import annotations

import argparse
import sys

import streamlit as st

from agents_core.errors import WorkspaceError
from agents_core.workspace import Workspace
from workbench.text import markdown_escape

__all__ = ["PAGES", "current_workspace", "markdown_escape", "setup_page", "workspace_argument"]

#: The workbench's pages in menu order: (script path, label, icon).
PAGES: tuple[tuple[str, str, str], ...] = (
    ("app.py", "Home", ":material/home:"),
    ("pages/1_Editor.py", "Editor", ":material/edit_note:"),
    ("pages/2_Run.py", "Run", ":material/play_arrow:"),
    ("pages/3_Runs_and_Costs.py", "Runs & Costs", ":material/payments:"),
    ("pages/4_Deploy.py", "Deploy", ":material/rocket_launch:"),
)


def setup_page(title: str) -> None:
    """First call of every page: page config and the sidebar menu with proper labels.

    Streamlit's own page menu is switched off (``client.showSidebarNavigation``)
    because it would label the entry page by its file name, "app".
    """
    st.set_page_config(page_title=f"{title} · Configurable Agents", page_icon="🧩", layout="wide")
    with st.sidebar:
        for path, label, icon in PAGES:
            st.page_link(path, label=label, icon=icon)
        st.divider()


def workspace_argument(argv: list[str] | None = None) -> str | None:
    """``--workspace DIR`` from the arguments after ``streamlit run app.py --``."""
    parser = argparse.ArgumentParser(add_help=False, allow_abbrev=False)
    parser.add_argument("--workspace", default=None)
    known, _ = parser.parse_known_args(sys.argv[1:] if argv is None else argv)
    return known.workspace


def current_workspace() -> Workspace:
    """The workspace of this app, or an error on the page (and the page stops)."""
    try:
        return Workspace(workspace_argument())
    except WorkspaceError as exc:
        st.error(f"{exc.message} {exc.hint}")
        st.stop()
        raise  # unreachable: st.stop() ends the script run
