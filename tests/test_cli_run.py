"""`configurable-agents run` through the real entry point, on the real local model."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from tests.conftest import EXAMPLES_DIR
from tests.test_cli import SCRIPT

pytestmark = pytest.mark.slow


def run_cli(*args: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if k not in ("GOOGLE_API_KEY", "OPENAI_API_KEY", "LOCAL_MODEL_PATH")}
    base.update({"NO_COLOR": "1", "AGENTS_RUN_STORE": str(cwd / "runs.sqlite"), **(env or {})})
    return subprocess.run([SCRIPT, "run", *args], capture_output=True, text=True, cwd=cwd, env=base, timeout=300)


def test_run_prints_a_line_per_node_and_the_outputs(tmp_path):
    result = run_cli(str(EXAMPLES_DIR / "article_writer.yaml"), "--input", "topic=tide pools", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    lines = result.stderr.splitlines()
    assert lines[0].startswith("running article_writer (run id ")
    assert [line.split()[1] for line in lines if line.startswith("✓ ")][:2] == ["research", "write"]
    assert "tokens" in lines[1] and " s " in lines[1]
    assert "✓ article_writer finished (2 nodes" in result.stderr
    for name in ("research:", "title:", "article:"):
        assert any(line.startswith(name) for line in result.stdout.splitlines()), result.stdout
    assert "Traceback" not in result.stderr


def test_json_prints_exactly_one_object_with_typed_outputs(tmp_path):
    profile = {"name": "Ada", "age": 36, "address": {"city": "London", "country": "UK"}, "interests": ["maths"]}
    inputs = tmp_path / "inputs.json"
    inputs.write_text(json.dumps({"profile": profile}))
    result = run_cli(str(EXAMPLES_DIR / "user_profile.yaml"), "--input-file", str(inputs), "--json", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    body = json.loads(result.stdout)
    assert set(body) == {"run_id", "status", "outputs", "state", "nodes", "cost_usd", "error"}
    assert body["status"] == "success" and body["error"] is None
    assert body["state"]["profile"] == profile
    assert isinstance(body["outputs"]["suggestions"], list) and isinstance(body["outputs"]["scores"], dict)
    node = body["nodes"][0]
    assert set(node) == {
        "id",
        "status",
        "duration_ms",
        "input_tokens",
        "output_tokens",
        "retries",
        "provider",
        "model",
        "cost_usd",
        "price_source",
    }
    assert node["provider"] == "local" and node["input_tokens"] > 0
    assert node["cost_usd"] == 0 and node["price_source"] == "local" and body["cost_usd"] == 0


def test_inputs_are_typed_by_the_state_field(tmp_path):
    flow = tmp_path / "typed.yaml"
    flow.write_text(
        (EXAMPLES_DIR / "article_writer.yaml")
        .read_text()
        .replace("    topic:\n", "    count: {type: int, default: 1}\n    topic:\n")
        .replace("List three short facts about {state.topic}.", "List {state.count} short facts about {state.topic}.")
    )
    result = run_cli(str(flow), "--input", "topic=owls", "--input", "count=2", "--json", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["state"]["count"] == 2
    bad = run_cli(str(flow), "--input", "topic=owls", "--input", "count=two", cwd=tmp_path)
    assert bad.returncode == 2 and "input 'count' must be int; 'two' is not." in bad.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--input", "topc=x"], "unknown input 'topc'"),
        ([], "missing required input: topic"),
        (["--input", "topic"], "is not name=value"),
        (["--input-file", "missing.json"], "no such file"),
    ],
)
def test_bad_inputs_exit_two_naming_the_field(tmp_path, args, message):
    result = run_cli(str(EXAMPLES_DIR / "article_writer.yaml"), *args, cwd=tmp_path)
    assert result.returncode == 2
    assert message in result.stderr and "Traceback" not in result.stderr


def test_an_invalid_workflow_exits_two_with_its_problems(tmp_path):
    broken = tmp_path / "broken.yaml"
    broken.write_text((EXAMPLES_DIR / "article_writer.yaml").read_text().replace("{state.topic}", "{state.topik}", 1))
    result = run_cli(str(broken), "--input", "topic=x", cwd=tmp_path)
    assert result.returncode == 2
    assert "E-REF-STATE" in result.stderr and "Traceback" not in result.stderr


def test_a_provider_without_its_key_fails_before_any_node(tmp_path):
    result = run_cli(
        str(EXAMPLES_DIR / "article_writer.yaml"), "--input", "topic=x", "--provider", "google", cwd=tmp_path
    )
    assert result.returncode == 2
    assert "GOOGLE_API_KEY" in result.stderr and "running article_writer" not in result.stderr


def test_resume_of_an_unknown_run_is_a_clear_error(tmp_path):
    result = run_cli("--resume", "nope", cwd=tmp_path)
    assert result.returncode == 2 and "no run with id 'nope'" in result.stderr


def test_a_failed_run_exits_one_and_resumes_from_the_cli(tmp_path, monkeypatch):
    """Node 2 fails against the Gemini stub; `run --resume` finishes it without calling node 1 again."""
    from tests.stubs.gemini import GeminiStub, error_reply, json_reply, text_reply

    stub = GeminiStub().start()
    try:
        flow = tmp_path / "writer.yaml"
        flow.write_text(
            (EXAMPLES_DIR / "article_writer.yaml")
            .read_text()
            .replace("    provider: local\n", f"    provider: google\n    api_base: {stub.url}\n")
        )
        stub.push(text_reply("three facts"), error_reply(400, "bad request"))
        env = {"GOOGLE_API_KEY": "stub-key", "NO_PROXY": "127.0.0.1"}
        failed = run_cli(str(flow), "--input", "topic=owls", "--json", cwd=tmp_path, env=env)
        assert failed.returncode == 1, failed.stderr
        body = json.loads(failed.stdout)
        assert body["status"] == "failed" and body["error"]["node"] == "write"
        assert "HTTP 400" in body["error"]["message"]
        assert body["state"]["research"] == "three facts"
        assert len(stub.requests) == 2

        stub.push(json_reply({"title": "Owls", "article": "Owls are birds."}))
        resumed = run_cli("--resume", body["run_id"], cwd=tmp_path, env=env)
        assert resumed.returncode == 0, resumed.stderr
        assert f"resuming article_writer (run id {body['run_id']})" in resumed.stderr
        assert "title: Owls" in resumed.stdout
        assert len(stub.requests) == 3 and stub.requests[2].prompt.startswith("Write a short article")
    finally:
        stub.stop()
