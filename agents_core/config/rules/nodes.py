"""Rule 4 (references) for nodes: ids, templates, inputs, outputs, tools."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from agents_core.config.loader import PathKey
from agents_core.config.rules.context import Context, did_you_mean, known
from agents_core.config.rules.state import object_schema_at, parse_type_at
from agents_core.config.templates import parse_template
from agents_core.config.types import TypeRef
from agents_core.tools.registry import get_tool_info, tool_names

RESERVED_NODE_IDS = ("START", "END")
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
TEXT = TypeRef("str")


def check_nodes(ctx: Context) -> None:
    """Check every node; fills ``ctx.node_ids`` and ``ctx.reads`` on the way."""
    for index, node in ctx.nodes():
        node_id = node.get("id")
        if isinstance(node_id, str):
            _check_id(ctx, index, node_id)
        inputs = node.get("inputs") if isinstance(node.get("inputs"), dict) else {}
        for name, value in inputs.items():
            _check_input(ctx, (*_node(index), "inputs", name), name, value)
        prompt = node.get("prompt")
        if isinstance(prompt, str):
            check_template(ctx, (*_node(index), "prompt"), prompt, set(map(str, inputs)))
        _check_outputs(ctx, index, node)
        _check_tools(ctx, index, node.get("tools"))


def _node(index: int) -> PathKey:
    return ("nodes", index)


def _check_id(ctx: Context, index: int, node_id: str) -> None:
    path = (*_node(index), "id")
    if node_id in RESERVED_NODE_IDS:
        ctx.add(
            "E-NODE-RESERVED",
            path,
            f"{node_id} is reserved for the start and end of the graph and cannot be a node id.",
            "Rename the node.",
        )
        return
    if node_id in ctx.node_ids:
        first = ctx.node_ids[node_id]
        ctx.add(
            "E-NODE-DUPLICATE",
            path,
            f"node id {node_id!r} is already used by nodes[{first}].",
            "Give every node a unique id.",
        )
        return
    ctx.node_ids[node_id] = index


def _check_input(ctx: Context, path: PathKey, name: Any, value: Any) -> None:
    if not _IDENTIFIER.fullmatch(str(name)) or name == "state":
        ctx.add(
            "E-INPUT-NAME",
            path,
            f"input name {name!r} cannot be used in a prompt.",
            "Input names use letters, digits and '_' (and are not 'state').",
            at_key=True,
        )
    if isinstance(value, str):
        check_template(ctx, path, value, set(), in_inputs=True)


def check_template(
    ctx: Context,
    path: PathKey,
    text: str,
    local_names: set[str],
    in_inputs: bool = False,
    bare_state: bool = True,
) -> None:
    """Report malformed placeholders and unknown references in a template string.

    A bare ``{name}`` is a node input first, then a state field (the seed
    project's order); ``bare_state=False`` keeps it to inputs only (run names).
    """
    parsed = parse_template(text)
    for issue in parsed.issues:
        ctx.add_in_text("E-TEMPLATE-SYNTAX", path, text, issue.offset, issue.length, issue.message, issue.hint)
    for placeholder in parsed.placeholders:
        if placeholder.kind == "state":
            check_state_path(ctx, path, text, placeholder.offset, placeholder.text, placeholder.path)
            continue
        name = placeholder.name
        dotted = len(placeholder.path) > 1
        if not dotted and name in local_names:
            continue
        if bare_state and (name in ctx.state_fields() or not ctx.state_readable):
            check_state_path(ctx, path, text, placeholder.offset, placeholder.text, placeholder.path)
            continue
        _report_bare(ctx, path, text, placeholder.offset, placeholder.text, placeholder.path, local_names, in_inputs)


def _report_bare(
    ctx: Context,
    path: PathKey,
    text: str,
    offset: int,
    shown: str,
    ref: tuple[str, ...],
    local_names: set[str],
    in_inputs: bool,
) -> None:
    """A bare placeholder that names neither an input of the node nor a state field."""
    name = ref[0]
    fields = list(ctx.state_fields())
    if in_inputs:
        message = (
            f"{shown} is not a state field; inputs can refer to state fields only."
            f"{did_you_mean(name, fields)} {known(fields, 'Known fields')}"
        )
        hint = "Refer to a declared field: {state.field}."
    elif len(ref) > 1 and name in local_names:
        message = f"{shown}: input {name!r} has no sub-fields here, and {name!r} is not a state field."
        hint = f"Write {{{name}}}, or refer to an object state field as {{state.field.sub}}."
    else:
        suggestion = did_you_mean(name, [*local_names, *fields])
        message = (
            f"{shown} is neither an input of this node nor a state field.{suggestion} "
            f"{known(local_names, 'Inputs')} {known(fields, 'State fields')}"
        )
        hint = f'Declare it under `inputs` ({name}: "{{state.field}}"), or refer to a state field as {{state.field}}.'
    ctx.add_in_text("E-REF-LOCAL", path, text, offset, len(shown), message, hint)


def check_state_path(
    ctx: Context, path: PathKey, text: str, offset: int, shown: str, ref: tuple[str, ...]
) -> TypeRef | None:
    """Check ``{state.a.b}`` against the declared fields; returns the referenced type."""
    field = ref[0]
    ctx.reads.setdefault(field, path)
    current = ctx.state_types.get(field)
    if current is None:
        if field in ctx.state_fields() or not ctx.state_readable:
            return None  # declared, but its type is broken: reported already
        fields = list(ctx.state_fields())
        ctx.add_in_text(
            "E-REF-STATE",
            path,
            text,
            offset,
            len(shown),
            f"{shown} is not a state field.{did_you_mean(field, fields)} {known(fields, 'Known fields')}",
            f"Use one of the declared fields, or declare {field!r} under state.fields.",
        )
        return None
    walked = [field]
    for part in ref[1:]:
        sub = current.subfield(part)
        if sub is None:
            where = ".".join(walked)
            subs = current.field_map()
            if subs is None:
                message = f"{shown}: state.{where} is {current}, which has no sub-field {part!r}."
                hint = "Only object fields (with `schema`) and dicts have sub-fields."
            else:
                message = (
                    f"{shown}: state.{where} has no sub-field {part!r}.{did_you_mean(part, subs)} "
                    f"{known(subs, 'Known sub-fields')}"
                )
                hint = f"Add {part!r} to the `schema` of {field!r}, or use a declared sub-field."
            ctx.add_in_text("E-REF-SUBFIELD", path, text, offset, len(shown), message, hint)
            return None
        walked.append(part)
        current = sub
    return current


def _check_outputs(ctx: Context, index: int, node: dict[str, Any]) -> None:
    outputs = node.get("outputs")
    outputs = [o for o in outputs if isinstance(o, str)] if isinstance(outputs, list) else []
    node_path = _node(index)
    for position, name in enumerate(outputs):
        if ctx.state_readable and name not in ctx.state_fields():
            fields = list(ctx.state_fields())
            ctx.add(
                "E-OUTPUT-UNKNOWN-FIELD",
                (*node_path, "outputs", position),
                f"output {name!r} is not a state field.{did_you_mean(name, fields)} {known(fields, 'Known fields')}",
                f"Declare {name!r} under state.fields, or write to an existing field.",
            )
    schema = node.get("output_schema")
    if schema is None:
        _check_text_output(ctx, node_path, outputs, node)
    elif isinstance(schema, dict) and isinstance(schema.get("type"), str):
        if schema["type"] == "object":
            _check_object_output(ctx, (*node_path, "output_schema"), schema, outputs, node_path)
        else:
            _check_single_output(ctx, (*node_path, "output_schema"), schema, outputs, node_path)


def _check_text_output(ctx: Context, node_path: PathKey, outputs: list[str], node: dict[str, Any]) -> None:
    if not outputs:
        if "outputs" not in node or node.get("outputs") == []:
            ctx.add(
                "W-NODE-NO-OUTPUTS",
                (*node_path, "id"),
                f"node {node.get('id')!r} writes no state field, so its reply is lost.",
                "List the state fields it writes under `outputs`.",
            )
        return
    if len(outputs) > 1:
        ctx.add(
            "E-OUTPUT-COUNT",
            (*node_path, "outputs"),
            f"without an output_schema a node replies with one text, but it lists {len(outputs)} outputs.",
            "Add an output_schema of type object with one field per output, or keep one output.",
        )
        return
    _check_compatible(ctx, (*node_path, "outputs", 0), outputs[0], TEXT, "the text reply")


def _check_single_output(
    ctx: Context, path: PathKey, schema: dict[str, Any], outputs: list[str], node_path: PathKey
) -> None:
    output_type = parse_type_at(ctx, (*path, "type"), schema["type"])
    if schema.get("fields") is not None:
        ctx.add(
            "E-OUTPUT-SCHEMA",
            (*path, "fields"),
            f"`fields` belongs to `type: object`, but this output_schema has type {schema['type']!r}.",
            "Set `type: object`, or remove `fields`.",
            at_key=True,
        )
    if len(outputs) != 1:
        ctx.add(
            "E-OUTPUT-COUNT",
            (*node_path, "outputs") if outputs else path,
            f"an output_schema of a single type ({schema['type']}) writes exactly one output, not {len(outputs)}.",
            "List exactly one state field under `outputs`, or use `type: object` with fields.",
        )
        return
    if output_type is not None:
        _check_compatible(ctx, (*node_path, "outputs", 0), outputs[0], output_type, "the output")


def _check_object_output(
    ctx: Context, path: PathKey, schema: dict[str, Any], outputs: list[str], node_path: PathKey
) -> None:
    fields = schema.get("fields")
    if not isinstance(fields, list) or not fields:
        if fields is None or fields == []:
            ctx.add(
                "E-OUTPUT-SCHEMA",
                path,
                "an output_schema of type object needs a non-empty `fields` list.",
                "Add `fields: [{name: ..., type: ...}]`, one per output.",
                at_key=True,
            )
        return
    declared: dict[str, tuple[int, TypeRef | None]] = {}
    for position, field in enumerate(fields):
        if not isinstance(field, dict) or not isinstance(field.get("name"), str):
            continue
        name = field["name"]
        field_path = (*path, "fields", position)
        if name in declared:
            ctx.add(
                "E-OUTPUT-SCHEMA",
                (*field_path, "name"),
                f"output field {name!r} is declared twice.",
                "Give each output field a unique name.",
            )
            continue
        field_type = (
            parse_type_at(ctx, (*field_path, "type"), field["type"]) if isinstance(field.get("type"), str) else None
        )
        declared[name] = (position, _with_schema(ctx, field_path, field, field_type))
    for position, name in enumerate(outputs):
        if name not in declared:
            ctx.add(
                "E-OUTPUT-MISMATCH",
                (*node_path, "outputs", position),
                f"output {name!r} has no field of that name in output_schema.fields.{did_you_mean(name, declared)}",
                "Outputs and output_schema fields correspond one to one, by name.",
            )
    for name, (position, field_type) in declared.items():
        field_path = (*path, "fields", position, "name")
        if name not in outputs:
            ctx.add(
                "E-OUTPUT-MISMATCH",
                field_path,
                f"output_schema field {name!r} is not listed in `outputs`, so it would be discarded.",
                f"Add {name!r} to `outputs` (and to state.fields), or remove the field.",
            )
        elif field_type is not None:
            _check_compatible(ctx, field_path, name, field_type, f"output field {name!r}")


def _with_schema(
    ctx: Context, field_path: PathKey, field: dict[str, Any], field_type: TypeRef | None
) -> TypeRef | None:
    """An output field's type, shaped by its own ``schema`` (the seed's nested objects) or its state field's.

    ``type: object`` without a schema writing to an object state field takes
    that field's schema, as the engine does when it builds the reply model.
    """
    schema = field.get("schema")
    if field_type is None:
        return None
    if schema is not None and field_type.name != "object":
        ctx.add(
            "E-OUTPUT-SCHEMA",
            (*field_path, "schema"),
            f"`schema` describes object sub-fields, but output field {field.get('name')!r} has type {field_type}.",
            "Set `type: object`, or remove `schema`.",
            at_key=True,
        )
        return field_type
    if field_type.name != "object":
        return field_type
    if isinstance(schema, Mapping):
        return object_schema_at(ctx, (*field_path, "schema"), schema)
    target = ctx.state_types.get(str(field.get("name")))
    if schema is None and target is not None and target.name == "object":
        return target
    return field_type


def _check_compatible(ctx: Context, path: PathKey, state_field: str, produced: TypeRef, what: str) -> None:
    target = ctx.state_types.get(state_field)
    if target is None or produced.can_store_in(target):
        return
    shown, wanted = str(produced), str(target)
    if shown == wanted:  # same name, different sub-fields: show them, or the message contradicts itself
        shown, wanted = produced.describe(), target.describe()
    ctx.add(
        "E-OUTPUT-TYPE",
        path,
        f"{what} is {shown}, but state field {state_field!r} is {wanted}.",
        f"Make the types agree: declare the output as {wanted}, or change the state field's type.",
    )


def _check_tools(ctx: Context, index: int, tools: Any) -> None:
    if not isinstance(tools, list):
        return
    for position, name in enumerate(tools):
        # One lookup per name: installed plugins are scanned only for a name the built-ins do not know.
        if isinstance(name, str) and get_tool_info(name) is None:
            available = tool_names()
            ctx.add(
                "E-TOOL-UNKNOWN",
                (*_node(index), "tools", position),
                f"tool {name!r} is not registered.{did_you_mean(name, available)} {known(available, 'Available tools')}",
                "Use a registered tool name, or register the tool before running.",
            )
