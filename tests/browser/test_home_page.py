"""The Home page in a real browser: the workspace's workflows, each with its validation status."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from playwright.sync_api import Locator, Page, expect

from agents_core.workspace import workflow_status
from tests.samples import BROKEN_WORKFLOW

REPO_ROOT = Path(__file__).resolve().parents[2]
EXAMPLE_WORKFLOWS = [
    "article_writer",
    "article_writer_mlflow",
    "calculator_agent",
    "parallel_research",
    "review_loop",
    "user_profile",
]
TIMEOUT = 15_000


def _workflow_row(page: Page, name: str) -> Locator:
    """The row of the workflows table whose first cell is exactly ``name``."""
    table = page.get_by_test_id("stMarkdownContainer").locator("table").filter(has_text="Workflow")
    return table.get_by_role("row").filter(has=page.get_by_role("cell", name=name, exact=True))


def _status_text(label: str) -> re.Pattern[str]:
    """The status cell: an icon, a space, then exactly ``label``."""
    return re.compile(rf"^\S+\s+{re.escape(label)}$")


def test_home_lists_every_example_workflow_as_ok(streamlit_app, open_app) -> None:
    app = streamlit_app()
    page = open_app(app)

    expect(page.get_by_role("heading", name="Configurable Agents")).to_be_visible(timeout=TIMEOUT)
    expect(page.get_by_text(str(app.workspace), exact=True)).to_be_visible(timeout=TIMEOUT)
    for name in EXAMPLE_WORKFLOWS:
        row = _workflow_row(page, name)
        expect(row).to_have_count(1, timeout=TIMEOUT)
        cells = row.get_by_role("cell")
        expect(cells.nth(1)).to_have_text(f"{name}.yaml")
        expect(cells.nth(2)).to_have_text(_status_text("ok"))
    expect(page.get_by_text(f"{len(EXAMPLE_WORKFLOWS)} workflows, 0 with errors.")).to_be_visible()


def test_home_shows_error_count_of_a_broken_workflow(tmp_path: Path, streamlit_app, open_app) -> None:
    workspace = tmp_path / "workspace"
    workspace.mkdir()
    good = workspace / "calculator_agent.yaml"
    shutil.copyfile(REPO_ROOT / "examples" / "calculator_agent.yaml", good)
    broken = workspace / "broken.yaml"
    broken.write_text(BROKEN_WORKFLOW, encoding="utf-8")
    broken_status = workflow_status(workspace, broken)
    assert broken_status.errors >= 2, broken_status  # the unknown state field and the unknown tool
    assert workflow_status(workspace, good).label == "ok"

    page = open_app(streamlit_app(workspace))

    broken_cells = _workflow_row(page, "broken_flow").get_by_role("cell")
    expect(broken_cells.nth(1)).to_have_text("broken.yaml", timeout=TIMEOUT)
    expect(broken_cells.nth(2)).to_have_text(_status_text(broken_status.label))
    good_cells = _workflow_row(page, "calculator_agent").get_by_role("cell")
    expect(good_cells.nth(1)).to_have_text("calculator_agent.yaml")
    expect(good_cells.nth(2)).to_have_text(_status_text("ok"))
    expect(page.get_by_text("2 workflows, 1 with errors.")).to_be_visible()
