"""Counted nouns, written once: "1 error, 2 warnings", "1 node", "3 files".

Every face (CLI, Home, Editor, Run page) says how many problems a file has;
they all call :func:`problem_counts`, so the wording and its plurals are the
same everywhere and a fix here fixes all of them. Imports nothing.
"""

from __future__ import annotations

__all__ = ["count", "problem_counts", "problem_summary"]


def count(number: int, noun: str, plural: str | None = None) -> str:
    """``1 node``, ``0 nodes``, ``2 nodes`` (``plural`` for irregular nouns)."""
    return f"{number} {noun if number == 1 else (plural or noun + 's')}"


def problem_counts(errors: int, warnings: int) -> str:
    """``1 error, 0 warnings``: both counts, always, each with its own plural."""
    return f"{count(errors, 'error')}, {count(warnings, 'warning')}"


def problem_summary(errors: int, warnings: int) -> str:
    """``ok`` when there is nothing to report, else :func:`problem_counts`."""
    return "ok" if not errors and not warnings else problem_counts(errors, warnings)
