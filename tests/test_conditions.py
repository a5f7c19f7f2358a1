"""The route condition language: parsing with offsets, evaluation, and refusals."""

from __future__ import annotations

import pytest

from agents_core.config.conditions import (
    BoolOp,
    Compare,
    ConditionEvalError,
    ConditionSyntaxError,
    Default,
    Literal,
    Not,
    StateRef,
    evaluate,
    parse_condition,
    state_refs,
)

STATE = {"score": 8, "ratio": 0.5, "name": "Ada", "done": False, "tags": ["x"], "user": {"age": 17}, "none": None}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("{state.score} >= 8", True),
        ("{state.score} > 8", False),
        ("{state.score} == 8 and {state.name} == 'Ada'", True),
        ('{state.name} != "Ada" or {state.ratio} < 1', True),
        ("not {state.done}", True),
        ("not ({state.score} < 5 or {state.done} == true)", True),
        ("{state.user.age} < 18", True),
        ("{state.none} == null", True),
        ("{state.missing} == null", True),
        ("{state.ratio} <= 0.5 and {state.score} >= -1", True),
        ("{state.name} < 'Bob'", True),
        ("{state.score} == 8.0", True),
        ("true and not false", True),
        ("default", True),
        ("  default  ", True),
        ("{state.tags} == {state.tags}", True),
        ("{state.score} >= 1e1", False),
    ],
)
def test_evaluation(text, expected):
    assert evaluate(parse_condition(text), STATE) is expected


def test_precedence_not_binds_tighter_than_and_than_or():
    tree = parse_condition("not {state.a} == 1 or {state.b} == 2 and {state.c} == 3")
    assert isinstance(tree, BoolOp) and tree.op == "or"
    assert isinstance(tree.operands[0], Not)
    assert isinstance(tree.operands[1], BoolOp) and tree.operands[1].op == "and"


def test_ast_keeps_offsets_of_references_and_literals():
    text = "{state.score} >= 8 and {state.user.age} < 18"
    refs = state_refs(parse_condition(text))
    assert [(r.path, r.offset) for r in refs] == [(("score",), 0), (("user", "age"), 23)]
    tree = parse_condition("{state.x} == 'a b'")
    assert isinstance(tree, Compare)
    assert tree.right == Literal("a b", 13)
    assert isinstance(tree.left, StateRef)
    assert isinstance(parse_condition("default"), Default)


@pytest.mark.parametrize(
    ("text", "offset", "fragment"),
    [
        ("", 0, "empty"),
        ("score > 3", 0, "'score' is not a value"),
        ("{state.x} = 3", 10, "unexpected character '='"),
        ("{x} == 1", 0, "not a state reference"),
        ("({state.x} == 1", 15, "ends too early"),
        ("{state.x} == 1 {state.y} == 2", 15, "unexpected"),
        ("default or {state.x} == 1", 8, "must stand alone"),
        ("{state.x} == True", 13, "'True' is not a value"),
        ("{state.x} == 'open", 13, "unexpected character"),
        ("__import__('os')", 0, "is not a value"),
        ("{state.x}.__class__ == 1", 9, "unexpected character"),
        ("{state.a} == ", 13, "ends too early"),
    ],
)
def test_syntax_errors_point_at_their_place(text, offset, fragment):
    with pytest.raises(ConditionSyntaxError) as caught:
        parse_condition(text)
    assert caught.value.offset == offset
    assert fragment in caught.value.message


def test_ordering_of_incomparable_values_is_a_clear_error():
    with pytest.raises(ConditionEvalError, match="ordering needs two numbers or two strings"):
        evaluate(parse_condition("{state.name} > 3"), STATE)
    with pytest.raises(ConditionEvalError):
        evaluate(parse_condition("{state.none} < 3"), STATE)


def test_booleans_are_not_numbers():
    with pytest.raises(ConditionEvalError):
        evaluate(parse_condition("{state.done} < 1"), STATE)
