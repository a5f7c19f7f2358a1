"""Type strings: every form parses to the right tree, and the tree answers questions."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import TypeAdapter, ValidationError

from agents_core.config.types import TypeRef, TypeSyntaxError, object_type, parse_type


@pytest.mark.parametrize(
    ("text", "canonical"),
    [
        ("str", "str"),
        ("int", "int"),
        ("float", "float"),
        ("bool", "bool"),
        ("list", "list"),
        ("dict", "dict"),
        ("object", "object"),
        ("list[str]", "list[str]"),
        ("list[ int ]", "list[int]"),
        ("dict[str, int]", "dict[str, int]"),
        ("dict[str,list[float]]", "dict[str, list[float]]"),
        ("list[dict[str, int]]", "list[dict[str, int]]"),
        ("list[list[list[bool]]]", "list[list[list[bool]]]"),
        ("dict[int, object]", "dict[int, object]"),
    ],
)
def test_valid_forms_parse_to_their_canonical_text(text, canonical):
    assert str(parse_type(text)) == canonical


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("string", "Did you mean 'str'?"),
        ("integer", "Did you mean 'int'?"),
        ("boolean", "Did you mean 'bool'?"),
        ("flaot", "Did you mean 'float'?"),
        ("list[int", "ends too early"),
        ("dict[str]", "dict[K, V]"),
        ("list[str, int]", "list[T]"),
        ("object[str]", "takes no type arguments"),
        ("dict[list, int]", "dict keys must be a basic type"),
        ("int x", "unexpected 'x'"),
        ("", "non-empty"),
        ("list[]", "expected a type name"),
        ("list<int>", "unexpected character"),
    ],
)
def test_invalid_forms_name_the_problem(text, fragment):
    with pytest.raises(TypeSyntaxError) as caught:
        parse_type(text)
    assert fragment in caught.value.message
    assert "Allowed" in caught.value.message or fragment in caught.value.message


def test_unknown_type_lists_the_allowed_forms():
    with pytest.raises(TypeSyntaxError) as caught:
        parse_type("decimal")
    assert "list[T], dict[K, V]" in caught.value.message


@pytest.mark.parametrize(
    ("text", "good", "bad"),
    [
        ("str", "x", 1),
        ("int", 3, True),
        ("int", -1, 1.5),
        ("float", 1, "1"),
        ("float", 2.5, False),
        ("bool", False, 0),
        ("list[int]", [1, 2], [1, "2"]),
        ("dict[str, int]", {"a": 1}, {"a": "1"}),
        ("list[dict[str, int]]", [{"a": 1}], [{"a": 1.5}]),
        ("object", {"any": "thing"}, [1]),
    ],
)
def test_accepts_checks_values(text, good, bad):
    parsed = parse_type(text)
    assert parsed.accepts(good)
    assert not parsed.accepts(bad)


def test_object_schema_builds_nested_fields_and_checks_values():
    profile = object_type({"name": "str", "address": {"city": "str"}, "tags": "list[str]"})
    assert profile.subfield("address").subfield("city") == TypeRef("str")
    assert profile.subfield("nope") is None
    assert profile.accepts({"name": "Ada", "address": {"city": "London"}})
    assert not profile.accepts({"name": "Ada", "extra": 1})
    assert not profile.accepts({"address": {"city": 3}})


def test_subfields_of_dicts_and_scalars():
    assert parse_type("dict[str, int]").subfield("any_key") == TypeRef("int")
    assert parse_type("str").subfield("x") is None
    assert parse_type("list[str]").subfield("x") is None


@pytest.mark.parametrize(
    ("source", "target", "ok"),
    [
        ("int", "float", True),
        ("float", "int", False),
        ("str", "str", True),
        ("list[str]", "list", True),
        ("list", "list[str]", False),
        ("list[int]", "list[float]", True),
        ("dict[str, int]", "object", True),
        ("str", "list[str]", False),
    ],
)
def test_can_store_in(source, target, ok):
    assert parse_type(source).can_store_in(parse_type(target)) is ok


def test_json_schema_fragments():
    assert parse_type("list[dict[str, int]]").json_schema() == {
        "type": "array",
        "items": {"type": "object", "additionalProperties": {"type": "integer"}},
    }
    schema = object_type({"city": "str"}).json_schema()
    assert schema == {"type": "object", "properties": {"city": {"type": "string"}}, "additionalProperties": False}


def test_python_types_validate_like_the_type_string():
    cases: list[tuple[str, Any, Any]] = [
        ("list[int]", [1, 2], ["x"]),
        ("dict[str, float]", {"a": 1.5}, {"a": "b"}),
        ("bool", True, "maybe"),
    ]
    for text, good, bad in cases:
        adapter = TypeAdapter(parse_type(text).python_type())
        assert adapter.validate_python(good) == good
        with pytest.raises(ValidationError):
            adapter.validate_python(bad)
    model = object_type({"city": "str", "zip": "int"}).python_type()
    assert model(city="Paris", zip=75000).city == "Paris"
