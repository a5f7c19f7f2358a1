"""One wording for "N errors, M warnings" (and other counted nouns), shared by every face."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from agents_core.cli import app
from agents_core.config.validator import validate_text
from agents_core.text import count, problem_counts, problem_summary
from agents_core.workspace import workflow_status
from tests.conftest import REPO_ROOT

ONE_OF_EACH = """\
schema_version: "1.0"
flow: {name: one_of_each}
state:
  fields:
    topic: {type: str, required: true}
    unused: {type: str, default: ""}
    research: {type: str, default: ""}
nodes:
  - id: research
    prompt: "Research {state.topic} and {state.reserch}."
    outputs: [research]
edges:
  - {from: START, to: research}
  - {from: research, to: END}
config: {llm: {provider: local}}
"""


@pytest.mark.parametrize(
    ("errors", "warnings", "text"),
    [
        (0, 0, "0 errors, 0 warnings"),
        (1, 0, "1 error, 0 warnings"),
        (0, 1, "0 errors, 1 warning"),
        (1, 1, "1 error, 1 warning"),
        (2, 3, "2 errors, 3 warnings"),
    ],
)
def test_problem_counts_use_the_singular_for_one(errors, warnings, text):
    assert problem_counts(errors, warnings) == text
    assert problem_summary(errors, warnings) == ("ok" if not errors and not warnings else text)


def test_count_handles_regular_and_irregular_plurals():
    assert [count(n, "node") for n in (0, 1, 2)] == ["0 nodes", "1 node", "2 nodes"]
    assert count(1, "entry", "entries") == "1 entry"
    assert count(4, "entry", "entries") == "4 entries"


def test_the_report_the_home_page_and_the_cli_say_the_same(tmp_path: Path, no_api_keys):
    path = tmp_path / "one_of_each.yaml"
    path.write_text(ONE_OF_EACH)
    report = validate_text(ONE_OF_EACH, str(path))
    assert (len(report.errors), len(report.warnings)) == (1, 1)
    assert report.summary() == "1 error, 1 warning"
    assert workflow_status(tmp_path, path).label == "1 error, 1 warning"
    result = CliRunner().invoke(app, ["validate", str(path)], env={"NO_COLOR": "1"})
    assert result.exit_code == 2
    assert result.stdout.splitlines()[-1] == "1 file checked: 1 invalid (1 error, 1 warning)"


#: A count with a hand-made plural: ``error{'s' * ...}``, ``warning{'s' if ...}``, ``error(s)``.
HAND_MADE_PLURAL = re.compile(r"""(error|warning|node|file|workflow)(\{'s'|\{"s"|\(s\))""")


def test_no_face_writes_its_own_plural():
    sources = [*(REPO_ROOT / "agents_core").rglob("*.py"), *(REPO_ROOT / "workbench").rglob("*.py")]
    sources += [REPO_ROOT / "app.py", *(REPO_ROOT / "pages").glob("*.py")]
    offenders = [
        f"{path.relative_to(REPO_ROOT)}:{number}"
        for path in sources
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if HAND_MADE_PLURAL.search(line)
    ]
    assert offenders == [], "use agents_core.text.count / problem_counts instead"
