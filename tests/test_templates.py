"""Prompt templates: placeholders with offsets, escapes, issues, and safe rendering."""

from __future__ import annotations

import pytest

from agents_core.config.templates import Placeholder, TemplateRenderError, parse_template, render


def test_placeholders_are_listed_with_offsets_and_kinds():
    text = "Hi {state.user.name}, about {topic}: {state.x}"
    placeholders = parse_template(text).placeholders
    assert placeholders == [
        Placeholder("{state.user.name}", 3, "state", ("user", "name")),
        Placeholder("{topic}", 28, "local", ("topic",)),
        Placeholder("{state.x}", 37, "state", ("x",)),
    ]
    for p in placeholders:
        assert text[p.offset : p.offset + len(p.text)] == p.text


def test_double_braces_are_literal_and_not_placeholders():
    parsed = parse_template('JSON like {{"a": {state.a}}} here')
    assert [p.text for p in parsed.placeholders] == ["{state.a}"]
    assert parsed.issues == ()
    assert render(parsed, {"a": 1}) == 'JSON like {"a": 1} here'


@pytest.mark.parametrize(
    ("text", "offset", "fragment"),
    [
        ("a } b", 2, "single '}'"),
        ("a { b", 2, "never closed"),
        ("x {state} y", 2, "not a valid placeholder"),
        ("x { state.a } y", 2, "not a valid placeholder"),
        ("x {a-b} y", 2, "not a valid placeholder"),
        ("x {state.a.} y", 2, "not a valid placeholder"),
        ("{ {state.a}", 0, "never closed"),
    ],
)
def test_issues_point_at_their_brace(text, offset, fragment):
    issues = parse_template(text).issues
    assert issues, text
    assert issues[0].offset == offset
    assert fragment in issues[0].message


def test_every_issue_is_collected():
    assert len(parse_template("} { state } {bad name}").issues) == 3


def test_render_substitutes_values_as_text_once():
    state = {"topic": "{state.secret}", "secret": "TOP SECRET", "n": 3, "tags": ["a", "b"], "user": {"name": "Ada"}}
    out = render("T={state.topic} n={state.n} tags={state.tags} who={state.user.name} x={x}", state, {"x": "{x}"})
    assert out == 'T={state.secret} n=3 tags=["a", "b"] who=Ada x={x}'
    assert "TOP SECRET" not in out


def test_render_refuses_undeclared_paths_and_attribute_access():
    with pytest.raises(TemplateRenderError):
        render("{state.missing}", {})
    with pytest.raises(TemplateRenderError):
        render("{state.text.upper}", {"text": "abc"})
    with pytest.raises(TemplateRenderError):
        render("{local}", {}, {})
