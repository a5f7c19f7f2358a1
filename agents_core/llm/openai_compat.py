"""The `openai` provider: any OpenAI-compatible API through langchain-openai.

OpenAI itself, Ollama, vLLM, LM Studio and llama.cpp's server all speak this
API, but not all accept ``response_format: json_schema`` (llama-cpp-python's
server refuses it with an error), so with a custom ``api_base`` structured
output defaults to function calling, which they do support;
``structured_output`` overrides it.

Two things differ from OpenAI proper on such servers, and are handled here:
langchain-openai sends the output limit as ``max_completion_tokens``, which
llama.cpp ignores, so ``max_tokens`` is sent as well; and langchain-openai
shares one HTTP client per process across event loops, while every run here
has a loop of its own, so each model gets its own client.
"""

from __future__ import annotations

import os
from typing import Any

from agents_core.errors import ProviderError
from agents_core.llm.settings import ResolvedLLM

API_KEY_ENV = "OPENAI_API_KEY"


def check_settings(settings: ResolvedLLM) -> str | None:
    """The API key (``None`` for a self-hosted ``api_base``); ``ProviderError`` when OpenAI proper has none."""
    key = os.environ.get(API_KEY_ENV)
    if not key and not settings.api_base:
        raise ProviderError(
            f"provider 'openai' needs {API_KEY_ENV}, which is not set.",
            f"Set {API_KEY_ENV}, or point config.llm.api_base at a self-hosted OpenAI-compatible server.",
        )
    return key


def create_chat_model(settings: ResolvedLLM) -> Any:
    import httpx
    from langchain_openai import ChatOpenAI

    key = check_settings(settings)
    options: dict[str, Any] = {
        "model": settings.model,
        "api_key": key or "not-needed",
        "temperature": settings.temperature,
        "timeout": settings.timeout,
        "max_retries": 0,
    }
    if settings.max_tokens:
        options["max_tokens"] = settings.max_tokens
    if settings.api_base:
        options["base_url"] = settings.api_base
        if settings.max_tokens:
            options["extra_body"] = {"max_tokens": settings.max_tokens}
    options["http_async_client"] = httpx.AsyncClient(timeout=settings.timeout)
    return ChatOpenAI(**options)


def structured_output_method(settings: ResolvedLLM) -> str:
    if settings.structured_output != "auto":
        return settings.structured_output
    return "function_calling" if settings.api_base else "json_schema"
