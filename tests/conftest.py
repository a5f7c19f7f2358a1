"""Shared test set-up: no telemetry, no network, a private workspace and run store per test, example paths."""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests import servers

# Set before anything imports MLflow or Streamlit: nothing may phone home.
os.environ["MLFLOW_DISABLE_TELEMETRY"] = "true"
os.environ["MLFLOW_MODEL_CATALOG_URI"] = ""  # MLflow would fetch a model catalog from github.com
os.environ["DO_NOT_TRACK"] = "true"
os.environ["STREAMLIT_BROWSER_GATHER_USAGE_STATS"] = "false"

#: The private Docker engine's fixtures, shared by tests/docker and the browser tests.
pytest_plugins = ("tests.docker.fixtures",)

REPO_ROOT = Path(__file__).resolve().parents[1]
EXAMPLES_DIR = REPO_ROOT / "examples"
EXAMPLE_FILES = sorted(EXAMPLES_DIR.glob("*.yaml"))


@pytest.fixture
def no_api_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    """Validation warnings about keys must not depend on the developer's shell."""
    for name in ("GOOGLE_API_KEY", "OPENAI_API_KEY", "SERPER_API_KEY"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(autouse=True)
def isolated_workspace(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Every test gets its own ``$AGENTS_WORKSPACE`` and ``$AGENTS_RUN_STORE``, never the developer's.

    The folder is apart from ``tmp_path``, so a test that lists its ``tmp_path``
    sees only its own files; a test that means the default (the workspace's own
    store) deletes the variable with ``monkeypatch``.
    """
    root = tmp_path_factory.mktemp("workspace")
    monkeypatch.setenv("AGENTS_WORKSPACE", str(root))
    monkeypatch.setenv("AGENTS_RUN_STORE", str(root / "runs.sqlite"))
    monkeypatch.delenv("AGENTS_EXECUTOR", raising=False)  # runs execute in-process unless a test says otherwise
    yield root


@pytest.fixture
def run_store(isolated_workspace: Path) -> Path:
    """The path of this test's run store (``$AGENTS_RUN_STORE``; the file exists once a run was stored)."""
    return Path(os.environ["AGENTS_RUN_STORE"])


# -- real PostgreSQL and Redis servers (tests/servers.py), started once per session on demand -------


def _server_or_skip(start: Callable[[], contextlib.AbstractContextManager[servers.Server]]) -> Iterator[servers.Server]:
    """The server; without its binaries a skip, except under ``CI=true`` where that is a failure."""
    try:
        manager = start()
        server = manager.__enter__()
    except servers.ServerUnavailable as exc:
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(f"CI=true needs this server: {exc}")
        pytest.skip(str(exc))
    try:
        yield server
    finally:
        manager.__exit__(None, None, None)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[servers.Server]:
    """A PostgreSQL of this test session (``.url`` is a ``postgresql+psycopg://`` URL; ``stop()``/``start()``)."""
    yield from _server_or_skip(servers.postgres_server)


@pytest.fixture(scope="session")
def redis_server() -> Iterator[servers.Server]:
    """A Redis of this test session (``.url`` is ``redis://127.0.0.1:PORT/0``)."""
    yield from _server_or_skip(servers.redis_server)


@pytest.fixture
def fresh_redis() -> Iterator[servers.Server]:
    """A Redis of this test alone (a test may ``stop()`` and ``start()`` it), shut down after."""
    yield from _server_or_skip(servers.redis_server)


@pytest.fixture
def postgres_url(postgres_server: servers.Server) -> Iterator[str]:
    """A fresh, empty database on the session's PostgreSQL, dropped after the test."""
    name = f"test_{uuid.uuid4().hex[:12]}"
    yield servers.create_database(postgres_server, name)
    servers.drop_database(postgres_server, name)
