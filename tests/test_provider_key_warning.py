"""The "API key is not set" warning (rule 7) follows the endpoint each node really calls."""

from __future__ import annotations

import pytest

from agents_core.config.validator import validate_text

FLOW = """\
schema_version: "1.0"
flow: {{name: demo}}
state:
  fields:
    topic: {{type: str, required: true}}
    a: {{type: str, default: ""}}
    b: {{type: str, default: ""}}
nodes:
  - id: first
    prompt: "About {{state.topic}}."
    outputs: [a]{first}
  - id: second
    prompt: "More on {{state.a}}."
    outputs: [b]{second}
edges:
  - {{from: START, to: first}}
  - {{from: first, to: second}}
  - {{from: second, to: END}}
config:
  llm: {workflow}
"""


def key_warnings(workflow: str, first: str = "", second: str = "") -> list[str]:
    """The messages of every W-PROVIDER-KEY warning for this workflow."""
    node_llm = {"first": first, "second": second}
    text = FLOW.format(workflow=workflow, **{k: f"\n    llm: {v}" if v else "" for k, v in node_llm.items()})
    report = validate_text(text, "demo.yaml")
    assert report.ok, report.problems
    return [p.message for p in report.problems if p.code == "W-PROVIDER-KEY"]


@pytest.fixture(autouse=True)
def _no_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("GOOGLE_API_KEY", raising=False)


@pytest.mark.parametrize(
    "api_base",
    [
        "http://localhost:11434/v1",
        "http://127.0.0.1:8080/v1",
        "http://[::1]:8000/v1",
        "http://ollama:11434/v1",
        "http://192.168.1.20:1234/v1",
        "http://host.docker.internal:11434/v1",
    ],
)
def test_a_local_openai_compatible_server_needs_no_key(api_base: str) -> None:
    assert key_warnings(f"{{provider: openai, api_base: '{api_base}'}}") == []


def test_a_node_pointing_at_a_local_server_needs_no_key() -> None:
    local = "{provider: openai, api_base: 'http://localhost:11434/v1'}"
    assert key_warnings("{provider: local}", first=local, second=local) == []


def test_a_public_endpoint_still_needs_the_key() -> None:
    [message] = key_warnings("{provider: openai, api_base: 'https://api.groq.com/openai/v1'}")
    assert "OPENAI_API_KEY" in message


def test_a_node_that_switches_provider_does_not_inherit_the_workflows_local_endpoint() -> None:
    workflow = "{provider: google, api_base: 'http://localhost:9000'}"
    messages = key_warnings(workflow, second="{provider: openai}")
    assert any("OPENAI_API_KEY" in message for message in messages), messages


def test_a_node_that_keeps_the_provider_keeps_the_workflows_local_endpoint() -> None:
    workflow = "{provider: openai, api_base: 'http://localhost:11434/v1'}"
    assert key_warnings(workflow, first="{provider: openai, model: qwen}", second="{temperature: 0.1}") == []


def test_google_still_needs_its_key_behind_a_local_proxy() -> None:
    [message] = key_warnings("{provider: google, api_base: 'http://localhost:9000'}")
    assert "GOOGLE_API_KEY" in message
