"""No input crashes the validator (issue 8 §1, SPEC §4, §14).

Each hostile kind below raised an uncaught exception (or was called valid)
before; now it must come back as problems with a line and column, through
the API (text, file and dict forms), the CLI (exit 2, no traceback), the
flow picture, and the Home and Editor pages.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from streamlit.testing.v1 import AppTest

from agents_core.config.codes import CODES
from agents_core.config.flowchart import build_flow_graph, to_dot
from agents_core.config.limits import (
    LIMITS,
    MAX_CONDITION_DEPTH,
    MAX_NESTING_DEPTH,
    MAX_NUMBER_LENGTH,
    MAX_TYPE_DEPTH,
)
from agents_core.config.reference import REFERENCE_PATH
from agents_core.config.validator import ValidationReport, validate_file, validate_text, validate_workflow
from agents_core.workspace import WORKSPACE_ENV
from tests.conftest import EXAMPLES_DIR, REPO_ROOT
from tests.samples import with_condition

ARTICLE = (EXAMPLES_DIR / "article_writer.yaml").read_text(encoding="utf-8")
#: A small valid workflow that the hostile variants below change in one place.
BASE = """\
schema_version: "1.0"
flow:
  name: base
  version: "1"
state:
  fields:
    topic: {type: str, required: true}
    article: {type: str, default: ""}
nodes:
  - id: write
    prompt: |
      Write an article on {state.topic}.
    outputs: [article]
edges:
  - {from: START, to: write}
  - {from: write, to: END}
config:
  llm: {provider: local}
