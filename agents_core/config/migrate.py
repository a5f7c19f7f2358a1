"""The seed project's later edge forms, translated into ours (issue 8 §5).

The seed (thatAverageGuy/configurable-agents, schema_version "1.0") grew two
edge forms that this format writes differently:

- ``{from: x, loop: {condition_field: f, max_iterations: n, exit_to: y}}``:
  after ``x``, leave to ``y`` (default END) once ``state.f`` is truthy, else
  run ``x`` again. Ours: a routes block that goes back,
  ``{from: x, routes: [{condition: {logic: "{state.f}"}, to: y},
  {condition: {logic: default}, to: x}]}``, bounded by
  ``config.execution.max_loop_iterations``.
- ``{from: s, to: [a, b]}`` with every branch followed by the same node ``j``:
  ours is ``{from: s, parallel: [a, b], join: j}``, and the branches' own
  edges to ``j`` go (a branch has no edge of its own).

One function, :func:`plan_seed_edges`, works out the equivalents from the raw
data; the validator shows them in its hints and ``configurable-agents
migrate`` writes them. :func:`migrate_text` rewrites only the text of the
affected edges (positions from PyYAML's composer), so comments elsewhere in
the file survive. The module imports nothing heavy.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any, Literal

#: The seed's default bound of a loop edge, and ours for max_loop_iterations.
SEED_LOOP_DEFAULT = 10
OUR_LOOP_DEFAULT = 10
_PLAIN = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@dataclass
class SeedEdge:
    """One seed-only edge and its equivalent in our syntax (``replacement`` is None when there is none)."""

    index: int
    kind: Literal["loop", "fork"]
    replacement: dict[str, Any] | None
    remove: list[int] = field(default_factory=list)  # indexes of branch edges the fan-out absorbs
    max_iterations: int | None = None
    reason: str = ""

    def hint(self) -> str:
        """The exact equivalent, written as it would appear in the file."""
        if self.replacement is None:
            return self.reason
        text = f"Write it as {flow_yaml(self.replacement)}"
        if self.remove:
            text += f" and remove edges[{', '.join(map(str, self.remove))}] (a parallel branch has no edge of its own)"
        if self.max_iterations is not None and self.max_iterations != OUR_LOOP_DEFAULT:
            text += f", with config.execution.max_loop_iterations: {self.max_iterations}"
        text += ". `configurable-agents migrate FILE -o OUT` rewrites the file for you."
        if self.kind == "loop":
            text += " (Here a loop that reaches its bound fails the run instead of leaving.)"
        return text


def seed_kind(edge: Any) -> Literal["loop", "fork"] | None:
    """Whether an edge uses a seed-only form."""
    if not isinstance(edge, dict):
        return None
    if isinstance(edge.get("loop"), dict) and "routes" not in edge and "parallel" not in edge:
        return "loop"
    if isinstance(edge.get("to"), list):
        return "fork"
    return None


def plan_seed_edges(data: Any) -> list[SeedEdge]:
    """Every seed-only edge of a document, with its equivalent in our syntax."""
    edges = data.get("edges") if isinstance(data, dict) else None
    if not isinstance(edges, list):
        return []
    plans: list[SeedEdge] = []
    for index, edge in enumerate(edges):
        kind = seed_kind(edge)
        if kind == "loop":
            plans.append(_plan_loop(index, edge))
        elif kind == "fork":
            plans.append(_plan_fork(index, edge, edges))
    return plans


def _plan_loop(index: int, edge: dict[str, Any]) -> SeedEdge:
    loop = edge["loop"]
    source, condition_field = edge.get("from"), loop.get("condition_field")
    exit_to = loop.get("exit_to", "END")
    bound = loop.get("max_iterations", SEED_LOOP_DEFAULT)
    if not all(isinstance(v, str) and _PLAIN.fullmatch(v) for v in (source, condition_field, exit_to)):
        return SeedEdge(
            index,
            "loop",
            None,
            reason="A loop is a routes block that goes back: {from: x, routes: [{condition: {logic: "
            '"{state.done}"}, to: END}, {condition: {logic: default}, to: x}]}; name `from`, '
            "`loop.condition_field` and `loop.exit_to` as plain names to get the exact rewrite.",
        )
    replacement = {
        "from": source,
        "routes": [
            {"condition": {"logic": f"{{state.{condition_field}}}"}, "to": exit_to},
            {"condition": {"logic": "default"}, "to": source},
        ],
    }
    return SeedEdge(index, "loop", replacement, max_iterations=bound if isinstance(bound, int) else None)


def _plan_fork(index: int, edge: dict[str, Any], edges: list[Any]) -> SeedEdge:
    source, branches = edge.get("from"), edge["to"]
    names = [b for b in branches if isinstance(b, str)]
    if not isinstance(source, str) or len(names) != len(branches) or not names:
        return SeedEdge(index, "fork", None, reason="A fan-out is {from: s, parallel: [a, b], join: j}.")
    if len(names) == 1:
        return SeedEdge(index, "fork", {"from": source, "to": names[0]})
    joins: set[Any] = set()
    remove: list[int] = []
    for name in names:
        outgoing = [i for i, e in enumerate(edges) if isinstance(e, dict) and e.get("from") == name]
        if len(outgoing) != 1 or set(edges[outgoing[0]]) - {"from", "to"}:
            joins.add(None)
            continue
        joins.add(edges[outgoing[0]].get("to"))
        remove.append(outgoing[0])
    join = next(iter(joins)) if len(joins) == 1 else None
    if not isinstance(join, str) or join in names or join == "END":
        return SeedEdge(
            index,
            "fork",
            None,
            reason=f"A fan-out is {{from: {source}, parallel: [{', '.join(names)}], join: j}}, where j is the one node "
            "that runs after every branch; here the branches do not all go on to the same node with a plain edge, "
            "so give them one join node.",
        )
    replacement = {"from": source, "parallel": names, "join": join}
    return SeedEdge(index, "fork", replacement, remove=sorted(remove))


# -- rendering -------------------------------------------------------------------
def _scalar(value: Any) -> str:
    if isinstance(value, str) and _PLAIN.fullmatch(value) and value not in ("true", "false", "null", "yes", "no"):
        return value
    return json.dumps(value, ensure_ascii=False)


def flow_yaml(value: Any) -> str:
    """A value in YAML flow style on one line: ``{from: a, parallel: [b, c], join: d}``."""
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {flow_yaml(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(flow_yaml(v) for v in value) + "]"
    return _scalar(value)


def _block_yaml(value: dict[str, Any], indent: int) -> str:
    """A mapping in block style; the first line carries no indent (it follows ``- ``)."""
    pad = " " * indent
    lines: list[str] = []
    for key, item in value.items():
        if isinstance(item, list) and item and all(isinstance(i, dict) for i in item):
            lines.append(f"{key}:")
            for entry in item:
                first, *rest = list(entry.items())
                lines.append(f"  - {first[0]}: {flow_yaml(first[1])}")
                lines.extend(f"    {k}: {flow_yaml(v)}" for k, v in rest)
        else:
            lines.append(f"{key}: {flow_yaml(item)}")
    return lines[0] + "".join(f"\n{pad}{line}" for line in lines[1:])


# -- rewriting -------------------------------------------------------------------
@dataclass
class MigrationResult:
    """The rewritten text and what was done (``notes``) or could not be (``left``)."""

    text: str
    notes: list[str]
    left: list[str]

    @property
    def changed(self) -> bool:
        return bool(self.notes)


def migrate_text(text: str, file: str | None = None) -> MigrationResult:
    """Rewrite the seed-only edges of a workflow text into our syntax.

    YAML is rewritten in place (only the affected edges' text; comments
    elsewhere stay); JSON is written back whole, indented. A text that does
    not load is returned unchanged, for the validator to report.
    """
    from agents_core.config.loader import load_text

    loaded = load_text(text, file)
    data = loaded.data if not loaded.problems else None
    plans = plan_seed_edges(data)
    if not plans:
        return MigrationResult(text, [], [])
    notes, left = _describe(plans)
    if file is not None and file.lower().endswith(".json"):
        return MigrationResult(_migrate_data_as_json(data, plans), notes, left)
    return MigrationResult(_migrate_yaml(text, data, plans), notes, left)


def _describe(plans: list[SeedEdge]) -> tuple[list[str], list[str]]:
    notes: list[str] = []
    left: list[str] = []
    for plan in plans:
        what = "loop edge" if plan.kind == "loop" else "fork"
        if plan.replacement is None:
            left.append(f"edges[{plan.index}]: the {what} is left as it was. {plan.reason}")
        else:
            notes.append(f"edges[{plan.index}]: the {what} became {flow_yaml(plan.replacement)}")
            if plan.remove:
                removed = ", ".join(f"edges[{i}]" for i in plan.remove)
                notes.append(f"{removed}: removed (the fan-out's join follows every branch)")
    bound = _loop_bound(plans)
    if bound is not None:
        notes.append(f"config.execution.max_loop_iterations set to {bound} (the seed's loop bound)")
    return notes, left


def _loop_bound(plans: list[SeedEdge]) -> int | None:
    bounds = [p.max_iterations for p in plans if p.replacement is not None and p.max_iterations is not None]
    bound = max(bounds, default=None)
    return bound if bound is not None and bound != OUR_LOOP_DEFAULT else None


def _migrate_data_as_json(data: dict[str, Any], plans: list[SeedEdge]) -> str:
    edges = list(data["edges"])
    removed = {i for p in plans if p.replacement is not None for i in p.remove}
    for plan in plans:
        if plan.replacement is not None:
            edges[plan.index] = plan.replacement
    data = {**data, "edges": [e for i, e in enumerate(edges) if i not in removed]}
    bound = _loop_bound(plans)
    if bound is not None:
        config = dict(data.get("config") or {})
        config["execution"] = {**(config.get("execution") or {}), "max_loop_iterations": bound}
        data["config"] = config
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def _migrate_yaml(text: str, data: dict[str, Any], plans: list[SeedEdge]) -> str:
    import yaml

    root = yaml.compose(text, Loader=yaml.SafeLoader)
    edges_node = _value_node(root, "edges")
    assert isinstance(edges_node, yaml.SequenceNode)
    items = edges_node.value
    edits: list[tuple[int, int, str]] = []  # (start, end, replacement) over character offsets
    for plan in plans:
        if plan.replacement is None:
            continue
        node = items[plan.index]
        start, end = node.start_mark.index, _end(node)
        if node.flow_style or edges_node.flow_style:
            new = flow_yaml(plan.replacement)
        else:
            new = _block_yaml(plan.replacement, node.start_mark.column)
        edits.append((start, end, new))
        for index in plan.remove:
            edits.append(_removal(text, edges_node, index))
    bound = _loop_bound(plans)
    edits.sort(key=lambda edit: edit[0], reverse=True)
    for start, end, new in edits:
        text = text[:start] + new + text[end:]
    if bound is not None:
        text = set_loop_bound(text, bound)
    return text


def _value_node(mapping: Any, key: str) -> Any:
    for key_node, value_node in getattr(mapping, "value", []):
        if getattr(key_node, "value", None) == key:
            return value_node
    return None


def _end(node: Any) -> int:
    """Where a node's own text ends (a block collection's mark runs on to the next token)."""
    import yaml

    if isinstance(node, yaml.ScalarNode) or node.flow_style or not node.value:
        return node.end_mark.index
    last = node.value[-1]
    return _end(last[1] if isinstance(node, yaml.MappingNode) else last)


def _removal(text: str, edges_node: Any, index: int) -> tuple[int, int, str]:
    """The span that removes one edge item: whole lines in block style, the item and its comma in flow style."""
    items = edges_node.value
    node = items[index]
    if edges_node.flow_style:
        if index + 1 < len(items):
            return node.start_mark.index, items[index + 1].start_mark.index, ""
        return _end(items[index - 1]) if index else node.start_mark.index, _end(node), ""
    line_start = text.rfind("\n", 0, node.start_mark.index) + 1
    line_end = text.find("\n", _end(node))
    return line_start, len(text) if line_end < 0 else line_end + 1, ""


def set_loop_bound(text: str, bound: int) -> str:
    """Set ``config.execution.max_loop_iterations`` in YAML text, adding the keys that are missing."""
    import yaml

    root = yaml.compose(text, Loader=yaml.SafeLoader)
    config = _value_node(root, "config")
    if config is None:
        return text.rstrip("\n") + f"\nconfig:\n  execution:\n    max_loop_iterations: {bound}\n"
    if not isinstance(config, yaml.MappingNode) or config.flow_style or not config.value:
        return text.rstrip("\n") + f"\n# set config.execution.max_loop_iterations: {bound}\n"
    execution = _value_node(config, "execution")
    if execution is None:
        column = config.value[0][0].start_mark.column
        pad = " " * column
        return _insert_after(text, _end(config), f"{pad}execution:\n{pad}  max_loop_iterations: {bound}")
    if not isinstance(execution, yaml.MappingNode) or execution.flow_style or not execution.value:
        return text.rstrip("\n") + f"\n# set config.execution.max_loop_iterations: {bound}\n"
    current = _value_node(execution, "max_loop_iterations")
    if current is not None:
        return text[: current.start_mark.index] + str(bound) + text[_end(current) :]
    pad = " " * execution.value[0][0].start_mark.column
    return _insert_after(text, _end(execution), f"{pad}max_loop_iterations: {bound}")


def _insert_after(text: str, offset: int, line: str) -> str:
    """Insert a whole line after the line holding ``offset``."""
    line_end = text.find("\n", offset)
    if line_end < 0:
        return text + "\n" + line + "\n"
    return text[: line_end + 1] + line + "\n" + text[line_end + 1 :]
