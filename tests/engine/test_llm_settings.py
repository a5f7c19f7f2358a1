"""Settings layers: a model or an ``api_base`` only applies to the provider it was given with.

The end-to-end test runs a workflow whose nodes use two providers against two
recording stubs on 127.0.0.1 and checks which key reached which endpoint.
"""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from agents_core.engine.runner import run_workflow
from agents_core.llm.settings import resolve_llm
from tests.stubs.gemini import GeminiStub, Reply, text_reply

OLLAMA = "http://127.0.0.1:11434/v1"
PROXY = "http://127.0.0.1:9/gemini-proxy"


def test_a_layer_that_changes_the_provider_drops_the_inherited_api_base() -> None:
    settings = resolve_llm({"provider": "openai", "api_base": OLLAMA, "model": "llama3"}, {"provider": "google"})
    assert (settings.provider, settings.model, settings.api_base) == ("google", "gemini-2.5-flash", None)


def test_an_api_base_given_with_the_new_provider_is_kept() -> None:
    settings = resolve_llm({"provider": "openai", "api_base": OLLAMA}, {"provider": "google", "api_base": PROXY})
    assert (settings.provider, settings.api_base) == ("google", PROXY)


@pytest.mark.parametrize(
    "layers",
    [
        ({"provider": "openai", "api_base": OLLAMA}, {"temperature": 0.1}),
        ({"provider": "openai", "api_base": OLLAMA}, {"provider": "openai", "model": "qwen"}),
        ({"provider": "openai", "api_base": OLLAMA}, None, {}),
    ],
)
def test_layers_that_keep_the_provider_keep_its_api_base(layers: tuple[Any, ...]) -> None:
    settings = resolve_llm(*layers)
    assert (settings.provider, settings.api_base) == ("openai", OLLAMA)


def test_an_api_base_without_a_provider_belongs_to_the_provider_in_force() -> None:
    settings = resolve_llm({"api_base": PROXY}, {"model": "gemini-2.5-pro"})
    assert (settings.provider, settings.model, settings.api_base) == ("google", "gemini-2.5-pro", PROXY)
    assert resolve_llm({"api_base": PROXY}, None, {"provider": "local"}).api_base is None


def test_a_run_override_of_the_provider_drops_the_workflows_api_base() -> None:
    settings = resolve_llm({"provider": "openai", "api_base": OLLAMA}, {"model": "qwen"}, {"provider": "local"})
    assert (settings.provider, settings.api_base) == ("local", None)


# -- end to end: which key reaches which endpoint ------------------------------------------------


def openai_chat_reply(text: str) -> Reply:
    """An OpenAI chat-completions answer (what Ollama's /v1 endpoint sends)."""
    body = {
        "id": "chatcmpl-stub",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": "llama3",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 5, "completion_tokens": 2, "total_tokens": 7},
    }
    return Reply(body=json.dumps(body).encode())


def two_providers(ollama_url: str, second: dict[str, Any]) -> dict[str, Any]:
    """The workflow's model is an Ollama-style endpoint; the second node switches to ``second``."""
    return {
        "schema_version": "1.0",
        "flow": {"name": "two_providers"},
        "state": {"fields": {"q": {"type": "str", "required": True}, "a": {"type": "str"}, "b": {"type": "str"}}},
        "nodes": [
            {"id": "first", "prompt": "Q: {state.q}", "outputs": ["a"]},
            {"id": "second", "prompt": "A: {state.a}", "outputs": ["b"], "llm": second},
        ],
        "edges": [{"from": "START", "to": "first"}, {"from": "first", "to": "second"}, {"from": "second", "to": "END"}],
        "config": {
            "llm": {"provider": "openai", "model": "llama3", "api_base": ollama_url},
            "execution": {"retry_initial_delay": 0.01, "max_retries": 0, "timeout": 10},
        },
    }


@pytest.fixture
def ollama_stub(gemini_stub: GeminiStub) -> Any:
    """A second recording server, standing in for the workflow's OpenAI-compatible endpoint."""
    stub = GeminiStub().start()
    try:
        yield stub
    finally:
        stub.stop()


def _seen(stub: GeminiStub) -> str:
    """Everything a stub received: headers and bodies of every request."""
    return "\n".join(f"{request.headers}\n{request.text}" for request in stub.requests)


GOOGLE_KEY = "google-secret-key"
OPENAI_KEY = "openai-secret-key"


@pytest.mark.parametrize("how", ["google via GOOGLE_GEMINI_BASE_URL", "google with its own api_base"])
def test_each_key_reaches_only_its_own_providers_endpoint(
    gemini_stub: GeminiStub, ollama_stub: GeminiStub, monkeypatch: pytest.MonkeyPatch, how: str
) -> None:
    monkeypatch.setenv("GOOGLE_API_KEY", GOOGLE_KEY)
    monkeypatch.setenv("OPENAI_API_KEY", OPENAI_KEY)
    second: dict[str, Any] = {"provider": "google"}
    if how.endswith("own api_base"):
        second["api_base"] = gemini_stub.url
    else:
        monkeypatch.setenv("GOOGLE_GEMINI_BASE_URL", gemini_stub.url)
    ollama_stub.push(openai_chat_reply("from ollama"))
    gemini_stub.push(text_reply("from gemini"))

    result = run_workflow(two_providers(f"{ollama_stub.url}/v1", second), {"q": "hi"})

    assert result.ok, result.error
    assert result.outputs == {"a": "from ollama", "b": "from gemini"}
    [to_ollama] = ollama_stub.requests
    [to_gemini] = gemini_stub.requests
    assert to_ollama.path == "/v1/chat/completions"
    assert to_ollama.headers.get("authorization") == f"Bearer {OPENAI_KEY}"
    assert to_gemini.headers.get("x-goog-api-key") == GOOGLE_KEY
    assert GOOGLE_KEY not in _seen(ollama_stub)
    assert OPENAI_KEY not in _seen(gemini_stub)
