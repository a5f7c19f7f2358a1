"""A run service on a temporary store, and a scripted provider whose replies can take their time.

``Slow(seconds)`` as a reply makes the model await that long (a real
``asyncio.sleep``, so cancelling the run cancels the in-flight call); the
rest is tests/fakes.py's scripted model.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from langchain_core.messages import AIMessage
from langchain_core.outputs import ChatGeneration, ChatResult

from agents_core.llm.registry import ProviderInfo, register_provider, unregister_provider
from agents_core.runs.service import RunService
from agents_core.runs.store import RunStore, open_store
from tests.fakes import Script, ScriptedChatModel


@dataclass(frozen=True)
class Slow:
    """A reply that takes ``seconds`` (awaited, so a cancel stops it), then says ``text``."""

    seconds: float
    text: str = "slow"


class AsyncScriptedChatModel(ScriptedChatModel):
    """The scripted model with a native async path, so ``Slow`` replies are awaited on the run's loop."""

    async def _agenerate(self, messages: Any, stop: Any = None, run_manager: Any = None, **kw: Any) -> ChatResult:
        reply = self.script.next_reply(messages)
        if isinstance(reply, Slow):
            await asyncio.sleep(reply.seconds)
            reply = reply.text
        message = AIMessage(content=str(reply))
        message.usage_metadata = {"input_tokens": 10, "output_tokens": 5, "total_tokens": 15}
        return ChatResult(generations=[ChatGeneration(message=message)])


@pytest.fixture
def script() -> Iterator[Script]:
    """The ``scripted`` provider, following a script the test fills in (``script.replies[...] = [...]``)."""
    script = Script()
    register_provider(
        ProviderInfo(
            "scripted",
            "scripted test provider",
            default_model="scripted-1",
            factory=lambda s: AsyncScriptedChatModel(script=script),
        )
    )
    try:
        yield script
    finally:
        unregister_provider("scripted")


@pytest.fixture
def store_path(tmp_path: Path) -> Path:
    return tmp_path / "runs.sqlite"


@pytest.fixture
def backend() -> str:
    """The store backend of a test: SQLite here; test_service.py runs its tests on PostgreSQL too."""
    return "sqlite"


@pytest.fixture
def make_store(backend: str, store_path: Path, request: pytest.FixtureRequest) -> Iterator[Callable[[], RunStore]]:
    """Opens another connection to this test's store (SQLite: ``store_path``; PostgreSQL: a fresh database)."""
    target = store_path if backend == "sqlite" else request.getfixturevalue("postgres_url")
    opened: list[RunStore] = []

    def make() -> RunStore:
        opened.append(open_store(target))
        return opened[-1]

    yield make
    for store in opened:
        store.close()


@pytest.fixture
def service(make_store: Callable[[], RunStore]) -> Iterator[RunService]:
    service = RunService(make_store())
    try:
        yield service
    finally:
        service.shutdown(timeout=10)
