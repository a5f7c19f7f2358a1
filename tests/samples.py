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
