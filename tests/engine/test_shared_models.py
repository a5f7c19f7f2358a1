"""Chat models are built once per (settings, provider registration, credential, event loop), not per run."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from agents_core.llm.factory import shared_chat_model
from agents_core.llm.registry import ProviderInfo, register_provider, unregister_provider
from agents_core.llm.settings import ResolvedLLM
from agents_core.runs.service import RunService
from tests.fakes import Script, ScriptedChatModel
from tests.samples import THREE_STEPS


@pytest.fixture
def built() -> Any:
    """A provider ``counted`` whose factory counts the models it builds; its check returns $COUNTED_KEY."""
    made: list[Any] = []

    def factory(settings: ResolvedLLM) -> Any:
        made.append(ScriptedChatModel(script=Script()))
        return made[-1]

    def check(settings: ResolvedLLM) -> str:
        import os

        return os.environ.get("COUNTED_KEY", "")

    register_provider(ProviderInfo("counted", "counting test provider", "m", factory=factory, check=check))
    try:
        yield made
    finally:
        unregister_provider("counted")


def test_one_model_per_loop_settings_and_credential(built: list[Any], monkeypatch: pytest.MonkeyPatch) -> None:
    settings = ResolvedLLM("counted", "m")
    one, two = asyncio.new_event_loop(), asyncio.new_event_loop()
    try:
        first = shared_chat_model(settings, one)
        assert shared_chat_model(settings, one) is first and len(built) == 1
        assert shared_chat_model(settings, two) is not first  # another loop: its own (async clients are loop-bound)
        assert shared_chat_model(ResolvedLLM("counted", "m", temperature=0.9), one) is not first
        monkeypatch.setenv("COUNTED_KEY", "a new key")
        assert shared_chat_model(settings, one) is not first  # a changed key is a new client
        assert len(built) == 4
    finally:
        one.close()
        two.close()


def test_the_runs_of_a_service_share_their_models(built: list[Any], tmp_path: Any) -> None:
    service = RunService(tmp_path / "runs.sqlite")
    workflow = {**THREE_STEPS, "config": {"llm": {"provider": "counted"}}}
    for topic in ("cats", "dogs", "owls"):
        assert service.start(workflow, {"topic": topic}).wait(timeout=30).ok
    assert len(built) == 1  # three runs of three nodes on one setting: one model
    service.shutdown()


def test_a_provider_without_a_check_gets_a_new_model_each_time() -> None:
    """Nothing says what else its build depends on (an environment variable?), so nothing is shared."""
    made: list[Any] = []

    def factory(settings: ResolvedLLM) -> Any:
        made.append(ScriptedChatModel(script=Script()))
        return made[-1]

    register_provider(ProviderInfo("unchecked", "no check", "m", factory=factory))
    loop = asyncio.new_event_loop()
    try:
        settings = ResolvedLLM("unchecked", "m")
        assert shared_chat_model(settings, loop) is not shared_chat_model(settings, loop)
        assert len(made) == 2
    finally:
        loop.close()
        unregister_provider("unchecked")