"""
FIXTURES = Path(__file__).parent / "fixtures" / "invalid"
SCRIPT = shutil.which("configurable-agents", path=str(Path(sys.executable).parent)) or "configurable-agents"


def _edit(text: str, old: str, new: str) -> str:
    """``text`` with the first ``old`` replaced; fails loudly if the example changed under the test."""
    assert old in text, f"{old!r} is not in the example any more"
    return text.replace(old, new, 1)


TOPIC_TYPE = "      type: str\n      required: true"


def _block_nesting(depth: int) -> str:
    return "".join("  " * level + f"k{level}:\n" for level in range(depth)) + "  " * depth + "leaf\n"


#: name -> (text, file name, a code the report must hold). Sizes are the issue's, past every limit.
HOSTILE: dict[str, tuple[str, str | None, str]] = {
    "impossible date as version": (
        _edit(ARTICLE, '  version: "1.0.0"', "  version: 2024-02-30\n  x: 1"),
        None,
        "E-YAML-DATE",
    ),
    "decimal int over 4,300 digits": ("a: " + "7" * 5000 + "\n", None, "E-NUMBER-TOO-LONG"),
    "hex int over 4,300 digits": ("a: 0x" + "f" * 5000 + "\n", None, "E-NUMBER-TOO-LONG"),
    "json int over 4,300 digits": ('{"a": ' + "7" * 5000 + "}", "x.json", "E-NUMBER-TOO-LONG"),
    "json negative float too long": ('{"a": -' + "7" * 400 + ".5e+3}", "x.json", "E-NUMBER-TOO-LONG"),
    "!!bool maybe": ("a: !!bool maybe\n", None, "E-YAML-TAG-VALUE"),
    "!!map x": ("a: !!map x\n", None, "E-YAML-TAG-VALUE"),
    '!!int ""': ('a: !!int ""\n', None, "E-YAML-TAG-VALUE"),
    "!!timestamp x": ("a: !!timestamp x\n", None, "E-YAML-TAG-VALUE"),
    "!!seq on a mapping": ("a: !!seq {b: 1}\n", None, "E-YAML-TAG-VALUE"),
    "500 [": ("a: " + "[" * 500 + "]" * 500 + "\n", None, "E-NESTING-DEPTH"),
    "500 {": ("a: " + "{b: " * 500 + "1" + "}" * 500 + "\n", None, "E-NESTING-DEPTH"),
    "500 block levels": (_block_nesting(500), None, "E-NESTING-DEPTH"),
    "1,000 json [": ("[" * 1000 + "]" * 1000, "x.json", "E-NESTING-DEPTH"),
    "1,000 json {": ('{"a": ' * 1000 + "1" + "}" * 1000, "x.json", "E-NESTING-DEPTH"),
    "5,000 json [": ("[" * 5000 + "]" * 5000, "x.json", "E-NESTING-DEPTH"),
    "140 parentheses": (with_condition("(" * 140 + "{state.score} >= 7" + ")" * 140), None, "E-COND-SYNTAX"),
    "1,000 nots": (with_condition("not " * 1000 + "{state.score} >= 7"), None, "E-COND-SYNTAX"),
    "type string 250 deep": (
        _edit(ARTICLE, TOPIC_TYPE, '      type: "' + "list[" * 250 + "str" + "]" * 250 + '"'),
        None,
        "E-TYPE-SYNTAX",
    ),
    "lone surrogate": ("flow: {name: \ud800x}\n", None, "E-TEXT-ENCODING"),
    "lone low surrogate in json": ('{"flow": "\udc80"}', "x.json", "E-TEXT-ENCODING"),
    "only ~": ("~\n", None, "E-FILE-EMPTY"),
    "only null": ("null\n", None, "E-FILE-EMPTY"),
    "only an anchor": ("&a\n", None, "E-FILE-EMPTY"),
    "document start and anchor": ("--- &a\n", None, "E-FILE-EMPTY"),
    "json null": ("null", "x.json", "E-FILE-EMPTY"),
    "nodes: 3": (
        'schema_version: "1.0"\nflow: {name: x}\nnodes: 3\nedges: [{from: START, to: a}]\n',
        None,
        "E-SHAPE-TYPE",
    ),
}


def assert_placed(report: ValidationReport, text: str | None = None) -> None:
    """Not valid, and every problem is a catalogued code at a line (>= 1) and column (>= 1)."""
    assert not report.ok and report.workflow is None, report.problems
    assert report.problems
    lines = (text.count("\n") + 1) if text is not None else 1
    for problem in report.problems:
        assert problem.code in CODES, problem
        assert 1 <= problem.line <= lines and problem.column >= 1, problem
        assert problem.message and problem.hint, problem


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_text_comes_back_as_placed_problems(name: str) -> None:
    text, file, code = HOSTILE[name]
    report = validate_text(text, file)
    assert_placed(report, text)
    assert code in {p.code for p in report.problems}, report.problems
    assert "\n" not in report.problems[0].message


@pytest.mark.parametrize("name", ["lone surrogate", "500 [", "only ~", "!!bool maybe"])
def test_validate_workflow_takes_hostile_text_too(name: str) -> None:
    text, _, code = HOSTILE[name]
    report = validate_workflow(text)
    assert code in {p.code for p in report.problems}
    assert_placed(report, text)


def test_limits_are_named_in_their_messages() -> None:
    messages = {
        code: next(p.message for p in validate_text(HOSTILE[name][0]).problems if p.code == code)
        for name, code in [("500 [", "E-NESTING-DEPTH"), ("decimal int over 4,300 digits", "E-NUMBER-TOO-LONG")]
    }
    assert f"{MAX_NESTING_DEPTH} levels" in messages["E-NESTING-DEPTH"]
    assert f"limit is {MAX_NUMBER_LENGTH}" in messages["E-NUMBER-TOO-LONG"]
    cond = [p for p in validate_text(HOSTILE["1,000 nots"][0]).problems if p.code == "E-COND-SYNTAX"]
    assert f"more than {MAX_CONDITION_DEPTH} levels" in cond[0].message
    types = [p for p in validate_text(HOSTILE["type string 250 deep"][0]).problems if p.code == "E-TYPE-SYNTAX"]
    assert f"more than {MAX_TYPE_DEPTH} levels" in types[0].message


def test_nesting_within_the_limit_is_read() -> None:
    text = "a: " + "[" * (MAX_NESTING_DEPTH - 2) + "]" * (MAX_NESTING_DEPTH - 2) + "\n"
    assert "E-NESTING-DEPTH" not in {p.code for p in validate_text(text).problems}
    condition = "not " * (MAX_CONDITION_DEPTH - 1) + "{state.score} >= 7"
    assert "E-COND-SYNTAX" not in {p.code for p in validate_text(with_condition(condition)).problems}


def test_unquoted_date_like_values_are_an_error_that_says_to_quote_them() -> None:
    text = _edit(ARTICLE, '  version: "1.0.0"', "  version: 2024-02-30")
    report = validate_text(text)
    assert [(p.code, p.line, p.path) for p in report.problems] == [("E-YAML-DATE", 14, "flow.version")]
    assert 'Quote it to keep it as text: "2024-02-30"' in report.problems[0].hint
    quoted = _edit(ARTICLE, '  version: "1.0.0"', '  version: "2024-02-30"')
    assert validate_text(quoted).ok
    valid_timestamp = _edit(ARTICLE, '  version: "1.0.0"', "  version: 2024-01-01T10:00:00")
    assert {p.code for p in validate_text(valid_timestamp).problems} == {"E-YAML-DATE"}


def test_unreadable_value_is_reported_once_at_its_place() -> None:
    text = _edit(ARTICLE, TOPIC_TYPE, "      type: int\n      default: !!int ''")
    at_place = [p for p in validate_text(text).problems if p.code in ("E-YAML-TAG-VALUE", "E-TYPE-DEFAULT")]
    assert [p.code for p in at_place] == ["E-YAML-TAG-VALUE"]


def test_json_with_a_utf8_bom_is_accepted(tmp_path: Path) -> None:
    path = tmp_path / "article.json"
    path.write_bytes(b"\xef\xbb\xbf" + json.dumps(yaml.safe_load(ARTICLE), indent=2).encode())
    report = validate_file(path)
    assert report.ok, report.problems
    broken = path.read_text(encoding="utf-8").replace("{state.topic}", "{state.topik}", 1)
    (problem,) = validate_text(broken, "a.json").errors
    assert problem.code == "E-REF-STATE" and problem.line > 1


@pytest.mark.parametrize(
    "name, make",
    [
        ("tuple key", lambda: {("a", "b"): 1, "flow": {"name": "x"}}),
        ("int key inside", lambda: {"flow": {1: "x"}}),
        ("self-referencing dict", lambda: (lambda d: (d.__setitem__("self", d), d)[1])({"flow": {}})),
        ("self-referencing list", lambda: (lambda items: (items.append(items), {"nodes": items})[1])([])),
        ("deep nesting", lambda: _deep_dict(3000)),
    ],
)
def test_the_dict_api_refuses_data_that_no_file_could_hold(name: str, make) -> None:
    report = validate_workflow(make())
    assert_placed(report)
    assert any(word in report.problems[0].message for word in ("string", "contains itself", "nested")), name


def test_the_dict_api_shares_repeated_values_without_calling_them_cycles() -> None:
    data = yaml.safe_load(ARTICLE)
    shared = {"type": "str", "default": ""}
    data["state"]["fields"]["a"] = shared
    data["state"]["fields"]["b"] = shared
    report = validate_workflow(data)
    assert "E-SHAPE-TYPE" not in {p.code for p in report.problems}


def _deep_dict(depth: int) -> dict:
    root: dict = {}
    inner = root
    for _ in range(depth):
        inner["a"] = {}
        inner = inner["a"]
    return root


def test_flow_picture_draws_what_it_can_when_nodes_is_not_a_list() -> None:
    for nodes in (3, "x", {"id": "a"}, None, True):
        data = {"nodes": nodes, "edges": [{"from": "START", "to": "a"}, {"from": "a", "to": "END"}]}
        dot = to_dot(build_flow_graph(data))
        assert '"START" -> "a"' in dot or "START -> " in dot, dot
    assert to_dot(build_flow_graph({"nodes": 3, "edges": 3})).startswith("digraph")


def test_a_tab_after_a_block_prompt_is_reported_on_its_own_line() -> None:
    text = _edit(ARTICLE, "    outputs: [research]", "\toutputs: [research]")
    tab_line = text.splitlines().index("\toutputs: [research]") + 1
    (problem,) = validate_text(text).problems
    assert (problem.code, problem.line, problem.column) == ("E-YAML-SYNTAX", tab_line, 1)
    assert "tabs" in problem.hint


def test_every_limit_is_listed_in_the_config_reference() -> None:
    reference = REFERENCE_PATH.read_text(encoding="utf-8")
    for name, value, _ in LIMITS:
        assert f"| {name} | {value} |" in reference


# --------------------------------------------------------------------------- faces

HOSTILE_FIXTURES = sorted(
    p
    for p in FIXTURES.iterdir()
    if p.name.startswith(("deep", "integer_over", "standard_tags", "only_", "condition_n", "condition_m", "tab_after"))
    and p.suffix in (".yaml", ".json")
)


def test_cli_validate_exits_two_without_a_traceback_on_every_hostile_file() -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("GOOGLE_API_KEY", "OPENAI_API_KEY")}
    env["NO_COLOR"] = "1"
    for as_json in (False, True):
        args = [SCRIPT, "validate", *map(str, HOSTILE_FIXTURES), *(["--json"] if as_json else [])]
        result = subprocess.run(args, capture_output=True, text=True, env=env, timeout=120)
        assert result.returncode == 2, result.stderr
        assert "Traceback" not in result.stdout + result.stderr
    body = json.loads(result.stdout)
    assert body["ok"] is False
    assert len(HOSTILE_FIXTURES) >= 10


def test_cli_calls_a_null_only_file_invalid(tmp_path: Path) -> None:
    path = tmp_path / "empty.yaml"
    path.write_text("~\n", encoding="utf-8")
    result = subprocess.run([SCRIPT, "validate", "--json", str(path)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert json.loads(result.stdout)["ok"] is False


@pytest.fixture
def hostile_workspace(tmp_path: Path) -> Path:
    folder = tmp_path / "ws"
    folder.mkdir()
    for path in HOSTILE_FIXTURES:
        shutil.copy(path, folder / path.name)
    (folder / "nodes_not_a_list.yaml").write_text(HOSTILE["nodes: 3"][0], encoding="utf-8")
    return folder


def _app(monkeypatch: pytest.MonkeyPatch, workspace: Path) -> AppTest:
    monkeypatch.setenv(WORKSPACE_ENV, str(workspace))
    monkeypatch.setattr(sys, "argv", ["app.py"])
    at = AppTest.from_file(str(REPO_ROOT / "app.py"), default_timeout=60)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_home_lists_hostile_files_as_errors(hostile_workspace: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    at = _app(monkeypatch, hostile_workspace)
    (table,) = [m.value for m in at.markdown if m.value.startswith("| Workflow |")]
    listed = [p.name for p in hostile_workspace.iterdir() if "schema_version" in p.read_text(encoding="utf-8")[:4096]]
    assert len(listed) >= 8
    for name in listed:
        (row,) = [line for line in table.splitlines() if f"{name} " in line or f"{name}|" in line]
        assert "error" in row, row


def test_editor_draws_its_text_area_for_every_hostile_text(
    hostile_workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    at = _app(monkeypatch, hostile_workspace)
    at.switch_page("pages/1_Editor.py")
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    for name in sorted(HOSTILE):
        state = at.session_state["editor_state"]
        at.session_state[f"editor_ace_{state.version}"] = HOSTILE[name][0]
        at.run()
        assert not at.exception, (name, [e.value for e in at.exception])
        components = [e for e in at.main if getattr(e, "proto", None).__class__.__name__ == "ComponentInstance"]
        assert components, f"{name}: the editor's text area is not drawn"
        assert at.error, f"{name}: no error shown"


def test_editor_refuses_to_save_a_lone_surrogate_with_a_message(
    hostile_workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    at = _app(monkeypatch, hostile_workspace)
    at.switch_page("pages/1_Editor.py")
    at.run()
    state = at.session_state["editor_state"]
    at.session_state[f"editor_ace_{state.version}"] = BASE.replace("name: base", "name: b\ud800")
    at.run()
    at.text_input(key="editor_save_as_name").input("surrogate.yaml")
    at.button(key="FormSubmitter:save_as_form-Save as").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert any("not valid Unicode" in e.value for e in at.error), [e.value for e in at.error]
    assert not (hostile_workspace / "surrogate.yaml").exists()


def test_editor_opens_hostile_files_and_still_draws_its_text_area(
    hostile_workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    at = _app(monkeypatch, hostile_workspace)
    at.switch_page("pages/1_Editor.py")
    at.run()
    choices = at.sidebar.selectbox(key="editor_open_choice").options
    assert len(choices) >= 8
    for name in choices:
        at.sidebar.selectbox(key="editor_open_choice").select(name)
        at.run()
        next(b for b in at.button if b.label == "Open file").click().run()
        discard = [b for b in at.button if b.label == "Discard changes"]
        if discard:
            discard[0].click().run()
        assert not at.exception, (name, [e.value for e in at.exception])
        assert at.session_state["editor_state"].file == name
        components = [e for e in at.main if getattr(e, "proto", None).__class__.__name__ == "ComponentInstance"]
        assert components, f"{name}: the editor's text area is not drawn"
