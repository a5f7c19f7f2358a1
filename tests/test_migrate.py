"""`configurable-agents migrate` and the rewriting behind it (issue 8 §5).

The seed project's `loop:` edges and `to: [a, b]` forks become routes going
back and `parallel` + `join` fan-outs; only those edges' text changes, so
comments elsewhere survive; the result is validated and, here, run.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from agents_core import run_workflow
from agents_core.cli import app
from agents_core.config.loader import load_text
from agents_core.config.migrate import migrate_text, plan_seed_edges, set_loop_bound
from agents_core.config.validator import validate_text
from tests.fakes import Script, scripted_provider

REPO_ROOT = Path(__file__).resolve().parents[1]

SEED = """\
# A seed-style workflow: refine until approved, then ask two critics at once.
schema_version: "1.0"
flow:
  name: refine_and_review
state:
  fields:
    topic: {type: str, required: true}
    draft: {type: str, default: ""}
    approved: {type: bool, default: false}
    style: {type: str, default: ""}
    facts: {type: str, default: ""}
    verdict: {type: str, default: ""}
nodes:
  - id: write
    prompt: "write: {topic} {draft}"
    outputs: [draft, approved]
    output_schema:
      type: object
      fields:
        - {name: draft, type: str}
        - {name: approved, type: bool}
  - id: style_critic
    prompt: "style: {draft}"
    outputs: [style]
  - id: fact_critic
    prompt: "facts: {draft}"
    outputs: [facts]
  - id: decide
    prompt: "decide: {style} {facts}"
    outputs: [verdict]
# the flow
edges:
  - {from: START, to: write}
  - from: write
    loop:
      condition_field: approved
      max_iterations: 3
      exit_to: fan
  - {from: fan_placeholder_never_used, to: END}
config:
  llm: {provider: scripted}  # keep this comment
  execution:
    retry_initial_delay: 0.01
