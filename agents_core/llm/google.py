"""The `google` provider: Gemini through langchain-google-genai.

``api_base`` becomes the client's ``base_url`` (proxies, a test stub on
127.0.0.1); the Google SDK also honours ``GOOGLE_GEMINI_BASE_URL`` itself.
Retries are ours (tenacity, in the node executor), so the client's are off.
"""

from __future__ import annotations

import os
from typing import Any

from agents_core.errors import ProviderError
from agents_core.llm.settings import ResolvedLLM

API_KEY_ENV = "GOOGLE_API_KEY"


def check_settings(settings: ResolvedLLM) -> str:
    """The API key the client needs; ``ProviderError`` without it (nothing is built or imported)."""
    key = os.environ.get(API_KEY_ENV)
    if not key:
        raise ProviderError(
            f"provider 'google' needs {API_KEY_ENV}, which is not set.",
            f"Set {API_KEY_ENV}, or choose the provider 'local' (the embedded model, no key needed).",
        )
    return key


def create_chat_model(settings: ResolvedLLM) -> Any:
    from langchain_google_genai import ChatGoogleGenerativeAI

    key = check_settings(settings)
    options: dict[str, Any] = {
        "model": settings.model,
        "google_api_key": key,
        "temperature": settings.temperature,
        "timeout": settings.timeout,
        "max_retries": 0,
    }
    if settings.max_tokens:
        options["max_output_tokens"] = settings.max_tokens
    if settings.api_base:
        options["base_url"] = settings.api_base
    return ChatGoogleGenerativeAI(**options)


def structured_output_method(settings: ResolvedLLM) -> str | None:
    """Gemini's native JSON-schema output unless told otherwise."""
    return None if settings.structured_output == "auto" else settings.structured_output
