"""An unreachable tracking server: one warning, the run succeeds, the process exits promptly; the CLI flag."""

from __future__ import annotations

import logging
import socket
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from agents_core.cli.app import app
from agents_core.runs.service import RunService
from tests.conftest import REPO_ROOT
from tests.observability.conftest import flow, fresh_workspace, runs_of


def closed_port() -> int:
    """A 127.0.0.1 port nobody listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_an_unreachable_server_gives_one_warning_and_the_runs_succeed(script, tmp_path, caplog, monkeypatch):
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    uri = f"http://127.0.0.1:{closed_port()}"
    service = RunService(tmp_path / "runs.sqlite")
    settings = {"enabled": True, "tracking_uri": uri}
    try:
        with caplog.at_level(logging.WARNING):
            results = [service.start(flow(mlflow=settings), {"topic": "x"}).wait(60) for _ in range(2)]
            assert service.flush_tracking(30)
    finally:
        service.shutdown()
    assert [r.status for r in results] == ["success", "success"]
    warnings = [r.getMessage() for r in caplog.records if "unreachable" in r.getMessage()]
    assert len(warnings) == 1, warnings
    assert uri in warnings[0] and "goes on untracked" in warnings[0]


@pytest.mark.slow
def test_a_process_with_an_unreachable_server_exits_promptly(tmp_path):
    uri = f"http://127.0.0.1:{closed_port()}"
    workflow = tmp_path / "flow.yaml"
    workflow.write_text(yaml.safe_dump(flow(mlflow={"enabled": True, "tracking_uri": uri})))
    script = textwrap.dedent(
        f"""
        from tests.fakes import Script, scripted_provider
        from agents_core.runs.service import RunService
        with scripted_provider(Script(default="hi")):
            service = RunService({str(tmp_path / "runs.sqlite")!r})
            result = service.start({str(workflow)!r}, {{"topic": "x"}}).wait(60)
            print("status", result.status)
        """
    )
    env = {
        "PYTHONPATH": str(REPO_ROOT),
        "MLFLOW_DISABLE_TELEMETRY": "true",
        "DO_NOT_TRACK": "true",
        "PATH": "/usr/bin:/bin",
    }
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=90
    )  # the timeout guards against MLflow's ~250 s retry stall; it is no speed figure
    assert done.returncode == 0, done.stderr
    assert "status success" in done.stdout
    assert done.stderr.count("unreachable") == 1, done.stderr


@pytest.mark.slow
def test_cli_run_mlflow_flag_tracks_a_run_into_the_workspace(
    script, isolated_workspace, mlflow_db_template, tmp_path, monkeypatch
):
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    fresh_workspace(isolated_workspace, mlflow_db_template)
    workflow = tmp_path / "flow.yaml"
    workflow.write_text(yaml.safe_dump(flow("cli_flow")))
    done = CliRunner().invoke(app, ["run", str(workflow), "--input", "topic=cats", "--mlflow", "--json"])
    assert done.exit_code == 0, done.output
    import json

    run_id = json.loads(done.stdout)["run_id"]
    parent, children = runs_of(isolated_workspace, "configurable_agents", run_id)
    assert parent.info.status == "FINISHED" and len(children) == 2


def test_cli_run_help_names_the_flag():
    done = CliRunner().invoke(app, ["run", "--help"])
    assert "--mlflow" in done.output


def test_settings_resolve_relative_stores_into_the_workspace(tmp_path: Path):
    from agents_core.observability.settings import artifact_location_for, resolve_uri

    ws = tmp_path.resolve()
    assert resolve_uri(None, ws) == f"sqlite:///{ws}/mlflow.db"
    assert resolve_uri("sqlite:///track.db", ws) == f"sqlite:///{ws}/track.db"
    assert resolve_uri("sqlite:////abs/m.db", ws) == "sqlite:////abs/m.db"
    assert resolve_uri("file:mlruns", ws) == (ws / "mlruns").as_uri()
    assert resolve_uri("file:///abs/mlruns", ws) == "file:///abs/mlruns"
    assert resolve_uri("http://127.0.0.1:5000", ws) == "http://127.0.0.1:5000"
    assert artifact_location_for(f"sqlite:///{ws}/mlflow.db", "my exp") == (ws / "mlartifacts" / "my_exp").as_uri()
    assert artifact_location_for("http://127.0.0.1:5000", "x") is None
    postgres = "postgresql+psycopg://agents:pw@postgres:5432/mlflow"  # a shared store: artifacts in the workspace
    assert artifact_location_for(postgres, "my exp", ws) == (ws / "mlartifacts" / "my_exp").as_uri()


def test_a_tracking_set_up_that_fails_leaves_the_run_to_go_on(script, tmp_path, monkeypatch, caplog):
    from agents_core.observability import mirror

    def broken(prepared):
        raise RuntimeError("no context")

    monkeypatch.setattr(mirror.RunContext, "from_prepared", staticmethod(broken))
    service = RunService(tmp_path / "runs.sqlite")
    try:
        with caplog.at_level(logging.WARNING):
            result = service.start(flow(), {"topic": "x"}, tracking=True).wait(60)
    finally:
        service.shutdown()
    assert result.ok and service.get(result.run_id).status == "success"
    assert any("goes on untracked" in r.getMessage() for r in caplog.records)
