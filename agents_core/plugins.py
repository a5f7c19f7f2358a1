"""Providers and tools from installed packages, found through entry points.

A package adds a provider or a tool without anyone importing it by hand, as
simonw/llm's plugins do: it declares an entry point in the group
``configurable_agents.providers`` or ``configurable_agents.tools`` and the
registries load it the first time they are asked for a name they do not know
(or for the full list). The built-ins answer every lookup of their own names
without this scan, so ``validate`` of an ordinary file never reads package
metadata. A plugin that fails to load is skipped with a :class:`PluginWarning`
naming its distribution; it never stops the product.
"""

from __future__ import annotations

import threading
import warnings
from collections.abc import Callable
from typing import Any

__all__ = ["PROVIDER_GROUP", "TOOL_GROUP", "PluginWarning", "forget_plugins", "load_plugins"]

PROVIDER_GROUP = "configurable_agents.providers"
TOOL_GROUP = "configurable_agents.tools"

_loaded: set[str] = set()
# Re-entrant: a plugin's module may itself look a name up while it is being loaded.
_lock = threading.RLock()


class PluginWarning(UserWarning):
    """An installed plugin could not be loaded, or clashes with a name already registered."""


def load_plugins(group: str, register: Callable[[str, Any], None]) -> None:
    """Load every entry point of ``group`` once per process and hand it to ``register(name, object)``.

    ``register`` raises (``TypeError``, ``ValueError``) to refuse an object;
    the refusal, like any import error, becomes a warning naming the plugin.
    """
    with _lock:
        if group in _loaded:
            return
        _loaded.add(group)
        from importlib.metadata import entry_points

        try:
            found = sorted(entry_points(group=group), key=lambda ep: ep.name)
        except Exception as exc:  # broken metadata of some unrelated package
            _warn(f"installed packages could not be searched for {group} plugins ({type(exc).__name__}: {exc}).")
            return
        for entry in found:
            try:
                register(entry.name, entry.load())
            except Exception as exc:  # a plugin's own bug must not stop the product
                _warn(
                    f"plugin {entry.name!r} ({group}) of the package {_distribution(entry)} was skipped: "
                    f"{type(exc).__name__}: {exc}. Fix or update that package, or uninstall it."
                )


def forget_plugins() -> None:
    """Scan again on the next lookup (after installing a plugin into a running process, and in tests)."""
    with _lock:
        _loaded.clear()


def _distribution(entry: Any) -> str:
    dist = getattr(entry, "dist", None)
    name = getattr(dist, "name", None) if dist is not None else None
    version = getattr(dist, "version", None) if dist is not None else None
    if not name:
        return f"providing {entry.value!r}"
    return f"{name!r}" + (f" {version}" if version else "")


def _warn(message: str) -> None:
    warnings.warn(message, PluginWarning, stacklevel=3)
