"""The API's other entry forms never raise either (issue 8 §1).

``validate_workflow`` takes a path, text, bytes or data. Data that no YAML
or JSON file could hold (numbers past Python's conversion limit, lone
surrogates, sets, bytes, objects), and arguments that are not a workflow
at all (None, a list, an int), come back as placed problems, as do number
literals in route conditions longer than the number-length limit.
"""

from __future__ import annotations

import datetime
import json
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
import yaml

from agents_core.config.codes import CODES
from agents_core.config.limits import MAX_NUMBER_LENGTH
from agents_core.config.validator import ValidationReport, validate_text, validate_workflow
from tests.conftest import EXAMPLES_DIR
from tests.samples import with_condition

ARTICLE = (EXAMPLES_DIR / "article_writer.yaml").read_text(encoding="utf-8")


def article() -> dict[str, Any]:
    """A fresh, valid workflow as data."""
    return yaml.safe_load(ARTICLE)


def assert_refused(report: ValidationReport, code: str, path: str | None = None) -> None:
    """Not valid; the given code is among the problems; every problem is catalogued and placed."""
    assert not report.ok and report.workflow is None
    assert code in {p.code for p in report.problems}, report.problems
    for problem in report.problems:
        assert problem.code in CODES and problem.line >= 1 and problem.column >= 1, problem
        assert problem.message and problem.hint
        problem.message.encode("utf-8")  # printable: no lone surrogate is echoed back
    if path is not None:
        assert path in {p.path for p in report.problems}, report.problems


def with_value(path: tuple[str, ...], value: Any) -> dict[str, Any]:
    data = article()
    inner = data
    for key in path[:-1]:
        inner = inner[key]
    inner[path[-1]] = value
    return data


@pytest.mark.parametrize(
    "value, code",
    [
        (10**5000, "E-NUMBER-TOO-LONG"),  # str() of it raises ValueError
        (-(10 ** (MAX_NUMBER_LENGTH + 1)), "E-NUMBER-TOO-LONG"),
        ("x\ud800y", "E-TEXT-ENCODING"),
        ({1, 2}, "E-SHAPE-TYPE"),
        (b"\xff", "E-SHAPE-TYPE"),
        (object(), "E-SHAPE-TYPE"),
    ],
    ids=["int-5001-digits", "int-past-limit", "lone-surrogate", "set", "bytes", "object"],
)
def test_data_no_file_could_hold_is_refused_at_its_path(value: Any, code: str) -> None:
    report = validate_workflow(with_value(("config", "llm", "max_tokens"), value))
    assert_refused(report, code, "config.llm.max_tokens")


def test_a_key_with_a_lone_surrogate_is_refused_at_its_mapping() -> None:
    data = article()
    data["flow"]["na\udc80me"] = "x"
    assert_refused(validate_workflow(data), "E-TEXT-ENCODING", "flow")


def test_numbers_within_the_limit_and_dates_are_data_a_file_could_hold() -> None:
    data = with_value(("config", "llm", "max_tokens"), 10 ** (MAX_NUMBER_LENGTH - 2))
    data["flow"]["version"] = datetime.date(2024, 2, 28)  # what yaml.safe_load gives for 2024-02-28
    report = validate_workflow(data)
    assert report.ok, report.problems
    assert report.workflow is not None and report.workflow.flow.version == "2024-02-28"


def test_any_mapping_is_data() -> None:
    class ReadOnly(Mapping[str, Any]):
        def __init__(self, data: dict[str, Any]) -> None:
            self._data = data

        def __getitem__(self, key: str) -> Any:
            return self._data[key]

        def __iter__(self) -> Iterator[str]:
            return iter(self._data)

        def __len__(self) -> int:
            return len(self._data)

    report = validate_workflow(ReadOnly(article()))
    assert report.ok, report.problems
    broken = article()
    broken["nodes"][0]["prompt"] = "{state.topik}"
    assert_refused(validate_workflow(ReadOnly(broken)), "E-REF-STATE")


@pytest.mark.parametrize(
    "source, code",
    [(None, "E-FILE-EMPTY"), ([article()], "E-SHAPE-NOT-MAPPING"), (42, "E-SHAPE-NOT-MAPPING")],
)
def test_a_source_that_is_not_a_workflow_is_a_problem_not_an_exception(source: Any, code: str) -> None:
    report = validate_workflow(source)
    assert_refused(report, code)
    assert type(source).__name__ in report.problems[0].message or source is None


def test_bytes_are_read_as_utf8_text() -> None:
    assert validate_workflow(ARTICLE.encode("utf-8")).ok
    assert validate_workflow(b"\xef\xbb\xbf" + json.dumps(article()).encode(), file="a.json").ok
    assert_refused(validate_workflow(b"flow: \xff\n"), "E-TEXT-ENCODING")


def test_a_condition_number_past_the_length_limit_is_a_placed_syntax_error() -> None:
    text = with_condition("{state.score} > " + "9" * 5000)  # int() of it raises ValueError
    report = validate_text(text)
    assert_refused(report, "E-COND-SYNTAX")
    (problem,) = [p for p in report.problems if p.code == "E-COND-SYNTAX"]
    assert f"the limit is {MAX_NUMBER_LENGTH}" in problem.message
    assert problem.line == 15
    assert validate_text(with_condition("{state.score} > " + "9" * MAX_NUMBER_LENGTH)).ok


