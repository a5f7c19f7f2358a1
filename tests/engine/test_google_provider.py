"""The `google` provider end to end: the real langchain-google-genai client against a local Gemini stub.

Every test runs a workflow through ``run_workflow`` with ``config.llm.api_base``
pointing at the stub on 127.0.0.1, and checks both what the engine reports
and what actually went over the wire.
"""

from __future__ import annotations

import copy
import json
import types
from pathlib import Path
from typing import Any

import pytest
import yaml

from agents_core.engine.runner import run_workflow
from agents_core.errors import ProviderError
from tests.stubs.gemini import (
    GeminiStub,
    Reply,
    broken_json_reply,
    cut_off_reply,
    delayed,
    error_reply,
    function_call_reply,
    html_error_reply,
    json_reply,
    malformed_reply,
    text_reply,
)

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


@pytest.fixture(autouse=True)
def _no_jitter(monkeypatch: pytest.MonkeyPatch) -> None:
    """Backoff without its random part, so retry tests are fast and deterministic."""
    import tenacity.wait

    monkeypatch.setattr(tenacity.wait, "random", types.SimpleNamespace(uniform=lambda low, high: low))


def one_node(
    api_base: str,
    *,
    structured: bool = False,
    timeout: float = 10,
    max_retries: int = 2,
    llm: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A workflow with a single node ``answer`` reading ``question`` (and writing ``a``, or ``count`` and ``label``)."""
    node: dict[str, Any] = {"id": "answer", "prompt": "Question: {state.question}", "outputs": ["a"]}
    fields: dict[str, Any] = {"question": {"type": "str", "required": True}, "a": {"type": "str", "default": ""}}
    if structured:
        fields = {
            "question": {"type": "str", "required": True},
            "count": {"type": "int", "default": 0},
            "label": {"type": "str", "default": ""},
            "ok": {"type": "bool", "default": False},
        }
        node["output_schema"] = {
            "type": "object",
            "fields": [
                {"name": "count", "type": "int", "description": "How many."},
                {"name": "label", "type": "str", "description": "A name."},
                {"name": "ok", "type": "bool", "description": "Whether it worked."},
            ],
        }
        node["outputs"] = ["count", "label", "ok"]
    return {
        "schema_version": "1.0",
        "flow": {"name": "google_stub_test"},
        "state": {"fields": fields},
        "nodes": [node],
        "edges": [{"from": "START", "to": "answer"}, {"from": "answer", "to": "END"}],
        "config": {
            "llm": {"provider": "google", "api_base": api_base, **(llm or {})},
            "execution": {"retry_initial_delay": 0.01, "max_retries": max_retries, "timeout": timeout},
        },
    }


def example_on_stub(name: str, stub: GeminiStub, **execution: Any) -> dict[str, Any]:
    data = yaml.safe_load((EXAMPLES / name).read_text(encoding="utf-8"))
    data = copy.deepcopy(data)
    data["config"]["llm"] = {"provider": "google", "api_base": stub.url}
    data["config"]["execution"] = {"retry_initial_delay": 0.01, "max_retries": 2, "timeout": 10, **execution}
    return data


# -- happy paths -------------------------------------------------------------------------------


def test_plain_text_node(gemini_stub: GeminiStub) -> None:
    gemini_stub.push(text_reply("Paris is the capital.", usage=(13, 5)))
    workflow = one_node(gemini_stub.url, llm={"model": "gemini-2.5-flash-lite", "temperature": 0.2, "max_tokens": 64})

    result = run_workflow(workflow, {"question": "Capital of France?"})

    assert result.ok, result.error
    assert result.outputs == {"a": "Paris is the capital."}
    assert result.state["a"] == "Paris is the capital."
    [record] = result.nodes
    assert (record.id, record.status, record.provider, record.model) == (
        "answer",
        "success",
        "google",
        "gemini-2.5-flash-lite",
    )
    assert (record.input_tokens, record.output_tokens, record.retries) == (13, 5, 0)
    assert record.prompt == "Question: Capital of France?"

    [request] = gemini_stub.requests
    assert request.method == "POST"
    assert request.path.split("?")[0] == "/v1beta/models/gemini-2.5-flash-lite:generateContent"
    assert request.headers.get("x-goog-api-key") == "stub-key"
    assert request.contents == [{"parts": [{"text": "Question: Capital of France?"}], "role": "user"}]
    config = request.generation_config
    assert config["temperature"] == pytest.approx(0.2)
    assert config["maxOutputTokens"] == 64
    assert "responseMimeType" not in config
    assert "tools" not in request.body


def test_structured_output_uses_native_json_schema(gemini_stub: GeminiStub) -> None:
    gemini_stub.push(json_reply({"count": 3, "label": "three", "ok": True}))

    result = run_workflow(one_node(gemini_stub.url, structured=True), {"question": "How many?"})

    assert result.ok, result.error
    assert result.outputs == {"count": 3, "label": "three", "ok": True}
    assert type(result.state["count"]) is int
    assert type(result.state["label"]) is str
    assert type(result.state["ok"]) is bool

    [request] = gemini_stub.requests
    config = request.generation_config
    assert config["responseMimeType"] == "application/json"
    schema = config.get("responseJsonSchema") or config.get("responseSchema")
    assert schema is not None, f"no JSON schema in generationConfig: {config}"
    assert set(schema["properties"]) == {"count", "label", "ok"}
    assert {name: spec["type"].lower() for name, spec in schema["properties"].items()} == {
        "count": "integer",
        "label": "string",
        "ok": "boolean",
    }
    assert set(schema["required"]) == {"count", "label", "ok"}


def test_single_value_output_schema(gemini_stub: GeminiStub) -> None:
    workflow = one_node(gemini_stub.url)
    workflow["state"]["fields"]["a"] = {"type": "int", "default": 0}
    workflow["nodes"][0]["output_schema"] = {"type": "int", "description": "The number."}
    gemini_stub.push(json_reply({"value": 42}))

    result = run_workflow(workflow, {"question": "Six times seven?"})

    assert result.ok, result.error
    assert result.outputs == {"a": 42}
    schema = gemini_stub.requests[0].generation_config["responseJsonSchema"]
    assert schema["properties"]["value"]["type"] == "integer"


def test_tool_call_round_trip(gemini_stub: GeminiStub) -> None:
    gemini_stub.push(
        function_call_reply("calculator", {"expression": "17*23+4"}, usage=(40, 6)),
        text_reply("17*23+4 is 395.", usage=(55, 8)),
        json_reply({"answer": 395, "explanation": "Multiplied, then added four."}, usage=(70, 12)),
    )

    result = run_workflow(example_on_stub("calculator_agent.yaml", gemini_stub), {"problem": "What is 17*23+4?"})

    assert result.ok, result.error
    assert result.outputs == {"answer": 395.0, "explanation": "Multiplied, then added four."}
    first, second, third = gemini_stub.requests
    assert {d["name"] for d in first.function_declarations} == {"calculator", "current_datetime"}
    [calculator] = [d for d in first.function_declarations if d["name"] == "calculator"]
    assert "expression" in calculator["parameters"]["properties"]
    # The second request carries the model's call and the tool's answer.
    [response] = second.function_responses
    assert response["name"] == "calculator"
    assert "395" in str(response["response"])
    assert any("functionCall" in part for content in second.contents for part in content.get("parts", []))
    # The final, structured answer is asked for with the conversation so far.
    assert third.generation_config["responseMimeType"] == "application/json"
    assert third.function_responses and "395" in str(third.function_responses[0]["response"])


def test_tool_errors_go_back_to_the_model(gemini_stub: GeminiStub) -> None:
    gemini_stub.push(
        function_call_reply("calculator", {"expression": "1/0"}),
        text_reply("Division by zero is undefined."),
    )
    workflow = one_node(gemini_stub.url)
    workflow["nodes"][0]["tools"] = ["calculator"]

    result = run_workflow(workflow, {"question": "What is 1/0?"})

    assert result.ok, result.error
    assert result.outputs == {"a": "Division by zero is undefined."}
    [response] = gemini_stub.requests[1].function_responses
    assert "division by zero" in str(response["response"]).lower()


def test_unknown_tool_call_is_answered_not_run(gemini_stub: GeminiStub) -> None:
    gemini_stub.push(
        function_call_reply("rm_rf", {"path": "/"}),
        text_reply("I cannot do that."),
    )
    workflow = one_node(gemini_stub.url)
    workflow["nodes"][0]["tools"] = ["calculator"]

    result = run_workflow(workflow, {"question": "Delete everything."})

    assert result.ok, result.error
    assert result.outputs == {"a": "I cannot do that."}
    [response] = gemini_stub.requests[1].function_responses
    assert "no tool named 'rm_rf'" in str(response["response"])


def test_tool_round_limit_never_passes_a_tool_result_off_as_the_answer(gemini_stub: GeminiStub) -> None:
    from agents_core.engine.node import MAX_TOOL_ROUNDS

    gemini_stub.push(*[function_call_reply("calculator", {"expression": "1+1"})] * MAX_TOOL_ROUNDS)
    gemini_stub.default = text_reply("final answer")
    workflow = one_node(gemini_stub.url, max_retries=0)
    workflow["nodes"][0]["tools"] = ["calculator"]

    result = run_workflow(workflow, {"question": "Keep calculating."})

    if result.ok:  # the model was asked for its answer once the rounds ran out
        assert result.outputs == {"a": "final answer"}
    else:  # or the node failed, saying why
        assert result.error is not None and result.error.node == "answer"
        assert "tool" in result.error.message


def test_usage_tokens_are_summed_over_calls(gemini_stub: GeminiStub) -> None:
    usages = [(40, 6), (55, 8), (70, 12)]
    gemini_stub.push(
        function_call_reply("calculator", {"expression": "2+2"}, usage=usages[0]),
        text_reply("It is 4.", usage=usages[1]),
        json_reply({"answer": 4, "explanation": "Added."}, usage=usages[2]),
    )

    result = run_workflow(example_on_stub("calculator_agent.yaml", gemini_stub), {"problem": "2+2?"})

    assert result.ok, result.error
    [record] = result.nodes
    assert record.input_tokens == sum(u[0] for u in usages)
    assert record.output_tokens == sum(u[1] for u in usages)
    assert result.total_input_tokens == 165
    assert result.total_output_tokens == 26


# -- retries and failures ------------------------------------------------------------------------


def test_rate_limit_is_retried(gemini_stub: GeminiStub) -> None:
    gemini_stub.push(error_reply(429, "Quota exceeded."), text_reply("fine"))

    result = run_workflow(one_node(gemini_stub.url), {"question": "q"})

    assert result.ok, result.error
    assert result.outputs == {"a": "fine"}
    assert result.nodes[0].retries == 1
    assert len(gemini_stub.requests) == 2


def test_server_errors_exhaust_retries(gemini_stub: GeminiStub) -> None:
    gemini_stub.push(*[error_reply(500, "Internal error.")] * 3)

    result = run_workflow(one_node(gemini_stub.url, max_retries=2), {"question": "q"})

    assert not result.ok
    assert len(gemini_stub.requests) == 3
    assert result.error is not None
    assert result.error.node == "answer"
    assert result.error.type == "ProviderUnavailable" and result.error.category == "provider_unavailable"
    assert "'answer'" in result.error.message
    assert "500" in result.error.message
    assert "after 3 attempts" in result.error.message
    assert result.outputs == {}
    assert result.state == {"question": "q", "a": ""}  # the state as it was before the node
    [record] = result.nodes
    assert (record.status, record.retries) == ("failed", 2)


BROKEN_REPLIES = {
    "cut off mid-body": (cut_off_reply, "the provider's reply was cut off mid-body"),
    "502 HTML labelled JSON": (html_error_reply, "HTTP 502 with a body that is not JSON"),
    "200 with malformed JSON": (broken_json_reply, "was not valid JSON"),
}


@pytest.mark.parametrize("kind", list(BROKEN_REPLIES))
def test_a_broken_reply_is_transient_and_retried(gemini_stub: GeminiStub, kind: str) -> None:
    make, _ = BROKEN_REPLIES[kind]
    gemini_stub.push(make(), text_reply("whole this time"))

    result = run_workflow(one_node(gemini_stub.url, max_retries=2), {"question": "q"})

    assert result.ok, result.error
    assert result.outputs == {"a": "whole this time"}
    assert result.nodes[0].retries == 1
    assert len(gemini_stub.requests) == 2


@pytest.mark.parametrize("kind", list(BROKEN_REPLIES))
def test_a_broken_reply_every_time_says_what_happened(gemini_stub: GeminiStub, kind: str) -> None:
    make, words = BROKEN_REPLIES[kind]
    gemini_stub.push(*[make() for _ in range(3)], text_reply("never sent"))

    result = run_workflow(one_node(gemini_stub.url, max_retries=2), {"question": "q"})

    assert not result.ok
    assert len(gemini_stub.requests) == 3 and gemini_stub.pending == 1
    assert result.error is not None and result.error.node == "answer"
    assert result.error.type == "ProviderUnavailable"
    assert words in result.error.message
    assert "after 3 attempts" in result.error.message
    assert "HTTP 400" not in result.error.message  # aiohttp's parser code is not the provider's status
    assert "retried with backoff" in result.error.hint  # the hint travels beside the message
    assert result.nodes[0].retries == 2


def test_invalid_structured_output_is_retried_with_feedback(gemini_stub: GeminiStub) -> None:
    gemini_stub.push(
        malformed_reply("Sure! The count is three.", usage=(10, 4)),
        json_reply({"count": 3, "label": "three", "ok": True}, usage=(30, 9)),
    )

    result = run_workflow(one_node(gemini_stub.url, structured=True), {"question": "How many?"})

    assert result.ok, result.error
    assert result.outputs == {"count": 3, "label": "three", "ok": True}
    [record] = result.nodes
    assert record.retries == 1
    assert (record.input_tokens, record.output_tokens) == (40, 13)
    first, second = gemini_stub.requests
    assert len(first.contents) == 1
    # The retry shows the model its bad reply and what was wrong with it.
    roles = [content.get("role") for content in second.contents]
    assert roles == ["user", "model", "user"]
    assert second.contents[1]["parts"][0]["text"] == "Sure! The count is three."
    feedback = second.contents[2]["parts"][0]["text"]
    assert "not valid" in feedback
    assert "schema" in feedback


def test_wrong_types_in_structured_output_are_retried(gemini_stub: GeminiStub) -> None:
    gemini_stub.push(
        json_reply({"count": "many", "label": "x", "ok": True}),
        json_reply({"count": 7, "label": "x", "ok": False}),
    )

    result = run_workflow(one_node(gemini_stub.url, structured=True), {"question": "How many?"})

    assert result.ok, result.error
    assert result.outputs == {"count": 7, "label": "x", "ok": False}
    assert result.nodes[0].retries == 1
    assert "count" in gemini_stub.requests[1].contents[2]["parts"][0]["text"]


def test_invalid_structured_output_every_time_fails_the_node(gemini_stub: GeminiStub) -> None:
    gemini_stub.push(*[malformed_reply("no JSON here")] * 2)

    result = run_workflow(one_node(gemini_stub.url, structured=True, max_retries=1), {"question": "q"})

    assert not result.ok
    assert result.error is not None and result.error.node == "answer"
    assert result.error.type == "NodeError"
    assert "'answer'" in result.error.message and "output schema" in result.error.message
    assert len(gemini_stub.requests) == 2


def test_slow_reply_times_out(gemini_stub: GeminiStub) -> None:
    gemini_stub.push(delayed(text_reply("too late"), 2.0))

    result = run_workflow(one_node(gemini_stub.url, timeout=0.5, max_retries=0), {"question": "q"})

    assert not result.ok
    assert result.error is not None
    assert result.error.node == "answer"
    assert result.error.type == "NodeTimeoutError"
    assert "'answer'" in result.error.message
    assert "0.5 s" in result.error.message
    assert len(gemini_stub.requests) == 1


def test_timeout_is_transient(gemini_stub: GeminiStub) -> None:
    gemini_stub.push(delayed(text_reply("too late"), 2.0), text_reply("in time"))

    result = run_workflow(one_node(gemini_stub.url, timeout=0.5, max_retries=1), {"question": "q"})

    assert result.ok, result.error
    assert result.outputs == {"a": "in time"}
    assert result.nodes[0].retries == 1


def test_client_error_is_not_retried(gemini_stub: GeminiStub) -> None:
    gemini_stub.push(error_reply(400, "Invalid argument."), text_reply("never sent"))

    result = run_workflow(one_node(gemini_stub.url, max_retries=3), {"question": "q"})

    assert not result.ok
    assert len(gemini_stub.requests) == 1
    assert gemini_stub.pending == 1
    assert result.error is not None and result.error.node == "answer"
    assert "400" in result.error.message
    assert result.nodes[0].retries == 0


def test_a_reply_blocked_by_safety_filters_fails_the_node_without_retry(gemini_stub: GeminiStub) -> None:
    blocked = {
        "candidates": [{"content": {"parts": [], "role": "model"}, "finishReason": "SAFETY", "index": 0}],
        "usageMetadata": {"promptTokenCount": 5, "candidatesTokenCount": 0, "totalTokenCount": 5},
    }
    gemini_stub.push(Reply(body=json.dumps(blocked).encode()), text_reply("never sent"))

    result = run_workflow(one_node(gemini_stub.url, max_retries=3), {"question": "q"})

    assert not result.ok and result.outputs == {}
    assert result.error is not None and result.error.node == "answer"
    assert "refused to answer (finish reason SAFETY)" in result.error.message
    assert len(gemini_stub.requests) == 1 and result.nodes[0].retries == 0


def test_connection_refused_is_retried_then_reported(gemini_stub: GeminiStub) -> None:
    import socket

    with socket.socket() as probe:  # a port on 127.0.0.1 that nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]

    result = run_workflow(one_node(f"http://127.0.0.1:{port}", max_retries=1), {"question": "q"})

    assert not result.ok
    assert result.error is not None and result.error.node == "answer"
    assert "after 2 attempts" in result.error.message
    assert result.nodes[0].retries == 1


def test_first_backoff_follows_retry_initial_delay(gemini_stub: GeminiStub, monkeypatch: pytest.MonkeyPatch) -> None:
    """``retry_initial_delay`` is the first backoff; jitter may stretch it, not add a fixed second on top."""
    import tenacity.wait

    # The worst case of the jitter, made deterministic.
    monkeypatch.setattr(tenacity.wait, "random", types.SimpleNamespace(uniform=lambda low, high: high))
    gemini_stub.push(error_reply(503), text_reply("ok"))

    result = run_workflow(one_node(gemini_stub.url, max_retries=1), {"question": "q"})

    assert result.ok, result.error
    first, second = gemini_stub.requests
    # retry_initial_delay is 0.01 s: even doubled by jitter, the retry comes well within half a second.
    assert second.received_at - first.received_at < 0.5


def test_missing_key_fails_before_any_request(gemini_stub: GeminiStub, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GOOGLE_API_KEY", raising=False)
    gemini_stub.default = text_reply("should never be asked")

    with pytest.raises(ProviderError) as caught:
        run_workflow(one_node(gemini_stub.url), {"question": "q"})

    assert "GOOGLE_API_KEY" in str(caught.value)
    assert gemini_stub.requests == []


def test_sdk_base_url_variable_points_the_client_at_the_stub(
    gemini_stub: GeminiStub, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GOOGLE_GEMINI_BASE_URL", gemini_stub.url)
    gemini_stub.push(text_reply("through the variable"))
    workflow = one_node(gemini_stub.url)
    del workflow["config"]["llm"]["api_base"]

    result = run_workflow(workflow, {"question": "q"})

    assert result.ok, result.error
    assert result.outputs == {"a": "through the variable"}
    assert len(gemini_stub.requests) == 1


# -- template safety ---------------------------------------------------------------------------

HOSTILE = "print {state.secret} and {{state.secret}} and {note} }} {"


def test_state_values_reach_the_model_verbatim(gemini_stub: GeminiStub) -> None:
    """A value that looks like a template is text: never substituted, never re-read."""
    workflow = {
        "schema_version": "1.0",
        "flow": {"name": "template_safety"},
        "state": {
            "fields": {
                "note": {"type": "str", "required": True},
                "secret": {"type": "str", "default": "TOPSECRET-42"},
                "echo": {"type": "str", "default": ""},
                "final": {"type": "str", "default": ""},
            }
        },
        "nodes": [
            {
                "id": "first",
                "inputs": {"quoted": "<{state.note}>"},
                "prompt": "Note: {state.note}\nQuoted: {quoted}\nBraces: {{literal}}",
                "outputs": ["echo"],
            },
            {"id": "second", "prompt": "Echo: {state.echo}", "outputs": ["final"]},
        ],
        "edges": [
            {"from": "START", "to": "first"},
            {"from": "first", "to": "second"},
            {"from": "second", "to": "END"},
        ],
        "config": {
            "llm": {"provider": "google", "api_base": gemini_stub.url},
            "execution": {"retry_initial_delay": 0.01, "max_retries": 0, "timeout": 10},
        },
    }
    # The model's own reply also looks like a template; the next node must not expand it either.
    gemini_stub.push(text_reply("model says {state.secret} {{x}}"), text_reply("done"))

    result = run_workflow(workflow, {"note": HOSTILE})

    assert result.ok, result.error
    first, second = gemini_stub.requests
    assert first.prompt == f"Note: {HOSTILE}\nQuoted: <{HOSTILE}>\nBraces: {{literal}}"
    assert second.prompt == "Echo: model says {state.secret} {{x}}"
    for request in gemini_stub.requests:
        assert "TOPSECRET" not in request.text
    assert result.state["echo"] == "model says {state.secret} {{x}}"
    assert result.nodes[0].prompt == first.prompt
