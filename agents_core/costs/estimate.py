"""What a run of a workflow may cost, before it runs (``configurable-agents estimate``; SPEC §9).

For each node, a range of USD:

- **low**: the node runs once and its answer is empty: its prompt, rendered
  with the given inputs (and the state's defaults where none is given);
- **high**: every loop runs to its bound (a node in a cycle runs up to
  ``1 + max_loop_iterations`` times, as the engine allows), a node with tools
  uses every tool round (:data:`~agents_core.engine.node.MAX_TOOL_ROUNDS` + 1
  calls), each answer is ``max_tokens`` long (the worst case the run budget uses),
  and every text, list or object field of the state that another node writes
  is as long as that node's longest answer. Retries are not counted.

Prompt tokens are counted with the model's own tokenizer when it is available
offline (the local model's), otherwise approximated (one token per
:data:`~agents_core.llm.tokens.CHARS_PER_TOKEN` characters) and labelled as such.
Prices come from the workspace's price book; a node on an unpriced model is
"unpriced" and the total is then unknown (``None``), never $0. When the run
store holds three or more successful, priced runs of the workflow, their p50
and p95 are given too.
"""

from __future__ import annotations

import statistics
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from agents_core.config.models import Workflow
from agents_core.config.templates import Placeholder

#: Past runs needed before their p50/p95 are shown.
MIN_HISTORY = 3


@dataclass
class NodeEstimate:
    """One node's range: calls, tokens, USD (``None`` when unpriced) and how its prompt was counted."""

    id: str
    provider: str
    model: str
    prompt_tokens: int
    prompt_tokens_high: int
    tokens_exact: bool
    max_output_tokens: int
    max_visits: int
    calls_high: int
    in_loop: bool
    low_usd: float | None
    high_usd: float | None
    price_source: str

    @property
    def priced(self) -> bool:
        return self.low_usd is not None


@dataclass
class History:
    """Cost of this workflow's past successful, priced runs."""

    runs: int
    p50_usd: float | None = None
    p95_usd: float | None = None


@dataclass
class Estimate:
    """The whole estimate (``to_dict`` is what ``estimate --json`` prints)."""

    workflow: str
    nodes: list[NodeEstimate]
    max_loop_iterations: int
    history: History
    notes: list[str] = field(default_factory=list)

    @property
    def unpriced_nodes(self) -> list[str]:
        return [n.id for n in self.nodes if not n.priced]

    def _sum(self, side: str) -> float:
        return sum(getattr(n, side) or 0.0 for n in self.nodes)

    @property
    def low_usd(self) -> float | None:
        return None if self.unpriced_nodes else self._sum("low_usd")

    @property
    def high_usd(self) -> float | None:
        return None if self.unpriced_nodes else self._sum("high_usd")

    @property
    def tokens_exact(self) -> bool:
        return all(n.tokens_exact for n in self.nodes)

    def to_dict(self) -> dict[str, Any]:
        return {
            "workflow": self.workflow,
            "nodes": [asdict(n) | {"priced": n.priced} for n in self.nodes],
            "total": {
                "low_usd": self.low_usd,
                "high_usd": self.high_usd,
                "priced_low_usd": self._sum("low_usd"),
                "priced_high_usd": self._sum("high_usd"),
                "unpriced_nodes": self.unpriced_nodes,
                "tokens_exact": self.tokens_exact,
            },
            "max_loop_iterations": self.max_loop_iterations,
            "history": asdict(self.history),
            "notes": self.notes,
        }


def loop_nodes(workflow: Workflow) -> set[str]:
    """Nodes on a cycle of the flow (they run up to the loop bound), by Tarjan's strongly connected components."""
    successors: dict[str, set[str]] = {node.id: set() for node in workflow.nodes}
    for edge in workflow.edges:
        targets = [edge.to] if edge.to else []
        targets += [route.to for route in edge.routes or []]
        targets += list(edge.parallel or []) + ([edge.join] if edge.join else [])
        if edge.from_ in successors:
            successors[edge.from_].update(t for t in targets if t in successors)
        if edge.parallel and edge.join:
            for branch in edge.parallel:
                if branch in successors:
                    successors[branch].add(edge.join)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    looping: set[str] = set()

    def visit(node: str) -> None:  # graphs are small (a workflow's nodes), recursion is fine
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in successors[node]:
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1 or node in successors[node]:
                looping.update(component)

    for node in successors:
        if node not in index:
            visit(node)
    return looping


