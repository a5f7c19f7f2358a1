"""Rule 3 (types): state field type strings, object schemas, defaults, required."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from agents_core.config.loader import PathKey
from agents_core.config.rules.context import Context
from agents_core.config.types import TypeRef, TypeSyntaxError, parse_type

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def check_state(ctx: Context) -> None:
    """Parse every field's type (with its schema) into ``ctx.state_types``."""
    for name, spec in ctx.state_fields().items():
        path: PathKey = ("state", "fields", name)
        if not _IDENTIFIER.fullmatch(str(name)) or name == "state":
            ctx.add(
                "E-NAME-INVALID",
                path,
                f"state field name {name!r} is not identifier-like.",
                "Use letters, digits and '_', not starting with a digit (and not 'state').",
                at_key=True,
            )
        if not isinstance(spec, dict):
            continue
        field_type = _field_type(ctx, path, spec)
        if field_type is None:
            continue
        ctx.state_types[str(name)] = field_type
        _check_default(ctx, path, spec, field_type)


def _field_type(ctx: Context, path: PathKey, spec: dict[str, Any]) -> TypeRef | None:
    text = spec.get("type")
    if not isinstance(text, str):
        return None  # missing or not a string: reported by the shape check
    parsed = parse_type_at(ctx, (*path, "type"), text)
    if parsed is None:
        return None
    schema = spec.get("schema")
    if schema is None:
        return parsed
    if parsed.name != "object":
        ctx.add(
            "E-STATE-SCHEMA",
            (*path, "schema"),
            f"`schema` describes object sub-fields, but this field's type is {parsed}.",
            "Set `type: object`, or remove `schema`.",
            at_key=True,
        )
        return parsed
    if not isinstance(schema, Mapping):
        return parsed
    return object_schema_at(ctx, (*path, "schema"), schema)


def parse_type_at(ctx: Context, path: PathKey, text: str) -> TypeRef | None:
    """Parse a type string found at ``path``; report E-TYPE-SYNTAX at the exact offset."""
    try:
        return parse_type(text)
    except TypeSyntaxError as exc:
        ctx.add_in_text(
            "E-TYPE-SYNTAX",
            path,
            text,
            exc.offset,
            1,
            exc.message,
            "Examples: str, list[str], dict[str, int], object (with `schema`).",
        )
        return None


def object_schema_at(ctx: Context, path: PathKey, schema: Mapping[str, Any]) -> TypeRef:
    """Build an object type from a ``schema`` mapping, reporting each bad sub-field."""
    fields: list[tuple[str, TypeRef]] = []
    for key, value in schema.items():
        sub_path = (*path, key)
        if not _IDENTIFIER.fullmatch(str(key)):
            ctx.add(
                "E-NAME-INVALID",
                sub_path,
                f"sub-field name {key!r} is not identifier-like.",
                "Use letters, digits and '_'.",
                at_key=True,
            )
        if isinstance(value, Mapping):
            fields.append((str(key), object_schema_at(ctx, sub_path, value)))
        elif isinstance(value, str):
            parsed = parse_type_at(ctx, sub_path, value)
            fields.append((str(key), parsed if parsed is not None else TypeRef("any")))
    return TypeRef("object", fields=tuple(fields))


def _check_default(ctx: Context, path: PathKey, spec: dict[str, Any], field_type: TypeRef) -> None:
    has_default = "default" in spec
    if spec.get("required") is True and has_default:
        ctx.add(
            "E-STATE-REQUIRED-DEFAULT",
            (*path, "default"),
            f"state field {path[-1]!r} is both required and given a default.",
            "A required field comes from the run's inputs: remove `default`, or set `required: false`.",
            at_key=True,
        )
    default = spec.get("default")
    if has_default and default is not None and not field_type.accepts(default):
        ctx.add(
            "E-TYPE-DEFAULT",
            (*path, "default"),
            f"the default of {path[-1]!r} does not match its type {field_type}.",
            f"Give a default of type {field_type}, or change the type.",
        )
