"""The cached data root of the tests' engine: off by a variable, and never shared by two sessions at once."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.docker import engine


def test_the_cache_is_off_with_the_variable(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.delenv("AGENTS_DOCKER_TEST_CACHE", raising=False)
    assert engine.cached_data_root() == tmp_path / "configurable-agents" / "engine-data"
    monkeypatch.setenv("AGENTS_DOCKER_TEST_CACHE", "0")
    assert engine.cached_data_root() is None


def test_a_second_session_gets_a_throw_away_root_while_the_first_holds_the_lock(tmp_path: Path) -> None:
    root = tmp_path / "engine-data"
    with engine._locked(root) as first:
        assert first == root
        with engine._locked(root) as second:
            assert second is None
    with engine._locked(root) as again:
        assert again == root  # released with the first session
    with engine._locked(None) as off:
        assert off is None