"""


def _seed() -> str:
    """The sample with a real fan-out node `fan` whose fork names the two critics."""
    text = SEED.replace(
        "  - id: decide\n",
        '  - id: fan\n    prompt: "fan: {draft}"\n    outputs: [draft]\n  - id: decide\n',
    )
    return text.replace(
        "  - {from: fan_placeholder_never_used, to: END}\n",
        "  - from: fan\n"
        "    to: [style_critic, fact_critic]   # both critics at once\n"
        "  # each critic reports to decide\n"
        "  - from: style_critic\n"
        "    to: decide\n"
        "  - {from: fact_critic, to: decide}\n"
        "  - {from: decide, to: END}\n",
    )


@pytest.fixture(autouse=True)
def run_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "runs.sqlite"
    monkeypatch.setenv("AGENTS_RUN_STORE", str(path))
    return path


def test_the_seed_sample_is_rejected_with_the_exact_equivalents():
    report = validate_text(_seed(), "seed.yaml")
    by_code = {p.code: p for p in report.errors}
    assert set(by_code) == {"E-EDGE-SEED-LOOP", "E-EDGE-SEED-FORK"}
    assert (
        '{from: write, routes: [{condition: {logic: "{state.approved}"}, to: fan}, '
        "{condition: {logic: default}, to: write}]}" in by_code["E-EDGE-SEED-LOOP"].hint
    )
    assert "max_loop_iterations: 3" in by_code["E-EDGE-SEED-LOOP"].hint
    assert "{from: fan, parallel: [style_critic, fact_critic], join: decide}" in by_code["E-EDGE-SEED-FORK"].hint
    fork_line = next(i for i, line in enumerate(_seed().splitlines(), 1) if "to: [style_critic" in line)
    assert (by_code["E-EDGE-SEED-FORK"].line, by_code["E-EDGE-SEED-FORK"].column) == (fork_line, 9)


def test_migrate_rewrites_the_edges_keeps_comments_and_validates():
    result = migrate_text(_seed(), "seed.yaml")
    text = result.text
    report = validate_text(text, "out.yaml")
    assert report.errors == [], [p.message for p in report.errors]
    for comment in ("# A seed-style workflow", "# the flow", "# keep this comment", "# each critic reports to decide"):
        assert comment in text
    data = load_text(text, "out.yaml").data
    edges = data["edges"]
    assert edges[1] == {
        "from": "write",
        "routes": [
            {"condition": {"logic": "{state.approved}"}, "to": "fan"},
            {"condition": {"logic": "default"}, "to": "write"},
        ],
    }
    assert {"from": "fan", "parallel": ["style_critic", "fact_critic"], "join": "decide"} in edges
    assert not any(e.get("from") in ("style_critic", "fact_critic") for e in edges)
    assert data["config"]["execution"] == {"retry_initial_delay": 0.01, "max_loop_iterations": 3}
    assert data["config"]["llm"] == {"provider": "scripted"}
    # everything outside the rewritten edges is the same text
    assert text.split("edges:")[0] == _seed().split("edges:")[0]
    assert len(result.notes) == 4 and result.left == []


def test_the_migrated_file_runs_its_loop_and_fan_out():
    text = migrate_text(_seed(), "seed.yaml").text
    script = Script(
        {
            "write": ['{"draft": "d1", "approved": false}', '{"draft": "d2", "approved": true}'],
            "fan": ["d2"],
            "style": ["fine"],
            "facts": ["true"],
            "decide": ["ship it"],
        }
    )
    with scripted_provider(script):
        result = run_workflow(load_text(text, "out.yaml").data, {"topic": "tea"})
    assert result.status == "success"
    assert [n.id for n in result.nodes][:3] == ["write", "write", "fan"]
    assert sorted(n.id for n in result.nodes[3:5]) == ["fact_critic", "style_critic"]
    assert result.outputs["verdict"] == "ship it"


def test_a_flow_style_edges_list_is_rewritten_in_flow_style():
    text = _seed()
    start = text.index("edges:\n")
    end = text.index("config:")
    flow = (
        "edges: [{from: START, to: write}, {from: write, loop: {condition_field: approved, exit_to: fan}}, "
        "{from: fan, to: [style_critic, fact_critic]}, {from: style_critic, to: decide}, "
        "{from: fact_critic, to: decide}, {from: decide, to: END}]\n"
    )
    result = migrate_text(text[:start] + flow + text[end:], "seed.yaml")
    assert validate_text(result.text, "out.yaml").errors == []
    edges = load_text(result.text, "out.yaml").data["edges"]
    assert len(edges) == 4 and edges[2] == {
        "from": "fan",
        "parallel": ["style_critic", "fact_critic"],
        "join": "decide",
    }
    assert "max_loop_iterations" not in result.text  # the seed's default bound is ours too


def test_a_json_file_is_migrated_as_json():
    data = load_text(_seed(), "seed.yaml").data
    result = migrate_text(json.dumps(data), "seed.json")
    migrated = json.loads(result.text)
    assert validate_text(result.text, "out.json").errors == []
    assert migrated["edges"][1]["routes"][1] == {"condition": {"logic": "default"}, "to": "write"}
    assert migrated["config"]["execution"]["max_loop_iterations"] == 3


def test_a_fork_without_a_common_join_is_left_and_explained():
    text = _seed().replace("  - {from: fact_critic, to: decide}\n", "  - {from: fact_critic, to: END}\n")
    result = migrate_text(text, "seed.yaml")
    assert len(result.left) == 1 and "join" in result.left[0]
    assert "to: [style_critic, fact_critic]" in result.text
    assert [p.code for p in validate_text(result.text, "out.yaml").errors] == ["E-EDGE-SEED-FORK"]


def test_a_one_branch_fork_becomes_a_plain_edge():
    plans = plan_seed_edges({"edges": [{"from": "a", "to": ["b"]}]})
    assert plans[0].replacement == {"from": "a", "to": "b"}


@pytest.mark.parametrize(
    ("before", "after"),
    [
        ("x: 1\n", "x: 1\nconfig:\n  execution:\n    max_loop_iterations: 4\n"),
        (
            "config:\n  llm: {provider: local}\n",
            "config:\n  llm: {provider: local}\n  execution:\n    max_loop_iterations: 4\n",
        ),
        (
            "config:\n  execution:\n    timeout: 5\n",
            "config:\n  execution:\n    timeout: 5\n    max_loop_iterations: 4\n",
        ),
        (
            "config:\n  execution:\n    max_loop_iterations: 2  # old\n",
            "config:\n  execution:\n    max_loop_iterations: 4  # old\n",
        ),
    ],
)
def test_the_loop_bound_is_set_where_it_belongs(before: str, after: str):
    assert set_loop_bound(before, 4) == after


# -- the command --------------------------------------------------------------------
runner = CliRunner()


def test_migrate_prints_to_stdout_and_never_touches_the_source(tmp_path: Path):
    source = tmp_path / "seed.yaml"
    source.write_text(_seed())
    result = runner.invoke(app, ["migrate", str(source)])
    assert result.exit_code == 0, result.stderr
    assert result.stdout == migrate_text(_seed(), str(source)).text
    assert source.read_text() == _seed()
    assert "the result is valid" in result.stderr and "parallel: [style_critic, fact_critic]" in result.stderr
    assert [p.name for p in tmp_path.iterdir() if p.name != "runs.sqlite"] == ["seed.yaml"]


def test_migrate_writes_the_output_file_with_o(tmp_path: Path):
    source, out = tmp_path / "seed.yaml", tmp_path / "ours.yaml"
    source.write_text(_seed())
    result = runner.invoke(app, ["migrate", str(source), "-o", str(out)])
    assert result.exit_code == 0, result.stderr
    assert result.stdout == ""
    assert validate_text(out.read_text(), str(out)).errors == []
    assert source.read_text() == _seed()


def test_migrate_exits_2_and_prints_the_problems_when_the_result_is_invalid(tmp_path: Path):
    source = tmp_path / "seed.yaml"
    source.write_text(_seed().replace("  - {from: fact_critic, to: decide}\n", "  - {from: fact_critic, to: END}\n"))
    result = runner.invoke(app, ["migrate", str(source)])
    assert result.exit_code == 2
    assert "E-EDGE-SEED-FORK" in result.stderr and "not valid" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout


def test_migrate_refuses_a_missing_file_and_a_format_change(tmp_path: Path):
    missing = runner.invoke(app, ["migrate", str(tmp_path / "nope.yaml")])
    assert missing.exit_code == 2 and "no such file" in missing.stderr
    source = tmp_path / "seed.yaml"
    source.write_text(_seed())
    changed = runner.invoke(app, ["migrate", str(source), "-o", str(tmp_path / "out.json")])
    assert changed.exit_code == 2 and "keeps the format" in changed.stderr
    assert not (tmp_path / "out.json").exists()


def test_a_file_in_our_format_is_printed_unchanged(tmp_path: Path):
    ours = REPO_ROOT / "tests" / "fixtures" / "seed" / "review_loop.yaml"
    result = runner.invoke(app, ["migrate", str(ours)])
    assert result.exit_code == 0
    assert result.stdout == ours.read_text()
    assert "nothing to migrate" in result.stderr


def test_the_entry_point_keeps_stdout_for_the_file(tmp_path: Path):
    source = tmp_path / "seed.yaml"
    source.write_text(_seed())
    done = subprocess.run(
        [sys.executable, "-m", "agents_core", "migrate", str(source)],
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert validate_text(done.stdout, "out.yaml").errors == []