@pytest.mark.parametrize(
    "breaker",
    ["\u2028", "\x85", "\r"],
    ids=["line-separator", "next-line", "lone-cr"],
)
def test_lines_are_counted_at_newlines_as_editors_count_them(breaker: str) -> None:
    """YAML also ends lines at CR, NEL and U+2028; a problem's line is the editor's ('\\n') line."""
    text = ARTICLE.replace("{state.topic}.", "{state.topik}.", 1)
    expected = text.splitlines().index("      List three short facts about {state.topik}.") + 1
    text = text.replace("# Article writer:", "# Article" + breaker + "writer:", 1)  # YAML sees one line more
    problems = validate_text(text).problems
    assert [(p.code, p.line, p.column) for p in problems if p.code == "E-REF-STATE"] == [("E-REF-STATE", expected, 36)]
    for problem in problems:
        assert 1 <= problem.line <= text.count("\n") + 1, problem


def test_a_yaml_bom_does_not_shift_places_inside_values() -> None:
    text = "\ufeff" + ARTICLE.replace("{state.topic}.", "{state.topik}.", 1)
    expected = text.splitlines().index("      List three short facts about {state.topik}.") + 1
    (problem,) = validate_text(text).problems
    assert (problem.code, problem.line, problem.column) == ("E-REF-STATE", expected, 36)


@pytest.mark.parametrize("prefix", ["", "\ufeff", "# é \u2028 😀\n"], ids=["ascii", "bom", "non-ascii-before"])
@pytest.mark.parametrize("character", ["\x00", "\x07", "\x1b", "\ufffe"], ids=["nul", "bel", "esc", "fffe"])
def test_a_character_yaml_forbids_is_reported_at_its_own_place(prefix: str, character: str) -> None:
    text = prefix + ARTICLE.replace("Gather key facts", "Gather" + character + " key facts", 1)
    line = next(n for n, row in enumerate(text.split("\n"), 1) if character in row)
    column = text.split("\n")[line - 1].index(character) + 1 - (1 if prefix == "\ufeff" and line == 1 else 0)
    (problem,) = validate_text(text).problems
    assert (problem.code, problem.line, problem.column) == ("E-YAML-SYNTAX", line, column)
    assert f"U+{ord(character):04X}" in problem.message and "position" not in problem.message


#: Texts for the faces: characters YAML forbids, line breaks only YAML counts, an overlong condition number.
FACE_TEXTS = {
    "nul.yaml": ARTICLE.replace("Gather key facts", "Gather\x00 key facts", 1),
    "escape.yaml": ARTICLE.replace("Gather key facts", "Gather\x1b[31m key facts", 1),
    "line_separator.yaml": ARTICLE.replace("{state.topic}.", "{state.topik}.\u2028", 1),
    "lone_cr.yaml": ARTICLE.replace("# Article writer:", "# Article\rwriter:", 1).replace("{state.topic}.", "{x}.", 1),
    "condition_number.yaml": with_condition("{state.score} > " + "9" * 5000),
}


def test_home_and_editor_survive_forbidden_characters_and_odd_line_breaks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from streamlit.testing.v1 import AppTest

    from agents_core.workspace import WORKSPACE_ENV
    from tests.conftest import REPO_ROOT

    for name, text in FACE_TEXTS.items():
        (tmp_path / name).write_text(text, encoding="utf-8", newline="")
    monkeypatch.setenv(WORKSPACE_ENV, str(tmp_path))
    monkeypatch.setattr(sys, "argv", ["app.py"])
    at = AppTest.from_file(str(REPO_ROOT / "app.py"), default_timeout=60)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    (table,) = [m.value for m in at.markdown if m.value.startswith("| Workflow |")]
    for name in FACE_TEXTS:
        (row,) = [line for line in table.splitlines() if f"{name} " in line or f"{name}|" in line]
        assert "error" in row, row
    at.switch_page("pages/1_Editor.py")
    at.run()
    for name, text in FACE_TEXTS.items():
        state = at.session_state["editor_state"]
        at.session_state[f"editor_ace_{state.version}"] = text
        at.run()
        assert not at.exception, (name, [e.value for e in at.exception])
        drawn = [e for e in at.main if type(getattr(e, "proto", None)).__name__ == "ComponentInstance"]
        assert drawn, f"{name}: the editor's text area is not drawn"
        assert at.error, f"{name}: no error shown"


def test_a_file_that_is_not_utf8_is_refused_at_the_bad_byte(tmp_path: Path) -> None:
    from agents_core.config.validator import validate_file

    path = tmp_path / "latin1.yaml"
    path.write_bytes(ARTICLE.replace("Gather key facts", "Gather kéy facts", 1).encode("latin-1"))
    line = next(n for n, row in enumerate(ARTICLE.split("\n"), 1) if "Gather key facts" in row)
    (problem,) = validate_file(path).problems
    assert (problem.code, problem.line, problem.column) == ("E-FILE-READ", line, 26)
    assert "0xE9" in problem.message and "UTF-8" in problem.hint
    path.write_bytes(ARTICLE.replace("\n", "\r\n").encode())  # Windows line ends read as '\n'
    assert validate_file(path).ok


@pytest.mark.parametrize("text", ["---", "--- &a", "--- ~", "a: [", 'a: "x', "\ufeff---"])
def test_a_problem_at_the_end_of_the_stream_stays_on_the_last_line(text: str) -> None:
    """YAML places end-of-stream marks on a line after the last; the problem stays on a real line."""
    for problem in validate_text(text).problems:
        assert problem.line == 1 and problem.column >= 1, problem
