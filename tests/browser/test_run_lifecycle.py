"""The Run page's run lifecycle in a real browser: live rows, leaving and coming back, Cancel, Resume, past runs.

The workflow is ``examples/article_writer.yaml`` on the ``google`` provider,
pointed (``api_base``) at the Gemini stub of this test process on 127.0.0.1:
the real Gemini client in the Streamlit server talks HTTP to it. The stub
holds the ``write`` node's request until the test opens a gate, so "the run
is still going" is a state the test controls, not a race.
"""

from __future__ import annotations

import re
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Locator, Page, expect

from tests.stubs.gemini import GeminiStub, RecordedRequest, Reply, json_reply, text_reply

REPO_ROOT = Path(__file__).resolve().parents[2]
#: Generous: the machine running the suite may be busy; the stub itself answers at once.
TIMEOUT = 90_000
ARTICLE = {"title": "Tide pools", "article": "Small *worlds* between the tides."}
RUNNING_WRITE = r"^⏳ write · running \d+ s · google / "


class GatedGemini:
    """The stub answering research at once and write when :attr:`gate` is open."""

    def __init__(self) -> None:
        self.gate = threading.Event()
        self.stub = GeminiStub()
        self.stub.handler = self.answer

    def answer(self, request: RecordedRequest) -> Reply:
        if request.prompt.startswith("Write a short article"):
            self.gate.wait(600)
            return json_reply(ARTICLE)
        return text_reply("- Tide pools hold water at low tide.")


@pytest.fixture
def gemini() -> Iterator[GatedGemini]:
    gated = GatedGemini()
    gated.stub.start()
    try:
        yield gated
    finally:
        gated.gate.set()
        gated.stub.stop()


@pytest.fixture
def app(streamlit_app, gemini: GatedGemini, tmp_path: Path):
    """The workbench on a copy of the examples whose article writer calls the stub."""
    workspace = tmp_path / "examples"
    shutil.copytree(REPO_ROOT / "examples", workspace)
    flow = workspace / "article_writer.yaml"
    text = flow.read_text(encoding="utf-8")
    flow.write_text(text.replace("    provider: local\n", f"    provider: google\n    api_base: {gemini.stub.url}\n"))
    env = {"AGENTS_RUN_STORE": "", "GOOGLE_API_KEY": "stub-key", "NO_PROXY": "127.0.0.1,localhost"}
    return streamlit_app(workspace, env=env)


def _markdown(page: Page, pattern: str) -> Locator:
    return page.get_by_test_id("stMarkdownContainer").filter(has_text=re.compile(pattern))


def _run_button(page: Page) -> Locator:
    return page.get_by_test_id("stForm").get_by_role("button", name="Run", exact=True)


def _start(page: Page, open_app, app) -> str:
    """Open the Run page, start the article writer on "tide pools"; the run's id."""
    open_app(app, "Run")
    page.get_by_test_id("stSelectbox").filter(has_text="Workflow").click()
    page.get_by_role("option", name="article_writer.yaml", exact=True).click()
    topic = page.get_by_test_id("stTextArea").filter(has_text="topic *").locator("textarea")
    expect(topic).to_be_visible(timeout=TIMEOUT)
    topic.fill("tide pools")
    _run_button(page).click()
    header = _markdown(page, r"^Run \w{12} of article_writer\.yaml$")
    expect(header).to_be_visible(timeout=TIMEOUT)
    return header.inner_text().split()[1]


def _sidebar(page: Page, label: str) -> None:
    page.get_by_test_id("stSidebar").get_by_role("link", name=label, exact=True).click()


