"""The tool registry and the built-in tools (SPEC §7).

``calculator`` walks a parsed AST and refuses everything else with a
``ToolError``; ``serper_search`` is exercised against a Serper stub on
127.0.0.1 (``SERPER_BASE_URL``); third-party tools register with one call.
"""

from __future__ import annotations

import re
import socket
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from agents_core.errors import ToolError
from agents_core.tools.builtin import calculator, current_datetime, serper_search
from agents_core.tools.registry import (
    ToolInfo,
    build_tool,
    get_tool_info,
    register_tool,
    tool_names,
    unregister_tool,
)
from tests.stubs.serper import SerperStub, results_reply, serper_error

REPO_ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def serper(monkeypatch: pytest.MonkeyPatch) -> Iterator[SerperStub]:
    """A Serper stub; ``SERPER_BASE_URL`` points at it, ``SERPER_API_KEY`` is a dummy, no proxies."""
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    with SerperStub() as stub:
        monkeypatch.setenv("SERPER_BASE_URL", stub.search_url)
        monkeypatch.setenv("SERPER_API_KEY", "serper-test-key")
        yield stub


# -- calculator --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("17*23+4", "395"),
        ("(17 * 23) + 4", "395"),
        ("2 ** 10", "1024"),
        ("-3 // 2", "-2"),
        ("7 % 3", "1"),
        ("1 / 4", "0.25"),
        ("+5 - -5", "10"),
        ("sqrt(16)", "4"),
        ("sqrt(9) ** 2", "9"),
        ("abs(-7.5)", "7.5"),
        ("round(2.567, 2)", "2.57"),
        ("min(3, 1, 2) + max(3, 1, 2)", "4"),
        ("log(e)", "1"),
        ("exp(0) + cos(0) + sin(0) + tan(0)", "2"),
        ("pi", "3.141592653589793"),
        ("  2 * (3 + 4)  ", "14"),
        ("2 ** -2", "0.25"),
    ],
)
def test_calculator_arithmetic(expression: str, expected: str) -> None:
    assert calculator(expression) == expected


@pytest.mark.parametrize(
    ("expression", "words"),
    [
        ("x + 1", "'x' is not allowed"),
        ("__import__('os').system('true')", "is not allowed"),
        ("open('/etc/passwd')", "is not allowed"),
        ("(1).__class__", "is not allowed"),
        ("math.pi", "is not allowed"),
        ("pi.real", "is not allowed"),
        ("'a' * 3", "is not allowed"),
        ("[1, 2]", "is not allowed"),
        ("True + 1", "is not allowed"),
        ("1 < 2", "is not allowed"),
        ("lambda: 1", "is not allowed"),
        ("round(number=2.5)", "is not allowed"),
        ("1j * 2", "is not allowed"),
        ("2 ** 1001", "exponent 1001 is too large"),
        ("10 ** -5000", "too large"),
        ("9 ** 9 ** 9", "too large"),
        ("1 / 0", "division by zero"),
        ("5 // 0", "division by zero"),
        ("5 % 0", "division by zero"),
        ("0 ** -1", "division by zero"),
        ("sqrt(-1)", "math domain error"),
        ("log(0)", "math domain error"),
        ("exp(1000)", "range"),
        ("2 +", "is not an arithmetic expression"),
        ("import os", "is not an arithmetic expression"),
        ("1" * 501, "longer than 500 characters"),
    ],
)
def test_calculator_refusals_are_tool_errors(expression: str, words: str) -> None:
    with pytest.raises(ToolError) as caught:
        calculator(expression)
    message = str(caught.value)
    assert message.startswith("calculator:")
    assert words in message


@pytest.mark.parametrize("expression", ["sqrt()", "min()", "round(1, 2, 3)", "abs(1, 2)"])
def test_calculator_wrong_arity_is_a_tool_error(expression: str) -> None:
    with pytest.raises(ToolError, match="calculator"):
        calculator(expression)


def test_calculator_huge_integer_result_is_a_tool_error() -> None:
    with pytest.raises(ToolError, match="calculator"):
        calculator("(9 ** 999) ** 999")  # each exponent is within the limit; the result has ~950,000 digits


def test_calculator_refuses_nested_huge_powers_quickly() -> None:
    script = textwrap.dedent(
        """
        import resource, sys
        resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))
        from agents_core.errors import ToolError
        from agents_core.tools.builtin import calculator
        try:
            calculator("((9 ** 999) ** 999) ** 999")
        except ToolError as exc:
            print("REFUSED", exc)
        """
    )
    try:
        done = subprocess.run([sys.executable, "-c", script], cwd=REPO_ROOT, capture_output=True, text=True, timeout=4)
    except subprocess.TimeoutExpired:
        pytest.fail("calculator was still computing ((9 ** 999) ** 999) ** 999 after 4 s")
    assert done.stdout.startswith("REFUSED"), done.stderr[-500:]


# -- current_datetime --------------------------------------------------------------------------


def test_current_datetime_is_iso_8601_utc() -> None:
    before = datetime.now(UTC).replace(microsecond=0)
    text = current_datetime()
    after = datetime.now(UTC)

    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\+00:00", text), text
    moment = datetime.fromisoformat(text)
    assert moment.utcoffset() == timedelta(0)
    assert before <= moment <= after


# -- serper_search -----------------------------------------------------------------------------


def test_serper_search_formats_results(serper: SerperStub) -> None:
    text = serper_search("is coffee healthy")

    assert text == (
        "Coffee - Wikipedia\nhttps://en.wikipedia.org/wiki/Coffee\nA drink.\n\n"
        "Coffee and health\nhttps://example.org/health\nModerate is fine."
    )
    [request] = serper.requests
    assert request.path == "/search"
    assert request.api_key == "serper-test-key"
    assert request.body == {"q": "is coffee healthy"}


