"""Shared test set-up: no telemetry, no network, paths to the repo's examples."""

from __future__ import annotations

import os
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
