"""The Run page's input form, without Streamlit: which widget per field, and values back into run inputs.

The form is generated from the workflow's state schema (``state_fields``):
each field becomes one :class:`FormField` saying which widget shows it, what
it starts with and how it is labelled. After the user submits, :func:`collect`
turns the widget values back into run inputs that ``check_inputs`` accepts,
or into :class:`FieldError` s that name the field (and, for JSON, the place
inside it) and say what to do. Fields left at their defaults are not passed,
so the engine's own defaults apply and the stored run holds what the user gave.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from agents_core.config.models import Workflow
from agents_core.config.types import TypeRef
from agents_core.config.validator import ValidationReport, validate_file
from agents_core.engine.state import FieldSpec, InputError, loads_checked, missing_subfield, state_fields
from agents_core.llm.registry import provider_names

WidgetKind = Literal["text", "int", "float", "bool", "json"]
AS_CONFIGURED = "as configured"
_SIMPLE_KINDS: dict[str, WidgetKind] = {"str": "text", "int": "int", "float": "float", "bool": "bool"}


@dataclass(frozen=True)
class FormField:
    """One input of the form: the widget it gets and what it starts with."""

    name: str
    kind: WidgetKind
    type: TypeRef
    required: bool
    #: What the widget shows first: a str, int/float (or None: empty), bool, or JSON text.
    initial: Any
    help: str
    #: For JSON fields: an example value of the type, shown as the placeholder.
    placeholder: str = ""
    #: Nodes that write this field (an input here is only its starting value).
    written_by: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        """``topic *`` for a required field; the type and description go into ``help``."""
        return f"{self.name} *" if self.required else self.name


@dataclass(frozen=True)
class FieldError:
    """A form value that cannot be used, with the field it belongs to."""

    field: str
    message: str
    hint: str = ""

    def __str__(self) -> str:
        return f"{self.message} {self.hint}".strip()


def widget_kind(type_: TypeRef) -> WidgetKind:
    """``str`` → text area, ``int``/``float`` → number input, ``bool`` → checkbox, anything else → JSON."""
    return _SIMPLE_KINDS.get(type_.name, "json")


def _writers(workflow: Workflow) -> dict[str, tuple[str, ...]]:
    writers: dict[str, list[str]] = {}
    for node in workflow.nodes:
        for name in node.outputs:
            writers.setdefault(name, []).append(node.id)
    return {name: tuple(ids) for name, ids in writers.items()}


def _initial(spec: FieldSpec, kind: WidgetKind) -> Any:
    default = spec.default if spec.has_default else None
    if kind == "json":
        return "" if default is None else json.dumps(default, ensure_ascii=False, indent=2)
    if kind == "text":
        return "" if default is None else str(default)
    if kind == "bool":
        return bool(default)
    if default is None:
        return None  # an empty number input: the user must type a number (or leave the optional one out)
    return int(default) if kind == "int" else float(default)


def _help(spec: FieldSpec, written_by: tuple[str, ...]) -> str:
    parts = [spec.description.strip()] if spec.description.strip() else []
    parts.append(f"Type: {spec.type.describe()}.")
    if spec.required:
        parts.append("Required.")
    elif spec.has_default:
        parts.append(f"Default: {json.dumps(spec.default, ensure_ascii=False)}.")
    if written_by:
        parts.append(f"Written by {', '.join(written_by)}; a value here is only its starting value.")
    return " ".join(parts)


def form_fields(workflow: Workflow) -> list[FormField]:
    """The form's fields in declaration order (the page puts the optional ones in an expander)."""
    writers = _writers(workflow)
    fields = []
    for name, spec in state_fields(workflow).items():
        kind = widget_kind(spec.type)
        written_by = writers.get(name, ())
        fields.append(
            FormField(
                name=name,
                kind=kind,
                type=spec.type,
                required=spec.required,
                initial=_initial(spec, kind),
                help=_help(spec, written_by),
                placeholder=json.dumps(spec.type.example(), ensure_ascii=False) if kind == "json" else "",
                written_by=written_by,
            )
        )
    return fields


