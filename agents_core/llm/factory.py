"""``get_chat_model``: the one way the engine gets a LangChain chat model; ``check_chat_model`` without building it;
``shared_chat_model`` for the runs of one event loop."""

from __future__ import annotations

import asyncio
import importlib.util
import threading
import weakref
from collections import OrderedDict
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


#: Shared models per event loop: {loop: {(settings, factory, credential): model}}, newest last.
_SHARED: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, OrderedDict[tuple[Any, ...], Any]] = (
    weakref.WeakKeyDictionary()
)
_SHARED_LOCK = threading.Lock()
#: Distinct settings kept per loop (the least recently used one goes first).
SHARED_MODELS_PER_LOOP = 64


def shared_chat_model(settings: ResolvedLLM, loop: asyncio.AbstractEventLoop) -> Any:
    """The chat model for ``settings`` that runs executing on ``loop`` share, built on first use.

    Why: building a client per run cost more than many runs themselves (a Gemini client
    loads its CA bundle three times, ~80 ms of CPU; LangChain serialises each new model
    once for its callbacks). A model is reused only on the loop it was built for (async
    clients hold loop-bound sessions) and only while its provider's registration, its
    settings and what its ``check`` returns (the API key, the local model's file) are the
    same. A provider without a ``check`` gets a new model each time, as before.
    """
    info, factory = _registered(settings)
    checker = info.resolve("check")
    if checker is None:  # nothing says what else (an environment variable?) its build depends on: not shared
        return get_chat_model(settings)
    key = (settings, factory, checker(settings))
    with _SHARED_LOCK:
        models = _SHARED.setdefault(loop, OrderedDict())
        model = models.get(key)
        if model is not None:
            models.move_to_end(key)
            return model
    model = get_chat_model(settings)
    with _SHARED_LOCK:
        models = _SHARED.setdefault(loop, OrderedDict())
        model = models.setdefault(key, model)  # two first uses at once: both get the first one kept
        while len(models) > SHARED_MODELS_PER_LOOP:
            models.popitem(last=False)
    return model
