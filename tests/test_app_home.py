"""The Home page (``app.py``) through Streamlit's AppTest: no server, no browser."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from agents_core.workspace import WORKSPACE_ENV, list_workflows, workflow_status
from tests.samples import BROKEN_WORKFLOW

REPO_ROOT = Path(__file__).resolve().parents[1]
APP = str(REPO_ROOT / "app.py")  # AppTest resolves relative paths against this file's folder
RUN_TIMEOUT = 60


def _run_home(monkeypatch: pytest.MonkeyPatch, workspace: Path | str) -> AppTest:
    """Run app.py once with ``workspace`` chosen through ``$AGENTS_WORKSPACE``."""
    monkeypatch.setenv(WORKSPACE_ENV, str(workspace))
    # app.py reads --workspace from sys.argv; keep pytest's own arguments out of it.
    monkeypatch.setattr(sys, "argv", ["app.py"])
    at = AppTest.from_file(APP, default_timeout=RUN_TIMEOUT)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _workflow_table(at: AppTest) -> list[str]:
    tables = [m.value for m in at.markdown if m.value.startswith("| Workflow |")]
    assert len(tables) == 1, [m.value for m in at.markdown]
    return tables[0].splitlines()


def _row(table: list[str], name: str) -> list[str]:
    """The cells of the table row whose first cell is exactly ``name``."""
    rows = [[cell.strip() for cell in line.strip("|").split(" | ")] for line in table[2:]]
    matches = [cells for cells in rows if cells[0] == name]
    assert len(matches) == 1, (name, table)
    return matches[0]


def test_home_lists_every_workflow_with_its_status(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    workspace = tmp_path / "examples"
    shutil.copytree(REPO_ROOT / "examples", workspace)
    (workspace / "broken.yaml").write_text(BROKEN_WORKFLOW, encoding="utf-8")
    expected = [workflow_status(workspace, path) for path in list_workflows(workspace)]
    assert {s.name for s in expected} >= {"calculator_agent", "broken_flow"}

    at = _run_home(monkeypatch, workspace)

    assert at.title[0].value == "Configurable Agents"
    assert any(str(workspace) in m.value for m in at.markdown if m.value.startswith("**Workspace:**"))
    table = _workflow_table(at)
    assert len(table) == 2 + len(expected)
    for status in expected:
        cells = _row(table, status.name)
        assert cells[1] == status.path
        assert cells[2].split(" ", 1)[1] == status.label
    assert _row(table, "calculator_agent")[2] == "✅ ok"
    assert _row(table, "broken_flow")[2].startswith("❌ ")
    assert _row(table, "broken_flow")[2] != "❌ ok"
    invalid = sum(1 for s in expected if s.errors)
    assert f"{len(expected)} workflows, {invalid} with errors." in [c.value for c in at.caption]
    assert not at.info and not at.error


def test_empty_workspace_says_there_are_no_workflow_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "notes.yaml").write_text("just: a yaml file, not a workflow\n", encoding="utf-8")

    at = _run_home(monkeypatch, tmp_path)

    assert len(at.info) == 1
    assert "No workflow files" in at.info[0].value
    assert not [m for m in at.markdown if m.value.startswith("| Workflow |")]
    assert not at.error


def test_missing_workspace_shows_an_error_not_an_exception(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    missing = tmp_path / "does-not-exist"

    at = _run_home(monkeypatch, missing)

    assert len(at.error) == 1
    assert "is not a folder" in at.error[0].value
    assert str(missing) in at.error[0].value
    assert WORKSPACE_ENV in at.error[0].value  # the hint says how to choose another folder
    assert not [s for s in at.subheader if s.value == "Workflows"]  # the page stopped there


def test_home_lists_recent_runs_of_the_workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from agents_core.runs.store import SqliteRunStore as RunStore
    from agents_core.runs.store import default_store_path

    workspace = tmp_path / "ws"
    shutil.copytree(REPO_ROOT / "examples", workspace)
    monkeypatch.delenv("AGENTS_RUN_STORE", raising=False)
    at = _run_home(monkeypatch, workspace)
    assert any("No runs yet" in caption.value for caption in at.caption)
    assert not default_store_path(workspace).exists()  # looking does not create a store

    store = RunStore(default_store_path(workspace))
    store.create("run123abc", "article_writer", None, "text", {}, {})
    store.finish("run123abc", "failed", "node 'write' failed")
    at = _run_home(monkeypatch, workspace)
    tables = [m.value for m in at.markdown if m.value.startswith("| Run |")]
    assert len(tables) == 1 and "| run123abc | article_writer | failed |" in tables[0]


def test_home_reads_runs_through_the_run_service(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A run left ``running`` by an owner that is gone shows as interrupted: the service, not the raw row."""
    from agents_core.runs.store import SqliteRunStore, default_store_path

    workspace = tmp_path / "ws"
    shutil.copytree(REPO_ROOT / "examples", workspace)
    monkeypatch.delenv("AGENTS_RUN_STORE", raising=False)
    store = SqliteRunStore(default_store_path(workspace))
    store.create("orphan12345", "article_writer", None, "text", {}, {})  # running, with no owner nor heartbeat
    assert store.get("orphan12345").status == "running"

    at = _run_home(monkeypatch, workspace)
    [table] = [m.value for m in at.markdown if m.value.startswith("| Run |")]
    assert table.splitlines()[0] == "| Run | Workflow | Status | Started | Duration | Tokens | Cost |"
    assert "| orphan12345 | article_writer | interrupted |" in table
    assert store.get("orphan12345").status == "interrupted"
    assert [link.value for link in at.main.get("page_link")] == ["Open a run on the Run page"]
