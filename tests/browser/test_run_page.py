"""The Run page in a real browser, running workflows on the embedded local model.

What a person sees: the form, a row per node that appears as the node starts
("running") and is rewritten with its duration and tokens when it finishes,
then the outputs. The local model (SmolLM2-135M on the CPU) answers each node
in seconds, so the runs are real but the tests are slow.

``examples/article_writer.yaml`` samples its replies (temperature 0.7), so a
node may end within a second, between two redraws of the page: the rows seen
while running are checked on ``tests/fixtures/live/two_long_steps.yaml``,
whose greedy replies always reach ``max_tokens`` and take seconds.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from playwright.sync_api import Locator, Page, expect

LONG_STEPS = Path(__file__).parents[1] / "fixtures" / "live" / "two_long_steps.yaml"
TIMEOUT = 15_000
#: One node on the local model, including loading it on first use, on a busy 2-CPU machine.
NODE_TIMEOUT = 240_000
FINISHED_ROW = r"^✅ {node} · [\d.]+ m?s · [1-9]\d* in / [1-9]\d* out tokens · \d+ retr(y|ies) · local / "


def _markdown(page: Page, pattern: str) -> Locator:
    return page.get_by_test_id("stMarkdownContainer").filter(has_text=re.compile(pattern))


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_each_node_shows_running_then_its_figures_live(streamlit_app, open_app, page: Page, tmp_path: Path) -> None:
    workspace = tmp_path / "live"
    workspace.mkdir()
    shutil.copy(LONG_STEPS, workspace)
    app = streamlit_app(workspace, env={"AGENTS_RUN_STORE": ""})
    open_app(app, "Run")
    page.get_by_test_id("stSelectbox").filter(has_text="Workflow").click()
    page.get_by_role("option", name="two_long_steps.yaml", exact=True).click()
    topic = page.get_by_test_id("stTextArea").filter(has_text="topic *").locator("textarea")
    expect(topic).to_be_visible(timeout=TIMEOUT)
    topic.fill("tide pools")
    page.get_by_test_id("stForm").get_by_role("button", name="Run", exact=True).click()

    # Each node shows up as "running" when it starts, and is rewritten in place when it ends.
    expect(_markdown(page, r"^Run \w{12} of two_long_steps\.yaml$")).to_be_visible(timeout=NODE_TIMEOUT)
    expect(_markdown(page, r"^⏳ facts · running \d+ s · local / ")).to_be_visible(timeout=NODE_TIMEOUT)
    expect(page.get_by_test_id("stAlertContentSuccess")).to_have_count(0)
    expect(_markdown(page, FINISHED_ROW.format(node="facts"))).to_be_visible(timeout=NODE_TIMEOUT)
    expect(_markdown(page, r"^⏳ facts")).to_have_count(0)
    expect(_markdown(page, r"^⏳ questions · running \d+ s · local / ")).to_be_visible(timeout=NODE_TIMEOUT)
    expect(page.get_by_test_id("stAlertContentSuccess")).to_have_count(0)  # the run has not finished yet
    expect(_markdown(page, FINISHED_ROW.format(node="questions"))).to_be_visible(timeout=NODE_TIMEOUT)
    expect(_markdown(page, r"^⏳ questions")).to_have_count(0)
    expect(page.get_by_test_id("stAlertContentSuccess")).to_have_text(
        re.compile(r"^Finished · 2 node runs · \d+ in / \d+ out tokens"), timeout=TIMEOUT
    )
    expect(page.get_by_test_id("stException")).to_have_count(0)


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_article_writer_runs_on_the_local_model(streamlit_app, open_app, page: Page) -> None:
    app = streamlit_app(env={"AGENTS_RUN_STORE": ""})  # the run store is the workspace's own
    open_app(app, "Run")
    expect(page.get_by_role("heading", name="Run", exact=True)).to_be_visible(timeout=TIMEOUT)

    page.get_by_test_id("stSelectbox").filter(has_text="Workflow").click()
    page.get_by_role("option", name="article_writer.yaml", exact=True).click()
    topic = page.get_by_test_id("stTextArea").filter(has_text="topic *").locator("textarea")
    expect(topic).to_be_visible(timeout=TIMEOUT)
    expect(page.get_by_test_id("stExpander").filter(has_text="Optional inputs (3)")).to_be_visible()
    topic.fill("tide pools")
    page.get_by_test_id("stForm").get_by_role("button", name="Run", exact=True).click()

    expect(_markdown(page, r"^Run \w{12} of article_writer\.yaml$")).to_be_visible(timeout=NODE_TIMEOUT)
    expect(_markdown(page, FINISHED_ROW.format(node="research"))).to_be_visible(timeout=NODE_TIMEOUT)
    expect(_markdown(page, FINISHED_ROW.format(node="write"))).to_be_visible(timeout=NODE_TIMEOUT)
    expect(_markdown(page, r"^⏳ ")).to_have_count(0)

    success = page.get_by_test_id("stAlertContentSuccess")
    expect(success).to_have_text(re.compile(r"^Finished · 2 node runs · \d+ in / \d+ out tokens"), timeout=TIMEOUT)
    expect(page.get_by_role("heading", name="Outputs", exact=True)).to_be_visible()
    outputs = page.locator(".st-key-run_outputs").get_by_test_id("stMarkdownContainer")
    expect(outputs).to_have_count(6)  # name, then value, for research, title and article
    assert [outputs.nth(i).inner_text() for i in (0, 2, 4)] == ["research", "title", "article"]
    assert all(outputs.nth(i).inner_text().strip() for i in (1, 3, 5))
    expect(page.get_by_test_id("stAlertContentError")).to_have_count(0)
    expect(page.get_by_test_id("stException")).to_have_count(0)
    assert (app.workspace / ".configurable-agents" / "runs.sqlite").exists()
