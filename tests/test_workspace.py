"""The workspace path guard: every read and write stays inside the workspace root."""

from __future__ import annotations

import os
import stat
import threading
import time
from pathlib import Path

import pytest

from agents_core.errors import FileExists, WorkspaceError
from agents_core.workspace import Workspace, list_workflows, resolve_workspace, scan_workflows


@pytest.fixture
def workspace(tmp_path: Path) -> Workspace:
    root = tmp_path / "ws"
    root.mkdir()
    (root / "flows").mkdir()
    return Workspace(root)


@pytest.mark.parametrize(
    ("name", "fragment"),
    [
        ("../outside.yaml", "leads outside the workspace"),
        ("flows/../../outside.yaml", "leads outside the workspace"),
        ("..\\outside.yaml", "leads outside the workspace"),
        ("/etc/passwd.yaml", "absolute path"),
        ("C:\\temp\\x.yaml", "absolute path"),
        ("C:x.yaml", "absolute path"),
        ("notes.txt", "not a workflow file name"),
        ("flow", "not a workflow file name"),
        (".hidden.yaml", "hidden"),
        ("flows/.git/config.yaml", "hidden"),
        ("", "empty"),
        ("   ", "empty"),
        ("bad\x00name.yaml", "not usable"),
        ("x" * 300 + ".yaml", "not usable"),
    ],
)
def test_names_that_leave_the_workspace_or_are_odd_are_refused(workspace, name, fragment):
    with pytest.raises(WorkspaceError) as caught:
        workspace.resolve(name)
    assert fragment in caught.value.message
    assert caught.value.hint


def test_symlinks_that_lead_out_are_refused(workspace, tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.yaml").write_text("secret: true\n")
    os.symlink(outside, workspace.root / "link")
    os.symlink(outside / "secret.yaml", workspace.root / "alias.yaml")
    for name in ("link/secret.yaml", "link/new.yaml", "alias.yaml"):
        with pytest.raises(WorkspaceError, match="symbolic link"):
            workspace.resolve(name)
    with pytest.raises(WorkspaceError):
        workspace.write_text("link/new.yaml", "x: 1\n")
    assert not (outside / "new.yaml").exists()


def test_symlinks_inside_the_workspace_are_fine(workspace):
    (workspace.root / "flows" / "a.yaml").write_text("a: 1\n")
    os.symlink(workspace.root / "flows", workspace.root / "shortcut")
    assert workspace.resolve("shortcut/a.yaml") == workspace.root / "flows" / "a.yaml"


def test_valid_names_resolve_inside_the_root(workspace):
    assert workspace.resolve("a.yaml") == workspace.root / "a.yaml"
    assert workspace.resolve("flows/b.yml") == workspace.root / "flows" / "b.yml"
    assert workspace.resolve("flows\\c.JSON") == workspace.root / "flows" / "c.JSON"


def test_write_never_overwrites_without_asking(workspace):
    workspace.write_text("flows/a.yaml", "first\n")
    with pytest.raises(FileExists):
        workspace.write_text("flows/a.yaml", "second\n")
    assert workspace.read_text("flows/a.yaml") == "first\n"
    workspace.write_text("flows/a.yaml", "second\n", overwrite=True)
    assert workspace.read_text("flows/a.yaml") == "second\n"


def test_write_creates_folders_and_leaves_no_temporary_files(workspace):
    workspace.write_text("new/deeper/flow.yaml", "a: 1\n")
    assert (workspace.root / "new" / "deeper" / "flow.yaml").read_text() == "a: 1\n"
    assert [p.name for p in (workspace.root / "new" / "deeper").iterdir()] == ["flow.yaml"]


def test_a_folder_is_not_overwritten(workspace):
    (workspace.root / "dir.yaml").mkdir()
    with pytest.raises(WorkspaceError, match="is a folder"):
        workspace.write_text("dir.yaml", "a: 1\n", overwrite=True)


def test_reading_a_missing_file_is_a_clear_error(workspace):
    with pytest.raises(WorkspaceError, match="does not exist"):
        workspace.read_text("nope.yaml")


def test_workspace_must_be_a_folder(tmp_path, monkeypatch):
    with pytest.raises(WorkspaceError, match="not a folder"):
        resolve_workspace(tmp_path / "missing")
    monkeypatch.setenv("AGENTS_WORKSPACE", str(tmp_path))
    assert resolve_workspace() == tmp_path.resolve()


def test_listing_finds_workflows_and_skips_caches_tests_and_schemas(tmp_path):
    body = 'schema_version: "1.0"\n'
    for name in ("a.yaml", "sub/b.yml", "sub/c.json", ".venv/x.yaml", "tests/t.yaml", "node_modules/n.yaml"):
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(body)
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "workflow.schema.json").write_text('{"schema_version": 1}')
    (tmp_path / "notes.yaml").write_text("not: a workflow\n")
    assert [p.relative_to(tmp_path).as_posix() for p in list_workflows(tmp_path)] == [
        "a.yaml",
        "sub/b.yml",
        "sub/c.json",
    ]