def _writers(plans: Mapping[str, Any], output_tokens: Mapping[str, int]) -> dict[str, int]:
    """state field -> the longest answer (tokens) of the nodes that write it."""
    longest: dict[str, int] = {}
    for plan in plans.values():
        for name in plan.outputs:
            longest[name] = max(longest.get(name, 0), output_tokens[plan.id])
    return longest


def _referenced_fields(plan: Any) -> set[str]:
    names: set[str] = set()
    templates = [plan.prompt, *(v for v in plan.inputs.values() if hasattr(v, "parts"))]
    for template in templates:
        for part in template.parts:
            if isinstance(part, Placeholder) and (part.kind == "state" or part.name not in plan.inputs):
                names.add(part.name)
    return names


def initial_state(workflow: Workflow, inputs: Mapping[str, Any]) -> dict[str, Any]:
    """The state a run would start from: defaults (or empty values), then the given inputs (required ones optional)."""
    from agents_core.engine.state import empty_value, refuse_unknown_inputs

    fields = refuse_unknown_inputs(workflow, inputs)
    return {name: empty_value(spec) for name, spec in fields.items()} | dict(inputs)


def history(runs_source: Any, workflow_name: str) -> History:
    """p50/p95 USD of the workflow's successful, priced runs (when there are :data:`MIN_HISTORY` or more)."""
    if runs_source is None:
        return History(0)
    costs = sorted(
        r.cost_usd
        for r in runs_source.list(status="success", workflow=workflow_name, limit=None)
        if r.cost_usd is not None
    )
    if len(costs) < MIN_HISTORY:
        return History(len(costs))
    p95 = statistics.quantiles(costs, n=100, method="inclusive")[94]
    return History(len(costs), statistics.median(costs), p95)


def estimate_workflow(
    workflow: Workflow,
    inputs: Mapping[str, Any] | None = None,
    *,
    runs_source: Any = None,
    book: Any = None,
    overrides: Mapping[str, Any] | None = None,
) -> Estimate:
    """The cost range of one run of ``workflow`` with ``inputs`` (see the module's docstring)."""
    from agents_core.engine.budget import TOKENS_PER_MESSAGE, worst_case_output_tokens
    from agents_core.engine.compiler import max_loops
    from agents_core.engine.node import MAX_TOOL_ROUNDS, build_prompt, plan_node
    from agents_core.llm.pricing import price_book
    from agents_core.llm.tokens import count_tokens

    book = book or price_book()
    state = initial_state(workflow, inputs or {})
    given = set(inputs or {})
    plans = {node.id: plan_node(node, workflow, dict(overrides or {})) for node in workflow.nodes}
    outputs = {node_id: worst_case_output_tokens(plan.llm) for node_id, plan in plans.items()}
    longest = _writers(plans, outputs)
    from agents_core.engine.state import state_fields

    scalar = {name for name, spec in state_fields(workflow).items() if spec.type.name in ("int", "float", "bool")}
    bound = max_loops(workflow)
    looping = loop_nodes(workflow)
    nodes = []
    for node_id, plan in plans.items():
        text = build_prompt(plan, state)
        tokens, exact = count_tokens(plan.llm, text)
        prompt = tokens + TOKENS_PER_MESSAGE
        grown = sum(longest.get(name, 0) for name in _referenced_fields(plan) if name not in given | scalar)
        prompt_high = prompt + grown
        visits = 1 + bound if node_id in looping else 1
        calls = visits * (MAX_TOOL_ROUNDS + 1 if plan.tools else 1)
        low = book.cost(plan.llm.provider, plan.llm.model, prompt, 0, warn=False)
        high = book.cost(plan.llm.provider, plan.llm.model, prompt_high, outputs[node_id], warn=False)
        nodes.append(
            NodeEstimate(
                id=node_id,
                provider=plan.llm.provider,
                model=plan.llm.model,
                prompt_tokens=prompt,
                prompt_tokens_high=prompt_high,
                tokens_exact=exact,
                max_output_tokens=outputs[node_id],
                max_visits=visits,
                calls_high=calls,
                in_loop=node_id in looping,
                low_usd=low.usd,
                high_usd=None if high.usd is None else high.usd * calls,
                price_source=high.source,
            )
        )
    notes = []
    if not all(n.tokens_exact for n in nodes):
        from agents_core.llm.tokens import CHARS_PER_TOKEN

        notes.append(
            f"prompt tokens approximated (1 token per {CHARS_PER_TOKEN} characters) where no tokenizer of the "
            "model is available offline; the local model's own tokenizer counts exactly."
        )
    return Estimate(workflow.flow.name, nodes, bound, history(runs_source, workflow.flow.name), notes)
