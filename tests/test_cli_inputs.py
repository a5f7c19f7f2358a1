"""`run`'s inputs and printing: size and depth limits, strict numbers, strict JSON, terminal-safe text.

In-process through Typer's CliRunner; the endless file (/dev/zero), the
traceback checks and the terminal (a pty) go through the real entry point.
"""

from __future__ import annotations

import json
import math
import os
import pty
import select
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from agents_core.cli import app
from agents_core.engine.state import MAX_INPUT_DEPTH, MAX_INPUT_FILE_BYTES, InputError, check_value
from tests.stubs.gemini import GeminiStub, json_reply, text_reply
from tests.test_cli import SCRIPT

FLOW = """\
schema_version: "1.0"
flow: {{name: inputs_demo}}
state:
  fields:
    topic: {{type: str, required: true}}
    count: {{type: int, default: 1}}
    ratio: {{type: float, default: 0.5}}
    tags: {{type: list, default: []}}
    weights: {{type: "list[float]", default: []}}
    answer: {{type: str, default: ""}}
nodes:
  - id: reply
    prompt: "{{state.topic}} x{{state.count}} at {{state.ratio}} with {{state.tags}} {{state.weights}}"
    outputs: [answer]
edges:
  - {{from: START, to: reply}}
  - {{from: reply, to: END}}
config:
  llm: {{provider: google, api_base: "{api_base}"}}
  execution: {{max_retries: 0, timeout: 10}}
"""

DIGITS = sys.get_int_max_str_digits()


