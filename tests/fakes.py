"""A scripted chat model for engine tests: faults on demand, calls counted.

Real models (the local SmolLM2, the Gemini client against a stub server,
llama.cpp's OpenAI-compatible server) are used wherever a user would have
them; this fake exists for faults that cannot be caused otherwise (a
provider that fails exactly once at node 2, an exact token count).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from langchain_core.language_models.chat_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from langchain_core.runnables import RunnableLambda
from pydantic import BaseModel, ValidationError

from agents_core.llm.registry import ProviderInfo, register_provider, unregister_provider

Reply = str | BaseException | Callable[[list[BaseMessage]], Any]


class Script:
    """Replies by node: the prompt's first words pick the node (``node_id: ...`` prompts)."""

    def __init__(self, replies: dict[str, list[Reply]] | None = None, default: Reply = "ok") -> None:
        self.replies = {key: list(value) for key, value in (replies or {}).items()}
        self.default = default
        self.calls: list[str] = []
        self.lock = threading.Lock()

    def next_reply(self, messages: list[BaseMessage]) -> Any:
        prompt = messages[0].text
        with self.lock:
            key = next((k for k in self.replies if prompt.startswith(k)), None)
            self.calls.append(key or prompt.split(":", 1)[0][:20])
            queue = self.replies.get(key) if key else None
            reply = queue.pop(0) if queue else self.default
        if isinstance(reply, BaseException):
            raise reply
        if callable(reply):
            return reply(messages)
        return reply


class ScriptedChatModel(BaseChatModel):
    script: Any
    usage: tuple[int, int] = (10, 5)

    @property
    def _llm_type(self) -> str:
        return "scripted"

    def _generate(
        self, messages: list[BaseMessage], stop: Any = None, run_manager: Any = None, **kw: Any
    ) -> ChatResult:
        reply = self.script.next_reply(messages)
        message = reply if isinstance(reply, AIMessage) else AIMessage(content=str(reply))
        message.usage_metadata = {
            "input_tokens": self.usage[0],
            "output_tokens": self.usage[1],
            "total_tokens": sum(self.usage),
        }
        return ChatResult(generations=[ChatGeneration(message=message)])

    def bind_tools(self, tools: Any, **kwargs: Any) -> Any:
        return self

    def with_structured_output(self, schema: type[BaseModel], *, include_raw: bool = False, **kw: Any) -> Any:
        def call(messages: Any) -> dict[str, Any]:
            raw = self.invoke(messages)
            try:
                parsed = schema.model_validate(json.loads(raw.text))
                return {"raw": raw, "parsed": parsed, "parsing_error": None}
            except (ValueError, ValidationError) as exc:
                return {"raw": raw, "parsed": None, "parsing_error": exc}

        return RunnableLambda(call)


@contextmanager
def scripted_provider(script: Script, name: str = "scripted") -> Iterator[Script]:
    """Register a provider whose every model follows ``script``; unregistered afterwards."""
    register_provider(
        ProviderInfo(
            name,
            "scripted test provider",
            default_model="scripted-1",
            factory=lambda s: ScriptedChatModel(script=script),
        )
    )
    try:
        yield script
    finally:
        unregister_provider(name)