def parse_json_field(field: FormField, text: str) -> Any:
    """The value of a JSON field, or a :class:`FieldError` naming the field (raised)."""
    example = json.dumps(field.type.example(), ensure_ascii=False)
    try:
        value = loads_checked(text, field.name)
    except InputError as exc:
        raise _Invalid(
            FieldError(field.name, exc.message, f"Write {field.type.describe()} as JSON, e.g. {example}")
        ) from None
    except json.JSONDecodeError as exc:
        raise _Invalid(
            FieldError(
                field.name,
                f"{field.name}: the JSON is malformed at line {exc.lineno}, column {exc.colno} ({exc.msg}).",
                f"Write {field.type.describe()} as JSON, e.g. {example}",
            )
        ) from None
    problem = field.type.mismatch(value, field.name) or missing_subfield(field.type, value, field.name)
    if problem:
        raise _Invalid(FieldError(field.name, problem, f"Write {field.type.describe()} as JSON, e.g. {example}"))
    return value


class _Invalid(Exception):
    def __init__(self, error: FieldError) -> None:
        super().__init__(str(error))
        self.error = error


def _value(field: FormField, raw: Any) -> tuple[bool, Any]:
    """``(given, value)`` for one widget value; ``given`` is False for "left empty, use the default"."""
    if field.kind == "json":
        text = "" if raw is None else str(raw)
        if not text.strip():
            if field.required:
                raise _Invalid(
                    FieldError(field.name, f"{field.name} is required.", f"Write it as JSON, e.g. {field.placeholder}")
                )
            return False, None
        value = parse_json_field(field, text)
        return field.required or value != _initial_value(field), value
    if field.kind == "text":
        text = "" if raw is None else str(raw)
        if field.required and not text.strip():
            raise _Invalid(FieldError(field.name, f"{field.name} is required.", "Type a value."))
        return field.required or text != field.initial, text
    if field.kind in ("int", "float"):
        if raw is None:
            if field.required:
                raise _Invalid(FieldError(field.name, f"{field.name} is required.", "Enter a number."))
            return False, None
        if field.kind == "int":
            if isinstance(raw, float) and not raw.is_integer():
                raise _Invalid(FieldError(field.name, f"{field.name} must be a whole number, not {raw}."))
            value: Any = int(raw)
        else:
            value = float(raw)
        return field.required or value != field.initial, value
    value = bool(raw)
    return field.required or value != field.initial, value


def _initial_value(field: FormField) -> Any:
    if not field.initial:
        return None
    return json.loads(field.initial)


def collect(fields: list[FormField], values: Mapping[str, Any]) -> tuple[dict[str, Any], list[FieldError]]:
    """Run inputs from the widget values (by field name), and every problem found, in form order.

    Required fields are always passed; optional ones only when they differ
    from what the form started with, so an untouched form runs on the
    workflow's defaults.
    """
    inputs: dict[str, Any] = {}
    errors: list[FieldError] = []
    for field in fields:
        try:
            given, value = _value(field, values.get(field.name))
        except _Invalid as invalid:
            errors.append(invalid.error)
            continue
        if given:
            inputs[field.name] = value
    return inputs, errors


def provider_options() -> list[str]:
    """The provider override choices: "as configured" first, then every registered provider."""
    return [AS_CONFIGURED, *provider_names()]


def overrides(provider_choice: str | None, model_text: str | None) -> dict[str, str | None]:
    """``provider=``/``model=`` for ``stream_run`` from the override widgets (None: as configured)."""
    provider = None if provider_choice in (None, "", AS_CONFIGURED) else provider_choice
    model = (model_text or "").strip() or None
    return {"provider": provider, "model": model}


def tracking_option(on: bool | None) -> dict[str, bool]:
    """``tracking=`` for ``RunService.start``: MLflow on or off for this run (nothing: the file's own setting)."""
    return {} if on is None else {"tracking": bool(on)}


@lru_cache(maxsize=64)
def _validated(path: str, mtime_ns: int, size: int) -> ValidationReport:
    return validate_file(path)


def check_file(path: Path) -> ValidationReport:
    """The validation report of a workflow file, recomputed only when the file changes."""
    stat = path.stat()
    return _validated(str(path), stat.st_mtime_ns, stat.st_size)