@pytest.fixture
def flow(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The workflow file, pointed at a port nobody listens on (input errors come before any call)."""
    monkeypatch.setenv("AGENTS_RUN_STORE", str(tmp_path / "runs.sqlite"))
    monkeypatch.setenv("NO_COLOR", "1")
    path = tmp_path / "flow.yaml"
    path.write_text(FLOW.format(api_base="http://127.0.0.1:9"), encoding="utf-8")
    return path


def cli(*args: str) -> Any:
    return CliRunner().invoke(app, ["run", *args])


def refused(result: Any, *words: str) -> None:
    """Exit 2 with one clear error line naming the problem, and no traceback."""
    assert result.exit_code == 2, (result.exit_code, result.output, result.exception)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output
    assert result.stderr.startswith("error: ")
    for word in words:
        assert word in result.stderr, result.stderr


# -- --input-file ------------------------------------------------------------------------------------


def test_an_input_file_over_the_limit_is_refused(flow: Path, tmp_path: Path) -> None:
    big = tmp_path / "big.json"
    big.write_text('{"topic": "' + "x" * MAX_INPUT_FILE_BYTES + '"}')
    refused(cli(str(flow), "--input-file", str(big)), "larger than 10 MiB", str(big))


def test_an_input_file_just_under_the_limit_is_read(flow: Path, tmp_path: Path) -> None:
    from agents_core.cli.run_progress import read_input_file

    padding = MAX_INPUT_FILE_BYTES - len('{"topic": ""}')
    ok = tmp_path / "ok.json"
    ok.write_text('{"topic": "' + "x" * padding + '"}')
    assert len(read_input_file(ok)["topic"]) == padding


def test_an_endless_input_file_is_refused_without_reading_it_all(flow: Path, tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "GOOGLE_API_KEY"}
    env.update(NO_COLOR="1", AGENTS_RUN_STORE=str(tmp_path / "runs.sqlite"))
    done = subprocess.run(
        [SCRIPT, "run", str(flow), "--input-file", "/dev/zero"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,  # reading /dev/zero to its end would never finish
    )
    assert done.returncode == 2, done.stderr
    assert "larger than 10 MiB" in done.stderr and "Traceback" not in done.stderr


@pytest.mark.parametrize(
    ("content", "words"),
    [
        ('{"tags": ' + "[" * 100_000 + "]" * 100_000 + "}", ["nested more than"]),
        ('{"tags": ' + "[" * (MAX_INPUT_DEPTH + 5) + "]" * (MAX_INPUT_DEPTH + 5) + "}", ["nested more than"]),
        ('{"count": ' + "9" * (DIGITS + 1) + "}", [f"more than {DIGITS} digits"]),
        ('{"ratio": NaN}', ["NaN"]),
        ('{"ratio": -Infinity}', ["-Infinity"]),
        ('{"ratio": 1e999}', ["infinite"]),
        ('{"topic": "x",}', ["not valid JSON", "line 1"]),
        ("\ufeff[1, 2]", ["must hold a JSON object"]),
        (b"\xff\xfe{}", ["not UTF-8"]),
    ],
    ids=["deep", "over-the-limit", "long-int", "nan", "infinity", "overflow", "syntax", "not-an-object", "utf16"],
)
def test_bad_input_files_get_a_clear_error(flow: Path, tmp_path: Path, content: str | bytes, words: list[str]) -> None:
    path = tmp_path / "inputs.json"
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    result = cli(str(flow), "--input-file", str(path))
    refused(result, *words)
    assert len(result.stderr) < 500  # the offending value is not echoed whole


def test_a_bom_is_accepted_in_an_input_file(flow: Path, tmp_path: Path) -> None:
    from agents_core.cli.run_progress import read_input_file

    path = tmp_path / "inputs.json"
    path.write_bytes('\ufeff{"topic": "cats"}'.encode())
    assert read_input_file(path) == {"topic": "cats"}


# -- --input ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["NaN", "nan", "Infinity", "-inf", "1e999"])
def test_a_float_input_must_be_finite(flow: Path, text: str) -> None:
    refused(cli(str(flow), "--input", "topic=t", "--input", f"ratio={text}"), "input 'ratio'", "finite")


@pytest.mark.parametrize(
    ("pair", "words"),
    [
        ("tags=" + "[" * 50_000, ["input 'tags'", "nested more than"]),
        ("tags=" + "[" * 500 + "]" * 500, ["input 'tags'", "nested more than"]),
        ("count=" + "7" * (DIGITS + 500), ["input 'count'", f"more than {DIGITS} digits"]),
        ("tags=[" + "1" * (DIGITS + 1) + "]", ["input 'tags'", f"more than {DIGITS} digits"]),
        ("weights=[1.5, NaN]", ["input 'weights'", "NaN"]),
        ("tags=[1e400]", ["input 'tags'", "infinite"]),
    ],
    ids=["deep-unclosed", "deep", "long-int", "long-int-in-list", "nan-in-list", "overflow-in-list"],
)
def test_bad_input_values_get_a_clear_error(flow: Path, pair: str, words: list[str]) -> None:
    result = cli(str(flow), "--input", "topic=t", "--input", pair)
    refused(result, *words)
    assert len(result.stderr) < 500


def test_the_api_refuses_values_json_cannot_carry() -> None:
    deep: list[Any] = []
    for _ in range(MAX_INPUT_DEPTH + 1):
        deep = [deep]
    looped: list[Any] = []
    looped.append(looped)
    for value, words in [
        (math.nan, "nan"),
        ({"a": [1.0, math.inf]}, "inf"),
        (10 ** (DIGITS + 1), "digits"),
        (deep, "nested"),
        (looped, "refers to itself"),
    ]:
        with pytest.raises(InputError) as caught:
            check_value(value, "input 'x'")
        assert words in caught.value.message and "input 'x'" in caught.value.message
    check_value({"fine": [1, 2.5, "x", None, True]}, "input 'x'")


def test_the_subprocess_entry_point_shows_no_traceback_for_hostile_inputs(flow: Path, tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "GOOGLE_API_KEY"}
    env.update(NO_COLOR="1", AGENTS_RUN_STORE=str(tmp_path / "runs.sqlite"))
    for pair in ("tags=" + "[" * 100_000, "count=" + "1" * 10_000, "ratio=nan"):
        done = subprocess.run(
            [SCRIPT, "run", str(flow), "-i", "topic=t", "-i", pair],
            capture_output=True,
            text=True,
            env=env,
            timeout=120,
        )
        assert done.returncode == 2, done.stderr
        assert done.stderr.startswith("error: input '") and "Traceback" not in done.stderr


# -- printing: strict JSON, no escape sequences ------------------------------------------------------

ESCAPES = "\x1b[2J\x1b]0;pwned\x07\rfake line\u202eevil\x9b31m"


@pytest.fixture
def gemini_stub(monkeypatch: pytest.MonkeyPatch) -> Iterator[GeminiStub]:
    """The Gemini stub on 127.0.0.1 (as in tests/engine), with a dummy key and no proxy."""
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setenv("GOOGLE_API_KEY", "stub-key")
    monkeypatch.delenv("GOOGLE_GEMINI_BASE_URL", raising=False)
    with GeminiStub() as stub:
        yield stub


@pytest.fixture
def stub_flow(flow: Path, gemini_stub: GeminiStub) -> Path:
    flow.write_text(FLOW.format(api_base=gemini_stub.url), encoding="utf-8")
    return flow


def _no_raw_escapes(text: str, *, terminal: bool = False) -> None:
    """None of the model's control characters arrived raw (on a terminal, rich's own \\r and ESC [ are fine)."""
    for raw in ("\x1b[2J", "\x1b]0;", "\x07", "\rfake" if terminal else "\r", "\u202e", "\x9b"):
        assert raw not in text, repr(text)


def test_escape_sequences_in_model_output_are_shown_not_obeyed(stub_flow: Path, gemini_stub: GeminiStub) -> None:
    gemini_stub.push(text_reply(f"hello {ESCAPES}\nsecond line"))
    result = cli(str(stub_flow), "--input", "topic=t")
    assert result.exit_code == 0, result.output
    _no_raw_escapes(result.stdout)
    assert "answer: hello \\x1b[2J\\x1b]0;pwned\\x07\\rfake line\\u202eevil\\x9b31m\nsecond line" in result.stdout


def test_escape_sequences_in_a_provider_error_are_neutralised(stub_flow: Path, gemini_stub: GeminiStub) -> None:
    from tests.stubs.gemini import error_reply

    gemini_stub.push(error_reply(400, f"bad {ESCAPES}"))
    result = cli(str(stub_flow), "--input", "topic=t")
    assert result.exit_code == 1, result.output
    assert "failed in node 'reply'" in result.stderr
    _no_raw_escapes(result.stderr)


def test_json_output_is_strict_and_keeps_the_exact_text(stub_flow: Path, gemini_stub: GeminiStub) -> None:
    gemini_stub.push(text_reply(f"hello {ESCAPES}"))
    result = cli(str(stub_flow), "--input", "topic=t", "--json")
    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout, parse_constant=lambda name: pytest.fail(f"{name} in --json output"))
    assert body["outputs"]["answer"] == f"hello {ESCAPES}"  # JSON escapes it; the value is exact
    assert "\x1b" not in result.stdout


def test_json_output_has_no_nan_even_when_a_model_returns_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, gemini_stub: GeminiStub
) -> None:
    monkeypatch.setenv("AGENTS_RUN_STORE", str(tmp_path / "runs.sqlite"))
    flow = tmp_path / "score.yaml"
    flow.write_text(
        FLOW.format(api_base=gemini_stub.url).replace(
            "    outputs: [answer]",
            "    output_schema: {type: float, description: A score.}\n    outputs: [ratio]",
        ),
        encoding="utf-8",
    )
    gemini_stub.push(json_reply({"value": math.nan}))
    result = cli(str(flow), "--input", "topic=t", "--json")
    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout, parse_constant=lambda name: pytest.fail(f"{name} in --json output"))
    assert body["outputs"]["ratio"] is None and body["state"]["ratio"] is None


@pytest.mark.slow
def test_on_a_real_terminal_model_output_cannot_drive_it(
    stub_flow: Path, gemini_stub: GeminiStub, tmp_path: Path
) -> None:
    gemini_stub.push(text_reply(f"hello {ESCAPES}"))
    env = {**os.environ, "GOOGLE_API_KEY": "stub-key", "AGENTS_RUN_STORE": str(tmp_path / "runs.sqlite")}
    env.pop("NO_COLOR", None)
    leader, follower = pty.openpty()
    process = subprocess.Popen(
        [SCRIPT, "run", str(stub_flow), "-i", "topic=t"], stdout=follower, stderr=follower, env=env, close_fds=True
    )
    os.close(follower)
    seen = b""
    while True:
        ready, _, _ = select.select([leader], [], [], 120)
        if not ready:
            break
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # the child closed the terminal
            break
        if not chunk:
            break
        seen += chunk
    assert process.wait(timeout=60) == 0, seen
    os.close(leader)
    text = seen.decode("utf-8", "replace")
    assert "hello \\x1b[2J" in text
    _no_raw_escapes(text, terminal=True)
