"""Workflow texts shared by several test modules."""

from __future__ import annotations

#: Two mistakes (an unknown state field, an unknown tool): "2 errors" on the Home page.
BROKEN_WORKFLOW = """\
schema_version: "1.0"
flow:
  name: broken_flow
  description: A workflow with two mistakes.
state:
  fields:
    topic: {type: str, required: true}
nodes:
  - id: write
    prompt: "Write about {state.subject}"
    tools: [no_such_tool]
    outputs: [topic]
edges:
  - {from: START, to: write}
  - {from: write, to: END}
config:
  llm: {provider: local}
"""


def with_condition(logic: str) -> str:
    """A valid workflow whose one route condition is ``logic`` (for condition-language tests)."""
    return f"""schema_version: "1.0"
flow: {{name: cond}}
state:
  fields:
    score: {{type: int, default: 0}}
nodes:
  - id: review
    prompt: "Score it."
    outputs: [score]
    output_schema: {{type: int}}
edges:
  - {{from: START, to: review}}
  - from: review
    routes:
      - condition: {{logic: "{logic}"}}
        to: END
      - condition: {{logic: default}}
        to: END
config: {{llm: {{provider: local}}}}
"""


#: Three nodes in a line on the "scripted" provider (tests.fakes): the engine and run service tests' workflow.
THREE_STEPS: dict = {
    "schema_version": "1.0",
    "flow": {"name": "three_steps"},
    "state": {
        "fields": {
            "topic": {"type": "str", "required": True},
            "a": {"type": "str", "default": ""},
            "b": {"type": "str", "default": ""},
            "c": {"type": "str", "default": ""},
        }
    },
    "nodes": [
        {"id": "first", "prompt": "first: {state.topic}", "outputs": ["a"]},
        {"id": "second", "prompt": "second: {state.a}", "outputs": ["b"]},
        {"id": "third", "prompt": "third: {state.b}", "outputs": ["c"]},
    ],
    "edges": [
        {"from": "START", "to": "first"},
        {"from": "first", "to": "second"},
        {"from": "second", "to": "third"},
        {"from": "third", "to": "END"},
    ],
    "config": {"llm": {"provider": "scripted"}, "execution": {"retry_initial_delay": 0.01, "max_retries": 2}},
}
