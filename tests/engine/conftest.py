"""Fixtures for the local Gemini and Serper stubs (127.0.0.1 only, no proxies)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.stubs.gemini import GeminiStub
from tests.stubs.serper import SerperStub

PROXY_VARIABLES = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy")


def _local_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """No proxy may stand between the client and a stub on 127.0.0.1."""
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")


@pytest.fixture
def gemini_stub(monkeypatch: pytest.MonkeyPatch) -> Iterator[GeminiStub]:
    """A running Gemini stub; GOOGLE_API_KEY is a dummy and the SDK's own base-URL variable is unset."""
    _local_only(monkeypatch)
    monkeypatch.setenv("GOOGLE_API_KEY", "stub-key")
    monkeypatch.delenv("GOOGLE_GEMINI_BASE_URL", raising=False)
    stub = GeminiStub().start()
    try:
        yield stub
    finally:
        stub.stop()


@pytest.fixture
def serper_stub(monkeypatch: pytest.MonkeyPatch) -> Iterator[SerperStub]:
    """A running Serper stub; ``SERPER_BASE_URL`` points at it and ``SERPER_API_KEY`` is a dummy."""
    _local_only(monkeypatch)
    stub = SerperStub().start()
    monkeypatch.setenv("SERPER_BASE_URL", stub.search_url)
    monkeypatch.setenv("SERPER_API_KEY", "serper-stub-key")
    try:
        yield stub
    finally:
        stub.stop()
