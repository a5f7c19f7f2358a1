"""The Docker engine fixtures, a pytest plugin (``pytest_plugins`` in ``tests/conftest.py``).

A plugin rather than ``tests/docker/conftest.py``, so ``tests/docker`` and the
browser tests share one private engine (and its cached data root) per session.
Under ``CI=true`` a missing requirement (root, dockerd, debootstrap) is a
failure, never a skip; elsewhere these tests skip with the reason.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from tests.docker.engine import Engine, missing_tools, running_engine


@pytest.fixture(scope="session")
def docker_engine() -> Iterator[Engine]:
    """A running private dockerd (socket in a temp folder) with the test base image loaded.

    Its images and layer cache persist between sessions (``tests/docker/engine.py`` says how and why).
    """
    missing = missing_tools()
    if missing:
        message = f"the Docker tests need {', '.join(missing)} (make test installs docker.io and debootstrap as root)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)
    with running_engine(cached=True) as engine:
        engine.ensure_base_image()
        yield engine


@pytest.fixture
def docker_host(docker_engine: Engine, monkeypatch: pytest.MonkeyPatch) -> str:
    """``DOCKER_HOST`` pointing at the private engine, for code that connects the ordinary way."""
    monkeypatch.setenv("DOCKER_HOST", docker_engine.url)
    return docker_engine.url
