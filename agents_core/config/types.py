"""Type strings (``str``, ``list[dict[str, int]]``, ``object`` with a schema).

A small recursive-descent parser turns a type string into a :class:`TypeRef`
tree. The tree is the one place that knows what a type means: it checks
values (defaults, inputs), decides whether one type can be stored in another
(node outputs into state fields), and produces JSON Schema fragments and
Python types for the engine.
"""

from __future__ import annotations

import difflib
import functools
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from agents_core.config.limits import MAX_TYPE_DEPTH

BASIC_TYPES = ("str", "int", "float", "bool", "list", "dict", "object")
_ARITY = {"list": 1, "dict": 2}
ALLOWED_FORMS = "str, int, float, bool, list, dict, object, list[T], dict[K, V]"
_ALIASES = {
    "string": "str",
    "integer": "int",
    "number": "float",
    "boolean": "bool",
    "array": "list",
    "List": "list",
    "Dict": "dict",
    "map": "dict",
    "mapping": "dict",
    "text": "str",
}
_TOKEN = re.compile(r"\s*(?:(?P<name>[A-Za-z_][A-Za-z0-9_]*)|(?P<punct>[\[\],]))")


class TypeSyntaxError(ValueError):
    """A type string that does not parse; ``offset`` points into the string."""

    def __init__(self, message: str, offset: int = 0) -> None:
        super().__init__(message)
        self.message = message
        self.offset = offset


