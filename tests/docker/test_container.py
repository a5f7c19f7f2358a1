"""The generated image of article_writer.yaml, built offline on a real engine, serving HTTP.

One image is built per session (the classic builder's layer cache makes the
CLI's build of the same context quick); every test removes what it started.
"""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest

from agents_core.deploy import docker_engine as engine_api
from agents_core.deploy.artifacts import generate_deployment_artifacts
from tests.conftest import EXAMPLES_DIR
from tests.docker.conftest import free_port
from tests.docker.engine import BASE_TAG, Engine

pytestmark = pytest.mark.slow

API_KEY = "test-key-0123456789"


@pytest.fixture(scope="session")
def built_image(docker_engine: Engine, tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Path]:
    context = tmp_path_factory.mktemp("context") / "article_writer"
    artifacts = generate_deployment_artifacts(
        EXAMPLES_DIR / "article_writer.yaml", context, 60, False, 5000, base_image=BASE_TAG, offline=True
    )
    (context / ".env").write_text("SECRET=do-not-bake\n")  # a user's secrets beside the Dockerfile
    log: list[str] = []
    engine_api.build_image(docker_engine.client(), context, artifacts.image, offline=True, on_log=log.append)
    assert any("Step" in line for line in log), log[:5]
    return artifacts.image, context


def test_the_image_serves_the_workflow_over_http(docker_engine: Engine, built_image: tuple[str, Path]) -> None:
    image, _ = built_image
    client = docker_engine.client()
    port = free_port()
    container = engine_api.run_container(
        client,
        image,
        "article-writer-test",
        port=port,
        mlflow_port=None,
        environment={"AGENTS_API_KEY": API_KEY},
        labels={engine_api.LABEL: "article_writer"},
        network="host",
    )
    try:
        base = f"http://127.0.0.1:{port}"
        engine_api.wait_until_healthy(container, f"{base}/health", timeout=120)
        assert httpx.get(f"{base}/health", timeout=10).status_code == 200
        auth = {"Authorization": f"Bearer {API_KEY}"}
        assert httpx.get(f"{base}/schema", timeout=10).status_code == 401  # the key came from the run-time env
        schema = httpx.get(f"{base}/schema", headers=auth, timeout=10).json()
        assert "topic" in str(schema)
        reply = httpx.post(f"{base}/run", json={"topic": "tide pools"}, headers=auth, timeout=120)
        assert reply.status_code in (200, 202), reply.text
        body = reply.json()
        if reply.status_code == 202:
            job = body["job_id"]
            deadline = time.monotonic() + 180
            while body.get("status") not in ("success", "failed") and time.monotonic() < deadline:
                time.sleep(1)
                body = httpx.get(f"{base}/status/{job}", headers=auth, timeout=10).json()
        assert body.get("status") == "success", body
        assert body["outputs"]["article"], body
        logs = "\n".join(engine_api.stream_logs(client, "article-writer-test"))
        assert "/run" in logs
        info = engine_api.stop_deployment(client, "article-writer-test")
        assert info.status == "exited"
        engine_api.remove_deployment(client, "article-writer-test")
        assert engine_api.list_deployments(client) == []
    finally:
        container.remove(force=True) if _exists(client, "article-writer-test") else None


def test_the_image_holds_no_env_file_and_runs_as_a_non_root_user(
    docker_engine: Engine, built_image: tuple[str, Path]
) -> None:
    image, _ = built_image
    client = docker_engine.client()
    output = client.containers.run(
        image,
        ["sh", "-c", "id -u; ls -a /app; env | grep -c SECRET || true"],
        network_mode="none",
        remove=True,
    ).decode()
    lines = output.split()
    assert lines[0] == "10001"
    assert ".env" not in lines
    assert lines[-1] == "0"
    config = client.images.get(image).attrs["Config"]
    assert config["Healthcheck"]["Test"][-1].endswith("/health', timeout=4)")
    assert config["User"] == "10001:10001"


def _exists(client, name: str) -> bool:
    from docker.errors import NotFound

    try:
        client.containers.get(name)
        return True
    except NotFound:
        return False


def test_the_cli_deploys_lists_shows_logs_stops_and_removes(
    docker_engine: Engine, built_image: tuple[str, Path], tmp_path: Path
) -> None:
    """``deploy`` end to end through the real entry point (the session's build makes its build a cache hit)."""
    import json
    import os
    import subprocess
    import sys

    from tests.conftest import REPO_ROOT

    env = {**os.environ, "DOCKER_HOST": docker_engine.url, "PYTHONPATH": str(REPO_ROOT), "NO_COLOR": "1"}

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "agents_core", "deploy", *args],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
        )

    (tmp_path / ".env").write_text("# picked up from the working directory\nEXTRA_SETTING=on\n")
    port = free_port()
    done = cli(
        str(EXAMPLES_DIR / "article_writer.yaml"),
        *("--port", str(port), "--name", "cli-article", "--no-mlflow", "--offline"),
        *("--base-image", BASE_TAG, "--network", "host", "--output", "ctx"),
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "==> Building the image" in done.stderr and "Step 1/" in done.stderr  # the build log streamed
    assert f"http://127.0.0.1:{port}/health" in done.stdout
    assert "configurable-agents deploy logs cli-article" in done.stdout
    key = next(line.rsplit(" ", 1)[1] for line in done.stdout.splitlines() if line.startswith("API key"))
    reply = httpx.get(f"http://127.0.0.1:{port}/schema", headers={"X-API-Key": key}, timeout=10)
    assert reply.status_code == 200
    client = docker_engine.client()
    container_env = client.containers.get("cli-article").attrs["Config"]["Env"]
    assert "EXTRA_SETTING=on" in container_env  # the env file, at run time
    assert not any("EXTRA_SETTING" in item for item in client.images.get(built_image[0]).attrs["Config"]["Env"])

    listed = json.loads(cli("list", "--json").stdout)
    assert [(c["name"], c["workflow"], c["status"]) for c in listed] == [("cli-article", "article_writer", "running")]
    assert "Uvicorn running" in cli("logs", "cli-article").stdout + cli("logs", "cli-article").stderr
    refused = cli("rm", "cli-article")
    assert refused.returncode == 1 and "is running" in refused.stderr
    assert cli("stop", "cli-article").returncode == 0
    assert cli("rm", "cli-article").returncode == 0
    assert json.loads(cli("list", "--json").stdout) == []
    missing = cli("logs", "cli-article")
    assert missing.returncode == 1 and "No deployment container named 'cli-article'" in missing.stderr
