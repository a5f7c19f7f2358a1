"""Text helpers shared by pages and their Streamlit-free view modules."""

from __future__ import annotations


def markdown_escape(text: str) -> str:
    """Text shown literally inside Markdown (names, messages, paths).

    ``_`` stays as it is: inside words it is no emphasis in CommonMark, and
    identifiers such as ``article_writer`` stay greppable in the page source.
    ``$`` is escaped because Streamlit renders ``$...$`` as LaTeX.
    """
    for char in "\\`*[]<>|$":
        text = text.replace(char, "\\" + char)
    return text.replace("\n", " ")
