"""Property-based: whatever a user does to a valid file, validation answers with placed problems.

Mutations are the ones people make while typing: deleted keys, values of the
wrong type, random text, broken indentation, and files cut off mid-way.
Validation must never raise, and every problem must carry a known code and a
position inside the file.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agents_core.config.codes import CODES
from agents_core.config.validator import validate_text
from tests.conftest import EXAMPLE_FILES

TEXTS = {path.name: path.read_text() for path in EXAMPLE_FILES}
DATA = {name: yaml.safe_load(text) for name, text in TEXTS.items()}
SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-5, 5),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=12),
    st.sampled_from(["{state.nope}", "{", "}", "START", "END", "list[", "object", "default", "{state.topic}"]),
)
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=6,
)


def check(report: Any, text: str) -> None:
    line_count = text.count("\n") + 2
    for problem in report.problems:
        assert problem.code in CODES, problem
        assert problem.severity == CODES[problem.code][0]
        assert 1 <= problem.line <= line_count, problem
        assert problem.column >= 1, problem
        assert problem.message
    if report.ok:
        assert report.workflow is not None
    else:
        assert report.errors and report.workflow is None


@SETTINGS
@given(name=st.sampled_from(sorted(TEXTS)), data=st.data())
def test_text_mutations_never_raise(name: str, data: st.DataObject) -> None:
    text = TEXTS[name]
    lines = text.splitlines(keepends=True)
    kind = data.draw(st.sampled_from(["truncate", "insert", "delete_line", "indent", "replace_line"]))
    if kind == "truncate":
        text = text[: data.draw(st.integers(0, len(text)))]
    elif kind == "insert":
        at = data.draw(st.integers(0, len(text)))
        text = text[:at] + data.draw(st.text(min_size=1, max_size=8)) + text[at:]
    else:
        index = data.draw(st.integers(0, len(lines) - 1))
        if kind == "delete_line":
            del lines[index]
        elif kind == "indent":
            line = lines[index]
            lines[index] = (" " * data.draw(st.integers(1, 3)) + line) if data.draw(st.booleans()) else line.lstrip()
        else:
            lines[index] = data.draw(st.text(max_size=20)) + "\n"
        text = "".join(lines)
    check(validate_text(text, name), text)


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix] if prefix else []
    if isinstance(value, dict):
        for key, inner in value.items():
            found += _paths(inner, (*prefix, key))
    elif isinstance(value, list):
        for index, inner in enumerate(value):
            found += _paths(inner, (*prefix, index))
    return found


def _parent(data: Any, path: tuple[Any, ...]) -> Any:
    for part in path[:-1]:
        data = data[part]
    return data


@SETTINGS
@given(name=st.sampled_from(sorted(DATA)), data=st.data())
def test_structural_mutations_never_raise(name: str, data: st.DataObject) -> None:
    document = json.loads(json.dumps(DATA[name]))
    path = data.draw(st.sampled_from(_paths(document)))
    parent = _parent(document, path)
    if data.draw(st.booleans()):
        del parent[path[-1]]
    else:
        parent[path[-1]] = data.draw(values)
    as_json = data.draw(st.booleans())
    text = json.dumps(document, indent=2) if as_json else yaml.safe_dump(document, sort_keys=False)
    check(validate_text(text, name.replace(".yaml", ".json") if as_json else name), text)


@SETTINGS
@given(name=st.sampled_from(sorted(DATA)), key=st.sampled_from(["schema_version", "flow", "state", "nodes", "edges"]))
def test_deleting_a_required_key_is_always_reported_at_a_place(name: str, key: str) -> None:
    document = json.loads(json.dumps(DATA[name]))
    del document[key]
    text = yaml.safe_dump(document, sort_keys=False)
    report = validate_text(text, name)
    check(report, text)
    missing = [p for p in report.problems if p.code == "E-SHAPE-MISSING"]
    assert any(repr(key) in p.message for p in missing)


# --------------------------------------------------------------------------- hostile input (issue 8 §1)
#
# Kinds of input that once crashed the validator, generated in many sizes and
# places, plus examples/*.yaml mutated with them. The budget (3 x 3,400 = 10,200
# inputs, derandomized so every run tries the same ones) runs in about a minute.

HOSTILE_SETTINGS = settings(
    max_examples=3400,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)
BASE = """\
schema_version: "1.0"
flow:
  name: base
  version: VALUE
state:
  fields:
    topic: {type: TYPE, required: true}
    score: {type: int, default: 0}