def test_serper_search_keeps_the_top_five(serper: SerperStub) -> None:
    serper.push(results_reply(*({"title": f"T{i}", "link": f"https://x/{i}", "snippet": f"S{i}"} for i in range(8))))

    text = serper_search("many")

    blocks = text.split("\n\n")
    assert [block.splitlines()[0] for block in blocks] == ["T0", "T1", "T2", "T3", "T4"]


def test_serper_search_without_results(serper: SerperStub) -> None:
    serper.push(results_reply())
    assert serper_search("nothing") == "No results."


def test_serper_search_without_key_names_the_variable(serper: SerperStub, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SERPER_API_KEY")

    with pytest.raises(ToolError) as caught:
        serper_search("anything")

    assert "SERPER_API_KEY" in caught.value.message
    assert "SERPER_API_KEY" in caught.value.hint
    assert serper.requests == []  # nothing was sent without a key


@pytest.mark.parametrize("status", [401, 403, 429, 500])
def test_serper_http_error_is_a_tool_error(serper: SerperStub, status: int) -> None:
    serper.push(serper_error(status, "Not today."))

    with pytest.raises(ToolError) as caught:
        serper_search("q")

    assert f"HTTP {status}" in str(caught.value)
    assert "Not today." in str(caught.value)


def test_serper_unreachable_is_a_tool_error(monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket() as probe:  # a port on 127.0.0.1 that nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setenv("SERPER_BASE_URL", f"http://127.0.0.1:{port}/search")
    monkeypatch.setenv("SERPER_API_KEY", "k")

    with pytest.raises(ToolError, match="serper_search: the request failed"):
        serper_search("q")


def test_serper_non_json_answer_is_a_tool_error(serper: SerperStub) -> None:
    from tests.stubs.gemini import Reply

    serper.push(Reply(status=200, body=b"<html>captive portal</html>", content_type="text/html"))

    with pytest.raises(ToolError, match="serper_search"):
        serper_search("q")


def test_serper_tool_through_langchain(serper: SerperStub) -> None:
    tool = build_tool("serper_search")

    assert set(tool.args) == {"query"}
    assert "Coffee - Wikipedia" in tool.invoke({"query": "coffee"})
    assert serper.requests[0].body == {"q": "coffee"}


# -- registry ----------------------------------------------------------------------------------


def test_builtins_are_registered() -> None:
    assert {"calculator", "current_datetime", "serper_search"} <= set(tool_names())
    serper_info = get_tool_info("serper_search")
    assert serper_info is not None and serper_info.requires_env == "SERPER_API_KEY"
    calculator_info = get_tool_info("calculator")
    assert calculator_info is not None and calculator_info.requires_env is None


def test_build_tool_gives_langchain_tools() -> None:
    from langchain_core.tools import BaseTool

    tool = build_tool("calculator")

    assert isinstance(tool, BaseTool)
    assert tool.name == "calculator"
    assert set(tool.args) == {"expression"}
    assert tool.args["expression"].get("type") == "string"
    assert "arithmetic" in tool.description
    assert tool.invoke({"expression": "17*23+4"}) == "395"
    # A refusal reaches the model as text, not as an exception.
    assert tool.invoke({"expression": "__import__('os')"}).startswith("Error: calculator:")

    clock = build_tool("current_datetime")
    assert clock.args == {}
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\+00:00", clock.invoke({}))


def test_build_tool_unknown_name() -> None:
    with pytest.raises(ToolError) as caught:
        build_tool("no_such_tool")
    assert "'no_such_tool' is not registered" in caught.value.message
    assert "calculator" in caught.value.hint


def _shout(text: str, times: int = 1) -> str:
    """Repeat the text in capitals."""
    return " ".join([text.upper()] * times)


def _tool_workflow(tool: str) -> dict:
    return {
        "schema_version": "1.0",
        "flow": {"name": "third_party_tool"},
        "state": {"fields": {"q": {"type": "str", "required": True}, "a": {"type": "str", "default": ""}}},
        "nodes": [{"id": "ask", "prompt": "{state.q}", "outputs": ["a"], "tools": [tool]}],
        "edges": [{"from": "START", "to": "ask"}, {"from": "ask", "to": "END"}],
    }


def test_third_party_tool_registers_with_one_call() -> None:
    from agents_core.config.validator import validate_workflow

    assert not validate_workflow(_tool_workflow("shout_test")).ok
    register_tool(ToolInfo(name="shout_test", description="Shout.", function=_shout))
    try:
        assert "shout_test" in tool_names()
        tool = build_tool("shout_test")
        assert tool.name == "shout_test"
        assert set(tool.args) == {"text", "times"}
        assert tool.description == "Repeat the text in capitals."
        assert tool.invoke({"text": "hi", "times": 2}) == "HI HI"
        assert validate_workflow(_tool_workflow("shout_test")).ok
    finally:
        unregister_tool("shout_test")

    assert "shout_test" not in tool_names()
    assert get_tool_info("shout_test") is None
    with pytest.raises(ToolError):
        build_tool("shout_test")
    report = validate_workflow(_tool_workflow("shout_test"))
    assert [p.code for p in report.errors] == ["E-TOOL-UNKNOWN"]


def test_a_ready_langchain_tool_is_used_as_is() -> None:
    from langchain_core.tools import tool as make_tool

    @make_tool
    def word_count(text: str) -> int:
        """Count the words in a text."""
        return len(text.split())

    register_tool(ToolInfo(name="word_count", description="Count words.", function=word_count))
    try:
        assert build_tool("word_count") is word_count
        assert build_tool("word_count").invoke({"text": "one two three"}) == 3
    finally:
        unregister_tool("word_count")
    assert "word_count" not in tool_names()
