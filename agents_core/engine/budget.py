"""Money in a run: every model call priced as it happens, and the run budget kept *before* each call.

A run has one :class:`RunBudget` (the price book, ``max_cost_usd`` if any, the
spend so far, including the nodes finished before a resume); each node
execution has one :class:`NodeMeter`. The node executor calls the meter at one
place, around each model call (a first attempt, a retry, a tool round, each
loop visit)::

    meter.before_call(messages)   # worst case = prompt tokens + max_tokens at the node's price;
                                  # spend so far + reserved + worst case > budget -> BudgetExceeded
    reply = await model.ainvoke(messages)
    meter.add(reply)              # tokens and cost of this call; the reservation becomes the real cost

The worst case of concurrent calls (parallel branches) is reserved until each
call settles, so two branches cannot both pass the check and together cross
the budget. Prompt tokens are counted with the local model's own tokenizer
when the node runs on it, otherwise approximated (one token per
:data:`agents_core.llm.tokens.CHARS_PER_TOKEN` characters, which errs high for English text). With
no ``max_tokens``, a call's output is assumed to be
:data:`DEFAULT_WORST_CASE_OUTPUT_TOKENS` (the local model's own limit is
known: 256).

The run's budget reaches the node executor through a context variable set by
the runner for the run's task (LangGraph's node tasks inherit it), so the
executor's signature stays the same.
"""

from __future__ import annotations

import json
import math
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from agents_core.errors import BudgetExceeded, BudgetUnenforceable
from agents_core.llm.pricing import UNPRICED, PriceBook, format_usd, price_book, unpriced_message
from agents_core.llm.settings import ResolvedLLM

#: Output tokens assumed for a call whose node sets no ``max_tokens`` (documented in docs/COSTS.md).
DEFAULT_WORST_CASE_OUTPUT_TOKENS = 8192
#: Tokens a chat template adds around each message (role markers), counted in the worst case.
TOKENS_PER_MESSAGE = 4


@dataclass
class RunBudget:
    """One run's prices, its ``max_cost_usd`` (``None``: no limit) and its spend so far."""

    book: PriceBook
    limit_usd: float | None = None
    spent_usd: float = 0.0
    run_id: str = ""
    _reserved: float = 0.0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def reserve(self, node: str, llm: ResolvedLLM, messages: list[Any]) -> float:
        """Check the call's worst case against the budget and hold it; ``BudgetExceeded`` if it could cross."""
        if self.limit_usd is None:
            return 0.0
        prompt, exact = count_prompt_tokens(llm, messages)
        output = worst_case_output_tokens(llm)
        worst = self.book.cost(llm.provider, llm.model, prompt, output, warn=False)
        if worst.usd is None:  # refused before the run; a pricing file changed under a resume
            raise BudgetUnenforceable(
                f"node {node!r}: {unpriced_message(llm.provider, llm.model)}", _UNENFORCEABLE_HINT, node=node
            )
        with self._lock:
            spent = self.spent_usd + self._reserved
            if spent + worst.usd > self.limit_usd:
                raise BudgetExceeded(
                    self._exceeded(node, llm, spent, worst.usd, worst.source, prompt, exact, output),
                    self._hint(spent + worst.usd),
                    node=node,
                )
            self._reserved += worst.usd
        return worst.usd

    def settle(self, reserved: float, actual_usd: float | None) -> None:
        """A call ended: its reservation is released and its real cost (if known) is spent."""
        with self._lock:
            self._reserved = max(self._reserved - reserved, 0.0)
            self.spent_usd += actual_usd or 0.0

    def _exceeded(
        self, node: str, llm: ResolvedLLM, spent: float, worst: float, source: str, prompt: int, exact: bool, out: int
    ) -> str:
        counted = "" if exact else " (approximated)"
        bound = "max_tokens" if llm.max_tokens else "the default worst case; set max_tokens to bound it"
        return (
            f"node {node!r}: the run budget config.execution.max_cost_usd is {format_usd(self.limit_usd)}; "
            f"{format_usd(spent)} is spent so far and the next model call could cost up to {format_usd(worst)} "
            f"({prompt} prompt tokens{counted} + {out} output tokens ({bound}) on {llm.provider} {llm.model!r} "
            f"at {source} prices), so the run stopped before making it."
        )

    def _hint(self, needed: float) -> str:
        raise_to = _round_up(needed * 1.5)
        resume = f"configurable-agents run --resume {self.run_id} " if self.run_id else "resume the run with "
        return (
            f"Raise the budget and continue: {resume}--max-cost-usd {raise_to} "
            "(finished nodes are not called again), or lower max_tokens."
        )


def _round_up(value: float) -> str:
    """A budget a person would type, at least ``value`` (two significant digits, rounded up)."""
    if value <= 0:
        return "0.01"
    digits = 1 - math.floor(math.log10(value))
    scale = 10**digits
    text = f"{math.ceil(value * scale) / scale:.{max(digits, 0)}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


