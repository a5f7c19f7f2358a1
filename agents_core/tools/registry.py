"""The tool registry: tools the model may call, registered by name.

The registry records what the validator and the workbench need to know
(name, description, required environment variable) without importing
LangChain; built-in tools register themselves with the same
:func:`register_tool` call a third party uses.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from agents_core.errors import ToolError


@dataclass(frozen=True)
class ToolInfo:
    """A named tool and what it needs."""

    name: str
    description: str
    #: Environment variable the tool needs at run time (e.g. an API key).
    requires_env: str | None = None
    #: The function the model calls (arguments from its signature, description from its docstring),
    #: or a ready LangChain tool.
    function: Callable[..., Any] | None = None


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


def build_tool(name: str) -> Any:
    """The LangChain tool registered under ``name`` (imports LangChain)."""
    from langchain_core.tools import BaseTool

    from agents_core.tools.builtin import as_langchain_tool

    info = _TOOLS.get(name)
    if info is None or info.function is None:
        raise ToolError(f"tool {name!r} is not registered.", f"Registered tools: {', '.join(tool_names())}.")
    if isinstance(info.function, BaseTool):
        return info.function
    return as_langchain_tool(name, info.function)


def _register_builtins() -> None:
    from agents_core.tools import builtin

    register_tool(
        ToolInfo("calculator", "Evaluate an arithmetic expression (parsed, never eval'd).", None, builtin.calculator)
    )
    register_tool(
        ToolInfo("current_datetime", "The current date and time in ISO 8601.", None, builtin.current_datetime)
    )
    register_tool(
        ToolInfo("serper_search", "Web search through the Serper API.", "SERPER_API_KEY", builtin.serper_search)
    )


_register_builtins()
