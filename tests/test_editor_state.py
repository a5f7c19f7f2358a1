"""The Editor's behaviour without a browser: open, new, save, save as, confirmations."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from agents_core.gallery import SKELETON, templates
from agents_core.workspace import Workspace
from tests.conftest import EXAMPLES_DIR
from workbench.analysis import analyse
from workbench.editor_state import (
    cancel,
    confirm,
    edit,
    editor_state,
    new_from_template,
    open_file,
    save,
    save_as,
)


@pytest.fixture
def workspace(tmp_path: Path) -> Workspace:
    shutil.copytree(EXAMPLES_DIR, tmp_path / "ws")
    return Workspace(tmp_path / "ws")


@pytest.fixture
def session() -> dict:
    return {}


def test_a_new_session_starts_with_an_unsaved_skeleton(session):
    state = editor_state(session)
    assert state.buffer == SKELETON and state.file is None and state.modified
    assert editor_state(session) is state


def test_opening_asks_before_discarding_unsaved_changes(session, workspace):
    state = editor_state(session)
    outcome = open_file(state, workspace, "review_loop.yaml")
    assert outcome.kind == "confirm_discard"
    assert state.buffer == SKELETON
    assert confirm(state, workspace).kind == "ok"
    assert state.buffer == (workspace.root / "review_loop.yaml").read_text()
    assert state.file == "review_loop.yaml" and not state.modified


def test_opening_bumps_the_version_so_the_widget_shows_the_new_text(session, workspace):
    state = editor_state(session)
    before = state.version
    open_file(state, workspace, "review_loop.yaml", discard=True)
    assert state.version == before + 1


def test_cancel_keeps_everything(session, workspace):
    state = editor_state(session)
    edit(state, "my work")
    open_file(state, workspace, "review_loop.yaml")
    assert cancel(state).kind == "ok"
    assert state.buffer == "my work" and not state.pending


def test_edit_ignores_a_widget_that_has_not_reported(session):
    state = editor_state(session)
    edit(state, None)
    assert state.buffer == SKELETON
    edit(state, "x: 1\n")
    assert state.buffer == "x: 1\n"


def test_save_writes_the_open_file(session, workspace):
    state = editor_state(session)
    open_file(state, workspace, "review_loop.yaml", discard=True)
    edit(state, state.buffer + "# edited\n")
    assert state.modified
    assert save(state, workspace).kind == "ok"
    assert (workspace.root / "review_loop.yaml").read_text().endswith("# edited\n")
    assert not state.modified


def test_save_without_a_file_points_to_save_as(session, workspace):
    outcome = save(editor_state(session), workspace)
    assert outcome.kind == "error" and "Save as" in outcome.hint


def test_save_asks_when_the_file_changed_on_disk(session, workspace):
    state = editor_state(session)
    open_file(state, workspace, "review_loop.yaml", discard=True)
    edit(state, state.buffer + "# mine\n")
    (workspace.root / "review_loop.yaml").write_text("# someone else's\n")
    outcome = save(state, workspace)
    assert outcome.kind == "confirm_overwrite"
    assert (workspace.root / "review_loop.yaml").read_text() == "# someone else's\n"
    assert confirm(state, workspace).kind == "ok"
    assert (workspace.root / "review_loop.yaml").read_text().endswith("# mine\n")


def test_save_as_never_overwrites_without_confirmation(session, workspace):
    state = editor_state(session)
    edit(state, "schema_version: '1.0'\n")
    original = (workspace.root / "article_writer.yaml").read_text()
    outcome = save_as(state, workspace, "article_writer.yaml")
    assert outcome.kind == "confirm_overwrite"
    assert (workspace.root / "article_writer.yaml").read_text() == original
    cancel(state)
    assert (workspace.root / "article_writer.yaml").read_text() == original
    save_as(state, workspace, "article_writer.yaml")
    assert confirm(state, workspace).kind == "ok"
    assert (workspace.root / "article_writer.yaml").read_text() == "schema_version: '1.0'\n"
    assert state.file == "article_writer.yaml"


def test_save_as_new_name_adds_the_extension_and_creates_folders(session, workspace):
    state = editor_state(session)
    outcome = save_as(state, workspace, "flows/mine")
    assert outcome.kind == "ok"
    assert (workspace.root / "flows" / "mine.yaml").read_text() == SKELETON
    assert state.file == "flows/mine.yaml" and not state.modified


@pytest.mark.parametrize("name", ["../outside.yaml", "/tmp/abs.yaml", "notes.txt", ""])
def test_save_as_refuses_names_outside_or_odd(session, workspace, name):
    outcome = save_as(editor_state(session), workspace, name)
    assert outcome.kind == "error" and outcome.message
    assert not (workspace.root.parent / "outside.yaml").exists()


def test_a_file_with_errors_can_be_saved(session, workspace):
    state = editor_state(session)
    edit(state, "schema_version: '1.0'\nflow: {name: x}\n")
    assert save_as(state, workspace, "broken.yaml").kind == "ok"
    assert analyse(state.buffer, state.display_name).errors > 0


def test_new_from_template_is_unsaved(session, workspace):
    state = editor_state(session)
    gallery = {t.name: t for t in templates()}
    assert {"empty", "article_writer", "review_loop"} <= set(gallery)
    new_from_template(state, gallery["review_loop"], discard=True)
    assert state.file is None and state.modified
    assert "review_loop" in state.buffer


def test_analysis_of_a_broken_buffer_has_annotations_rows_and_no_picture():
    analysis = analyse("a: [1,\n", "x.yaml")
    assert analysis.dot is None and analysis.errors == 1
    assert analysis.annotations[0]["type"] == "error"
    good = analyse((EXAMPLES_DIR / "review_loop.yaml").read_text(), "review_loop.yaml")
    assert good.dot and "review" in good.dot and good.rows == []