_UNENFORCEABLE_HINT = (
    "Price the model in pricing.yaml in the workspace (USD per 1M tokens), or remove config.execution.max_cost_usd."
)


class NodeMeter:
    """One node execution's tokens and cost, and the budget check before each of its model calls."""

    def __init__(self, node: str, llm: ResolvedLLM, budget: RunBudget | None = None) -> None:
        self.node = node
        self.llm = llm
        self.budget = budget or RunBudget(price_book())
        self.input_tokens = 0
        self.output_tokens = 0
        priced = self.budget.book.rate(llm.provider, llm.model)
        self.cost_usd: float | None = 0.0 if priced is not None else None
        self.price_source: str = priced.source if priced is not None else UNPRICED
        self._pending: float | None = None

    def before_call(self, messages: list[Any]) -> None:
        """Keep the budget before a model call (raises ``BudgetExceeded`` without calling)."""
        self.release()
        self._pending = self.budget.reserve(self.node, self.llm, messages)

    def add(self, message: Any) -> None:
        """A model call answered: count its tokens, price them, settle its reservation."""
        usage = getattr(message, "usage_metadata", None) or {}
        tokens_in = int(usage.get("input_tokens", 0) or 0)
        tokens_out = int(usage.get("output_tokens", 0) or 0)
        self.input_tokens += tokens_in
        self.output_tokens += tokens_out
        cost = self.budget.book.cost(self.llm.provider, self.llm.model, tokens_in, tokens_out, warn=False)
        if cost.usd is None:
            if tokens_in or tokens_out:
                self.cost_usd = None
        elif self.cost_usd is not None:
            self.cost_usd += cost.usd
        self.price_source = cost.source
        self.budget.settle(self._pending or 0.0, cost.usd)
        self._pending = None

    def release(self) -> None:
        """A call failed without an answer: its reservation is let go."""
        if self._pending is not None:
            self.budget.settle(self._pending, None)
            self._pending = None


_ACTIVE: ContextVar[RunBudget | None] = ContextVar("agents_core_run_budget", default=None)


def active_budget() -> RunBudget | None:
    """The budget of the run whose task this is (``None`` outside a run: prices only, no limit)."""
    return _ACTIVE.get()


@contextmanager
def using_budget(budget: RunBudget) -> Iterator[RunBudget]:
    """Make ``budget`` the run's budget for the code (and the tasks it starts) inside the block."""
    token = _ACTIVE.set(budget)
    try:
        yield budget
    finally:
        _ACTIVE.reset(token)


def worst_case_output_tokens(llm: ResolvedLLM) -> int:
    """``max_tokens``, else the local model's own limit, else :data:`DEFAULT_WORST_CASE_OUTPUT_TOKENS`."""
    if llm.max_tokens:
        return int(llm.max_tokens)
    if llm.provider == "local":
        from agents_core.llm.local import DEFAULT_MAX_TOKENS

        return DEFAULT_MAX_TOKENS
    return DEFAULT_WORST_CASE_OUTPUT_TOKENS


def messages_text(messages: list[Any]) -> str:
    """The text a model is sent: every message's text and tool calls."""
    parts: list[str] = []
    for message in messages:
        parts.append(getattr(message, "text", None) or str(getattr(message, "content", "")))
        calls = getattr(message, "tool_calls", None)
        if calls:
            parts.append(json.dumps(calls, default=str))
    return "\n".join(parts)


def count_prompt_tokens(llm: ResolvedLLM, messages: list[Any]) -> tuple[int, bool]:
    """(prompt tokens, exact?) of a call: the local model's tokenizer when it is the node's model."""
    from agents_core.llm.tokens import count_tokens

    tokens, exact = count_tokens(llm, messages_text(messages))
    return tokens + TOKENS_PER_MESSAGE * len(messages), exact


def check_enforceable(limit_usd: float | None, plans: Any, book: PriceBook) -> None:
    """A budget needs a price for every node's model: ``BudgetUnenforceable`` names the first that has none."""
    if limit_usd is None:
        return
    for plan in plans:
        if not book.is_priced(plan.llm.provider, plan.llm.model):
            raise BudgetUnenforceable(
                f"config.execution.max_cost_usd is set, but node {plan.id!r} runs the {plan.llm.provider} model "
                f"{plan.llm.model!r}, which no price source knows: the budget cannot be enforced, so the run "
                "was not started.",
                _UNENFORCEABLE_HINT,
                node=plan.id,
            )


def unpriced_notices(plans: Any, book: PriceBook) -> list[str]:
    """One notice per model without a price (its cost shows as "unpriced", never $0)."""
    seen: list[tuple[str, str]] = []
    for plan in plans:
        key = (plan.llm.provider, plan.llm.model)
        if key not in seen and not book.is_priced(*key):
            seen.append(key)
    return [unpriced_message(provider, model) for provider, model in seen]
