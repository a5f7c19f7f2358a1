"""The Editor's behaviour without a browser: open, new, save, save as, confirmations."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from agents_core.drafts import Drafts
from agents_core.gallery import SKELETON, templates
from agents_core.workspace import Workspace
from tests.conftest import EXAMPLES_DIR
from workbench.analysis import analyse
from workbench.editor_state import (
    autosave,
    cancel,
    check_drafts,
    confirm,
    discard_draft,
    edit,
    editor_state,
    new_from_template,
    offer_text,
    open_file,
    open_requested,
    restore_draft,
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


def test_a_new_session_starts_with_an_untouched_skeleton_that_is_not_modified(session):
    state = editor_state(session)
    assert state.buffer == SKELETON and state.file is None and not state.modified
    assert state.marker == "(new, not saved yet)"
    assert editor_state(session) is state


def test_the_first_open_of_a_fresh_session_asks_nothing(session, workspace):
    state = editor_state(session)
    outcome = open_file(state, workspace, "review_loop.yaml")
    assert outcome.kind == "ok"
    assert state.buffer == (workspace.root / "review_loop.yaml").read_text()
    assert state.file == "review_loop.yaml" and not state.modified and state.marker == "(saved)"


def test_an_untouched_template_is_not_modified_and_an_edit_makes_it_so(session, workspace):
    state = editor_state(session)
    gallery = {t.name: t for t in templates()}
    new_from_template(state, gallery["review_loop"])
    assert not state.modified
    assert open_file(state, workspace, "article_writer.yaml").kind == "ok"  # nothing to lose: no question
    new_from_template(state, gallery["review_loop"])
    edit(state, state.buffer + "# mine\n")
    assert state.modified and state.marker == "● modified"
    assert open_file(state, workspace, "article_writer.yaml").kind == "confirm_discard"


def test_opening_asks_before_discarding_unsaved_changes(session, workspace):
    state = editor_state(session)
    edit(state, SKELETON + "# my work\n")
    outcome = open_file(state, workspace, "review_loop.yaml")
    assert outcome.kind == "confirm_discard"
    assert state.buffer == SKELETON + "# my work\n"
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
    assert state.file is None and not state.modified and state.marker == "(new, not saved yet)"
    assert "review_loop" in state.buffer
    assert save(state, workspace).kind == "error"  # still has no file: it goes through save as


def test_analysis_of_a_broken_buffer_has_annotations_rows_and_no_picture():
    analysis = analyse("a: [1,\n", "x.yaml")
    assert analysis.dot is None and analysis.errors == 1
    assert analysis.annotations[0]["type"] == "error"
    good = analyse((EXAMPLES_DIR / "review_loop.yaml").read_text(), "review_loop.yaml")
    assert good.dot and "review" in good.dot and good.rows == []


# --------------------------------------------------------------------------- drafts: a reload loses nothing


def _reload(session: dict) -> dict:
    """A browser reload: Streamlit starts a new session; only the disk remains."""
    session.clear()
    return session


def test_an_edited_buffer_is_kept_as_a_draft_and_offered_to_the_next_session(session, workspace):
    drafts = Drafts(workspace)
    state = editor_state(session)
    check_drafts(state, drafts)
    open_file(state, workspace, "review_loop.yaml")
    edited = state.buffer + "# unsaved\n"
    edit(state, edited)
    assert autosave(state, drafts) is None
    folder = workspace.root / ".configurable-agents" / "drafts"
    assert [p.name for p in folder.iterdir()] == [f"{state.draft_id}.json"]

    state = editor_state(_reload(session))
    assert state.buffer == SKELETON
    check_drafts(state, drafts)
    [offer] = state.offers
    assert offer.file == "review_loop.yaml" and offer.buffer == edited
    assert "review_loop.yaml" in offer_text(offer)
    outcome = restore_draft(state, drafts)
    assert outcome.kind == "ok" and "review_loop.yaml" in outcome.message
    assert state.buffer == edited and state.file == "review_loop.yaml" and state.modified
    assert not state.offers
    # the file on disk is untouched until the user saves
    assert not (workspace.root / "review_loop.yaml").read_text().endswith("# unsaved\n")
    assert save(state, workspace, drafts).kind == "ok"
    assert (workspace.root / "review_loop.yaml").read_text() == edited
    assert list(folder.iterdir()) == []  # a saved file clears its draft
    check_drafts(editor_state(_reload(session)), drafts)
    assert editor_state(session).offers == []


def test_an_untitled_draft_comes_back_untitled_and_modified(session, workspace):
    drafts = Drafts(workspace)
    state = editor_state(session)
    edit(state, SKELETON + "# idea\n")
    autosave(state, drafts)
    state = editor_state(_reload(session))
    check_drafts(state, drafts)
    restore_draft(state, drafts)
    assert state.file is None and state.buffer == SKELETON + "# idea\n" and state.modified
    assert save_as(state, workspace, "idea.yaml", drafts=drafts).kind == "ok"
    assert Drafts(workspace).all() == []


def test_discarding_an_offered_draft_deletes_it(session, workspace):
    drafts = Drafts(workspace)
    state = editor_state(session)
    edit(state, "x: 1\n")
    autosave(state, drafts)
    state = editor_state(_reload(session))
    check_drafts(state, drafts)
    assert discard_draft(state, drafts).kind == "ok"
    assert state.buffer == SKELETON and drafts.all() == []


def test_an_untouched_buffer_writes_no_draft_and_undoing_an_edit_removes_it(session, workspace):
    drafts = Drafts(workspace)
    state = editor_state(session)
    autosave(state, drafts)
    assert drafts.all() == []
    edit(state, SKELETON + "#\n")
    autosave(state, drafts)
    assert len(drafts.all()) == 1
    edit(state, SKELETON)
    autosave(state, drafts)
    assert drafts.all() == []


def test_restoring_over_unsaved_work_keeps_that_work_as_the_next_offer(session, workspace):
    drafts = Drafts(workspace)
    first = editor_state(session)
    edit(first, "first: 1\n")
    autosave(first, drafts)
    state = editor_state(_reload(session))
    check_drafts(state, drafts)
    edit(state, "second: 2\n")  # typed before answering the offer
    autosave(state, drafts)
    restore_draft(state, drafts)
    assert state.buffer == "first: 1\n"
    assert [d.buffer for d in state.offers] == ["second: 2\n"]
    assert sorted(d.buffer for d in drafts.all()) == ["first: 1\n", "second: 2\n"]


def test_drafts_ignore_foreign_and_broken_files_and_never_follow_a_link(workspace, tmp_path):
    folder = workspace.root / ".configurable-agents" / "drafts"
    folder.mkdir(parents=True)
    (folder / "notes.txt").write_text("hello")
    (folder / ("0" * 32 + ".json")).write_text("{not json")
    assert Drafts(workspace).all() == []
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    shutil.rmtree(workspace.root / ".configurable-agents")
    (workspace.root / ".configurable-agents").symlink_to(outside)
    state = editor_state({})
    edit(state, "x: 1\n")
    outcome = autosave(state, Drafts(workspace))
    assert outcome is not None and outcome.kind == "error" and "draft" in outcome.message
    assert list(outside.iterdir()) == []


def test_open_requested_opens_the_named_file(session, workspace):
    state = editor_state(session)
    assert open_requested(state, workspace, None) is None
    assert open_requested(state, workspace, "review_loop.yaml").kind == "ok"
    assert state.file == "review_loop.yaml"
    assert open_requested(state, workspace, "review_loop.yaml") is None  # already open, unchanged
