"""The run's state: typed fields from the workflow, inputs checked against them.

Inputs arrive as Python values (API, server) or as text (CLI ``--input
count=3``); both are checked against the declared types, so a run never
starts with a field it cannot use. Errors name the field.

Values must also survive the trip through JSON (the run store, ``--json``,
the server), so an input is refused when it holds ``NaN`` or an infinity
(not JSON), an integer too long for Python's int/str conversion limit, or
nesting deeper than :data:`MAX_INPUT_DEPTH` (which would otherwise end in a
``RecursionError`` somewhere far from the input that caused it).
"""

from __future__ import annotations

import json
import math
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from agents_core.config.models import StateField, Workflow
from agents_core.config.types import TypeRef, object_type, parse_type
from agents_core.errors import InputError

__all__ = [
    "FieldSpec",
    "InputError",
    "check_inputs",
    "input_schema",
    "missing_subfield",
    "parse_text_value",
    "state_fields",
]

EMPTY_VALUES: dict[str, Any] = {"str": "", "int": 0, "float": 0.0, "bool": False}
#: Deepest nesting of lists and dicts an input may have.
MAX_INPUT_DEPTH = 100
#: Largest ``--input-file`` read (10 MiB); a longer file is refused after reading one byte more.
MAX_INPUT_FILE_BYTES = 10 * 1024 * 1024
_ECHO_LIMIT = 60


@dataclass(frozen=True)
class FieldSpec:
    """One state field with its parsed type."""

    name: str
    type: TypeRef
    required: bool
    default: Any
    has_default: bool
    description: str


def field_type(spec: StateField) -> TypeRef:
    declared = parse_type(spec.type)
    if declared.name == "object" and spec.schema_:
        return object_type(spec.schema_)
    return declared


def state_fields(workflow: Workflow) -> dict[str, FieldSpec]:
    return {
        name: FieldSpec(
            name,
            field_type(spec),
            spec.required,
            spec.default,
            "default" in spec.model_fields_set,
            spec.description or "",
        )
        for name, spec in workflow.state.fields.items()
    }


def empty_value(field: FieldSpec) -> Any:
    """What an optional field without a default starts as: an empty value of its type."""
    if field.has_default and field.default is not None:
        return field.default
    if field.type.name == "list":
        return []
    if field.type.name in ("dict", "object"):
        return {}
    return EMPTY_VALUES.get(field.type.name)


def _echo(text: str) -> str:
    """``text`` quoted for an error message, shortened (a 5,000-digit number is not echoed whole)."""
    return repr(text) if len(text) <= _ECHO_LIMIT else repr(text[: _ECHO_LIMIT - 3]) + f"... ({len(text)} characters)"


def _max_int_digits() -> int:
    return sys.get_int_max_str_digits() if hasattr(sys, "get_int_max_str_digits") else 0


def _refuse_constant(name: str) -> Any:
    raise InputError(f"{name} is not a number JSON can carry.", "Give a finite number.")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise InputError(f"{_echo(text)} is too large for a float (it would be infinite).", "Give a finite number.")
    return value


def parse_json_text(text: str, where: str) -> Any:
    """JSON given on the command line, strictly: finite numbers only, bounded length of numbers and depth."""
    try:
        return loads_checked(text, where)
    except json.JSONDecodeError as exc:
        raise InputError(
            f"{where} is not valid JSON ({exc.msg} at line {exc.lineno}, column {exc.colno}).",
            'Write JSON, e.g. {"topic": "cats"}.',
        ) from None


def loads_checked(text: str, where: str) -> Any:
    """``json.loads`` that refuses what :func:`check_value` refuses; a syntax error stays a ``JSONDecodeError``.

    Every face that reads JSON inputs (the CLI, the Run form) uses it, so deep nesting,
    overlong numbers and NaN are refused the same way everywhere.
    """
    try:
        value = json.loads(text, parse_constant=_refuse_constant, parse_float=_finite_float)
    except InputError as exc:
        raise InputError(f"{where}: {exc.message}", exc.hint) from None
    except RecursionError:
        raise _too_deep(where) from None
    except json.JSONDecodeError:
        raise
    except ValueError as exc:
        if "digits" in str(exc):  # int(): more digits than sys.get_int_max_str_digits() allows
            raise _too_long(where) from None
        raise
    check_value(value, where)
    return value


def _too_deep(where: str) -> InputError:
    return InputError(
        f"{where} is nested more than {MAX_INPUT_DEPTH} levels deep.",
        "Flatten the value; inputs may nest lists and objects up to that depth.",
    )


def _too_long(where: str) -> InputError:
    return InputError(
        f"{where} holds an integer with more than {_max_int_digits()} digits, more than Python converts.",
        "Pass so long a number as a string (a str field), or shorten it.",
    )


def check_value(value: Any, where: str) -> None:
    """Refuse what JSON cannot carry or would choke on: NaN and infinities, overlong integers, deep nesting."""
    digits = _max_int_digits()
    max_bits = int(digits * math.log2(10)) if digits else 0
    stack: list[tuple[Any, int]] = [(value, 0)]
    seen: set[int] = set()
    while stack:
        current, depth = stack.pop()
        if isinstance(current, float) and not math.isfinite(current):
            raise InputError(
                f"{where} holds {current!r}, which is not a number JSON can carry.", "Give a finite number."
            )
        if isinstance(current, int) and not isinstance(current, bool) and max_bits and current.bit_length() > max_bits:
            raise _too_long(where)
        if isinstance(current, Mapping | list | tuple):
            if depth >= MAX_INPUT_DEPTH:
                raise _too_deep(where)
            if id(current) in seen:
                raise InputError(f"{where} refers to itself.", "Pass plain data (a tree, not a graph).")
            seen.add(id(current))
            items = current.values() if isinstance(current, Mapping) else current
            stack.extend((item, depth + 1) for item in items)


