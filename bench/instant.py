"""What the benchmarks share: an instant chat model, registered as the ``instant`` provider, and a chain workflow.

Each bench script runs as ``python bench/<name>.py``, so this folder is on its path.
"""

from __future__ import annotations

from typing import Any

from langchain_core.language_models.chat_models import BaseChatModel
from langchain_core.messages import AIMessage
from langchain_core.outputs import ChatGeneration, ChatResult


class Instant(BaseChatModel):
    """Answers "ok" at once, sync and async (no thread hop), with a token count like a real reply."""

    input_tokens: int = 1

    @property
    def _llm_type(self) -> str:
        return "instant"

    def _result(self) -> ChatResult:
        usage = {"input_tokens": self.input_tokens, "output_tokens": 1, "total_tokens": self.input_tokens + 1}
        return ChatResult(generations=[ChatGeneration(message=AIMessage("ok", usage_metadata=usage))])

    def _generate(self, messages, stop=None, run_manager=None, **kwargs):  # type: ignore[no-untyped-def]
        return self._result()

    async def _agenerate(self, messages, stop=None, run_manager=None, **kwargs):  # type: ignore[no-untyped-def]
        return self._result()


def register_instant(input_tokens: int = 1) -> None:
    """Make ``provider: instant`` build an :class:`Instant` model."""
    from agents_core.llm.registry import ProviderInfo, register_provider

    register_provider(
        ProviderInfo("instant", "bench", default_model="instant", factory=lambda _s: Instant(input_tokens=input_tokens))
    )


def chain(
    nodes: int, *, name: str = "bench_chain", quote_input: bool = False, config: dict[str, Any] | None = None
) -> dict[str, Any]:
    """A linear workflow on the instant provider: node i reads x<i-1> (and x0 with ``quote_input``), writes x<i>."""
    fields = {"x0": {"type": "str", "required": True}} | {
        f"x{i}": {"type": "str", "default": ""} for i in range(1, nodes + 1)
    }
    quoted = " / {state.x0}" if quote_input else ""
    return {
        "schema_version": "1.0",
        "flow": {"name": name, "version": "1"},
        "state": {"fields": fields},
        "nodes": [
            {"id": f"n{i}", "prompt": f"step {i}: {{state.x{i - 1}}}{quoted}", "outputs": [f"x{i}"]}
            for i in range(1, nodes + 1)
        ],
        "edges": [{"from": "START", "to": "n1"}]
        + [{"from": f"n{i}", "to": f"n{i + 1}" if i < nodes else "END"} for i in range(1, nodes + 1)],
        "config": {"llm": {"provider": "instant"}} | (config or {}),
    }
