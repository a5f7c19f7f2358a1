"""Which providers and tools can be used right now (keys set, local model present).

Shown on the workbench's Home page; reads only the environment and the
registries, never the network.
"""

from __future__ import annotations

import importlib.util
import os
from dataclasses import dataclass

from agents_core.llm.registry import get_provider, provider_names
from agents_core.tools.registry import get_tool_info, tool_names


@dataclass(frozen=True)
class Readiness:
    name: str
    kind: str  # "provider" | "tool"
    ready: bool
    detail: str


def readiness() -> list[Readiness]:
    """One line per registered provider and tool that needs something from the environment."""
    rows: list[Readiness] = []
    for name in provider_names():
        info = get_provider(name)
        assert info is not None
        missing = [m for m in info.requires_modules if importlib.util.find_spec(m) is None]
        notes = [info.description]
        if missing:
            notes.append(f"not installed ({', '.join(missing)} missing)")
        if info.api_key_env:
            notes.append(f"{info.api_key_env} {'set' if os.environ.get(info.api_key_env) else 'not set'}")
        ready = not missing and (info.api_key_env is None or bool(os.environ.get(info.api_key_env)))
        rows.append(Readiness(name, "provider", ready, "; ".join(notes)))
    for name in tool_names():
        tool = get_tool_info(name)
        assert tool is not None
        if tool.requires_env:
            ready = bool(os.environ.get(tool.requires_env))
            rows.append(Readiness(name, "tool", ready, f"{tool.requires_env} {'set' if ready else 'not set'}"))
    return rows
