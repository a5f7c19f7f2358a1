"""The workspace path guard: every read and write stays inside the workspace root."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from agents_core.errors import FileExists, WorkspaceError
from agents_core.workspace import Workspace, list_workflows, resolve_workspace


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
