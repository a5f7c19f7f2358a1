"""``get_chat_model``: the one way the engine gets a LangChain chat model."""

from __future__ import annotations

from typing import Any

from agents_core.errors import ProviderError
from agents_core.llm.registry import get_provider, provider_names
from agents_core.llm.settings import ResolvedLLM


def get_chat_model(settings: ResolvedLLM) -> Any:
    """Build the chat model for ``settings`` through its provider's registered factory."""
    info = get_provider(settings.provider)
    factory = info.resolve("factory") if info else None
    if info is None or factory is None:
        raise ProviderError(
            f"provider {settings.provider!r} is not registered.",
            f"Known providers: {', '.join(provider_names())}; a plugin can add one with register_provider().",
        )
    try:
        return factory(settings)
    except ImportError as exc:
        raise ProviderError(
            f"provider {settings.provider!r} cannot be loaded ({exc}).", "Run `make setup` to install its packages."
        ) from None


def structured_output_method(settings: ResolvedLLM) -> str | None:
    info = get_provider(settings.provider)
    chooser = info.resolve("structured_method") if info else None
    return chooser(settings) if chooser else None
