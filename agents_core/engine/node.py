"""Run one node: resolve its inputs and prompt, call the model (with tools), validate, write outputs.

Each node is planned once per run (:func:`plan_node`): templates parsed,
output model built, model settings resolved. Executing a plan retries
transient provider errors and invalid structured output with exponential
backoff and jitter (tenacity), feeding the validation error back to the
model; anything else fails the node at once, with the node named.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, create_model

from agents_core.config.models import Node, Workflow
from agents_core.config.templates import ParsedTemplate, TemplateRenderError, parse_template, render
from agents_core.config.types import object_type, parse_type
from agents_core.engine.budget import NodeMeter, active_budget
from agents_core.engine.events import NodeRecord
from agents_core.engine.faults import chain, describe_transient, status_in_chain
from agents_core.engine.state import state_fields
from agents_core.errors import (
    AgentsError,
    BudgetExceeded,
    InvalidStructuredOutput,
    NodeError,
    NodeTimeoutError,
    ProviderError,
    ProviderUnavailable,
    RunError,
)
from agents_core.llm import queueing
from agents_core.llm.settings import ResolvedLLM, resolve_llm

MAX_TOOL_ROUNDS = 6
#: Finish reasons with which a provider refuses to answer (Gemini's names); retrying does not help.
BLOCKED_FINISH_REASONS = {"SAFETY", "RECITATION", "PROHIBITED_CONTENT", "BLOCKLIST", "SPII", "IMAGE_SAFETY"}


#: Called before each retry with (attempt that failed, the reason, the delay before the next one).
RetryCallback = Callable[[int, str, float], None]


@dataclass
class NodePlan:
    """Everything needed to run one node, prepared before the run starts."""

    id: str
    prompt: ParsedTemplate
    inputs: dict[str, Any]
    outputs: list[str]
    output_model: type[BaseModel] | None
    single_value: bool
    tools: list[str]
    llm: ResolvedLLM
    max_retries: int
    retry_initial_delay: float


def _output_model(node: Node, workflow: Workflow) -> tuple[type[BaseModel] | None, bool]:
    """The pydantic model a reply must fit, and whether it wraps a single ``value``."""
    schema = node.output_schema
    if schema is None:
        return None, False
    config = ConfigDict(extra="ignore")
    if schema.type == "object":
        fields: dict[str, Any] = {}
        types = state_fields(workflow)
        for field in schema.fields or []:
            declared = parse_type(field.type)
            target = types.get(field.name)
            if declared.name == "object" and field.schema_:
                declared = object_type(field.schema_)  # the output field's own schema (the seed's form)
            elif declared.name == "object" and target is not None and target.type.fields is not None:
                declared = target.type  # the state field's schema gives the object its shape
            fields[field.name] = (declared.python_type(), Field(description=field.description or field.name))
        return create_model(f"{node.id}_output", __config__=config, **fields), False
    value_type = parse_type(schema.type).python_type()
    description = schema.description or "The answer."
    return create_model(
        f"{node.id}_output", __config__=config, value=(value_type, Field(description=description))
    ), True


def plan_node(node: Node, workflow: Workflow, overrides: dict[str, Any] | None = None) -> NodePlan:
    config = workflow.config
    execution = config.execution if config and config.execution else None
    timeout = execution.timeout if execution else 120.0
    llm = resolve_llm(config.llm if config else None, node.llm, overrides, timeout=timeout)
    output_model, single = _output_model(node, workflow)
    inputs = {
        name: parse_template(value) if isinstance(value, str) else value for name, value in (node.inputs or {}).items()
    }
    return NodePlan(
        id=node.id,
        prompt=parse_template(node.prompt),
        inputs=inputs,
        outputs=list(node.outputs),
        output_model=output_model,
        single_value=single,
        tools=list(node.tools),
        llm=llm,
        max_retries=execution.max_retries if execution else 3,
        retry_initial_delay=execution.retry_initial_delay if execution else 1.0,
    )


def build_prompt(plan: NodePlan, state: dict[str, Any]) -> str:
    """The prompt with inputs and state substituted as text (never re-read as a template)."""
    try:
        local = {
            name: render(value, state) if isinstance(value, ParsedTemplate) else value
            for name, value in plan.inputs.items()
        }
        return render(plan.prompt, state, local)
    except TemplateRenderError as exc:
        raise NodeError(f"node {plan.id!r}: {exc.args[0]}.", "Check the node's prompt and inputs.") from None


def is_transient(error: BaseException) -> bool:
    """429, 5xx, timeouts, connection errors, broken replies and invalid structured output are worth retrying."""
    if any(isinstance(current, InvalidStructuredOutput) for current in chain(error)):
        return True
    return describe_transient(error) is not None


def _check_not_blocked(reply: Any, plan: NodePlan) -> None:
    """A reply the provider blocked is an error naming the node, not an empty output."""
    if reply is None or getattr(reply, "tool_calls", None) or getattr(reply, "text", ""):
        return
    reason = str((getattr(reply, "response_metadata", None) or {}).get("finish_reason") or "").upper()
    reason = reason.rsplit(".", 1)[-1]
    if reason in BLOCKED_FINISH_REASONS:
        raise ProviderError(
            f"node {plan.id!r}: the {plan.llm.provider} model refused to answer (finish reason {reason}).",
            "Rephrase the prompt or its inputs; the provider's content filters blocked the reply.",
        )


async def _call(runnable: Any, messages: list[Any], plan: NodePlan, usage: NodeMeter) -> Any:
    """Every model call goes through here: the run budget is kept before it (engine/budget.py), then the call."""
    usage.before_call(messages)
    try:
        return await asyncio.wait_for(runnable.ainvoke(messages), timeout=plan.llm.timeout)
    except TimeoutError:
        usage.release()
        raise NodeTimeoutError(
            f"node {plan.id!r}: the model did not answer within {plan.llm.timeout:g} s.",
            "Raise config.execution.timeout, or use a faster model.",
        ) from None
    except BaseException:
        usage.release()
        raise


async def _run_tools(model: Any, plan: NodePlan, messages: list[Any], usage: NodeMeter) -> list[Any]:
    """Let the model call its tools (bounded rounds); returns the conversation so far."""
    from langchain_core.messages import ToolMessage

    from agents_core.tools.registry import build_tool

    tools = {name: build_tool(name) for name in plan.tools}
    bound = model.bind_tools(list(tools.values()))
    for _ in range(MAX_TOOL_ROUNDS):
        reply = await _call(bound, messages, plan, usage)
        usage.add(reply)
        _check_not_blocked(reply, plan)
        messages = [*messages, reply]
        if not getattr(reply, "tool_calls", None):
            return messages
        for call in reply.tool_calls:
            tool = tools.get(call["name"])
            if tool is None:
                result = f"Error: there is no tool named {call['name']!r}; use one of {', '.join(tools)}."
            else:
                try:
                    result = await asyncio.to_thread(tool.invoke, call["args"])
                except Exception as exc:  # a tool's failure is the model's to handle
                    result = f"Error: {exc}"
            messages.append(ToolMessage(content=str(result), tool_call_id=call["id"], name=call["name"]))
    # Out of tool rounds: ask once more without tools, so the last message is the model's answer.
    reply = await _call(model, messages, plan, usage)
    usage.add(reply)
    return [*messages, reply]


async def _attempt(model: Any, plan: NodePlan, prompt: str, feedback: list[Any], usage: NodeMeter) -> tuple[Any, str]:
    """One try: returns (value, raw reply text)."""
    from langchain_core.messages import HumanMessage

    from agents_core.llm.factory import structured_output_method

    messages: list[Any] = [HumanMessage(content=prompt), *feedback]
    if plan.tools:
        messages = await _run_tools(model, plan, messages, usage)
    if plan.output_model is None:
        if plan.tools:
            reply = messages[-1]
        else:
            reply = await _call(model, messages, plan, usage)
            usage.add(reply)
        _check_not_blocked(reply, plan)
        return reply.text, reply.text
    method = structured_output_method(plan.llm)
    options = {"include_raw": True} | ({"method": method} if method else {})
    runnable = model.with_structured_output(plan.output_model, **options)
    result = await _call(runnable, messages, plan, usage)
    raw = result.get("raw")
    usage.add(raw)
    _check_not_blocked(raw, plan)
    raw_text = _raw_text(raw)
    parsed = result.get("parsed")
    if parsed is None or result.get("parsing_error") is not None:
        error = result.get("parsing_error") or "the reply was empty"
        raise InvalidStructuredOutput(f"the reply did not match the output schema: {_short(error)}", raw_text)
    if isinstance(parsed, dict):
        parsed = plan.output_model.model_validate(parsed)
    return parsed, raw_text


def _raw_text(raw: Any) -> str:
    if raw is None:
        return ""
    calls = getattr(raw, "tool_calls", None)
    if calls:
        return json.dumps(calls[0].get("args", {}), ensure_ascii=False)
    return getattr(raw, "text", "") or str(getattr(raw, "content", ""))


def _short(error: Any, limit: int = 300) -> str:
    text = " ".join(str(error).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _updates(plan: NodePlan, value: Any) -> dict[str, Any]:
    if not plan.outputs:
        return {}
    if plan.output_model is None:
        return {plan.outputs[0]: value}
    data = value.model_dump(mode="json")
    if plan.single_value:
        return {plan.outputs[0]: data["value"]}
    return {name: data[name] for name in plan.outputs if name in data}


async def execute_node(
    plan: NodePlan, state: dict[str, Any], model: Any, on_retry: RetryCallback | None = None
) -> tuple[dict[str, Any], NodeRecord]:
    """Run ``plan`` on ``state`` with ``model``; returns the state updates and the node's record.

    Raises a ``RunError`` whose ``node`` and ``record`` fields say which node failed and
    what it did. ``on_retry`` hears of each retry (the runner turns it into ``node_retried``).
    Cancellation (``asyncio.CancelledError``) is not caught: it stops the node at once.
    """
    from langchain_core.messages import AIMessage, HumanMessage

    record = NodeRecord(id=plan.id, provider=plan.llm.provider, model=plan.llm.model)
    usage = NodeMeter(plan.id, plan.llm, active_budget())
    started = time.perf_counter()
    feedback: list[Any] = []
    attempts = 0
    queue, waits = queueing.begin()  # the local model reports its lock waits here

    async def once() -> Any:
        nonlocal attempts, feedback
        attempts += 1
        try:
            value, record.response = await _attempt(model, plan, record.prompt, feedback, usage)
        except InvalidStructuredOutput as exc:
            feedback = [
                AIMessage(content=exc.hint or "(empty)"),
                HumanMessage(
                    content=f"That reply was not valid: {exc.message} Reply again, following the schema exactly."
                ),
            ]
            raise
        return value

    try:
        record.prompt = build_prompt(plan, state)
        value = await _with_retries(plan, once, on_retry)
        record.outputs = _updates(plan, value)
        record.status = "success"
        return record.outputs, record
    except Exception as exc:
        record.status = "failed"
        error = _node_error(plan, exc, attempts)
        record.error = error.message
        error.node, error.record = plan.id, record
        raise error from exc
    finally:
        record.duration_ms = (time.perf_counter() - started) * 1000
        record.input_tokens, record.output_tokens = usage.input_tokens, usage.output_tokens
        record.cost_usd, record.price_source = usage.cost_usd, usage.price_source
        record.retries = max(attempts - 1, 0)
        record.queue_ms = sum(waits) * 1000
        queueing.end(queue)


async def _with_retries(plan: NodePlan, once: Callable[[], Any], on_retry: RetryCallback | None) -> Any:
    """``await once()``, retried with backoff and jitter while it fails with transient errors.

    The first attempt runs bare: tenacity's machinery costs about 0.1 ms per use, a tenth
    of a node on an instant model, and most calls succeed at once. After a transient
    failure tenacity takes over, replaying that failure as its attempt 1, so the
    attempts, delays and ``on_retry`` reports are tenacity's own.
    """
    try:
        return await once()
    except Exception as exc:
        if plan.max_retries < 1 or not is_transient(exc):
            raise
        first_failure: list[BaseException] = [exc]
    from tenacity import AsyncRetrying, retry_if_exception, stop_after_attempt, wait_exponential_jitter

    retrying = AsyncRetrying(
        stop=stop_after_attempt(plan.max_retries + 1),
        wait=wait_exponential_jitter(
            initial=plan.retry_initial_delay,
            max=max(plan.retry_initial_delay * 16, 1),
            jitter=plan.retry_initial_delay,  # jitter in proportion (tenacity's default adds up to 1 s)
        ),
        retry=retry_if_exception(is_transient),
        reraise=True,
        before_sleep=_retry_reporter(on_retry),
    )
    result: Any = None
    async for attempt in retrying:
        with attempt:
            if first_failure:
                raise first_failure.pop()
            result = await once()
    return result


def _retry_reporter(on_retry: RetryCallback | None) -> Callable[[Any], None] | None:
    """Tenacity's ``before_sleep`` hook, reporting (attempt, reason, delay) to ``on_retry``."""
    if on_retry is None:
        return None

    def report(retry_state: Any) -> None:
        error = retry_state.outcome.exception() if retry_state.outcome else None
        reason = _short(error, 200) if error is not None else "retry"
        if error is not None and not isinstance(error, AgentsError):
            reason = f"{type(error).__name__}: {reason}"
        delay = float(retry_state.next_action.sleep) if retry_state.next_action else 0.0
        on_retry(retry_state.attempt_number, reason, delay)

    return report


