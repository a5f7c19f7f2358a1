"""Glue shared by the workbench pages.

Everything here but :mod:`workbench.page` is free of Streamlit, so the
editor's behaviour (open, save, save as, confirmations) is unit-tested
without a browser; pages only lay out widgets and call these functions.
"""
