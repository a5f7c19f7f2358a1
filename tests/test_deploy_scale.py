"""``deploy --scale N``: the scaled-out compose file (PostgreSQL, Redis, the API, N workers), read back as YAML.

``docker compose config`` checks it too where the compose plugin is installed; nothing here needs it.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from agents_core.cli import app
from agents_core.deploy.artifacts import generate_deployment_artifacts
from agents_core.errors import DeployError
from tests.conftest import EXAMPLES_DIR

FLOW = EXAMPLES_DIR / "article_writer.yaml"


def _compose(folder: Path) -> dict:
    return yaml.safe_load((folder / "docker-compose.yml").read_text(encoding="utf-8"))


def test_scale_writes_postgres_redis_the_api_and_n_workers(tmp_path: Path) -> None:
    artifacts = generate_deployment_artifacts(FLOW, tmp_path / "ctx", 30, False, 5000, port=8100, scale=3)
    assert artifacts.scale == 3
    compose = _compose(tmp_path / "ctx")
    services = compose["services"]
    assert set(services) == {"postgres", "redis", "api", "worker-1", "worker-2", "worker-3"}
    assert services["postgres"]["image"].startswith("postgres:") and services["redis"]["image"].startswith("redis:")
    for name, service in services.items():
        assert service["healthcheck"]["test"], name  # every service says when it is healthy
        assert service["restart"] == "unless-stopped", name
    api = services["api"]
    assert api["ports"] == ["8100:8100"] and "container_name" not in api  # replicas allowed
    assert api["deploy"]["replicas"] >= 1
    for name in ("api", "worker-1", "worker-2", "worker-3"):
        service = services[name]
        env = service["environment"]
        assert env["AGENTS_EXECUTOR"] == "celery" and env["CELERY_BROKER_URL"] == "redis://redis:6379/0"
        assert env["AGENTS_RUN_STORE"].startswith("postgresql+psycopg://") and "@postgres:5432/" in env["DATABASE_URL"]
        assert service["depends_on"]["postgres"]["condition"] == "service_healthy"
        assert service["depends_on"]["redis"]["condition"] == "service_healthy"
        assert service["image"] == artifacts.image
    for i in (1, 2, 3):
        worker = services[f"worker-{i}"]
        assert worker["command"][:4] == ["python", "-m", "agents_core", "worker"]
        assert "/health" not in json.dumps(worker["healthcheck"])  # a worker serves no HTTP
    volumes = set(compose["volumes"])
    assert {"postgres-data", "redis-data", "api-data"} <= volumes
    for service in services.values():  # every volume a service mounts is a named volume of the file
        for mount in service.get("volumes", []):
            assert mount.split(":", 1)[0] in volumes
    requirements = (tmp_path / "ctx" / "requirements.txt").read_text()
    for name in ("celery==", "redis==", "psycopg==", "langgraph-checkpoint-postgres==", "sqlalchemy=="):
        assert name in requirements, name
    assert "POSTGRES_PASSWORD=" in (tmp_path / "ctx" / ".env.example").read_text()


def test_without_scale_the_compose_file_is_one_service(tmp_path: Path) -> None:
    generate_deployment_artifacts(FLOW, tmp_path / "ctx", 30, False, 5000)
    services = _compose(tmp_path / "ctx")["services"]
    assert list(services) == ["article-writer"]
    assert "celery" not in (tmp_path / "ctx" / "requirements.txt").read_text()


@pytest.mark.parametrize("scale", [-1, 65, True])
def test_a_bad_scale_is_a_clear_error(tmp_path: Path, scale: int) -> None:
    with pytest.raises(DeployError, match="scale must be a number of workers"):
        generate_deployment_artifacts(FLOW, tmp_path / "ctx", 30, False, 5000, scale=scale)


def test_deploy_scale_from_the_cli_generates_and_says_how_to_start_it(tmp_path: Path) -> None:
    out = tmp_path / "ctx"
    args = ["deploy", str(FLOW), "--scale", "2", "--output", str(out), "--no-env-file", "--no-mlflow"]
    result = CliRunner().invoke(app, args)  # no --generate: a scaled deployment is a compose project
    assert result.exit_code == 0, result.output
    assert "docker compose up -d --build" in result.output and "2 worker(s)" in result.output
    assert set(_compose(out)["services"]) == {"postgres", "redis", "api", "worker-1", "worker-2"}
    result = CliRunner().invoke(app, ["deploy", str(FLOW), "--scale", "2", "--output", str(out), "--json"])
    assert result.exit_code == 0 and json.loads(result.stdout)["scale"] == 2


def _compose_command() -> list[str] | None:
    """``docker compose`` (the plugin) where it is installed, else Debian's ``docker-compose``."""
    docker = shutil.which("docker")
    if docker and subprocess.run([docker, "compose", "version"], capture_output=True).returncode == 0:
        return [docker, "compose"]
    legacy = shutil.which("docker-compose")
    return [legacy] if legacy else None