def test_leaving_for_home_and_coming_back_shows_the_rows_then_the_result(app, gemini, open_app, page: Page) -> None:
    run_id = _start(page, open_app, app)
    expect(_markdown(page, r"^✅ research · ")).to_be_visible(timeout=TIMEOUT)
    expect(_markdown(page, RUNNING_WRITE)).to_be_visible(timeout=TIMEOUT)
    expect(_run_button(page)).to_be_disabled()  # no second run while this one goes on

    _sidebar(page, "Home")
    expect(page.get_by_role("heading", name="Configurable Agents")).to_be_visible(timeout=TIMEOUT)
    runs = page.get_by_test_id("stMarkdownContainer").locator("table").filter(has_text="Duration")
    expect(runs.get_by_role("row").filter(has_text=run_id)).to_contain_text("running", timeout=TIMEOUT)

    _sidebar(page, "Run")
    expect(_markdown(page, rf"^Run {run_id} of article_writer\.yaml$")).to_be_visible(timeout=TIMEOUT)
    expect(_markdown(page, r"^✅ research · ")).to_be_visible(timeout=TIMEOUT)  # replayed from the log
    expect(_markdown(page, RUNNING_WRITE)).to_be_visible(timeout=TIMEOUT)  # and still followed live
    expect(_run_button(page)).to_be_disabled()

    gemini.gate.set()
    expect(page.get_by_test_id("stAlertContentSuccess")).to_have_text(
        re.compile(r"^Finished · 2 node runs · "), timeout=TIMEOUT
    )
    expect(_markdown(page, r"^✅ write · ")).to_be_visible()
    expect(page.locator(".st-key-run_outputs")).to_contain_text("Small worlds between the tides.")
    expect(_run_button(page)).to_be_enabled()
    expect(page.get_by_test_id("stException")).to_have_count(0)


def test_cancel_shows_cancelled_and_resume_finishes_the_run(app, gemini, open_app, page: Page) -> None:
    run_id = _start(page, open_app, app)
    expect(_markdown(page, RUNNING_WRITE)).to_be_visible(timeout=TIMEOUT)
    page.get_by_role("button", name="Cancel", exact=True).click()

    warning = page.get_by_test_id("stAlertContentWarning")
    expect(warning).to_have_text(re.compile(r"^Run cancelled at node write\."), timeout=TIMEOUT)
    expect(_markdown(page, r"^⏹️ write · cancelled while running")).to_be_visible()
    expect(_run_button(page)).to_be_enabled()
    runs = page.get_by_test_id("stMarkdownContainer").locator("table").filter(has_text="Duration")
    expect(runs.get_by_role("row").filter(has_text=run_id)).to_contain_text("cancelled")
    research_calls = sum(1 for r in gemini.stub.requests if not r.prompt.startswith("Write"))

    gemini.gate.set()
    page.get_by_role("button", name="Resume", exact=True).click()
    expect(_markdown(page, rf"^Resumed run {run_id} of article_writer\.yaml$")).to_be_visible(timeout=TIMEOUT)
    expect(page.get_by_test_id("stAlertContentSuccess")).to_be_visible(timeout=TIMEOUT)
    expect(_markdown(page, r"^✅ research · .* · before the resume$")).to_be_visible()
    expect(page.get_by_role("button", name="Resume", exact=True)).to_have_count(0)
    assert sum(1 for r in gemini.stub.requests if not r.prompt.startswith("Write")) == research_calls


def test_a_past_run_opens_with_its_node_prompts(app, gemini, open_app, page: Page) -> None:
    gemini.gate.set()
    run_id = _start(page, open_app, app)
    expect(page.get_by_test_id("stAlertContentSuccess")).to_be_visible(timeout=TIMEOUT)

    open_app(app, "Run")  # a new session: nothing shown, the run is in the list
    expect(_markdown(page, r"^Run \w{12} of")).to_have_count(0)
    page.get_by_test_id("stSelectbox").filter(has_text="Open a run").click()
    page.get_by_role("option", name=re.compile(rf"^{run_id} · article_writer · success · ")).click()
    expect(_markdown(page, rf"^Run {run_id} of article_writer\.yaml$")).to_be_visible(timeout=TIMEOUT)
    expander = page.get_by_test_id("stExpander").filter(has_text="Prompt and reply of research")
    expander.get_by_text("Prompt and reply of research").click()
    expect(expander.get_by_test_id("stCode").first).to_contain_text("List three short facts about tide pools.")
    expect(expander).to_contain_text("Tide pools hold water at low tide.")
