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


def test_a_servers_runs_execute_on_the_loop_that_serves_its_requests(tmp_path: Path) -> None:
    """The in-process executor is bound to the serving loop while the app lives (no hand-over between loops)."""
    import asyncio

    from agents_core.deploy import create_app
    from agents_core.runs.executors.bounded import BoundedExecutor
    from agents_core.runs.executors.inprocess import run_loop
    from agents_core.runs.service import RunService
    from tests.fakes import Script, scripted_provider
    from tests.samples import THREE_STEPS

    workflow = {**THREE_STEPS, "config": {"llm": {"provider": "scripted"}}}
    loops: list[asyncio.AbstractEventLoop] = []
    service = RunService(tmp_path / "runs.sqlite", executor=BoundedExecutor(2))
    service.add_observer(lambda event: loops.append(asyncio.get_running_loop()))
    with scripted_provider(Script()), TestClient(create_app(workflow, service=service)) as client:
        serving = service.executor.loop
        assert serving is not None and serving is not run_loop()
        response = client.post("/run", json={"topic": "cats"})
        assert response.status_code == 200, response.text
    assert loops and all(loop is serving for loop in loops)  # every event of the run was on the serving loop
    assert service.executor.loop is None  # unbound when the app stopped
