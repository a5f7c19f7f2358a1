"""Rule 2 (shape): run the pydantic models and turn each error into a placed Problem.

Pydantic reports ``loc`` tuples such as ``('nodes', 0, 'promt')``; this
module resolves them against the document (dropping the union-member tags
pydantic inserts), finds the source position, and words the message the
way the rest of the validator does, with "did you mean" for unknown keys.
"""

from __future__ import annotations

import typing
from typing import Any

from pydantic import BaseModel, ValidationError

from agents_core.config.loader import PathKey, format_path
from agents_core.config.migrate import seed_kind
from agents_core.config.models import SUPPORTED_SCHEMA_VERSIONS, Workflow
from agents_core.config.rules.context import Context, did_you_mean

_TYPE_WORDS = {
    "string_type": "a string",
    "int_type": "a whole number",
    "int_parsing": "a whole number",
    "int_from_float": "a whole number",
    "float_type": "a number",
    "float_parsing": "a number",
    "bool_type": "true or false",
    "bool_parsing": "true or false",
    "list_type": "a list",
    "dict_type": "a mapping (key: value)",
    "model_type": "a mapping (key: value)",
    "model_attributes_type": "a mapping (key: value)",
}


def _kind(value: Any) -> str:
    if value is None:
        return "empty (null)"
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, int | float):
        return f"the number {value}"
    if isinstance(value, str):
        return f"the string {value!r}" if len(value) < 40 else "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return type(value).__name__


def _resolve(data: Any, loc: tuple[Any, ...]) -> tuple[PathKey, bool]:
    """Map a pydantic ``loc`` to a document path; the flag says the last part is absent."""
    path: list[str | int] = []
    current = data
    for index, part in enumerate(loc):
        last = index == len(loc) - 1
        if (isinstance(current, dict) and part in current) or (
            isinstance(current, list) and isinstance(part, int) and 0 <= part < len(current)
        ):
            path.append(part)
            current = current[part]
        elif last:
            path.append(part)
            return tuple(path), True
        # otherwise: a union-member tag such as 'str' or 'function-after[...]'
    return tuple(path), False


def _models_in(annotation: Any) -> list[type[BaseModel]]:
    """Every model class inside an annotation (through Optional, list, dict, Annotated)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return [model for arg in typing.get_args(annotation) for model in _models_in(arg)]


def _model_for(path: PathKey) -> type[BaseModel] | None:
    """The model class whose keys live at ``path`` (for unknown-key suggestions).

    List indexes and free-form keys (state field names) keep the current
    model; a known key moves to the model its field holds.
    """
    model: type[BaseModel] = Workflow
    for part in path:
        field = next((f for name, f in model.model_fields.items() if (f.alias or name) == part), None)
        if field is None:
            continue
        inner = _models_in(field.annotation)
        if not inner:
            return None
        model = inner[0]
    return model


def _keys_of(model: type[BaseModel]) -> list[str]:
    return [f.alias or name for name, f in model.model_fields.items()]


def _describe_field(model: type[BaseModel] | None, key: Any) -> str:
    if model is None:
        return ""
    for name, field in model.model_fields.items():
        if (field.alias or name) == key and field.description:
            return field.description
    return ""


def check_shape(ctx: Context) -> Workflow | None:
    """Validate the whole document with the models; report errors; return the model if clean."""
    try:
        return Workflow.model_validate(ctx.data)
    except ValidationError as exc:
        seen: set[tuple[str, PathKey]] = set()
        for error in exc.errors(include_url=False):
            path, absent = _resolve(ctx.data, tuple(error["loc"]))
            if _seed_edge_part(ctx.data, path):
                continue  # reported with its exact equivalent by the edge rules
            key = (error["type"], path)
            if key in seen:
                continue
            seen.add(key)
            _report(ctx, error, path, absent)
        return None


def _seed_edge_part(data: Any, path: PathKey) -> bool:
    """Whether ``path`` is the `loop` or list-valued `to` of a seed-style edge."""
    if len(path) < 3 or path[0] != "edges" or not isinstance(path[1], int):
        return False
    kind = seed_kind(data["edges"][path[1]])
    return (kind == "loop" and path[2] == "loop") or (kind == "fork" and path[2] == "to")


def _report(ctx: Context, error: dict[str, Any], path: PathKey, absent: bool) -> None:
    kind = error["type"]
    where = format_path(path[:-1]) or "the top level"
    name = path[-1] if path else ""
    parent_model = _model_for(path[:-1])
    value = error.get("input")
    if kind == "missing":
        hint = _describe_field(parent_model, name)
        ctx.add(
            "E-SHAPE-MISSING",
            path[:-1],
            f"{where} is missing the required key {name!r}.",
            f"Add `{name}:` here. {hint}".strip(),
            at_key=bool(path[:-1]),
        )
    elif kind == "extra_forbidden":
        allowed = _keys_of(parent_model) if parent_model else []
        ctx.add(
            "E-SHAPE-UNKNOWN-KEY",
            path,
            f"unknown key {name!r} in {where}.{did_you_mean(str(name), allowed)}",
            f"Allowed keys: {', '.join(allowed)}." if allowed else "Remove the key.",
            at_key=True,
        )
    elif path == ("schema_version",):
        shown = f"{value!r}" if not isinstance(value, float | int) else f"the number {value}"
        ctx.add(
            "E-SCHEMA-VERSION",
            path,
            f"schema_version is {shown}; this version of Configurable Agents reads "
            f"{', '.join(repr(v) for v in SUPPORTED_SCHEMA_VERSIONS)}.",
            'Write schema_version: "1.0" (quoted, so YAML keeps it as text).',
        )
    elif kind == "string_pattern_mismatch":
        rule = (
            "letters, digits, '_' and '-', starting with a letter"
            if path == ("flow", "name")
            else "letters, digits and '_', not starting with a digit"
        )
        ctx.add(
            "E-NAME-INVALID",
            path,
            f"{format_path(path)} is {value!r}; names use {rule}.",
            "Rename it, e.g. 'my_node'.",
        )
    elif kind in _TYPE_WORDS:
        hint = _describe_field(parent_model, name)
        if kind == "string_type" and isinstance(value, dict):
            hint = (
                "A value that starts with '{' is read by YAML as a mapping: quote it, "
                f'e.g. {name}: "{{state.field}} ...".'
            )
        ctx.add(
            "E-SHAPE-TYPE",
            path,
            f"{format_path(path)} must be {_TYPE_WORDS[kind]}, not {_kind(value)}.",
            hint,
        )
    else:
        message = error.get("msg", "invalid value")
        message = message[0].lower() + message[1:] if message else message
        ctx.add(
            "E-SHAPE-VALUE",
            path,
            f"{format_path(path)}: {message} (found {_kind(value)}).",
            _describe_field(parent_model, name),
        )