def _node_error(plan: NodePlan, exc: BaseException, attempts: int) -> RunError:
    tries = f" after {attempts} attempts" if attempts > 1 else ""
    if isinstance(exc, NodeTimeoutError | ProviderError | NodeError | BudgetExceeded):
        if tries and not exc.message.endswith(tries):
            exc.message = exc.message.rstrip(".") + f"{tries}."
        return exc
    if isinstance(exc, InvalidStructuredOutput):
        return NodeError(
            f"node {plan.id!r}: {exc.message}{tries}.",
            "Simplify the output schema, describe its fields, or use a stronger model.",
        )
    if isinstance(exc, AgentsError):
        return NodeError(f"node {plan.id!r}: {exc.message}", exc.hint)
    status = status_in_chain(exc)
    where = f" (HTTP {status})" if status else ""
    failed = f"node {plan.id!r}: the {plan.llm.provider} model {plan.llm.model!r} failed{where}{tries}"
    fault = describe_transient(exc)
    if fault is None:
        return ProviderError(
            f"{failed}: {_short(exc)}", "Check the model name, the key and the request; this error is not retried."
        )
    detail = _short(exc) if fault == f"HTTP {status}" else f"{fault} ({_short(exc)})"
    return ProviderUnavailable(
        f"{failed}: {detail}.",
        "Faults like this are retried with backoff (config.execution.max_retries); check the provider's "
        "status, or the proxy in between, and try again.",
    )
