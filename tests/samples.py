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
