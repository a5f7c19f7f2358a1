"""The corpus of wrong workflow files in ``tests/fixtures/invalid/``, each checked against what it declares.

Every YAML fixture starts with comment lines stating what it must produce; a JSON fixture (JSON has no
comments) has the same lines in a sidecar ``<name>.json.expect``::

    # expect: E-REF-STATE@14:22 E-GRAPH-CYCLE@20     code@line:column, or code@line (any column)
    # message: Did you mean 'research'?              a substring of some problem's message
    # hint: quoted                                   a substring of some problem's fix hint

Errors are exact: the declared errors and the reported errors must be the same set. Warnings are a
floor: each declared warning must be reported, other warnings may be too.

The expectations were written from the fixture and SPEC §4, not copied from the validator's output.
Where the validator disagrees and the validator is wrong, the case is marked ``xfail(strict=True)``
with a reason starting with "validator bug:" (see ``KNOWN_BUGS``), so the disagreement stays visible
and the mark must go once the validator is fixed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pytest

from agents_core.config.codes import CODES
from agents_core.config.validator import validate_file
from agents_core.errors import Problem

FIXTURES = Path(__file__).parent / "fixtures" / "invalid"
WORKFLOW_SUFFIXES = (".yaml", ".yml", ".json")
SIDECAR_SUFFIX = ".expect"
EXPECT_ITEM = re.compile(r"(?P<code>[EW]-[A-Z0-9-]+)@(?P<line>\d+)(?::(?P<column>\d+))?")
#: Codes that no fixture file can produce; explicit tests below cover them.
EXEMPT_FROM_CORPUS = {"E-FILE-READ", "E-FILE-TOO-LARGE", "E-TEXT-ENCODING"}
#: Environment variables that would make provider-key warnings depend on the machine.
API_KEY_VARIABLES = ("GOOGLE_API_KEY", "OPENAI_API_KEY")

#: Fixtures whose declared problems (codes, lines, columns) the validator gets wrong.
KNOWN_BUGS: dict[str, str] = {}

#: Fixtures whose declared ``message:`` / ``hint:`` texts the validator does not produce.
KNOWN_MESSAGE_BUGS: dict[str, str] = {}


@dataclass(frozen=True)
class Expected:
    """One declared problem: a code at a line, and at a column unless any column will do."""

    code: str
    line: int
    column: int | None

    @property
    def is_error(self) -> bool:
        return CODES[self.code][0] == "error"

    def matches(self, problem: Problem) -> bool:
        return (
            problem.code == self.code
            and problem.line == self.line
            and (self.column is None or problem.column == self.column)
        )

    def __str__(self) -> str:
        return f"{self.code}@{self.line}" + (f":{self.column}" if self.column is not None else "")


@dataclass(frozen=True)
class Expectations:
    problems: tuple[Expected, ...]
    messages: tuple[str, ...]
    hints: tuple[str, ...]


def workflow_files() -> list[Path]:
    return sorted(p for p in FIXTURES.iterdir() if p.suffix in WORKFLOW_SUFFIXES)


def header_lines(path: Path) -> list[str]:
    """The declaration lines of a fixture, without their leading '#'."""
    if path.suffix == ".json":
        lines = path.with_name(path.name + SIDECAR_SUFFIX).read_text(encoding="utf-8").splitlines()
        return [line.lstrip("#").strip() for line in lines]
    header = []
    for line in path.read_text(encoding="utf-8-sig").splitlines():  # a BOM is not part of the header
        if not line.startswith("#"):
            break
        header.append(line[1:].strip())
    return header


def parse_expectations(path: Path) -> Expectations:
    problems: list[Expected] = []
    messages: list[str] = []
    hints: list[str] = []
    for line in header_lines(path):
        if line.startswith("expect:"):
            for token in line[len("expect:") :].split():
                match = EXPECT_ITEM.fullmatch(token)
                if match is None:
                    raise ValueError(f"{path.name}: malformed expectation {token!r}")
                column = match.group("column")
                problems.append(
                    Expected(match.group("code"), int(match.group("line")), int(column) if column else None)
                )
        elif line.startswith("message:"):
            messages.append(line[len("message:") :].strip())
        elif line.startswith("hint:"):
            hints.append(line[len("hint:") :].strip())
    return Expectations(tuple(problems), tuple(messages), tuple(hints))


def listing(problems: list[Problem]) -> str:
    return "\n".join(f"  {p.code}@{p.line}:{p.column} ({p.severity}) {p.message}" for p in problems) or "  (none)"


def fixture_params(known_bugs: dict[str, str], only_with_texts: bool = False) -> list[pytest.param]:
    params = []
    for path in workflow_files():
        expected = parse_expectations(path)
        if only_with_texts and not (expected.messages or expected.hints):
            continue
        marks = []
        if path.name in known_bugs:
            marks.append(pytest.mark.xfail(strict=True, reason=known_bugs[path.name]))
        params.append(pytest.param(path, id=path.name, marks=marks))
    return params


@pytest.fixture(autouse=True)
def no_api_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    """Provider-key warnings must not depend on the machine running the tests."""
    for name in API_KEY_VARIABLES:
        monkeypatch.delenv(name, raising=False)


@pytest.mark.parametrize("path", fixture_params(KNOWN_BUGS))
def test_fixture_reports_declared_problems(path: Path) -> None:
    expected = parse_expectations(path)
    report = validate_file(path)  # must not raise, whatever is in the file

    assert not report.ok, f"{path.name} is invalid on purpose, but the report is ok:\n{listing(report.problems)}"
    for problem in report.problems:
        assert problem.line >= 1 and problem.column >= 1, f"{path.name}: unplaced problem {problem}"
        assert problem.code in CODES, f"{path.name}: code {problem.code!r} is not in the catalogue"

    declared_errors = [e for e in expected.problems if e.is_error]
    declared_warnings = [e for e in expected.problems if not e.is_error]
    missing = [e for e in declared_errors if not any(e.matches(p) for p in report.errors)]
    unexpected = [p for p in report.errors if not any(e.matches(p) for e in declared_errors)]
    missing_warnings = [e for e in declared_warnings if not any(e.matches(p) for p in report.warnings)]
    assert not (missing or unexpected or missing_warnings), (
        f"{path.name}\n"
        f"missing errors: {', '.join(map(str, missing)) or '-'}\n"
        f"missing warnings: {', '.join(map(str, missing_warnings)) or '-'}\n"
        f"unexpected errors:\n{listing(unexpected)}\n"
        f"all problems:\n{listing(report.problems)}"
    )


@pytest.mark.parametrize("path", fixture_params(KNOWN_MESSAGE_BUGS, only_with_texts=True))
def test_fixture_messages_and_hints(path: Path) -> None:
    expected = parse_expectations(path)
    report = validate_file(path)
    for text in expected.messages:
        assert any(text in p.message for p in report.problems), (
            f"{path.name}: no message contains {text!r}:\n{listing(report.problems)}"
        )
    hints = "\n".join(f"  {p.code}@{p.line}:{p.column} hint: {p.hint}" for p in report.problems)
    for text in expected.hints:
        assert any(text in p.hint for p in report.problems), f"{path.name}: no hint contains {text!r}:\n{hints}"


def test_corpus_is_well_formed() -> None:
    paths = workflow_files()
    assert len(paths) >= 45
    assert sum(p.suffix == ".json" for p in paths) >= 3
    for path in paths:
        if path.suffix == ".json":
            assert path.with_name(path.name + SIDECAR_SUFFIX).is_file(), f"{path.name} has no sidecar"
        expected = parse_expectations(path)
        assert expected.problems, f"{path.name} declares no expectation"
        unknown = [str(e) for e in expected.problems if e.code not in CODES]
        assert not unknown, f"{path.name} declares codes that are not in the catalogue: {unknown}"
        assert any(e.is_error for e in expected.problems), f"{path.name} declares no error"
    sidecars = {p.name[: -len(SIDECAR_SUFFIX)] for p in FIXTURES.glob(f"*{SIDECAR_SUFFIX}")}
    orphans = sidecars - {p.name for p in paths}
    assert not orphans, f"sidecars without a fixture: {sorted(orphans)}"
    assert set(KNOWN_BUGS) | set(KNOWN_MESSAGE_BUGS) <= {p.name for p in paths}


def declared_codes() -> set[str]:
    return {e.code for path in workflow_files() for e in parse_expectations(path).problems}


def test_every_error_code_is_covered_by_a_fixture() -> None:
    missing = sorted(c for c in CODES if c.startswith("E-") and c not in EXEMPT_FROM_CORPUS | declared_codes())
    assert not missing, f"error codes no fixture declares: {missing}"


def test_every_warning_code_is_covered_by_a_fixture() -> None:
    missing = sorted(c for c in CODES if c.startswith("W-") and c not in declared_codes())
    assert not missing, f"warning codes no fixture declares: {missing}"


# -- the codes a fixture file cannot carry --------------------------------------------------------------


def only_problem(report_path: Path) -> Problem:
    report = validate_file(report_path)
    assert not report.ok
    assert len(report.problems) == 1, listing(report.problems)
    problem = report.problems[0]
    assert problem.line >= 1 and problem.column >= 1
    return problem


def test_file_larger_than_one_mebibyte(tmp_path: Path) -> None:
    path = tmp_path / "huge.yaml"
    padding = "# " + "x" * 98 + "\n"
    path.write_text('schema_version: "1.0"\n' + padding * 11_000, encoding="utf-8")
    assert path.stat().st_size > 1024 * 1024
    assert only_problem(path).code == "E-FILE-TOO-LARGE"


def test_file_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "latin1.yaml"
    path.write_bytes('schema_version: "1.0"\nflow:\n  name: caf\xe9\n'.encode("latin-1"))
    assert only_problem(path).code == "E-FILE-READ"


def test_missing_file(tmp_path: Path) -> None:
    assert only_problem(tmp_path / "nowhere.yaml").code == "E-FILE-READ"


def test_directory_instead_of_file(tmp_path: Path) -> None:
    folder = tmp_path / "workflow.yaml"
    folder.mkdir()
    assert only_problem(folder).code == "E-FILE-READ"