@dataclass(frozen=True)
class TypeRef:
    """A parsed type: a basic name, type arguments, and object sub-fields."""

    name: str
    args: tuple[TypeRef, ...] = ()
    fields: tuple[tuple[str, TypeRef], ...] | None = None

    def __str__(self) -> str:
        if self.args:
            return f"{self.name}[{', '.join(str(arg) for arg in self.args)}]"
        return self.name

    # -- structure -------------------------------------------------------
    def field_map(self) -> dict[str, TypeRef] | None:
        return dict(self.fields) if self.fields is not None else None

    def subfield(self, name: str) -> TypeRef | None:
        """Type of ``value.name``, or ``None`` if this type has no such sub-field.

        Objects with a declared schema know their sub-fields; ``dict`` and an
        ``object`` without schema accept any key (their values are untyped).
        """
        if self.name == "object":
            if self.fields is None:
                return ANY
            return dict(self.fields).get(name)
        if self.name == "dict":
            return self.args[1] if self.args else ANY
        if self.name == "any":
            return ANY
        return None

    # -- values ----------------------------------------------------------
    def accepts(self, value: Any) -> bool:
        """Whether ``value`` (plain JSON-like data) is of this type."""
        name = self.name
        if name == "any":
            return True
        if name == "str":
            return isinstance(value, str)
        if name == "bool":
            return isinstance(value, bool)
        if name == "int":
            return isinstance(value, int) and not isinstance(value, bool)
        if name == "float":
            return isinstance(value, int | float) and not isinstance(value, bool)
        if name == "list":
            return isinstance(value, list) and (not self.args or all(self.args[0].accepts(v) for v in value))
        if name in ("dict", "object"):
            if not isinstance(value, Mapping):
                return False
            if name == "dict" and self.args:
                key_type, value_type = self.args
                return all(_key_ok(key_type, k) and value_type.accepts(v) for k, v in value.items())
            if self.fields is not None:
                declared = dict(self.fields)
                return all(k in declared and declared[k].accepts(v) for k, v in value.items())
            return True
        return False

    def mismatch(self, value: Any, where: str) -> str | None:
        """Where ``value`` first departs from this type (``profile.age must be int, not a string ("old")``).

        ``None`` when the value fits (exactly when :meth:`accepts` is true); the
        message points inside nested lists, dicts and objects.
        """
        if self.accepts(value):
            return None
        if self.name == "list" and isinstance(value, list) and self.args:
            for index, item in enumerate(value):
                if found := self.args[0].mismatch(item, f"{where}[{index}]"):
                    return found
        if self.name == "dict" and isinstance(value, Mapping) and self.args:
            key_type, value_type = self.args
            for key, item in value.items():
                if not _key_ok(key_type, key):
                    return f"{where} has the key {key!r}; its keys must be {key_type}."
                if found := value_type.mismatch(item, f"{where}[{json.dumps(key)}]"):
                    return found
        if self.name == "object" and isinstance(value, Mapping) and self.fields is not None:
            declared = dict(self.fields)
            for key, item in value.items():
                if key not in declared:
                    return f"{where} has no sub-field {key!r}; its sub-fields are: {', '.join(declared)}."
                if found := declared[key].mismatch(item, f"{where}.{key}"):
                    return found
        shown = json.dumps(value, ensure_ascii=False, default=str)
        shown = shown if len(shown) <= 60 else shown[:57] + "..."
        return f"{where} must be {self.describe()}, not {_json_kind(value)} ({shown})."

    def describe(self) -> str:
        """The type as a person reads it; objects show their sub-fields: ``object{name: str, age: int}``."""
        if self.name == "object" and self.fields is not None:
            return "object{" + ", ".join(f"{name}: {sub.describe()}" for name, sub in self.fields) + "}"
        if self.args:
            return f"{self.name}[{', '.join(arg.describe() for arg in self.args)}]"
        return self.name

    def example(self) -> Any:
        """A small value of this type, for placeholders and the fix in error hints."""
        simple: dict[str, Any] = {"str": "text", "int": 1, "float": 0.5, "bool": True}
        if self.name in simple:
            return simple[self.name]
        if self.name == "list":
            return [self.args[0].example()] if self.args else ["a", "b"]
        if self.name == "dict":
            if not self.args:
                return {"key": "value"}
            key = {"str": "key", "int": "1", "float": "0.5", "bool": "true"}.get(self.args[0].name, "key")
            return {key: self.args[1].example()}
        if self.name == "object":
            return {"key": "value"} if self.fields is None else {name: sub.example() for name, sub in self.fields}
        return None

    def can_store_in(self, target: TypeRef) -> bool:
        """Whether every value of this type is a valid value of ``target``."""
        if target.name == "any" or self.name == "any":
            return True
        if self.name == "int" and target.name == "float":
            return True
        if self.name != target.name:
            return self.name in ("dict", "object") and target.name in ("dict", "object") and target.fields is None
        if target.args and self.args:
            return all(a.can_store_in(b) for a, b in zip(self.args, target.args, strict=True))
        if target.args and not self.args:
            return False
        if target.fields is not None:
            if self.fields is None:
                return False
            mine = dict(self.fields)
            return all(name in mine and mine[name].can_store_in(t) for name, t in target.fields)
        return True

    def json_schema(self) -> dict[str, Any]:
        """A JSON Schema fragment describing values of this type."""
        name = self.name
        simple = {"str": "string", "int": "integer", "float": "number", "bool": "boolean"}
        if name in simple:
            return {"type": simple[name]}
        if name == "list":
            return {"type": "array", "items": self.args[0].json_schema()} if self.args else {"type": "array"}
        if name == "dict":
            schema: dict[str, Any] = {"type": "object"}
            if self.args:
                schema["additionalProperties"] = self.args[1].json_schema()
            return schema
        if name == "object":
            if self.fields is None:
                return {"type": "object"}
            return {
                "type": "object",
                "properties": {k: t.json_schema() for k, t in self.fields},
                "additionalProperties": False,
            }
        return {}

    def python_type(self) -> Any:
        """The Python/pydantic annotation for values of this type."""
        name = self.name
        simple: dict[str, Any] = {"str": str, "int": int, "float": float, "bool": bool, "any": Any}
        if name in simple:
            return simple[name]
        if name == "list":
            return list[self.args[0].python_type()] if self.args else list[Any]
        if name == "dict":
            return dict[self.args[0].python_type(), self.args[1].python_type()] if self.args else dict[str, Any]
        if self.fields is None:
            return dict[str, Any]
        from pydantic import create_model

        definitions: dict[str, Any] = {k: (t.python_type() | None, None) for k, t in self.fields}
        return create_model("Object", **definitions)


ANY = TypeRef("any")


