"""The tool registry: tools the model may call, registered by name.

The registry records what the validator and the workbench need to know
(name, description, required environment variable) without importing
LangChain; built-in tools register themselves with the same
:func:`register_tool` call a third party uses.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ToolInfo:
    """A named tool and what it needs."""

    name: str
    description: str
    #: Environment variable the tool needs at run time (e.g. an API key).
    requires_env: str | None = None


_TOOLS: dict[str, ToolInfo] = {}


def register_tool(info: ToolInfo) -> None:
    """Add (or replace) a tool under ``info.name``."""
    _TOOLS[info.name] = info


def unregister_tool(name: str) -> None:
    _TOOLS.pop(name, None)


def get_tool_info(name: str) -> ToolInfo | None:
    return _TOOLS.get(name)


def tool_names() -> list[str]:
    return sorted(_TOOLS)


register_tool(ToolInfo("calculator", "Evaluate an arithmetic expression (parsed, never eval'd)."))
register_tool(ToolInfo("current_datetime", "The current date and time in ISO 8601."))
register_tool(ToolInfo("serper_search", "Web search through the Serper API.", requires_env="SERPER_API_KEY"))
