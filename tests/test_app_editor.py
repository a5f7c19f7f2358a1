"""The Editor page (``pages/1_Editor.py``) through Streamlit's AppTest: no server, no browser.

AppTest cannot type into the Ace component (a custom component it does not
render), but the page reads the component's value from
``st.session_state[f"editor_ace_{version}"]`` before validating, so setting
that key is what a keystroke in the browser amounts to. The page is reached
the way a user reaches it, from ``app.py`` through ``switch_page`` (its menu
links are relative to the entry script, so it cannot be the entry itself).
"""

from __future__ import annotations

import re
import shutil
import sys
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from agents_core.workspace import WORKSPACE_ENV, list_workflows
from workbench.editor_state import STATE_KEY, EditorState

REPO_ROOT = Path(__file__).resolve().parents[1]
APP = str(REPO_ROOT / "app.py")
EDITOR = "pages/1_Editor.py"
RUN_TIMEOUT = 60
SAVE_AS_BUTTON = "FormSubmitter:save_as_form-Save as"

#: Three errors on known lines; ``edges`` comes before ``nodes``, so the order
#: the validator checks things in is not the order of the lines.
BROKEN_BUFFER = """\
schema_version: "1.0"
flow:
  name: misspelled
  description: Three mistakes for the Editor page test.
state:
  fields:
    topic: {type: str, required: true}
    research: {type: str, default: ""}
edges:
  - {from: START, to: gather}
  - {from: gather, to: ENDD}
nodes:
  - id: gather
    prompt: "Collect facts about {state.topic}. Also use {state.reserch}."
    tools: [no_such_tool]
    outputs: [research]
config:
  llm: {provider: local}
"""
#: (text on the line, code) of every problem of BROKEN_BUFFER.
BROKEN_PROBLEMS = [
    ("to: ENDD", "E-EDGE-UNKNOWN-NODE"),
    ("{state.reserch}", "E-REF-STATE"),
    ("no_such_tool", "E-TOOL-UNKNOWN"),
]
PROBLEM_ROW = re.compile(r"^(🔴|🟡) `(\d+):(\d+)` \*\*([A-Z][A-Z-]*)\*\* ")


# --------------------------------------------------------------------------- helpers


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    folder = tmp_path / "examples"
    shutil.copytree(REPO_ROOT / "examples", folder)
    return folder


def _ok(at: AppTest) -> AppTest:
    assert not at.exception, [e.value for e in at.exception]
    return at


def _editor(monkeypatch: pytest.MonkeyPatch, workspace: Path) -> AppTest:
    """The Editor page of a fresh session on ``workspace`` (chosen through ``$AGENTS_WORKSPACE``)."""
    monkeypatch.setenv(WORKSPACE_ENV, str(workspace))
    monkeypatch.setattr(sys, "argv", ["app.py"])  # keep pytest's own arguments away from --workspace
    at = AppTest.from_file(APP, default_timeout=RUN_TIMEOUT)
    _ok(at.run())
    at.switch_page(EDITOR)
    _ok(at.run())
    assert [t.value for t in at.title] == ["Editor"]
    return at


def _state(at: AppTest) -> EditorState:
    return at.session_state[STATE_KEY]


def _type(at: AppTest, text: str) -> AppTest:
    """What the Ace component reports after the user typed: its whole text."""
    at.session_state[f"editor_ace_{_state(at).version}"] = text
    return _ok(at.run())


def _button(at: AppTest, label: str):
    matches = [b for b in at.button if b.label == label]
    assert len(matches) == 1, (label, [b.label for b in at.button])
    return matches[0]


def _open(at: AppTest, name: str) -> AppTest:
    """Choose ``name`` in the sidebar and open it, discarding the unsaved buffer if asked."""
    at.sidebar.selectbox(key="editor_open_choice").select(name)
    _ok(at.run())
    _ok(_button(at, "Open file").click().run())
    if any(b.label == "Discard changes" for b in at.button):
        _ok(_button(at, "Discard changes").click().run())
    return at


def _save_as(at: AppTest, name: str) -> AppTest:
    at.text_input(key="editor_save_as_name").input(name)
    return _ok(at.button(key=SAVE_AS_BUTTON).click().run())