def test_with_mlflow_the_cluster_tracks_into_one_store_the_ui_reads(tmp_path: Path) -> None:
    """Workers execute the runs: their tracking must land where the API's MLflow UI looks, not in worker volumes."""
    generate_deployment_artifacts(FLOW, tmp_path / "ctx", 30, True, 5000, scale=2)
    compose = _compose(tmp_path / "ctx")
    services = compose["services"]
    uris = {name: services[name]["environment"]["MLFLOW_TRACKING_URI"] for name in ("api", "worker-1", "worker-2")}
    assert len(set(uris.values())) == 1, uris
    uri = uris["api"]
    assert uri.startswith("postgresql+psycopg://") and uri.endswith("@postgres:5432/mlflow")
    assert uri.rsplit("/", 1)[0] == services["api"]["environment"]["DATABASE_URL"].rsplit("/", 1)[0]
    assert "./postgres-init:/docker-entrypoint-initdb.d:ro" in services["postgres"]["volumes"]
    init = (tmp_path / "ctx" / "postgres-init" / "10-mlflow.sql").read_text()
    assert "CREATE DATABASE mlflow;" in init
    for name in ("api", "worker-1", "worker-2"):  # one artifacts volume, where the observer puts artifacts
        assert "mlflow-artifacts:/app/data/mlartifacts" in services[name]["volumes"], name
    assert "mlflow-artifacts" in compose["volumes"]
    assert "5000:5000" in services["api"]["ports"]  # the UI (start.sh: mlflow ui on $MLFLOW_TRACKING_URI)
    assert "mlflow ui " in (tmp_path / "ctx" / "start.sh").read_text()  # it serves MLFLOW_BACKEND_STORE_URI:
    assert services["api"]["environment"]["MLFLOW_BACKEND_STORE_URI"] == uri  # the store the workers track into
    assert services["api"]["environment"]["MLFLOW_ARTIFACTS_DESTINATION"] == "/app/data/mlartifacts"
    from agents_core.observability.settings import artifact_location_for

    assert (
        artifact_location_for(uri, "configurable_agents", "/app/data")
        == "file:///app/data/mlartifacts/configurable_agents"
    )
    generate_deployment_artifacts(FLOW, tmp_path / "off", 30, False, 5000, scale=2)
    services = _compose(tmp_path / "off")["services"]
    assert "MLFLOW_TRACKING_URI" not in services["api"]["environment"]
    assert not (tmp_path / "off" / "postgres-init").exists()


@pytest.mark.parametrize("mlflow", [False, True])
def test_docker_compose_accepts_the_generated_file(tmp_path: Path, mlflow: bool) -> None:
    command = _compose_command()
    if command is None:
        if os.environ.get("CI") == "true":
            pytest.fail(
                "neither `docker compose` nor `docker-compose` is installed (make test installs docker-compose)"
            )
        pytest.skip("docker compose is not installed (as root: apt-get install docker-compose)")
    generate_deployment_artifacts(FLOW, tmp_path / "ctx", 30, mlflow, 5000, scale=2)
    missing = subprocess.run([*command, "config", "--quiet"], cwd=tmp_path / "ctx", capture_output=True, text=True)
    assert missing.returncode != 0 and ".env" in missing.stderr  # no keys for the API: compose says so, up front
    (tmp_path / "ctx" / ".env").write_text("AGENTS_API_KEY=k\n")  # the user's `cp .env.example .env`, filled in
    done = subprocess.run(
        [*command, "config", "--quiet"], cwd=tmp_path / "ctx", capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