# --------------------------------------------------------------------------- names: characters


@pytest.mark.parametrize(
    ("name", "named"),
    [
        ("a b?.yaml", "a space"),
        ("flows/a?b.yaml", "'?'"),
        ("a#b.yaml", "'#'"),
        ("a%20b.yaml", "'%'"),
        ("a;rm -rf.yaml", "';'"),
        ("a$(x).yaml", "'$'"),
        ("a`b`.yaml", "'`'"),
        ("a|b.yaml", "'|'"),
        ("a&b.yaml", "'&'"),
        ("a*b.yaml", "'*'"),
        ('a"b.yaml', "'\"'"),
        ("a'b.yaml", '"\'"'),
        ("tab\there.yaml", "a control character (U+0009)"),
        ("new\nline.yaml", "a control character (U+000A)"),
        ("esc\x1b[31m.yaml", "a control character (U+001B)"),
        ("evil\u202egnp.yaml", "U+202E RIGHT-TO-LEFT OVERRIDE"),
        ("isolate\u2066x.yaml", "U+2066"),
        ("zero\u200bwidth.yaml", "U+200B"),
    ],
)
def test_names_with_spaces_metacharacters_or_control_characters_are_refused(workspace, name, named):
    with pytest.raises(WorkspaceError) as caught:
        workspace.resolve(name)
    message = caught.value.message
    assert "is not usable" in message and named in message, message
    assert "position" in message
    assert "letters, digits" in caught.value.hint
    with pytest.raises(WorkspaceError):
        workspace.write_text(name, "a: 1\n")
    assert sorted(p.name for p in workspace.root.iterdir()) == ["flows"]


def test_the_position_of_the_refused_character_is_given(workspace):
    with pytest.raises(WorkspaceError, match=r"a space at position 2"):
        workspace.resolve("a b?.yaml")


@pytest.mark.parametrize("name", ["café.yaml", "flows/über_flow-2.yml", "日本.json", "a.b.yaml"])
def test_letters_of_any_script_digits_and_dashes_are_fine(workspace, name):
    workspace.write_text(name, "a: 1\n")
    assert workspace.read_text(name) == "a: 1\n"


@pytest.mark.parametrize("name", [".", "./", "flows/.", "/."])
def test_the_name_dot_is_refused_cleanly(workspace, name):
    with pytest.raises(WorkspaceError) as caught:
        workspace.resolve(name)
    assert caught.value.message and caught.value.hint


# --------------------------------------------------------------------------- listing survives odd entries

WORKFLOW = 'schema_version: "1.0"\n'


def test_listing_skips_and_notes_a_link_to_a_workflow_outside_without_reading_it(tmp_path, monkeypatch):
    root = tmp_path / "ws"
    root.mkdir()
    (root / "good.yaml").write_text(WORKFLOW)
    outside = tmp_path / "outside.yaml"
    outside.write_text(WORKFLOW)
    os.symlink(outside, root / "escape.yaml")
    opened: list[str] = []
    real_open = os.open

    def spy(path, *args, **kwargs):
        opened.append(os.fspath(path))
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr(os, "open", spy)
    listing = Workspace(root).scan()
    assert [p.name for p in listing.found] == ["good.yaml"]
    assert [s.path for s in listing.skipped] == ["escape.yaml"]
    assert "outside the workspace" in listing.skipped[0].reason
    assert not any(name.endswith(("escape.yaml", "outside.yaml")) for name in opened)
    assert Workspace(root).workflows() == ["good.yaml"]
    with pytest.raises(WorkspaceError, match="symbolic link"):
        Workspace(root).read_text("escape.yaml")


def test_a_link_to_a_workflow_inside_is_listed(tmp_path):
    root = tmp_path / "ws"
    (root / "flows").mkdir(parents=True)
    (root / "flows" / "real.yaml").write_text(WORKFLOW)
    os.symlink(root / "flows" / "real.yaml", root / "alias.yaml")
    assert Workspace(root).workflows() == ["alias.yaml", "flows/real.yaml"]


def test_listing_skips_a_fifo_without_opening_it(tmp_path):
    root = tmp_path / "ws"
    root.mkdir()
    (root / "good.yaml").write_text(WORKFLOW)
    os.mkfifo(root / "pipe.yaml")  # opening it for reading would block forever
    listing = scan_workflows(root)
    assert [p.name for p in listing.found] == ["good.yaml"]
    assert [(s.path, "not a regular file" in s.reason) for s in listing.skipped] == [("pipe.yaml", True)]
    with pytest.raises(WorkspaceError, match="not a regular file"):
        Workspace(root).read_text("pipe.yaml")


