"""The tool registry: tools the model may call, registered by name.

The registry records what the validator and the workbench need to know
(name, description, required environment variable) without importing
LangChain; built-in tools register themselves with the same
:func:`register_tool` call a third party uses. Installed packages add theirs
through the ``configurable_agents.tools`` entry point group (an entry point
names a ``ToolInfo``, a list of them, a LangChain tool, or a plain function
that becomes the tool of the entry point's name), loaded on the first lookup
of a name the registry does not know.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from agents_core.errors import ToolError
from agents_core.plugins import TOOL_GROUP, load_plugins


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
    """The tool named ``name``; installed plugins are looked at only for a name not known yet."""
    info = _TOOLS.get(name)
    if info is None:
        load_plugins(TOOL_GROUP, _register_plugin)
        info = _TOOLS.get(name)
    return info


def tool_names() -> list[str]:
    """Every registered tool, installed plugins included."""
    load_plugins(TOOL_GROUP, _register_plugin)
    return sorted(_TOOLS)


def _register_plugin(entry_name: str, target: Any) -> None:
    """Register what a ``configurable_agents.tools`` entry point names; raise to refuse it."""
    if isinstance(target, ToolInfo):
        infos = [target]
    elif isinstance(target, list | tuple):
        infos = list(target)
    elif hasattr(target, "invoke") and isinstance(getattr(target, "name", None), str):  # a LangChain tool
        infos = [ToolInfo(target.name, str(getattr(target, "description", "") or target.name), None, target)]
    elif callable(target):
        doc = (getattr(target, "__doc__", None) or "").strip()
        infos = [ToolInfo(entry_name, doc.splitlines()[0] if doc else entry_name, None, target)]
    else:
        raise TypeError(f"expected a ToolInfo, a LangChain tool or a function, got {type(target).__name__}")
    for info in infos:
        if not isinstance(info, ToolInfo):
            raise TypeError(f"expected a ToolInfo, got {type(info).__name__}")
        if _TOOLS.get(info.name) not in (None, info):
            raise ValueError(f"tool {info.name!r} is already registered; the plugin may not replace it")
        register_tool(info)


def build_tool(name: str) -> Any:
    """The LangChain tool registered under ``name`` (imports LangChain)."""
    from langchain_core.tools import BaseTool

    from agents_core.tools.builtin import as_langchain_tool

    info = get_tool_info(name)
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
