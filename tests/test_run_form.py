"""The Run page's form logic (``workbench/run_form.py``) and row texts (``workbench/run_view.py``), no Streamlit."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest

from agents_core.config.types import parse_type
from agents_core.engine.events import (
    NodeFailed,
    NodeFinished,
    NodeRecord,
    NodeStarted,
    RunErrorInfo,
    RunFinished,
    RunResult,
    RunStarted,
)
from agents_core.engine.state import InputError, check_inputs
from agents_core.workflow import load_workflow
from workbench.run_form import (
    AS_CONFIGURED,
    FormField,
    collect,
    form_fields,
    overrides,
    parse_json_field,
    provider_options,
    widget_kind,
)
from workbench.run_view import RunView, failure_text, output_items, row_text

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"

ALL_KINDS = """\
schema_version: "1.0"
flow: {name: all_kinds}
state:
  fields:
    count: {type: int, required: true, description: How many.}
    name: {type: str, required: true}
    ratio: {type: float, default: 1}
    loud: {type: bool, default: false}
    tags: {type: "list[str]", default: [a]}
    weights: {type: "dict[str, float]"}
    extra: {type: object, schema: {size: int, inner: {ok: bool}}}
    answer: {type: str, default: ""}
nodes:
  - id: answer
    prompt: "answer: {state.name} {state.count} {state.ratio} {state.loud} {state.tags} {state.extra} {state.weights}"
    outputs: [answer]
edges:
  - {from: START, to: answer}
  - {from: answer, to: END}
config:
  llm: {provider: local}