def test_listing_survives_link_loops_and_broken_links(tmp_path):
    root = tmp_path / "ws"
    root.mkdir()
    (root / "good.yaml").write_text(WORKFLOW)
    os.symlink(root / "loop_b.yaml", root / "loop_a.yaml")
    os.symlink(root / "loop_a.yaml", root / "loop_b.yaml")
    os.symlink(root / "missing.yaml", root / "broken.yaml")
    os.symlink(root, root / "again")  # a folder link back to the root: never walked into
    os.symlink(root / "sub", root / "sub_loop")
    (root / "sub").mkdir()
    os.symlink(root / "sub", root / "sub" / "self")
    listing = scan_workflows(root)
    assert [p.name for p in listing.found] == ["good.yaml"]
    assert {s.path for s in listing.skipped} == {"broken.yaml", "loop_a.yaml", "loop_b.yaml"}
    assert all("leads nowhere" in s.reason for s in listing.skipped)
    with pytest.raises(WorkspaceError, match="symbolic link"):
        Workspace(root).read_text("loop_a.yaml")
    assert Workspace(root).read_text("again/good.yaml") == WORKFLOW  # a link that stays inside is fine


def test_listing_the_current_folder_by_the_name_dot(tmp_path, monkeypatch):
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "b.yaml").write_text(WORKFLOW)
    (tmp_path / "a.yaml").write_text(WORKFLOW)
    monkeypatch.chdir(tmp_path)
    assert [p.relative_to(tmp_path).as_posix() for p in list_workflows(Path("."))] == ["a.yaml", "sub/b.yaml"]
    assert Workspace(".").workflows() == ["a.yaml", "sub/b.yaml"]


def test_listing_notes_files_whose_names_the_gate_refuses(tmp_path):
    root = tmp_path / "ws"
    root.mkdir()
    (root / "a b?.yaml").write_text(WORKFLOW)
    listing = scan_workflows(root)
    assert listing.found == []
    assert [s.path for s in listing.skipped] == ["a b?.yaml"]
    assert "a space" in listing.skipped[0].reason


# --------------------------------------------------------------------------- the check-then-write race


@pytest.mark.slow
def test_a_folder_swapped_for_an_outside_link_during_saves_lets_nothing_out(tmp_path):
    """A thread keeps swapping ``sub`` for a link to ``outside`` while saves into ``sub`` run for seconds."""
    root = tmp_path / "ws"
    (root / "sub").mkdir(parents=True)
    outside = tmp_path / "outside"
    outside.mkdir()
    workspace = Workspace(root)
    stop = threading.Event()
    swaps = 0

    def set_aside(path: Path) -> None:
        """Move a 'sub' that a save re-created meanwhile out of the way (it stays inside the workspace)."""
        os.rename(path, root / f"aside_{swaps}_{time.monotonic_ns()}")

    def swapper() -> None:
        nonlocal swaps
        parked = root / "parked"
        sub = root / "sub"
        while not stop.is_set():
            try:
                os.rename(sub, parked)
            except OSError:
                continue  # 'sub' is missing (a save will create it): try again
            while True:
                try:
                    os.symlink(outside, sub)
                    break
                except FileExistsError:
                    set_aside(sub)
            time.sleep(0.0002)  # let the saves meet the link
            os.unlink(sub)
            while True:
                try:
                    os.rename(parked, sub)
                    break
                except OSError:
                    set_aside(sub)
            swaps += 1
            time.sleep(0.0002)

    thread = threading.Thread(target=swapper, daemon=True)
    thread.start()
    saved = refused = 0
    deadline = time.monotonic() + 3.0
    try:
        while time.monotonic() < deadline:
            try:
                workspace.write_text(f"sub/f{saved + refused}.yaml", "a: 1\n", overwrite=True)
                saved += 1
            except WorkspaceError:
                refused += 1
    finally:
        stop.set()
        thread.join(timeout=10)
    assert swaps > 20 and saved > 0 and refused > 0, (swaps, saved, refused)
    assert list(outside.iterdir()) == []  # no complete file, no temporary file
    leftovers = [p.name for p in root.rglob("*") if p.name.endswith(".tmp")]
    assert leftovers == []


def test_a_link_planted_after_the_check_is_not_followed(tmp_path, monkeypatch):
    """The same race, made certain: the folder becomes a link between ``resolve()`` and the write."""
    root = tmp_path / "ws"
    (root / "sub").mkdir(parents=True)
    outside = tmp_path / "outside"
    outside.mkdir()
    workspace = Workspace(root)
    real_resolve = Workspace.resolve

    def resolve_then_swap(self, name):
        path = real_resolve(self, name)
        (root / "sub").rename(root / "parked")
        os.symlink(outside, root / "sub")
        return path

    monkeypatch.setattr(Workspace, "resolve", resolve_then_swap)
    with pytest.raises(WorkspaceError, match="symbolic link"):
        workspace.write_text("sub/x.yaml", "a: 1\n")
    assert list(outside.iterdir()) == []


def test_written_files_get_ordinary_permissions(workspace):
    previous = os.umask(0o022)
    try:
        path = workspace.write_text("perm.yaml", "a: 1\n")
    finally:
        os.umask(previous)
    assert stat.S_IMODE(path.stat().st_mode) == 0o644
