"""Starting points for a new workflow: an empty skeleton plus the shipped examples."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

EXAMPLES_DIR = Path(__file__).resolve().parents[1] / "examples"

SKELETON = """\
schema_version: "1.0"
flow:
  name: my_workflow
  description: What this workflow does.

state:
  fields:
    question: {type: str, required: true, description: The input.}
    answer: {type: str, default: "", description: The result.}

nodes:
  - id: answer
    prompt: |
      Answer in one paragraph: {state.question}
    outputs: [answer]

edges:
  - {from: START, to: answer}
  - {from: answer, to: END}

config:
  llm: {provider: local}
"""


@dataclass(frozen=True)
class Template:
    name: str
    title: str
    description: str
    text: str


def templates() -> list[Template]:
    """The skeleton first, then every example (its header comment is its description)."""
    found = [Template("empty", "Empty skeleton", "One node, one input, one output.", SKELETON)]
    if EXAMPLES_DIR.is_dir():
        for path in sorted(EXAMPLES_DIR.glob("*.yaml")):
            text = path.read_text(encoding="utf-8")
            found.append(Template(path.stem, path.stem.replace("_", " ").capitalize(), _summary(text), text))
    return found


def _summary(text: str) -> str:
    """The first sentence of the file's header comment."""
    lines = []
    for line in text.splitlines():
        if not line.startswith("#"):
            break
        body = line.lstrip("#").strip()
        if body and not body.startswith("yaml-language-server"):
            lines.append(body)
        elif lines:
            break
    summary = " ".join(lines)
    return summary.split(". ")[0].rstrip(".") + "." if summary else ""
