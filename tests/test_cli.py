"""The CLI through its real entry points (console script and python -m), in subprocesses."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import EXAMPLE_FILES, EXAMPLES_DIR, REPO_ROOT

SCRIPT = shutil.which("configurable-agents", path=str(Path(sys.executable).parent)) or "configurable-agents"

BROKEN = """\
schema_version: "1.0"
flow: {name: broken}
state:
  fields:
    topic: {type: str, required: true}
    research: {type: str, default: ""}
nodes:
  - id: research
    prompt: |
      Research {state.topic}
      and use {state.reserch}.
    outputs: [research]
edges:
  - {from: START, to: research}
  - {from: research, to: END}
config: {llm: {provider: local}}
"""

WARN_ONLY = BROKEN.replace("{state.reserch}", "{state.research}").replace(
    "research: {type: str", 'unused: {type: str, default: ""}\n    research: {type: str'
)


def run_cli(*args: str, cwd: Path = REPO_ROOT) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("GOOGLE_API_KEY", "OPENAI_API_KEY")}
    env["NO_COLOR"] = "1"
    return subprocess.run([SCRIPT, *args], capture_output=True, text=True, cwd=cwd, env=env, timeout=60)


@pytest.fixture
def broken(tmp_path: Path) -> Path:
    path = tmp_path / "broken.yaml"
    path.write_text(BROKEN)
    return path


def test_valid_examples_exit_zero_with_a_summary():
    result = run_cli("validate", *map(str, EXAMPLE_FILES))
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"{len(EXAMPLE_FILES)} files checked: all valid (0 errors, 0 warnings)" in result.stdout


def test_invalid_file_prints_compiler_style_problems_and_exits_two(broken):
    result = run_cli("validate", str(broken))
    assert result.returncode == 2
    lines = result.stdout.splitlines()
    assert lines[0] == (
        f"{broken}:11:15: error E-REF-STATE: {{state.reserch}} is not a state field. "
        "Did you mean 'research'? Known fields: research, topic."
    )
    assert lines[1].strip().startswith("hint: ")
    assert lines[-1] == "1 file checked: 1 invalid (1 error, 0 warnings)"
    assert "Traceback" not in result.stdout + result.stderr


def test_json_output_is_exactly_one_object(broken):
    result = run_cli("validate", "--json", str(broken), str(EXAMPLE_FILES[0]))
    assert result.returncode == 2
    body = json.loads(result.stdout)
    assert body["ok"] is False
    assert [f["ok"] for f in body["files"]] == [False, True]
    (problem,) = body["files"][0]["problems"]
    assert set(problem) == {"code", "severity", "message", "hint", "path", "line", "column"}
    assert (problem["code"], problem["line"], problem["column"], problem["path"]) == (
        "E-REF-STATE",
        11,
        15,
        "nodes[0].prompt",
    )


def test_strict_makes_warnings_fail(tmp_path):
    path = tmp_path / "warn.yaml"
    path.write_text(WARN_ONLY)
    relaxed = run_cli("validate", str(path))
    assert relaxed.returncode == 0, relaxed.stdout
    assert "warning W-STATE-UNUSED" in relaxed.stdout
    strict = run_cli("validate", "--strict", "--json", str(path))
    assert strict.returncode == 2
    assert json.loads(strict.stdout)["ok"] is False


def test_unreadable_and_missing_files_exit_two_without_traceback(tmp_path):
    binary = tmp_path / "binary.yaml"
    binary.write_bytes(b"\xff\xfe\x00 not text")
    result = run_cli("validate", str(tmp_path / "nope.yaml"), str(binary))
    assert result.returncode == 2
    assert "no such file" in result.stdout
    assert "is not UTF-8" in result.stdout
    assert "Traceback" not in result.stdout + result.stderr


def test_usage_errors_exit_two():
    assert run_cli("validate").returncode == 2
    assert run_cli("no-such-command").returncode == 2


def test_schema_command_prints_the_schema():
    result = run_cli("schema")
    assert result.returncode == 0
    schema = json.loads(result.stdout)
    assert schema["$schema"].endswith("2020-12/schema")
    assert schema["properties"]["nodes"]["description"]


def test_python_dash_m_is_the_same_command():
    result = subprocess.run(
        [sys.executable, "-m", "agents_core", "validate", str(EXAMPLES_DIR / "review_loop.yaml")],
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "all valid" in result.stdout


def test_help_lists_the_commands():
    result = run_cli("--help")
    assert result.returncode == 0
    assert "validate" in result.stdout and "schema" in result.stdout


HEAVY = ("langchain", "langgraph", "mlflow", "streamlit", "pandas", "plotly", "fastapi", "docker")


@pytest.mark.parametrize(
    "argv",
    [["--help"], ["validate", str(EXAMPLES_DIR / "article_writer.yaml")], ["validate", "--json", "missing.yaml"]],
)
def test_help_and_validate_never_import_heavy_libraries(argv):
    probe = (
        "import sys\n"
        "from agents_core.cli import app\n"
        "try:\n"
        f"    app({argv!r})\n"
        "except SystemExit:\n"
        "    pass\n"
        "print('LOADED=' + ','.join(sorted({m.split('.')[0] for m in sys.modules})))\n"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=REPO_ROOT, timeout=60)
    loaded = result.stdout.rsplit("LOADED=", 1)[1].strip().split(",")
    assert [name for name in loaded if name.startswith(HEAVY)] == []


def test_output_is_coloured_on_a_terminal(broken):
    env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "GOOGLE_API_KEY")}
    env["FORCE_COLOR"] = "1"
    result = subprocess.run([SCRIPT, "validate", str(broken)], capture_output=True, text=True, env=env, timeout=60)
    assert "\x1b[" in result.stdout
    plain = run_cli("validate", str(broken))
    assert "\x1b[" not in plain.stdout


def test_ui_starts_the_workbench_on_loopback(tmp_path):
    import socket
    import time

    import httpx

    shutil.copy(EXAMPLES_DIR / "review_loop.yaml", tmp_path / "review_loop.yaml")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = subprocess.Popen(
        [SCRIPT, "ui", "--workspace", str(tmp_path), "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=tmp_path,
    )
    try:
        deadline = time.monotonic() + 60
        health = None
        while time.monotonic() < deadline and process.poll() is None:
            try:
                health = httpx.get(f"http://127.0.0.1:{port}/_stcore/health", timeout=2, trust_env=False)
                break
            except httpx.TransportError:
                time.sleep(0.3)
        assert health is not None and health.text == "ok", process.stderr.read() if process.poll() is not None else ""
        assert "<html" in httpx.get(f"http://127.0.0.1:{port}/", timeout=5, trust_env=False).text.lower()
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


def test_ui_refuses_a_missing_workspace_and_a_bad_port(tmp_path):
    result = run_cli("ui", "--workspace", str(tmp_path / "missing"))
    assert result.returncode == 2
    assert "is not a folder" in result.stderr and "Traceback" not in result.stderr
    assert run_cli("ui", "--port", "70000").returncode == 2
