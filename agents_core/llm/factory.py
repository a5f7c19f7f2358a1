"""``get_chat_model``: the one way the engine gets a LangChain chat model; ``check_chat_model`` without building it."""

from __future__ import annotations

import importlib.util
from typing import Any

from agents_core.errors import ProviderError
from agents_core.llm.registry import ProviderInfo, get_provider, provider_names
from agents_core.llm.settings import ResolvedLLM


def _registered(settings: ResolvedLLM) -> tuple[ProviderInfo, Any]:
    """The provider of ``settings`` and its factory; ``ProviderError`` when it has none."""
    info = get_provider(settings.provider)
    factory = info.resolve("factory") if info else None
    if info is None or factory is None:
        raise ProviderError(
            f"provider {settings.provider!r} is not registered.",
            f"Known providers: {', '.join(provider_names())}; a plugin can add one with register_provider().",
        )
    return info, factory


def _cannot_load(settings: ResolvedLLM, why: str) -> ProviderError:
    return ProviderError(
        f"provider {settings.provider!r} cannot be loaded ({why}).", "Run `make setup` to install its packages."
    )


def get_chat_model(settings: ResolvedLLM) -> Any:
    """Build the chat model for ``settings`` through its provider's registered factory."""
    _, factory = _registered(settings)
    try:
        return factory(settings)
    except ImportError as exc:
        raise _cannot_load(settings, str(exc)) from None


def check_chat_model(settings: ResolvedLLM) -> None:
    """Refuse what :func:`get_chat_model` would refuse, without building the client where the provider can tell.

    For a side that only enqueues runs (an API in front of Celery workers, which build the
    models): the provider is registered, its packages are installed (looked up, not imported)
    and its own ``check`` passes (a missing API key). A provider without a ``check`` is built,
    so a third-party provider is refused exactly as before.
    """
    info, _ = _registered(settings)
    checker = info.resolve("check")
    if checker is None:
        get_chat_model(settings)
        return
    missing = [name for name in info.requires_modules if importlib.util.find_spec(name) is None]
    if missing:
        raise _cannot_load(settings, f"No module named {missing[0]!r}")
    checker(settings)


def structured_output_method(settings: ResolvedLLM) -> str | None:
    info = get_provider(settings.provider)
    chooser = info.resolve("structured_method") if info else None
    return chooser(settings) if chooser else None
