"""Shared test set-up: no telemetry, no network, a private workspace and run store per test, example paths."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

# Set before anything imports MLflow or Streamlit: nothing may phone home.
os.environ["MLFLOW_DISABLE_TELEMETRY"] = "true"
os.environ["DO_NOT_TRACK"] = "true"
os.environ["STREAMLIT_BROWSER_GATHER_USAGE_STATS"] = "false"

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
