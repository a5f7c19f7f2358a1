"""Which provider and model a node uses: defaults, `config.llm`, node `llm`, run overrides.

Layers are merged field by field, later layers winning. A model name only
applies to the provider it was written for: overriding the provider (say to
`local` for an offline run) without a model falls back to that provider's
default model instead of sending a Gemini model name to llama.cpp.
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
    for layer in layers:
        layer_provider = _get(layer, "provider")
        if layer_provider and layer_provider != provider:
            provider, model = layer_provider, None  # a model named for another provider does not carry over
        if _get(layer, "model"):
            model = _get(layer, "model")
    info = get_provider(provider)
    values: dict[str, Any] = {}
    for name in ("temperature", "max_tokens", "api_base", "structured_output"):
        for layer in layers:
            if _get(layer, name) is not None:
                values[name] = _get(layer, name)
    return ResolvedLLM(
        provider=provider,
        model=model or (info.default_model if info else ""),
        timeout=timeout,
        **values,
    )
