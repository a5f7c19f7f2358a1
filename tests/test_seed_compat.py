"""The seed project's v0.1 files (schema_version "1.0") validate and run unchanged (issue 8 §5).

``tests/fixtures/seed/`` holds our own files written in the seed's shapes: object
output fields with a nested ``schema``, bare ``{field}`` placeholders, route
conditions without braces, the seed's MLflow keys. They are validated, and run
end to end on a scripted provider so the shapes really work at run time.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from agents_core import run_workflow
from agents_core.config.conditions import ConditionSyntaxError, evaluate, parse_condition
from agents_core.config.validator import validate_file, validate_text
from tests.fakes import Script, scripted_provider

SEED = Path(__file__).parent / "fixtures" / "seed"


@pytest.fixture(autouse=True)
def run_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "runs.sqlite"
    monkeypatch.setenv("AGENTS_RUN_STORE", str(path))
    return path


@pytest.mark.parametrize("path", sorted(SEED.glob("*.yaml")), ids=lambda p: p.name)
def test_seed_shaped_files_validate_without_errors(path: Path):
    report = validate_file(path)
    assert [f"{p.code} {p.line}:{p.column} {p.message}" for p in report.errors] == []


def _run(name: str, inputs: dict, script: Script):
    with scripted_provider(script):
        return run_workflow(SEED / name, inputs, provider="scripted")


def test_an_object_output_with_its_own_schema_is_typed_at_run_time():
    good = {"profile": {"summary": "Avid.", "favourite_authors": ["Le Guin"], "reading_level": 7}}
    bad = {"profile": {"summary": "Avid.", "favourite_authors": ["Le Guin"], "reading_level": "high"}}
    script = Script({"Describe": [json.dumps(bad), json.dumps(good)]})
    result = _run("reader_profile.yaml", {"reader": "Ann", "genres": ["fantasy"]}, script)
    assert result.status == "success"
    assert result.outputs["profile"] == good["profile"]
    # the reply with a text reading_level did not fit the nested schema and was asked again
    assert result.nodes[0].retries == 1


def test_nested_object_outputs_and_typed_fields_run():
    reply = {
        "rating": 4,
        "recommended": True,
        "pros": ["light"],
        "aspect_scores": {"price": 3},
        "verdict": {"headline": "Good", "certainty": 0.8, "details": {"strengths": ["a"], "weaknesses": []}},
    }
    result = _run("typed_review.yaml", {"product": "kettle"}, Script({"Review": [json.dumps(reply)]}))
    assert result.status == "success"
    assert result.outputs["verdict"]["details"] == {"strengths": ["a"], "weaknesses": []}
    assert result.outputs["rating"] == 4 and result.outputs["aspect_scores"] == {"price": 3}


def test_bare_placeholders_resolve_inputs_first_then_state():
    seen: list[str] = []

    def record(reply: str):
        return lambda messages: seen.append(messages[0].text) or reply

    script = Script({"research": [record("FACTS")], "write": [record("ARTICLE")]})
    result = _run("bare_placeholders.yaml", {"topic": "owls"}, script)
    assert result.status == "success"
    assert seen[0] == "research: facts about owls for Ann"
    # {topic} is the node's input (the research), not the state field; {research} comes from state
    assert seen[1] == "write: notes FACTS; audience owls; research FACTS"
    assert result.outputs["article"] == "ARTICLE"


def test_conditions_without_braces_route_and_loop():
    script = Script({"write": ["d1", "d2"], "grade": ['{"value": 3}', '{"value": 8}']})
    result = _run("review_loop.yaml", {"topic": "tea"}, script)
    assert result.status == "success"
    assert [n.id for n in result.nodes] == ["write", "grade", "write", "grade"]
    assert result.outputs["score"] == 8 and result.outputs["draft"] == "d2"


def test_a_bare_condition_reference_is_the_braced_one():
    bare, braced = parse_condition("state.score >= 7"), parse_condition("{state.score} >= 7")
    assert bare.left.path == braced.left.path == ("score",)
    assert evaluate(bare, {"score": 7}) and not evaluate(bare, {"score": 6})
    assert evaluate(parse_condition("state.a.b == 'x' and not state.c"), {"a": {"b": "x"}, "c": False})


@pytest.mark.parametrize(
    ("text", "field"),
    [("state .score >= 7", "score"), ("state['score'] >= 7", "score"), ("state. quality > 1", "quality")],
)
def test_a_malformed_state_reference_hint_names_the_real_field(text: str, field: str):
    with pytest.raises(ConditionSyntaxError) as caught:
        parse_condition(text)
    assert f"{{state.{field}}}" in caught.value.hint
    assert "{state.state}" not in caught.value.hint


WORKFLOW = """\
schema_version: "1.0"
flow: {{name: w}}
state:
  fields:
    topic: {{type: str, required: true}}
    score: {{type: int, default: 0}}
    profile:
      type: object
      schema: {{bio: str, age: int}}
