"""Which provider and model a node uses: defaults, `config.llm`, node `llm`, run overrides.

Layers are merged field by field, later layers winning. A model name and an
``api_base`` only apply to the provider they were written for: overriding
the provider (say to `local` for an offline run) without a model falls back
to that provider's default model instead of sending a Gemini model name to
llama.cpp, and a layer that changes the provider without giving its own
``api_base`` drops the inherited one. Otherwise a node switched to `google`
would keep the workflow's Ollama URL, and the Google client would send
``GOOGLE_API_KEY`` to it: a key must only ever reach its own provider.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from agents_core.llm.registry import DEFAULT_PROVIDER, get_provider

DEFAULT_TEMPERATURE = 0.7
DEFAULT_TIMEOUT = 120.0


@dataclass(frozen=True)
class ResolvedLLM:
    """The complete settings of one model call."""

    provider: str
    model: str
    temperature: float = DEFAULT_TEMPERATURE
    max_tokens: int | None = None
    api_base: str | None = None
    structured_output: str = "auto"
    timeout: float = DEFAULT_TIMEOUT

    def with_timeout(self, timeout: float) -> ResolvedLLM:
        return replace(self, timeout=timeout)


def _get(layer: Any, name: str) -> Any:
    if layer is None:
        return None
    if isinstance(layer, dict):
        return layer.get(name)
    return getattr(layer, name, None)


def resolve_llm(*layers: Any, timeout: float = DEFAULT_TIMEOUT) -> ResolvedLLM:
    """Merge settings layers (pydantic ``LLMSettings``, dicts or ``None``), lowest priority first."""
    provider = DEFAULT_PROVIDER
    model: str | None = None
    api_base: str | None = None
    for layer in layers:
        layer_provider = _get(layer, "provider")
        if layer_provider and layer_provider != provider:
            # A model or an endpoint given for another provider does not carry over.
            provider, model, api_base = layer_provider, None, None
        if _get(layer, "model"):
            model = _get(layer, "model")
        if _get(layer, "api_base") is not None:
            api_base = _get(layer, "api_base")
    info = get_provider(provider)
    values: dict[str, Any] = {"api_base": api_base}
    for name in ("temperature", "max_tokens", "structured_output"):
        for layer in layers:
            if _get(layer, name) is not None:
                values[name] = _get(layer, name)
    return ResolvedLLM(
        provider=provider,
        model=model or (info.default_model if info else ""),
        timeout=timeout,
        **values,
    )
