"""Property-based: whatever a user does to a valid file, validation answers with placed problems.

Mutations are the ones people make while typing: deleted keys, values of the
wrong type, random text, broken indentation, and files cut off mid-way.
Validation must never raise, and every problem must carry a known code and a
position inside the file.
"""

from __future__ import annotations

import json
from typing import Any

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