def _key_ok(key_type: TypeRef, key: Any) -> bool:
    if key_type.name == "str":
        return isinstance(key, str)
    return key_type.accepts(key)


def _json_kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    return "an object"


def suggest_type(name: str) -> str | None:
    """The allowed type a misspelled or foreign type name most likely meant."""
    if name in _ALIASES:
        return _ALIASES[name]
    close = difflib.get_close_matches(name.lower(), BASIC_TYPES, n=1, cutoff=0.6)
    return close[0] if close else None


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0
        self.depth = 0  # open '[' around the current position

    def peek(self) -> tuple[str, str, int] | None:
        match = _TOKEN.match(self.text, self.pos)
        if not match:
            rest = self.text[self.pos :].lstrip()
            if not rest:
                return None
            offset = len(self.text) - len(rest)
            raise TypeSyntaxError(f"unexpected character {rest[0]!r} in type {self.text!r}.", offset)
        kind = "name" if match.group("name") else "punct"
        return kind, match.group(kind), match.start(kind)

    def take(self) -> tuple[str, str, int]:
        token = self.peek()
        if token is None:
            raise TypeSyntaxError(f"type {self.text!r} ends too early.", len(self.text))
        match = _TOKEN.match(self.text, self.pos)
        assert match is not None
        self.pos = match.end()
        return token

    def parse_type(self) -> TypeRef:
        kind, value, offset = self.take()
        if kind != "name":
            raise TypeSyntaxError(f"expected a type name in {self.text!r}, found {value!r}.", offset)
        if value not in BASIC_TYPES:
            suggestion = suggest_type(value)
            maybe = f" Did you mean {suggestion!r}?" if suggestion else ""
            raise TypeSyntaxError(f"unknown type {value!r}.{maybe} Allowed: {ALLOWED_FORMS}.", offset)
        token = self.peek()
        if token is None or token[1] != "[":
            return TypeRef(value)
        if value not in _ARITY:
            raise TypeSyntaxError(f"{value!r} takes no type arguments (only list[T] and dict[K, V] do).", token[2])
        self.take()
        self.depth += 1
        if self.depth > MAX_TYPE_DEPTH:
            raise TypeSyntaxError(
                f"type {self.text[:40]!r}… nests list[...]/dict[...] more than {MAX_TYPE_DEPTH} levels deep.", token[2]
            )
        args = [self.parse_type()]
        while (token := self.take())[1] == ",":
            args.append(self.parse_type())
        self.depth -= 1
        if token[1] != "]":
            raise TypeSyntaxError(f"expected ',' or ']' in {self.text!r}, found {token[1]!r}.", token[2])
        if len(args) != _ARITY[value]:
            form = "list[T]" if value == "list" else "dict[K, V]"
            raise TypeSyntaxError(f"{value} takes {_ARITY[value]} type argument(s): write {form}.", offset)
        if value == "dict" and args[0].name not in ("str", "int", "float", "bool"):
            raise TypeSyntaxError(f"dict keys must be a basic type (str, int, float, bool), not {args[0]}.", offset)
        return TypeRef(value, tuple(args))


def parse_type(text: str) -> TypeRef:
    """Parse a type string; raises :class:`TypeSyntaxError` naming the allowed forms."""
    if not isinstance(text, str) or not text.strip():
        raise TypeSyntaxError(f"a type must be a non-empty string. Allowed: {ALLOWED_FORMS}.")
    return _parse_type(text)


@functools.lru_cache(maxsize=4096)
def _parse_type(text: str) -> TypeRef:
    """Types are immutable and every run checks its inputs against its fields' types: parse each string once."""
    parser = _Parser(text)
    result = parser.parse_type()
    token = parser.peek()
    if token is not None:
        raise TypeSyntaxError(f"unexpected {token[1]!r} after the type in {text!r}.", token[2])
    return result


def object_type(schema: Mapping[str, Any]) -> TypeRef:
    """An ``object`` type from a state field's ``schema`` (sub-field -> type string or nested mapping)."""
    fields = []
    for key, value in schema.items():
        fields.append((key, object_type(value) if isinstance(value, Mapping) else parse_type(value)))
    return TypeRef("object", fields=tuple(fields))
