"""Prompt templates: ``{state.field}``, ``{state.field.sub}``, ``{local}``, ``{{ }}``.

A bare ``{name}`` (or ``{name.sub}``) is the seed project's form: it names a
node input first and, failing that, a state field, the order the seed's
runtime resolves it in. ``{state.x}`` stays the documented form.

One parser serves the validator (which placeholders exist, at which offset)
and the engine (substitution). Substitution is a single left-to-right pass
over the *template*: values are inserted as text and never scanned again, so
a value that itself contains ``{state.secret}`` comes out verbatim.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

_IDENT = r"[A-Za-z_][A-Za-z0-9_]*"
_STATE_REF = re.compile(rf"state(?:\.{_IDENT})+")
_LOCAL_REF = re.compile(rf"{_IDENT}(?:\.{_IDENT})*")


@dataclass(frozen=True)
class Placeholder:
    """One ``{...}`` in a template; ``offset`` is the index of its ``{``.

    ``kind`` is ``state`` for ``{state.a.b}`` and ``local`` for a bare
    ``{name}`` or ``{name.sub}``, which resolves as a node input first, then
    as a state field.
    """

    text: str
    offset: int
    kind: Literal["state", "local"]
    path: tuple[str, ...]

    @property
    def name(self) -> str:
        """The state field or local name the placeholder starts with."""
        return self.path[0]


@dataclass(frozen=True)
class TemplateIssue:
    """A malformed part of a template (stray brace, bad placeholder)."""

    message: str
    hint: str
    offset: int
    length: int


@dataclass(frozen=True)
class ParsedTemplate:
    """The pieces of a template: literal text and placeholders, in order."""

    parts: tuple[str | Placeholder, ...]
    issues: tuple[TemplateIssue, ...]

    @property
    def placeholders(self) -> list[Placeholder]:
        return [part for part in self.parts if isinstance(part, Placeholder)]


def parse_template(text: str) -> ParsedTemplate:
    """Split a template into literal text and placeholders, collecting every issue."""
    parts: list[str | Placeholder] = []
    issues: list[TemplateIssue] = []
    literal: list[str] = []
    i, n = 0, len(text)
    while i < n:
        char = text[i]
        if char == "{" and text.startswith("{{", i):
            literal.append("{")
            i += 2
        elif char == "}" and text.startswith("}}", i):
            literal.append("}")
            i += 2
        elif char == "}":
            issues.append(TemplateIssue("a single '}' has no matching '{'.", "Write '}}' for a literal brace.", i, 1))
            literal.append("}")
            i += 1
        elif char == "{":
            close = text.find("}", i + 1)
            opener = text.find("{", i + 1)
            if close < 0 or (0 <= opener < close):
                issues.append(
                    TemplateIssue(
                        "a '{' is never closed.",
                        "Close the placeholder with '}', or write '{{' for a literal brace.",
                        i,
                        1,
                    )
                )
                literal.append("{")
                i += 1
                continue
            inner = text[i + 1 : close]
            placeholder = _placeholder(inner, text[i : close + 1], i)
            if isinstance(placeholder, TemplateIssue):
                issues.append(placeholder)
                literal.append(text[i : close + 1])
            else:
                if literal:
                    parts.append("".join(literal))
                    literal = []
                parts.append(placeholder)
            i = close + 1
        else:
            nxt = min((p for p in (text.find("{", i), text.find("}", i)) if p >= 0), default=n)
            literal.append(text[i:nxt])
            i = nxt
    if literal:
        parts.append("".join(literal))
    return ParsedTemplate(tuple(parts), tuple(issues))


def _placeholder(inner: str, whole: str, offset: int) -> Placeholder | TemplateIssue:
    stripped = inner.strip()
    if _STATE_REF.fullmatch(stripped) and stripped == inner:
        return Placeholder(whole, offset, "state", tuple(stripped.split(".")[1:]))
    if _LOCAL_REF.fullmatch(stripped) and stripped == inner and stripped.split(".")[0] != "state":
        return Placeholder(whole, offset, "local", tuple(stripped.split(".")))
    if stripped == "state":
        hint = "Name a field: {state.field}."
    elif stripped != inner and (_STATE_REF.fullmatch(stripped) or _LOCAL_REF.fullmatch(stripped)):
        hint = f"Remove the spaces: {{{stripped}}}."
    else:
        hint = (
            "Placeholders are {state.field}, {state.field.sub} or {input_name}; write '{{' and '}}' for literal braces."
        )
    return TemplateIssue(f"{whole} is not a valid placeholder.", hint, offset, len(whole))


def value_as_text(value: Any) -> str:
    """How a value appears inside a prompt: strings as they are, the rest as JSON."""
    if isinstance(value, str):
        return value
    if value is None:
        return ""
    if hasattr(value, "model_dump"):
        value = value.model_dump()
    return json.dumps(value, ensure_ascii=False, default=str)


class TemplateRenderError(KeyError):
    """A placeholder names something the state or the inputs do not hold."""


def resolve_path(state: Mapping[str, Any], path: tuple[str, ...]) -> Any:
    """Look up ``state.a.b`` by declared keys only (no attribute access)."""
    value: Any = state
    for index, key in enumerate(path):
        if hasattr(value, "model_dump"):
            value = value.model_dump()
        if not isinstance(value, Mapping) or key not in value:
            raise TemplateRenderError(f"state.{'.'.join(path[: index + 1])} is not set")
        value = value[key]
    return value


def render(template: str | ParsedTemplate, state: Mapping[str, Any], local: Mapping[str, Any] | None = None) -> str:
    """Substitute placeholders with values as text, in one pass."""
    parsed = parse_template(template) if isinstance(template, str) else template
    local = local or {}
    out: list[str] = []
    for part in parsed.parts:
        if isinstance(part, str):
            out.append(part)
        elif part.kind == "state":
            out.append(value_as_text(resolve_path(state, part.path)))
        else:
            out.append(value_as_text(_resolve_bare(part, state, local)))
    return "".join(out)


def _resolve_bare(part: Placeholder, state: Mapping[str, Any], local: Mapping[str, Any]) -> Any:
    """A bare ``{name}``: the node's input of that name, else the state field (the seed's order)."""
    if len(part.path) == 1 and part.name in local:
        return local[part.name]
    if part.name in state:
        return resolve_path(state, part.path)
    raise TemplateRenderError(f"{part.text} is neither an input of this node nor a state field")
