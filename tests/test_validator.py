"""The validator's API and the rules whose outcome depends on more than one file.

Single-mistake cases live in tests/fixtures/invalid/ (see test_invalid_fixtures.py).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from agents_core import ValidationFailed, load_workflow, validate_workflow
from agents_core.config.validator import validate_text
from agents_core.llm.registry import ProviderInfo, register_provider, unregister_provider
from agents_core.tools.registry import ToolInfo, register_tool, unregister_tool
from tests.conftest import EXAMPLES_DIR

BASE = """\
schema_version: "1.0"
flow: {name: demo}
state:
  fields:
    topic: {type: str, required: true}
    research: {type: str, default: ""}
nodes:
  - id: research
    prompt: |
      Research {state.topic}.
    tools: []
    outputs: [research]
edges:
  - {from: START, to: research}
  - {from: research, to: END}
config:
  llm: {provider: local}
"""


def codes(report) -> list[str]:
    return [p.code for p in report.problems]


def test_the_base_workflow_is_clean():
    assert validate_text(BASE, "demo.yaml").problems == []


@pytest.mark.parametrize(
    "source",
    [EXAMPLES_DIR / "article_writer.yaml", str(EXAMPLES_DIR / "article_writer.yaml")],
    ids=["Path", "str path"],
)
def test_paths_are_read_from_disk(source):
    report = validate_workflow(source)
    assert report.ok and report.file == str(source)


def test_text_and_parsed_data_are_accepted():
    assert validate_workflow(BASE).ok
    assert validate_workflow({"schema_version": "1.0"}).errors


def test_one_pass_reports_problems_from_every_rule_family():
    text = (
        BASE.replace("Research {state.topic}.", "Research {state.topik} with {notes}.")
        .replace("tools: []", "tools: [calculater]")
        .replace('{type: str, default: ""}', '{type: strng, default: ""}')
        .replace("{from: research, to: END}", "{from: research, to: ENDD}")
        .replace("flow: {name: demo}", "flow: {name: demo, owner: me}")
    )
    found = set(codes(validate_text(text, "demo.yaml")))
    assert {
        "E-REF-STATE",
        "E-REF-LOCAL",
        "E-TOOL-UNKNOWN",
        "E-TYPE-SYNTAX",
        "E-EDGE-UNKNOWN-NODE",
        "E-SHAPE-UNKNOWN-KEY",
    } <= found


def test_problem_sentence_follows_the_pattern_what_where_how():
    text = BASE.replace("Research {state.topic}.", "Research {state.topic} and {state.reserch}.")
    (problem,) = validate_text(text, "demo.yaml").problems
    assert problem.describe() == (
        "nodes[0].prompt (line 10, col 34): {state.reserch} is not a state field. Did you mean 'research'? "
        "Known fields: research, topic. Use one of the declared fields, or declare 'reserch' under state.fields."
    )
    assert problem.file == "demo.yaml"


def test_report_lists_problems_in_source_order():
    text = BASE.replace("{state.topic}", "{state.a} {state.b}").replace("to: END}", "to: NOPE}")
    lines = [(p.line, p.column) for p in validate_text(text, "demo.yaml").problems]
    assert lines == sorted(lines) and len(lines) >= 3


def test_load_workflow_raises_with_every_error(tmp_path: Path):
    path = tmp_path / "bad.yaml"
    path.write_text(BASE.replace("{state.topic}", "{state.a} {state.b}"))
    with pytest.raises(ValidationFailed) as caught:
        load_workflow(path)
    assert len(caught.value.problems) == 2
    assert "and 1 more" in caught.value.message


def test_third_party_tools_and_providers_register_with_one_call():
    text = BASE.replace("tools: []", "tools: [weather]").replace("provider: local", "provider: acme")
    before = set(codes(validate_text(text, "demo.yaml")))
    assert {"E-TOOL-UNKNOWN", "W-PROVIDER-UNKNOWN"} <= before
    register_tool(ToolInfo("weather", "Weather for a city."))
    register_provider(ProviderInfo("acme", "Acme models", default_model="acme-1", known_models=("acme-1",)))
    try:
        assert validate_text(text, "demo.yaml").problems == []
        unknown_model = validate_text(text.replace("{provider: acme}", "{provider: acme, model: acme-2}"), "d.yaml")
        assert "W-MODEL-UNKNOWN" in codes(unknown_model)
    finally:
        unregister_tool("weather")
        unregister_provider("acme")


def test_missing_api_key_is_a_warning_that_follows_the_environment(monkeypatch):
    text = BASE.replace("provider: local", "provider: google")
    monkeypatch.delenv("GOOGLE_API_KEY", raising=False)
    report = validate_text(text, "demo.yaml")
    assert codes(report) == ["W-PROVIDER-KEY"] and report.ok
    assert (report.problems[0].line, report.problems[0].path) == (17, "config.llm.provider")
    monkeypatch.setenv("GOOGLE_API_KEY", "test-key")
    assert validate_text(text, "demo.yaml").problems == []


def test_no_provider_named_warns_that_runs_fall_back_to_local(monkeypatch):
    monkeypatch.delenv("GOOGLE_API_KEY", raising=False)
    text = BASE.replace("config:\n  llm: {provider: local}\n", "")
    (problem,) = validate_text(text, "demo.yaml").problems
    assert problem.code == "W-PROVIDER-KEY"
    assert "local" in problem.hint


def test_self_hosted_openai_endpoint_needs_no_key(monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    text = BASE.replace("{provider: local}", "{provider: openai, api_base: 'http://127.0.0.1:8080/v1'}")
    assert validate_text(text, "demo.yaml").problems == []


def test_local_provider_accepts_a_gguf_path_as_model():
    text = BASE.replace("{provider: local}", "{provider: local, model: /models/qwen2.5-1.5b.Q4_K_M.gguf}")
    assert validate_text(text, "demo.yaml").problems == []


def test_node_llm_override_is_checked_against_its_own_provider(monkeypatch):
    monkeypatch.setenv("GOOGLE_API_KEY", "k")
    text = BASE.replace("    tools: []\n", "    tools: []\n    llm: {provider: google, model: gemini-9-ultra}\n")
    report = validate_text(text, "demo.yaml")
    assert codes(report) == ["W-MODEL-UNKNOWN"]
    assert report.problems[0].path == "nodes[0].llm.model"


def test_validation_never_imports_llm_libraries():
    import subprocess
    import sys

    probe = (
        "import sys\n"
        "from agents_core import validate_workflow\n"
        f"validate_workflow({str(EXAMPLES_DIR / 'calculator_agent.yaml')!r})\n"
        "print(sorted(m for m in sys.modules if m.startswith(('langchain', 'google', 'openai', 'llama_cpp', 'httpx'))))\n"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60)
    assert result.stdout.strip() == "[]", result.stderr
