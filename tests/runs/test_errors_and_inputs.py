"""Errors as data (categories, one table, typed node fields) and inputs refused before a run exists."""

from __future__ import annotations

import datetime
import re

import pytest

from agents_core import errors
from agents_core.errors import (
    CATEGORY_OUTCOMES,
    AgentsError,
    InputError,
    NodeError,
    ProviderError,
    ProviderUnavailable,
    RunConflict,
    RunNotFound,
    ValidationFailed,
    category_of,
    exit_code,
    http_status,
)
from tests.samples import THREE_STEPS

CLASSES = {
    name: value
    for name, value in vars(errors).items()
    if isinstance(value, type) and issubclass(value, AgentsError) and value.__module__ == errors.__name__
}


def test_the_docstring_draws_the_real_tree():
    drawn = set(re.findall(r"[├└]── (\w+)", errors.__doc__ or "")) | {"AgentsError"}
    assert drawn <= set(CLASSES), drawn - set(CLASSES)
    assert set(CLASSES) == drawn
    for old_home, name in [
        ("agents_core.engine.state", "InputError"),
        ("agents_core.engine.node", "InvalidStructuredOutput"),
        ("agents_core.engine.compiler", "LoopLimitExceeded"),
    ]:
        module = __import__(old_home, fromlist=[name])
        assert getattr(module, name) is CLASSES[name]


def test_every_class_has_a_category_in_the_one_table():
    for cls in CLASSES.values():
        assert cls.category in CATEGORY_OUTCOMES, cls


@pytest.mark.parametrize(
    ("error", "code", "status"),
    [
        (ValidationFailed("bad file"), 2, 422),
        (InputError("bad input"), 2, 422),
        (ProviderError("no key"), 2, 500),
        (ProviderUnavailable("HTTP 503 after 3 attempts"), 1, 502),
        (NodeError("node failed", node="n"), 1, 500),
        (RunNotFound("no run"), 2, 404),
        (RunConflict("running"), 2, 409),
        (KeyError("x"), 1, 500),
        (KeyboardInterrupt(), 130, 409),
    ],
)
def test_exit_code_and_http_status_follow_the_category(error, code, status):
    assert (exit_code(error), http_status(error)) == (code, status)
    assert CATEGORY_OUTCOMES[category_of(error)] == (code, status)


def test_a_failed_node_is_data_not_a_parsed_message(service, script):
    script.replies["second"] = [ValueError("the model exploded")]
    result = service.start(THREE_STEPS, {"topic": "cats"}).wait(timeout=30)
    error = result.error
    assert error is not None and error.node == "second" and error.type == "ProviderError"
    assert error.hint and error.hint not in error.message and error.category == "configuration"
    failed = [e for e in service.events(result.run_id) if e.kind == "node_failed"]
    assert failed[0].record.id == "second" and failed[0].error.hint == error.hint


def test_node_errors_carry_typed_node_and_record():
    from agents_core.engine.events import NodeRecord

    record = NodeRecord("n", status="failed")
    error = NodeError("node 'n': broke", "fix it", node="n", record=record)
    assert error.node == "n" and error.record is record and str(error) == "node 'n': broke fix it"
    assert {error}  # still hashable, like every exception


def test_an_object_input_missing_a_sub_field_is_refused_before_the_run(service, script):
    profile = {
        **THREE_STEPS,
        "state": {
            "fields": {
                **THREE_STEPS["state"]["fields"],
                "profile": {"type": "object", "schema": {"name": "str", "address": {"city": "str", "zip": "str"}}},
            }
        },
    }
    with pytest.raises(InputError, match=r"input profile lacks the sub-field 'address'"):
        service.start(profile, {"topic": "x", "profile": {"name": "Ada"}})
    with pytest.raises(InputError, match=r"input profile\.address lacks the sub-field 'zip'; .*city, zip"):
        service.start(profile, {"topic": "x", "profile": {"name": "Ada", "address": {"city": "London"}}})
    with pytest.raises(InputError) as caught:
        service.start(profile, {"topic": "x", "profile": '{"name": "Ada"}'}, inputs_as_text=True)
    assert exit_code(caught.value) == 2
    assert service.list() == [] and script.calls == []  # no run was recorded, no model called


def test_a_value_the_store_cannot_keep_is_refused_clearly(service, script):
    workflow = {
        **THREE_STEPS,
        "state": {"fields": {**THREE_STEPS["state"]["fields"], "extra": {"type": "dict", "default": {}}}},
    }
    with pytest.raises(InputError, match=r"input extra\.when is a date .*JSON values") as caught:
        service.start(workflow, {"topic": "x", "extra": {"when": datetime.date(2025, 1, 2)}})
    assert "isoformat" in caught.value.hint
    assert service.list() == []
