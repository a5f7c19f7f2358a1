"""The CLI: its branches in-process through Typer's CliRunner; the real entry points in a few subprocesses.

Subprocesses are kept for what only a fresh process shows: the console
script and ``python -m`` work, ``--help`` and ``validate`` import nothing
heavy, and ``ui`` becomes a Streamlit server.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from agents_core.cli import app
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
    """The console script in a fresh process (entry point and import weight only)."""
    env = {k: v for k, v in os.environ.items() if k not in ("GOOGLE_API_KEY", "OPENAI_API_KEY")}
    env["NO_COLOR"] = "1"
    return subprocess.run([SCRIPT, *args], capture_output=True, text=True, cwd=cwd, env=env, timeout=60)


def invoke(*args: str, **env: str):
    """The command in this process; stdout and stderr apart, no colour unless asked."""
    environment = {"NO_COLOR": "1", "FORCE_COLOR": "", "GOOGLE_API_KEY": None, "OPENAI_API_KEY": None, **env}
    return CliRunner().invoke(app, list(args), env=environment)


@pytest.fixture
def broken(tmp_path: Path) -> Path:
    path = tmp_path / "broken.yaml"
    path.write_text(BROKEN)
    return path


def test_valid_examples_exit_zero_with_a_summary():
    result = invoke("validate", *map(str, EXAMPLE_FILES))
    assert result.exit_code == 0, result.output
    assert f"{len(EXAMPLE_FILES)} files checked: all valid (0 errors, 0 warnings)" in result.stdout


def test_invalid_file_prints_compiler_style_problems_and_exits_two(broken):
    result = invoke("validate", str(broken))
    assert result.exit_code == 2
    lines = result.stdout.splitlines()
    assert lines[0] == (
        f"{broken}:11:15: error E-REF-STATE: {{state.reserch}} is not a state field. "
        "Did you mean 'research'? Known fields: research, topic."
    )
    assert lines[1].strip().startswith("hint: ")
    assert lines[-1] == "1 file checked: 1 invalid (1 error, 0 warnings)"
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_json_output_is_exactly_one_object(broken):
    result = invoke("validate", "--json", str(broken), str(EXAMPLE_FILES[0]))
    assert result.exit_code == 2
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
    relaxed = invoke("validate", str(path))
    assert relaxed.exit_code == 0, relaxed.stdout
    assert "warning W-STATE-UNUSED" in relaxed.stdout
    strict = invoke("validate", "--strict", "--json", str(path))
    assert strict.exit_code == 2
    assert json.loads(strict.stdout)["ok"] is False


def test_unreadable_and_missing_files_exit_two_without_traceback(tmp_path):
    binary = tmp_path / "binary.yaml"
    binary.write_bytes(b"\xff\xfe\x00 not text")
    result = invoke("validate", str(tmp_path / "nope.yaml"), str(binary))
    assert result.exit_code == 2
    assert "no such file" in result.stdout
    assert "is not UTF-8" in result.stdout
    assert isinstance(result.exception, SystemExit)


def test_a_folder_stands_for_every_workflow_file_under_it(tmp_path, broken):
    nested = tmp_path / "flows" / "deeper"
    nested.mkdir(parents=True)
    shutil.copy(EXAMPLES_DIR / "article_writer.yaml", nested / "article.yml")
    (tmp_path / "flows" / "plain.json").write_text(json.dumps({"schema_version": "1.0"}))
    for skipped in (".git", ".venv", "venv_named_oddly", "__pycache__"):
        (tmp_path / skipped).mkdir()
        (tmp_path / skipped / "junk.yaml").write_text("not: [a workflow")
    (tmp_path / "venv_named_oddly" / "pyvenv.cfg").write_text("home = /usr/bin\n")
    (tmp_path / "workflow.schema.json").write_text("{}")
    (tmp_path / "notes.txt").write_text("not a workflow")

    result = invoke("validate", "--json", str(tmp_path))
    assert result.exit_code == 2
    checked = [Path(f["file"]).relative_to(tmp_path).as_posix() for f in json.loads(result.stdout)["files"]]
    assert checked == ["broken.yaml", "flows/deeper/article.yml", "flows/plain.json"]

    valid = invoke("validate", str(nested))
    assert valid.exit_code == 0 and "1 file checked: all valid" in valid.stdout


def test_a_folder_without_workflow_files_is_an_error(tmp_path):
    (tmp_path / ".hidden").mkdir()
    (tmp_path / ".hidden" / "flow.yaml").write_text(BROKEN)
    result = invoke("validate", str(tmp_path))
    assert result.exit_code == 2
    assert "no workflow files (.yaml, .yml, .json) found under the folder" in result.stderr
    assert str(tmp_path) in result.stderr


def test_usage_errors_exit_two():
    assert invoke("validate").exit_code == 2
    assert invoke("no-such-command").exit_code == 2


def test_version_names_the_package():
    from importlib.metadata import version

    result = invoke("--version")
    assert result.exit_code == 0
    assert result.stdout == f"configurable-agents {version('configurable-agents')}\n"


def test_version_falls_back_to_the_source_tree(monkeypatch):
    import importlib.metadata

    import agents_core

    def not_installed(name):
        raise importlib.metadata.PackageNotFoundError(name)

    monkeypatch.setattr(importlib.metadata, "version", not_installed)
    assert invoke("--version").stdout == f"configurable-agents {agents_core.__version__}\n"


@pytest.mark.parametrize("command", [[], ["validate"], ["run"], ["schema"], ["ui"]])
def test_help_shows_no_python_type_hints(command):
    result = invoke(*command, "--help", COLUMNS="120")
    assert result.exit_code == 0, result.output
    assert "Usage:" in result.stdout
    for artefact in ("<bool>", "<str>", "<int>", "<path>", "list[", "<"):
        assert artefact not in result.stdout, (artefact, result.stdout)


def test_help_lists_the_commands_and_names_value_kinds():
    top = invoke("--help", COLUMNS="120").stdout
    assert all(name in top for name in ("validate", "run", "schema", "ui", "--version"))
    ui_help = invoke("ui", "--help", COLUMNS="120").stdout
    assert re.search(r"--workspace\s+DIR", ui_help) and re.search(r"--port\s+PORT", ui_help)
    assert re.search(r"--input-file\s+PATH", invoke("run", "--help", COLUMNS="120").stdout)


def test_schema_command_prints_the_schema():
    result = invoke("schema")
    assert result.exit_code == 0
    schema = json.loads(result.stdout)
    assert schema["$schema"].endswith("2020-12/schema")
    assert schema["properties"]["nodes"]["description"]


def test_output_is_coloured_only_when_asked(broken):
    coloured = invoke("validate", str(broken), NO_COLOR="", FORCE_COLOR="1")
    assert "\x1b[" in coloured.stdout
    assert "\x1b[" not in invoke("validate", str(broken)).stdout


def test_ui_refuses_a_missing_workspace_and_a_bad_port(tmp_path):
    result = invoke("ui", "--workspace", str(tmp_path / "missing"))
    assert result.exit_code == 2
    assert "is not a folder" in result.stderr
    assert isinstance(result.exception, SystemExit)
    assert invoke("ui", "--port", "70000").exit_code == 2


# --- the real entry points, in fresh processes ---


def test_the_console_script_validates_and_reports_problems(broken):
    result = run_cli("validate", str(broken), str(EXAMPLES_DIR / "review_loop.yaml"))
    assert result.returncode == 2
    assert result.stdout.splitlines()[-1] == "2 files checked: 1 invalid (1 error, 0 warnings)"
    assert "Traceback" not in result.stdout + result.stderr
    assert run_cli("--version").stdout.startswith("configurable-agents ")


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


HEAVY = ("langchain", "langgraph", "mlflow", "streamlit", "pandas", "plotly", "fastapi", "docker")
HEAVY += ("sqlalchemy", "psycopg")  # the run store's backends load on first use


@pytest.mark.parametrize(
    "argv",
    [
        ["--help"],
        ["--version"],
        ["validate", str(EXAMPLES_DIR / "article_writer.yaml")],
        ["validate", str(EXAMPLES_DIR)],
        ["validate", "--json", "missing.yaml"],
    ],
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
