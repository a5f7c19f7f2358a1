"""What every validation rule shares: the raw data, positions, and the problem list.

Rules read the *raw* data (not the pydantic model) so they can run even
when parts of the file have the wrong shape; each rule skips what it cannot
read, since the shape check has already reported it.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from agents_core.config.codes import severity_of
from agents_core.config.loader import PathKey, SourceMap, format_path
from agents_core.config.types import TypeRef
from agents_core.errors import Problem


def did_you_mean(name: str, candidates: Iterable[str]) -> str:
    """`` Did you mean 'x'?`` for the closest candidate, or an empty string."""
    by_lower = {candidate.lower(): candidate for candidate in candidates}
    close = difflib.get_close_matches(str(name).lower(), list(by_lower), n=1, cutoff=0.6)
    return f" Did you mean {by_lower[close[0]]!r}?" if close else ""


def known(names: Iterable[str], label: str = "Known") -> str:
    listed = sorted(names)
    if not listed:
        return f"{label}: none."
    shown = ", ".join(listed[:12]) + (", …" if len(listed) > 12 else "")
    return f"{label}: {shown}."


@dataclass
class Context:
    """Shared state of one validation pass."""

    data: dict[str, Any]
    source: SourceMap
    file: str | None
    problems: list[Problem] = field(default_factory=list)
    state_types: dict[str, TypeRef] = field(default_factory=dict)
    node_ids: dict[str, int] = field(default_factory=dict)
    reads: dict[str, PathKey] = field(default_factory=dict)

    def add(
        self,
        code: str,
        path: PathKey,
        message: str,
        hint: str = "",
        *,
        at_key: bool = False,
        position: tuple[int, int] | None = None,
    ) -> None:
        """Record a problem at ``path`` (its value, its key, or an exact position)."""
        if position is None:
            position = self.source.key_position(path) if at_key else self.source.value_position(path)
        line, column = position
        self.problems.append(
            Problem(code, severity_of(code), message, hint, format_path(path), self.file, line, column)
        )

    def add_in_text(
        self, code: str, path: PathKey, text: str, offset: int, length: int, message: str, hint: str = ""
    ) -> None:
        """Record a problem at a piece of a string value (a placeholder in a prompt)."""
        position = self.source.locate_in_value(path, text, offset, length)
        self.add(code, path, message, hint, position=position)

    # -- safe access to raw data -------------------------------------------
    def nodes(self) -> Iterator[tuple[int, dict[str, Any]]]:
        items = self.data.get("nodes")
        if isinstance(items, list):
            for index, node in enumerate(items):
                if isinstance(node, dict):
                    yield index, node

    def edges(self) -> Iterator[tuple[int, dict[str, Any]]]:
        items = self.data.get("edges")
        if isinstance(items, list):
            for index, edge in enumerate(items):
                if isinstance(edge, dict):
                    yield index, edge

    @property
    def state_readable(self) -> bool:
        """Whether state.fields could be read; if not, references to state cannot be judged."""
        state = self.data.get("state")
        return isinstance(state, dict) and isinstance(state.get("fields"), dict)

    @property
    def nodes_readable(self) -> bool:
        """Whether `nodes` is a list; if not, edge endpoints cannot be judged."""
        return isinstance(self.data.get("nodes"), list)

    def state_fields(self) -> dict[str, Any]:
        state = self.data.get("state")
        fields = state.get("fields") if isinstance(state, dict) else None
        return fields if isinstance(fields, dict) else {}

    def section(self, *keys: str) -> dict[str, Any]:
        """``section("config", "llm")`` -> that mapping, or {} when absent or malformed."""
        current: Any = self.data
        for key in keys:
            current = current.get(key) if isinstance(current, dict) else None
        return current if isinstance(current, dict) else {}