def parse_text_value(field: FieldSpec, text: str) -> Any:
    """A CLI value by its declared type: ``3`` -> 3 for int; lists, dicts and objects as JSON."""
    kind = field.type.name
    where = f"input {field.name!r}"
    try:
        if kind == "str":
            return text
        if kind == "int":
            return int(text)
        if kind == "float":
            value = float(text)
            if not math.isfinite(value):
                raise InputError(
                    f"{where} must be a finite number; {_echo(text)} is not.",
                    f"Example: --input {field.name}={field.type.example()}",
                )
            return value
        if kind == "bool":
            lowered = text.strip().lower()
            if lowered in ("true", "yes", "1", "on"):
                return True
            if lowered in ("false", "no", "0", "off"):
                return False
            raise ValueError(text)
        return loads_checked(text, where)
    except ValueError as exc:
        if "digits" in str(exc):  # int(): more digits than sys.get_int_max_str_digits() allows
            raise _too_long(where) from None
        value = field.type.example()
        example = value if isinstance(value, str) else json.dumps(value)
        raise InputError(
            f"{where} must be {field.type}; {_echo(text)} is not.",
            f"Example: --input {field.name}={example}",
        ) from None


def refuse_unknown_inputs(workflow: Workflow, inputs: Mapping[str, Any]) -> dict[str, Any]:
    """The workflow's state fields; an input naming none of them is an ``InputError`` (runs and estimates alike)."""
    fields = state_fields(workflow)
    unknown = [name for name in inputs if name not in fields]
    if unknown:
        raise InputError(
            f"unknown input {unknown[0]!r}; this workflow's state fields are: {', '.join(fields)}.",
            "Pass only declared state fields as inputs.",
        )
    return fields


def check_inputs(workflow: Workflow, inputs: Mapping[str, Any], *, from_text: bool = False) -> dict[str, Any]:
    """The initial state: defaults, then the inputs (parsed when ``from_text``), all checked."""
    fields = refuse_unknown_inputs(workflow, inputs)
    missing = [name for name, field in fields.items() if field.required and name not in inputs]
    if missing:
        raise InputError(
            f"missing required input{'s' * (len(missing) > 1)}: {', '.join(missing)}.",
            " ".join(f"--input {name}=..." for name in missing),
        )
    state = {name: empty_value(field) for name, field in fields.items()}
    for name, value in inputs.items():
        field = fields[name]
        if from_text and isinstance(value, str):
            value = parse_text_value(field, value)
        check_value(value, f"input {name!r}")
        if field.type.name == "float" and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        problem = field.type.mismatch(value, f"input {name}") or missing_subfield(field.type, value, f"input {name}")
        if problem:
            raise InputError(problem, f"Example of {field.type}: {json.dumps(field.type.example())}")
        _check_storable(name, value)
        state[name] = value
    return state


def missing_subfield(declared: TypeRef, value: Any, where: str) -> str | None:
    """The first sub-field an object's schema declares that ``value`` lacks (also inside lists and dicts).

    Every sub-field of an object's ``schema`` is required (issue 9 §4): a run
    must not start with a half object that fails inside a node. ``None`` when
    nothing is missing; faces that check inputs early (the Run form) can call it.
    """
    if declared.name == "object" and declared.fields is not None and isinstance(value, Mapping):
        for key, sub in declared.fields:
            if key not in value:
                names = ", ".join(k for k, _ in declared.fields)
                return f"{where} lacks the sub-field {key!r}; its schema requires: {names}."
            if found := missing_subfield(sub, value[key], f"{where}.{key}"):
                return found
    if declared.name == "list" and declared.args and isinstance(value, list):
        for index, item in enumerate(value):
            if found := missing_subfield(declared.args[0], item, f"{where}[{index}]"):
                return found
    if declared.name == "dict" and len(declared.args) == 2 and isinstance(value, Mapping):
        for key, item in value.items():
            if found := missing_subfield(declared.args[1], item, f"{where}[{json.dumps(key, default=str)}]"):
                return found
    return None


def _check_storable(name: str, value: Any, where: str = "") -> None:
    """Refuse what the run store cannot keep as JSON (a date, a set, bytes), naming the place."""
    where = where or f"input {name}"
    if value is None or isinstance(value, str | bool | int):
        return
    if isinstance(value, float):
        return
    if isinstance(value, list | tuple):
        for index, item in enumerate(value):
            _check_storable(name, item, f"{where}[{index}]")
        return
    if isinstance(value, Mapping):
        for key, item in value.items():
            if not isinstance(key, str):
                raise InputError(
                    f"{where} has the key {key!r} ({type(key).__name__}); a run can only store text keys.",
                    "Use strings as keys.",
                )
            _check_storable(name, item, f"{where}.{key}")
        return
    raise InputError(
        f"{where} is a {type(value).__name__} ({value!r:.60}); a run can only store JSON values "
        "(text, numbers, true/false, null, lists and objects).",
        "Convert it first, e.g. a date to an ISO string: value.isoformat().",
    )


def input_schema(workflow: Workflow) -> dict[str, Any]:
    """JSON Schema of a run's inputs (the server's request body and the Run page form)."""
    fields = state_fields(workflow)
    properties = {}
    for name, field in fields.items():
        schema = field.type.json_schema()
        if field.description:
            schema["description"] = field.description
        if field.has_default and field.default is not None:
            schema["default"] = field.default
        properties[name] = schema
    return {
        "type": "object",
        "properties": properties,
        "required": [name for name, field in fields.items() if field.required],
        "additionalProperties": False,
    }
