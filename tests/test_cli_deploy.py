"""``configurable-agents deploy`` without an engine: --generate, the no-engine message, env file checks."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from tests.conftest import EXAMPLES_DIR, REPO_ROOT

ARTICLE = str(EXAMPLES_DIR / "article_writer.yaml")


def cli(*args: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, "PYTHONPATH": str(REPO_ROOT), "NO_COLOR": "1", **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "agents_core", *args], cwd=cwd, env=environment, capture_output=True, text=True
    )


@pytest.fixture
def dead_socket(tmp_path: Path) -> Iterator[str]:
    """A unix socket that exists but has nothing listening behind it (connections are refused)."""
    path = tmp_path / "docker.sock"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.bind(str(path))
    try:
        yield f"unix://{path}"
    finally:
        sock.close()


def test_generate_needs_no_engine(tmp_path: Path, dead_socket: str) -> None:
    done = cli(
        "deploy", ARTICLE, "--generate", "--output", "ctx", "--json", cwd=tmp_path, env={"DOCKER_HOST": dead_socket}
    )
    assert done.returncode == 0, done.stderr
    body = json.loads(done.stdout)
    assert body["ok"] and Path(body["output_dir"]) == tmp_path / "ctx"
    assert {"Dockerfile", "server.py", ".dockerignore"} <= set(body["files"])
    assert (tmp_path / "ctx" / "Dockerfile").is_file()


def test_the_default_output_folder_and_the_plain_report(tmp_path: Path) -> None:
    done = cli("deploy", ARTICLE, "--generate", "--no-mlflow", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "deploy" / "article_writer" / "Dockerfile").is_file()
    assert "docker build -t configurable-agents-article-writer:latest" in done.stdout


def test_no_engine_is_a_clear_error_with_an_install_hint(tmp_path: Path, dead_socket: str) -> None:
    done = cli("deploy", ARTICLE, "--no-env-file", "--output", "ctx", cwd=tmp_path, env={"DOCKER_HOST": dead_socket})
    assert done.returncode == 2
    assert f"No Docker engine is reachable at {dead_socket}" in done.stderr
    assert "Install Docker" in done.stderr and "--generate" in done.stderr
    assert "Traceback" not in done.stderr
    for command in (["list"], ["logs", "x"], ["stop", "x"], ["rm", "x"]):
        other = cli("deploy", *command, cwd=tmp_path, env={"DOCKER_HOST": dead_socket})
        assert other.returncode == 2 and "No Docker engine is reachable" in other.stderr, command


def test_an_invalid_workflow_fails_before_anything_is_written(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text((EXAMPLES_DIR / "article_writer.yaml").read_text().replace("{state.topic}", "{state.topix}", 1))
    done = cli("deploy", str(bad), "--generate", "--output", "ctx", cwd=tmp_path)
    assert done.returncode == 2
    assert "E-REF-STATE" in done.stderr and "topix" in done.stderr
    assert not (tmp_path / "ctx").exists()


def test_a_bad_env_file_is_refused_with_its_line(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("GOOGLE_API_KEY=abc\nnot a pair\n")
    done = cli("deploy", ARTICLE, "--output", "ctx", cwd=tmp_path)  # ./.env is used when present
    assert done.returncode == 2
    assert ".env, line 2: 'not a pair' is not KEY=value" in done.stderr
    missing = cli("deploy", ARTICLE, "--env-file", "nope.env", cwd=tmp_path)
    assert missing.returncode == 2 and "no such env file" in missing.stderr
    both = cli("deploy", ARTICLE, "--env-file", ".env", "--no-env-file", cwd=tmp_path)
    assert both.returncode == 2 and "contradict" in both.stderr


def test_help_lists_the_subcommands_and_stays_light(tmp_path: Path) -> None:
    done = cli("deploy", "--help", cwd=tmp_path)
    assert done.returncode == 0
    for word in ("list", "logs", "stop", "rm"):
        assert word in done.stdout
    probe = "import sys, agents_core.cli; print(any(m in sys.modules for m in ('docker', 'jinja2', 'fastapi')))"
    light = subprocess.run(
        [sys.executable, "-c", probe], env={**os.environ, "PYTHONPATH": str(REPO_ROOT)}, capture_output=True, text=True
    )
    assert light.stdout.strip() == "False", light.stderr


def test_generate_without_a_dot_env_still_gives_the_container_the_env_file(tmp_path: Path) -> None:
    """The compose file must read .env even when none existed at generation (the Deploy page's Generate too)."""
    assert not (tmp_path / ".env").exists()
    done = cli("deploy", ARTICLE, "--generate", "--output", "ctx", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    compose = yaml.safe_load((tmp_path / "ctx" / "docker-compose.yml").read_text())
    assert [service.get("env_file") for service in compose["services"].values()] == [".env"]
    assert "cp .env.example .env" in (tmp_path / "ctx" / "README.md").read_text()
    assert "cp .env.example .env" in done.stdout


def test_options_may_come_before_the_workflow_file(tmp_path: Path) -> None:
    done = cli("deploy", "--generate", "--no-mlflow", "--output", "ctx", ARTICLE, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "ctx" / "Dockerfile").is_file()
    helped = cli("deploy", "--help", cwd=tmp_path)  # the group's own help, not `up`'s
    assert helped.returncode == 0 and "list" in helped.stdout and "logs" in helped.stdout


@pytest.mark.parametrize(
    ("args", "option"),
    [
        (["--port", "0"], "--port"),
        (["--port", "70000"], "--port"),
        (["--mlflow-port", "0"], "--mlflow-port"),
        (["--timeout", "-1"], "--timeout"),
        (["--scale", "100"], "--scale"),
    ],
)
def test_bad_deploy_options_are_bad_usage_naming_the_option(tmp_path: Path, args: list[str], option: str) -> None:
    done = cli("deploy", ARTICLE, "--generate", "--output", "ctx", *args, cwd=tmp_path)
    assert done.returncode == 2, done.stderr
    assert option in done.stderr and "Traceback" not in done.stderr
    assert "mlflow_port" not in done.stderr
    assert not (tmp_path / "ctx").exists()


def test_an_output_folder_that_is_not_empty_is_bad_usage(tmp_path: Path) -> None:
    (tmp_path / "ctx").mkdir()
    (tmp_path / "ctx" / "notes.txt").write_text("mine")
    done = cli("deploy", ARTICLE, "--generate", "--output", "ctx", cwd=tmp_path)
    assert done.returncode == 2
    assert "not empty" in done.stderr and "--output" in done.stderr
    assert sorted(p.name for p in (tmp_path / "ctx").iterdir()) == ["notes.txt"]


def test_the_cli_scale_limit_is_the_generators() -> None:
    from agents_core.cli import deploy as cli_deploy
    from agents_core.deploy import artifacts

    assert cli_deploy.MAX_SCALE == artifacts.MAX_SCALE