"""


@pytest.fixture
def all_kinds():
    return load_workflow(ALL_KINDS)


def _by_name(fields: list[FormField]) -> dict[str, FormField]:
    return {f.name: f for f in fields}


# --------------------------------------------------------------------------- widgets


@pytest.mark.parametrize(
    ("type_text", "kind"),
    [
        ("str", "text"),
        ("int", "int"),
        ("float", "float"),
        ("bool", "bool"),
        ("list", "json"),
        ("list[int]", "json"),
        ("dict[str, int]", "json"),
        ("object", "json"),
    ],
)
def test_widget_kind_per_type(type_text: str, kind: str) -> None:
    assert widget_kind(parse_type(type_text)) == kind


def test_fields_of_every_kind_with_labels_initial_values_and_help(all_kinds) -> None:
    fields = _by_name(form_fields(all_kinds))
    assert list(fields) == ["count", "name", "ratio", "loud", "tags", "weights", "extra", "answer"]
    assert {n: f.kind for n, f in fields.items()} == {
        "count": "int",
        "name": "text",
        "ratio": "float",
        "loud": "bool",
        "tags": "json",
        "weights": "json",
        "extra": "json",
        "answer": "text",
    }
    assert fields["count"].label == "count *" and fields["count"].initial is None
    assert fields["count"].help == "How many. Type: int. Required."
    assert fields["ratio"].label == "ratio" and fields["ratio"].initial == 1.0
    assert isinstance(fields["ratio"].initial, float)  # a float widget, though the YAML default is 1
    assert fields["loud"].initial is False
    assert json.loads(fields["tags"].initial) == ["a"]
    assert fields["weights"].initial == "" and fields["extra"].initial == ""
    assert json.loads(fields["extra"].placeholder) == {"size": 1, "inner": {"ok": True}}
    assert fields["answer"].written_by == ("answer",)
    assert "Written by answer" in fields["answer"].help


def test_example_files_give_the_expected_forms() -> None:
    article = _by_name(form_fields(load_workflow(EXAMPLES / "article_writer.yaml")))
    assert [f.label for f in article.values()] == ["topic *", "research", "title", "article"]
    assert {f.kind for f in article.values()} == {"text"}
    assert article["topic"].help.startswith("What the article is about.")
    profile = _by_name(form_fields(load_workflow(EXAMPLES / "user_profile.yaml")))
    assert profile["profile"].kind == "json" and profile["profile"].required
    assert profile["suggestions"].initial == "[]" and profile["scores"].initial == "{}"


def test_describe_and_example_follow_the_type_tree() -> None:
    assert parse_type("dict[str, list[int]]").describe() == "dict[str, list[int]]"
    assert parse_type("dict[str, list[int]]").example() == {"key": [1]}
    assert parse_type("dict[int, str]").example() == {"1": "text"}


# --------------------------------------------------------------------------- values back into inputs


def test_untouched_optional_fields_are_left_to_the_defaults(all_kinds) -> None:
    fields = form_fields(all_kinds)
    values = {f.name: f.initial for f in fields} | {"count": 3, "name": "Ada"}
    inputs, errors = collect(fields, values)
    assert errors == []
    assert inputs == {"count": 3, "name": "Ada"}
    state = check_inputs(all_kinds, inputs)
    assert state["ratio"] == 1.0 and state["tags"] == ["a"] and state["extra"] == {}


def test_changed_values_of_every_kind_are_converted_and_accepted(all_kinds) -> None:
    fields = form_fields(all_kinds)
    values = {
        "count": 3.0,  # a number input may hand back a float; an int field gets an int
        "name": "Ada",
        "ratio": 2,
        "loud": True,
        "tags": '["x", "y"]',
        "weights": '{"a": 1, "b": 0.5}',
        "extra": '{"size": 2, "inner": {"ok": false}}',
        "answer": "",
    }
    inputs, errors = collect(fields, values)
    assert errors == []
    assert inputs == {
        "count": 3,
        "name": "Ada",
        "ratio": 2.0,
        "loud": True,
        "tags": ["x", "y"],
        "weights": {"a": 1, "b": 0.5},
        "extra": {"size": 2, "inner": {"ok": False}},
    }
    assert type(inputs["count"]) is int and type(inputs["ratio"]) is float
    state = check_inputs(all_kinds, inputs)
    assert state["extra"]["inner"] == {"ok": False}


def test_required_fields_must_be_given(all_kinds) -> None:
    fields = form_fields(all_kinds)
    inputs, errors = collect(fields, {f.name: f.initial for f in fields} | {"name": "   "})
    assert [(e.field, e.message) for e in errors] == [
        ("count", "count is required."),
        ("name", "name is required."),
    ]
    assert inputs == {}


def test_required_json_field_must_be_given() -> None:
    fields = form_fields(load_workflow(EXAMPLES / "user_profile.yaml"))
    _, errors = collect(fields, {f.name: f.initial for f in fields})
    [error] = errors
    assert error.field == "profile" and error.message == "profile is required."
    assert error.hint.startswith('Write it as JSON, e.g. {"name": "text", "age": 1')


def test_whole_numbers_only_for_int(all_kinds) -> None:
    fields = form_fields(all_kinds)
    _, errors = collect(fields, {f.name: f.initial for f in fields} | {"count": 2.5, "name": "a"})
    assert [str(e) for e in errors] == ["count must be a whole number, not 2.5."]


@pytest.mark.parametrize(
    ("field", "text", "message"),
    [
        ("tags", '["x", ', "tags: the JSON is malformed at line 1, column 7 (Expecting value)."),
        ("tags", "{'a': 1}", "tags: the JSON is malformed at line 1, column 2 (Expecting property name enclosed in"),
        ("tags", '{"a": 1}', 'tags must be list[str], not an object ({"a": 1}).'),
        ("tags", '["x", 2]', "tags[1] must be str, not a number (2)."),
        ("weights", '{"a": "heavy"}', 'weights["a"] must be float, not a string ("heavy").'),
        ("weights", '{"a": true}', 'weights["a"] must be float, not a boolean (true).'),
        ("extra", '{"size": 2, "colour": "red"}', "extra has no sub-field 'colour'; its sub-fields are: size, inner."),
        ("extra", '{"inner": {"ok": "yes"}}', 'extra.inner.ok must be bool, not a string ("yes").'),
        ("extra", "null", "extra must be object{size: int, inner: object{ok: bool}}, not null (null)."),
        ("extra", "[1]", "extra must be object{size: int, inner: object{ok: bool}}, not a list ([1])."),
    ],
)
def test_json_errors_name_the_field_and_the_place_inside_it(all_kinds, field: str, text: str, message: str) -> None:
    fields = form_fields(all_kinds)
    values = {f.name: f.initial for f in fields} | {"count": 1, "name": "a", field: text}
    inputs, errors = collect(fields, values)
    [error] = errors
    assert error.field == field
    assert error.message.startswith(message), error.message
    assert error.hint.startswith("Write ") and " as JSON, e.g. " in error.hint
    assert field not in inputs


def test_every_json_rejection_is_one_check_inputs_would_make(all_kinds) -> None:
    """The form's checks agree with the engine's: what the form lets through, check_inputs accepts."""
    extra = parse_type("object")
    for value in ([1], {"size": 2}, {"size": "2"}, {"nope": 1}, {"inner": {"ok": True}}):
        field = _by_name(form_fields(all_kinds))["extra"]
        try:
            parse_json_field(field, json.dumps(value))
            form_says_ok = True
        except Exception as refusal:  # the form's own refusal, carrying a FieldError
            assert type(refusal).__name__ == "_Invalid", refusal
            form_says_ok = False
        try:
            check_inputs(all_kinds, {"count": 1, "name": "a", "extra": value})
            engine_says_ok = True
        except InputError:
            engine_says_ok = False
        assert form_says_ok == engine_says_ok, value
    assert extra.mismatch({"any": [1, {"x": None}]}, "x") is None


# --------------------------------------------------------------------------- provider and model


def test_provider_options_and_overrides() -> None:
    options = provider_options()
    assert options[0] == AS_CONFIGURED and {"google", "local", "openai"} <= set(options)
    assert overrides(AS_CONFIGURED, "  ") == {"provider": None, "model": None}
    assert overrides("local", " smollm2-135m-instruct ") == {"provider": "local", "model": "smollm2-135m-instruct"}


# --------------------------------------------------------------------------- rows from events


def _record(node: str, status: str, **kw) -> NodeRecord:
    return NodeRecord(node, status, provider="p", model="m", **kw)


def test_rows_follow_the_events_and_a_loop_gets_a_row_per_visit() -> None:
    view = RunView("r1", "loop.yaml")
    assert view.apply(RunStarted("r1", "loop", {}, notices=("local model",))) is None
    assert view.run_id == "r1" and view.notices == ["local model"]
    started = NodeStarted("r1", "write", "p", "m")
    assert view.apply(started) == 0
    assert row_text(view.rows[0], now=started.at + timedelta(seconds=3.2)) == "⏳ **write** · running 3 s · p / m"
    done = _record("write", "success", duration_ms=1234.0, input_tokens=7, output_tokens=3, retries=1, cost_usd=0.0042)
    assert view.apply(NodeFinished("r1", done)) == 0
    assert row_text(view.rows[0]) == "✅ **write** · 1.2 s · 7 in / 3 out tokens · 1 retry · p / m · $0.0042"
    assert view.apply(NodeStarted("r1", "write", "p", "m")) == 1  # the second visit: a new row
    failed = _record("write", "failed", duration_ms=5.0, error="boom")
    assert view.apply(NodeFailed("r1", failed, RunErrorInfo("write", "NodeError", "node 'write': boom"))) == 1
    assert row_text(view.rows[1]).startswith("❌ **write** · failed after 5 ms")
    result = RunResult(
        "r1", "loop", "failed", {}, {}, [done, failed], RunErrorInfo("write", "NodeError", "node 'write': boom")
    )
    assert view.apply(RunFinished("r1", result)) is None
    assert view.failed and len(view.rows) == 2
    assert failure_text(result) == "Node **write** failed (NodeError): boom"


def test_a_resumed_run_carries_the_rows_finished_before() -> None:
    view = RunView("r1", "a.yaml")
    view.apply(RunStarted("r1", "a", {}, resumed=True))
    view.apply(NodeStarted("r1", "write", "p", "m"))
    write = _record("write", "success")
    view.apply(NodeFinished("r1", write))
    research = _record("research", "success")
    view.apply(RunFinished("r1", RunResult("r1", "a", "success", {}, {"t": "x"}, [research, write])))
    assert [(r.node, r.earlier) for r in view.rows] == [("research", True), ("write", False)]
    assert row_text(view.rows[0]).endswith("· before the resume")


def test_outputs_text_as_markdown_and_the_rest_as_json() -> None:
    result = RunResult("r", "w", "success", {}, {"title": "T", "scores": {"a": 1}, "n": 2}, [])
    assert output_items(result) == [("title", "markdown", "T"), ("scores", "json", {"a": 1}), ("n", "json", 2)]


def test_hostile_json_is_a_field_error_not_a_crash(all_kinds) -> None:
    """The form reads JSON as the CLI does: deep nesting, overlong numbers and NaN are refused by name."""
    field = _by_name(form_fields(all_kinds))["extra"]
    for text in ("[" * 5000 + "]" * 5000, '{"n": ' + "7" * 5000 + "}", '{"x": NaN}'):
        try:
            parse_json_field(field, text)
        except Exception as refusal:
            assert type(refusal).__name__ == "_Invalid", refusal
            assert refusal.error.field == "extra" and refusal.error.message.startswith("extra"), refusal
        else:
            raise AssertionError(f"accepted {text[:20]!r}")