nodes:
  - id: a
    prompt: "{prompt}"
    outputs: [profile]
    output_schema:
      type: object
      fields:
        - name: profile
          type: {out_type}
{schema}
edges:
  - {{from: START, to: a}}
  - from: a
    routes:
      - condition: {{logic: "{condition}"}}
        to: END
      - condition: {{logic: default}}
        to: END
{extra}"""


def _problems(prompt="{state.topic}", out_type="object", schema="", condition="state.score > 1", extra=""):
    text = WORKFLOW.format(prompt=prompt, out_type=out_type, schema=schema, condition=condition, extra=extra)
    return validate_text(text, "w.yaml").problems


def _errors(**kw) -> list[str]:
    return [p.code for p in _problems(**kw) if p.severity == "error"]


def test_an_object_output_without_schema_takes_its_state_fields_shape():
    assert _errors() == []


def test_an_output_schema_that_disagrees_with_state_names_the_sub_fields():
    schema = "          schema: {bio: str, age: str}"
    problems = [p for p in _problems(schema=schema) if p.severity == "error"]
    assert [p.code for p in problems] == ["E-OUTPUT-TYPE"]
    assert "object{bio: str, age: str}" in problems[0].message
    assert "object{bio: str, age: int}" in problems[0].message


def test_a_schema_on_a_non_object_output_field_is_an_error():
    assert "E-OUTPUT-SCHEMA" in _errors(out_type="str", schema="          schema: {bio: str}")


def test_a_bare_state_field_in_a_condition_that_does_not_exist_is_reported():
    problems = [p for p in _problems(condition="state.scor > 1") if p.code == "E-REF-STATE"]
    assert len(problems) == 1 and "Did you mean 'score'?" in problems[0].message
    assert (problems[0].line, problems[0].column) == (24, 29)


def test_bare_placeholders_naming_state_are_accepted_and_unknown_ones_are_not():
    assert _errors(prompt="{topic} and {profile.bio}") == []
    assert _errors(prompt="{profile.nope}") == ["E-REF-SUBFIELD"]
    assert _errors(prompt="{topik}") == ["E-REF-LOCAL"]


def test_a_bare_placeholder_counts_as_a_read_of_its_state_field():
    unused = [
        p.message for p in _problems(prompt="{score}", condition="state.topic == 'x'") if p.code == "W-STATE-UNUSED"
    ]
    assert unused == []
    unused = [
        p.message
        for p in _problems(prompt="{profile.bio}", condition="state.topic == 'x'")
        if p.code == "W-STATE-UNUSED"
    ]
    assert len(unused) == 1 and "'score'" in unused[0]


def test_the_seed_mlflow_keys_are_accepted_and_checked():
    keys = "config:\n  observability:\n    mlflow: {{async_logging: false, artifact_level: {level}}}\n"
    assert _errors(extra=keys.format(level="minimal")) == []
    bad = [p for p in _problems(extra=keys.format(level="everything")) if p.severity == "error"]
    assert [p.code for p in bad] == ["E-SHAPE-VALUE"]
    assert "minimal" in bad[0].message and (bad[0].line, bad[0].column) == (30, 52)
    assert _errors(extra="config:\n  observability:\n    mlflow: {async_logging: maybe}\n") == ["E-SHAPE-TYPE"]


def test_max_demos_zero_is_an_error_as_in_the_seed():
    assert _errors(extra="optimization: {max_demos: 0}\n") == ["E-SHAPE-VALUE"]
    assert _errors(extra="optimization: {max_demos: 1}\n") == []
