"""Server settings from the environment, and ``app_from_env`` (what a container's server.py calls)."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from agents_core.deploy import ServerSettings, app_from_env
from agents_core.errors import InputError


def test_settings_come_from_env_and_a_bad_value_names_its_variable() -> None:
    settings = ServerSettings.from_env({"WORKFLOW_FILE": "w.yaml", "SYNC_TIMEOUT": "2.5", "MAX_CONCURRENT": "3"})
    assert (settings.workflow, settings.sync_timeout, settings.max_concurrent) == ("w.yaml", 2.5, 3)
    with pytest.raises(InputError, match="MAX_CONCURRENT"):
        ServerSettings.from_env({"MAX_CONCURRENT": "many"})


def test_beyond_loopback_needs_a_key_or_no_auth() -> None:
    with pytest.raises(InputError, match="without an API key"):
        ServerSettings(host="0.0.0.0").check_exposure()
    ServerSettings(host="0.0.0.0", api_key="k").check_exposure()
    ServerSettings(host="0.0.0.0", no_auth=True).check_exposure()


def test_app_from_env_serves_the_workflow_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    examples = Path(__file__).resolve().parents[2] / "examples"
    monkeypatch.setenv("WORKFLOW_FILE", str(examples / "article_writer.yaml"))
    monkeypatch.setenv("AGENTS_API_KEY", "k")
    with TestClient(app_from_env()) as client:
        assert client.get("/schema").status_code == 401
        schema = client.get("/schema", headers={"X-API-Key": "k"}).json()
    assert schema["workflow"] == "article_writer" and "topic" in schema["input"]["required"]
    monkeypatch.delenv("WORKFLOW_FILE")
    with pytest.raises(InputError, match="WORKFLOW_FILE"):
        app_from_env()