def _header(at: AppTest) -> str:
    headers = [m.value for m in at.markdown if m.value.startswith("**")]
    assert len(headers) == 1, [m.value for m in at.markdown]
    return headers[0]


def _problem_rows(at: AppTest) -> list[tuple[int, int, str, str]]:
    """(line, column, code, markdown) of every entry of the problem list, in page order."""
    rows = []
    for element in at.markdown:
        match = PROBLEM_ROW.match(element.value)
        if match:
            rows.append((int(match[2]), int(match[3]), match[4], element.value))
    return rows


def _line_of(text: str, needle: str) -> int:
    lines = [n for n, line in enumerate(text.splitlines(), start=1) if needle in line]
    assert len(lines) == 1, (needle, lines)
    return lines[0]


# --------------------------------------------------------------------------- tests


def test_sidebar_lists_the_workspace_workflows(workspace: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (workspace / "flows").mkdir()
    (workspace / "flows" / "nested.yaml").write_text(
        (workspace / "calculator_agent.yaml").read_text(encoding="utf-8"), encoding="utf-8"
    )
    (workspace / "notes.yaml").write_text("just: a yaml file, not a workflow\n", encoding="utf-8")
    expected = [p.relative_to(workspace).as_posix() for p in list_workflows(workspace)]
    assert "flows/nested.yaml" in expected and "notes.yaml" not in expected

    at = _editor(monkeypatch, workspace)

    choice = at.sidebar.selectbox(key="editor_open_choice")
    assert choice.label == "Workspace file"
    assert choice.options == expected
    assert choice.value is None
    assert _button(at, "Open file").disabled
    assert _header(at) == "**untitled.yaml** (new, not saved yet)"


def test_the_first_open_of_a_fresh_session_asks_nothing(workspace: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    at = _editor(monkeypatch, workspace)
    at.sidebar.selectbox(key="editor_open_choice").select("review_loop.yaml")
    _ok(at.run())
    _ok(_button(at, "Open file").click().run())
    assert not at.warning and not [b for b in at.button if b.label == "Discard changes"]
    assert _state(at).file == "review_loop.yaml"
    assert _header(at) == "**review_loop.yaml** (saved)"


def test_opening_a_file_asks_to_discard_then_loads_it(workspace: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = (workspace / "article_writer.yaml").read_text(encoding="utf-8")
    at = _editor(monkeypatch, workspace)
    _type(at, _state(at).buffer + "# a first idea\n")
    version = _state(at).version

    at.sidebar.selectbox(key="editor_open_choice").select("article_writer.yaml")
    _ok(at.run())
    _ok(_button(at, "Open file").click().run())
    assert [w.value for w in at.warning] == ["untitled.yaml has unsaved changes. Discard them and open?"]
    assert _state(at).file is None  # nothing happens before the confirmation

    _ok(_button(at, "Cancel").click().run())
    assert _state(at).file is None
    assert not [b for b in at.button if b.label == "Discard changes"]

    _ok(_button(at, "Open file").click().run())
    _ok(_button(at, "Discard changes").click().run())

    state = _state(at)
    assert state.file == "article_writer.yaml"
    assert state.buffer == text
    assert state.version > version  # the editor widget gets a fresh key, so it shows the new text
    assert next(s.value for s in at.success) == "Opened article_writer.yaml."
    assert "Valid: no problems found" in [s.value for s in at.success]
    assert _header(at) == "**article_writer.yaml** (saved)"
    assert not _problem_rows(at)
    assert not [b for b in at.button if b.label in ("Discard changes", "Cancel")]


def test_problems_are_listed_by_line_with_an_error_status(workspace: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    at = _editor(monkeypatch, workspace)
    _open(at, "article_writer.yaml")

    _type(at, BROKEN_BUFFER)

    assert _state(at).buffer == BROKEN_BUFFER
    rows = _problem_rows(at)
    expected = sorted((_line_of(BROKEN_BUFFER, needle), code) for needle, code in BROKEN_PROBLEMS)
    assert [(line, code) for line, _, code, _ in rows] == expected
    assert [row[:2] for row in rows] == sorted(row[:2] for row in rows)
    reference = next(row for row in rows if row[2] == "E-REF-STATE")
    reference_line = BROKEN_BUFFER.splitlines()[reference[0] - 1]
    assert reference[1] == reference_line.index("{state.reserch}") + 1
    assert "Did you mean 'research'?" in reference[3]
    assert all(row[3].startswith("🔴") for row in rows)
    assert [e.value for e in at.error] == ["3 errors, 0 warnings"]
    assert _header(at) == "**article_writer.yaml** ● modified"

    # Fixing the text clears the list and the status.
    _type(at, BROKEN_BUFFER.replace("ENDD", "END").replace("reserch", "research").replace("no_such_tool", "calculator"))
    assert not _problem_rows(at)
    assert not at.error
    assert "Valid: no problems found" in [s.value for s in at.success]


def test_save_as_new_existing_and_outside_names(workspace: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    at = _editor(monkeypatch, workspace)
    _open(at, "article_writer.yaml")
    text = _state(at).buffer + "# edited in the Editor\n"
    _type(at, text)

    # A new name, in a folder that does not exist yet.
    _save_as(at, "flows/new_flow.yaml")
    saved = workspace / "flows" / "new_flow.yaml"
    assert saved.read_text(encoding="utf-8") == text
    assert "Saved flows/new_flow.yaml." in [s.value for s in at.success]
    assert _state(at).file == "flows/new_flow.yaml"
    assert _header(at) == "**flows/new_flow.yaml** (saved)"

    # An existing name asks first; Cancel keeps the file.
    existing = workspace / "review_loop.yaml"
    original = existing.read_bytes()
    _save_as(at, "review_loop.yaml")
    assert [w.value for w in at.warning] == [
        "'review_loop.yaml' already exists in the workspace. Confirm to overwrite it, or choose another name."
    ]
    assert existing.read_bytes() == original
    _ok(_button(at, "Cancel").click().run())
    assert existing.read_bytes() == original
    assert not [b for b in at.button if b.label == "Overwrite"]
    assert _state(at).file == "flows/new_flow.yaml"

    # ... and Overwrite replaces it.
    _save_as(at, "review_loop.yaml")
    _ok(_button(at, "Overwrite").click().run())
    assert existing.read_text(encoding="utf-8") == text
    assert "Saved review_loop.yaml." in [s.value for s in at.success]
    assert _header(at) == "**review_loop.yaml** (saved)"

    # A name leading outside the workspace is refused, and nothing is written there.
    _save_as(at, "../outside.yaml")
    assert [e.value for e in at.error] == [
        "'../outside.yaml' leads outside the workspace ('..' is not allowed). "
        "Give a name inside the workspace, e.g. my_flow.yaml."
    ]
    assert not (workspace.parent / "outside.yaml").exists()
    assert _state(at).file == "review_loop.yaml"

    # A name without an extension gets ".yaml".
    _save_as(at, "flows/plain")
    assert (workspace / "flows" / "plain.yaml").read_text(encoding="utf-8") == text
    assert _state(at).file == "flows/plain.yaml"


def test_opening_an_unparsable_file_does_not_show_the_previous_files_picture(
    workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (workspace / "broken.yaml").write_text('schema_version: "1.0"\nflow: {name: broken\nnodes: [\n', encoding="utf-8")
    at = _editor(monkeypatch, workspace)
    _open(at, "parallel_research.yaml")
    assert len(at.get("graphviz_chart")) == 1

    _open(at, "broken.yaml")

    assert _state(at).file == "broken.yaml"
    assert not at.get("graphviz_chart")  # parallel_research's picture is not broken.yaml's "last readable version"
    assert "The picture appears once the file parses." in [i.value for i in at.info]


def test_a_reload_offers_the_unsaved_buffer_back(workspace: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    at = _editor(monkeypatch, workspace)
    _open(at, "article_writer.yaml")
    edited = _state(at).buffer + "# not saved yet\n"
    _type(at, edited)
    assert list((workspace / ".configurable-agents" / "drafts").glob("*.json"))

    again = _editor(monkeypatch, workspace)  # a reload is a new session on the same workspace
    assert _state(again).buffer != edited
    [offer] = [i.value for i in again.info if "kept as a draft" in i.value]
    assert offer.startswith("Unsaved changes to article_writer.yaml from ")
    _ok(_button(again, "Restore draft").click().run())
    assert _state(again).buffer == edited and _state(again).file == "article_writer.yaml"
    assert _header(again) == "**article_writer.yaml** ● modified"
    assert "Restored the unsaved changes to article_writer.yaml." in [s.value for s in again.success]
    assert not [b for b in again.button if b.label == "Restore draft"]

    _ok(_button(again, "Save").click().run())
    assert (workspace / "article_writer.yaml").read_text(encoding="utf-8") == edited
    assert not list((workspace / ".configurable-agents" / "drafts").glob("*.json"))
    third = _editor(monkeypatch, workspace)
    assert not [b for b in third.button if b.label == "Restore draft"]


def test_a_discarded_draft_is_gone(workspace: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    at = _editor(monkeypatch, workspace)
    _type(at, _state(at).buffer + "# scratch\n")
    again = _editor(monkeypatch, workspace)
    _ok(_button(again, "Discard draft").click().run())
    assert "Discarded the draft of untitled.yaml." in [s.value for s in again.success]
    assert not list((workspace / ".configurable-agents" / "drafts").glob("*.json"))
    assert not [b for b in _editor(monkeypatch, workspace).button if b.label == "Restore draft"]


def test_the_problem_count_and_list_sit_beside_the_editor(workspace: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    at = _editor(monkeypatch, workspace)
    _type(at, BROKEN_BUFFER)
    left, right = at.main.columns[:2]
    assert not left.error and not _problem_rows_in(left)
    assert [e.value for e in right.error] == ["3 errors, 0 warnings"]
    assert len(_problem_rows_in(right)) == 3


def _problem_rows_in(block) -> list[str]:
    return [m.value for m in block.markdown if PROBLEM_ROW.match(m.value)]


def test_the_editor_opens_the_file_named_in_the_address(workspace: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The Run page's "Open the Editor to fix it" link goes to ``Editor?file=NAME``."""
    (workspace / "broken.yaml").write_text('schema_version: "1.0"\nflow: {name: broken}\n', encoding="utf-8")
    monkeypatch.setenv(WORKSPACE_ENV, str(workspace))
    monkeypatch.setattr(sys, "argv", ["app.py"])
    at = AppTest.from_file(APP, default_timeout=RUN_TIMEOUT)
    _ok(at.run())
    at.query_params["file"] = "broken.yaml"
    at.switch_page(EDITOR)
    _ok(at.run())
    assert _state(at).file == "broken.yaml"
    assert _state(at).buffer == (workspace / "broken.yaml").read_text(encoding="utf-8")
    assert "file" not in at.query_params  # used once: a reload does not reopen it over later edits


def test_the_run_pages_fix_it_link_names_the_broken_file(workspace: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (workspace / "broken.yaml").write_text('schema_version: "1.0"\nflow: {name: broken}\n', encoding="utf-8")
    monkeypatch.setenv(WORKSPACE_ENV, str(workspace))
    monkeypatch.setattr(sys, "argv", ["app.py"])
    at = AppTest.from_file(APP, default_timeout=RUN_TIMEOUT)
    _ok(at.run())
    at.switch_page("pages/2_Run.py")
    _ok(at.run())
    at.selectbox(key="run_workflow").select("broken.yaml")
    _ok(at.run())
    [link] = at.main.get("page_link")
    assert link.value == "Open the Editor to fix it"
    assert link.proto.page == "Editor" and link.proto.query_string == "file=broken.yaml"


def test_skipped_files_are_noted_in_the_sidebar(workspace: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    outside = workspace.parent / "outside.yaml"
    outside.write_text('schema_version: "1.0"\n', encoding="utf-8")
    (workspace / "escape.yaml").symlink_to(outside)
    at = _editor(monkeypatch, workspace)
    assert "escape.yaml" not in at.sidebar.selectbox(key="editor_open_choice").options
    notes = [c.value for c in at.sidebar.caption]
    assert any("escape.yaml" in n and "outside the workspace" in n for n in notes), notes