nodes:
  - id: write
    prompt: |
      Write about {state.topic}.
    outputs: [score]
    output_schema: {type: int}
edges:
  - {from: START, to: write}
  - from: write
    routes:
      - condition: {logic: "CONDITION"}
        to: END
      - condition: {logic: default}
        to: END
config:
  llm: {provider: local}
"""
NULL_DOCUMENTS = [
    "~",
    "null",
    "Null",
    "NULL",
    "&a",
    "--- &a",
    "--- ~",
    "--- !!null",
    "",
    "# only a comment",
    "...",
    "---",
]
TAGS = ["!!bool", "!!int", "!!float", "!!null", "!!map", "!!seq", "!!str", "!!timestamp", "!!binary", "!!set", "!!omap"]
TAG_VALUES = ["maybe", "x", '""', "''", "2024-02-30", "1.5", "0x", "[1]", "{a: 1}", "~", "-", "1e999", "0b2"]


@st.composite
def deep_nesting(draw: st.DrawFn) -> str:
    depth = draw(st.integers(1, 1200))
    style = draw(st.sampled_from(["[", "{", "block", "list-block"]))
    if style == "[":
        return "[" * depth + "]" * depth
    if style == "{":
        return "{a: " * depth + "1" + "}" * depth
    prefix = "- " if style == "list-block" else ""
    return "\n" + "".join("  " * (level + 2) + f"{prefix}k{level}:\n" for level in range(depth))


@st.composite
def long_number(draw: st.DrawFn) -> str:
    digits = "".join(draw(st.lists(st.sampled_from("0123456789"), min_size=1, max_size=3))) * draw(st.integers(1, 3000))
    form = draw(st.sampled_from(["{}", "-{}", "0x{}", "{}.5", "1{}e+10", "0o{}"]))
    return form.format(digits if "x" not in form else digits.replace("0", "f"))


hostile_values = st.one_of(
    st.from_regex(r"\A[12][0-9]{3}-[0-9]{1,2}-[0-9]{1,2}([Tt ][0-9]{1,2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?Z?)?\Z"),
    long_number(),
    st.builds(lambda tag, value: f"{tag} {value}", st.sampled_from(TAGS), st.sampled_from(TAG_VALUES)),
    deep_nesting(),
    st.sampled_from(NULL_DOCUMENTS),
    st.builds(
        lambda text: text,
        st.text(alphabet=st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF), min_size=1, max_size=2),
    ),
)
hostile_conditions = st.one_of(
    st.integers(1, 300).map(lambda n: "(" * n + "{state.score} >= 7" + ")" * n),
    st.integers(1, 1500).map(lambda n: "not " * n + "{state.score} >= 7"),
    st.integers(1, 300).map(lambda n: "(" * n + "{state.score} >= 7"),
    st.integers(1, 50).map(lambda n: " or ".join(["(not {state.score} > 1)"] * n)),
)
hostile_types = st.one_of(
    st.integers(1, 400).map(lambda n: "list[" * n + "str" + "]" * n),
    st.integers(1, 200).map(lambda n: "dict[str, " * n + "int" + "]" * n),
    st.integers(1, 300).map(lambda n: "list[" * n),
    st.sampled_from(["str", "int", "list[str]", "dict[str, int]"]),
)


def check_hostile(report: Any, text: str) -> None:
    """Never raised (we got here), every problem placed, nothing empty called valid."""
    check(report, text)
    if report.ok:
        assert isinstance(report.document.data, dict) and report.document.data, text[:200]


@pytest.mark.slow
@HOSTILE_SETTINGS
@given(
    value=hostile_values,
    condition=hostile_conditions,
    type_string=hostile_types,
    where=st.sampled_from(["version", "condition", "type", "whole", "prepend"]),
    as_json=st.booleans(),
)
def test_hostile_values_come_back_as_placed_problems(
    value: str, condition: str, type_string: str, where: str, as_json: bool
) -> None:
    text = BASE.replace("CONDITION", "{state.score} >= 7").replace("TYPE", "str").replace("VALUE", '"1"')
    if where == "version":
        text = text.replace('version: "1"', f"version: {value}")
    elif where == "condition":
        text = text.replace("{state.score} >= 7", condition)
    elif where == "type":
        text = text.replace("{type: str,", f'{{type: "{type_string}",')
    elif where == "whole":
        text = value
    else:
        text = value + "\n" + text
    file = "hostile.yaml"
    if as_json:
        # The same kinds as JSON: deep brackets, long numbers, a BOM, surrogates, null.
        file = "hostile.json"
        text = {"version": f'{{"a": {value}}}', "condition": "\ufeff" + json.dumps({"a": condition})}.get(
            where, "[" * len(type_string) + "]" * len(type_string) if where == "type" else value
        )
    check_hostile(validate_text(text, file), text)


MUTATION_PIECES = [
    "[" * 600,
    "{a: " * 600,
    "9" * 5000,
    "0x" + "f" * 5000,
    "2024-02-30",
    "!!bool maybe",
    "!!map x",
    '!!int ""',
    "!!timestamp x",
    "\t",
    "\ud800",
    "&a",
    "*a",
    "~",
    "not " * 1200,
    "(" * 200,
    "list[" * 300,
    "\n\t",
    "|\n\tx",
    "- ",
    ": ",
    "'",
    '"',
    "{",
    "}",
    "<<: *a",
    "&b [*b]",
    "\x00",
    "\x1b[31m",
    "\ufffe",
    "\r",
    "\x85",
    "\u2028",
    "\ufeff",
    "> " + "9" * 5000,
]


@pytest.mark.slow
@HOSTILE_SETTINGS
@given(name=st.sampled_from(sorted(TEXTS)), data=st.data())
def test_examples_mutated_with_hostile_pieces_never_raise(name: str, data: st.DataObject) -> None:
    text = TEXTS[name]
    for _ in range(data.draw(st.integers(1, 3))):
        at = data.draw(st.integers(0, len(text)))
        kind = data.draw(st.sampled_from(["insert", "replace", "truncate", "duplicate"]))
        if kind == "insert":
            text = text[:at] + data.draw(st.sampled_from(MUTATION_PIECES)) + text[at:]
        elif kind == "replace":
            end = min(len(text), at + data.draw(st.integers(1, 40)))
            text = text[:at] + data.draw(st.sampled_from(MUTATION_PIECES)) + text[end:]
        elif kind == "truncate":
            text = text[:at]
        else:
            text = text[:at] + text[at : at + 200] * data.draw(st.integers(2, 5)) + text[at:]
    check_hostile(validate_text(text, name), text)


@st.composite
def hostile_data(draw: st.DrawFn) -> Any:
    document = json.loads(json.dumps(DATA[draw(st.sampled_from(sorted(DATA)))]))
    kind = draw(st.sampled_from(["tuple key", "int key", "self", "deep", "surrogate", "huge int", "set", "plain"]))
    target = document["state"]["fields"]
    if kind == "tuple key":
        target[("a", draw(st.integers()))] = {"type": "str"}
    elif kind == "int key":
        target[draw(st.integers())] = {"type": "str"}
    elif kind == "self":
        target["loop"] = document
    elif kind == "deep":
        inner = target
        for _ in range(draw(st.integers(1, 3000))):
            inner["x"] = {}
            inner = inner["x"]
    elif kind == "surrogate":
        document["flow"]["description"] = "a\udc80b"
    elif kind == "huge int":
        target["big"] = {"type": "int", "default": 10 ** draw(st.integers(90, 6000))}
    elif kind == "set":
        document["flow"]["description"] = {draw(st.integers())}
    else:
        target["extra"] = draw(values)
    return document


@pytest.mark.slow
@HOSTILE_SETTINGS
@given(document=hostile_data())
def test_hostile_data_through_the_dict_api_never_raises(document: Any) -> None:
    from agents_core.config.validator import validate_workflow

    report = validate_workflow(document)
    for problem in report.problems:
        assert problem.code in CODES and problem.line >= 1 and problem.column >= 1, problem
    if report.ok:
        assert report.workflow is not None


_JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=4), inner, max_size=4),
    max_leaves=20,
)


@settings(max_examples=200, deadline=None)
@given(outputs=st.dictionaries(st.text(max_size=6), _JSON_VALUES, max_size=4))
def test_a_node_records_dict_is_an_equal_copy_that_changes_apart(outputs: dict[str, Any]) -> None:
    """NodeRecord.to_dict copies the outputs: equal data, and changing the dict leaves the record alone."""
    from agents_core.engine.events import NodeRecord

    record = NodeRecord(id="n", status="success", outputs=outputs)
    before = json.dumps(outputs, sort_keys=True)
    data = record.to_dict()
    assert data["outputs"] == outputs
    for value in data["outputs"].values():
        if isinstance(value, dict):
            value["changed"] = True
        elif isinstance(value, list):
            value.append("changed")
    data["outputs"]["added"] = 1
    assert json.dumps(record.outputs, sort_keys=True) == before
