"""The Editor page in a real browser: typing into Ace, live problems, the flow picture, saving.

The Ace editor is a Streamlit component inside an iframe. Text is typed with
the real keyboard (``page.keyboard``) after placing the cursor through Ace's
own API (``editor.gotoLine``), so what is tested is what a user does: keys go
into Ace, the component sends the text to the server, the page validates it
and sends back gutter annotations, the problem list and the flow picture.
"""

from __future__ import annotations

import re
import time

from playwright.sync_api import Frame, Locator, Page, expect

from tests.browser.conftest import ARTIFACTS_DIR, save_screenshot, wait_for_render

TIMEOUT = 15_000
ACE_IFRAME = 'iframe[title*="streamlit_ace"]'
ACE = "document.querySelector('.ace_editor').env.editor"
PARALLEL_NODES = {"plan", "science", "history", "practice", "combine", "START", "END"}
#: Records in the app's window the last value the Ace component sent to Streamlit.
RECORD_COMPONENT_VALUES = """
window.addEventListener("message", (event) => {
  const data = event.data;
  if (data && data.isStreamlitMessage && data.type === "streamlit:setComponentValue") {
    window.__aceLastValue = data.value;
  }
});
"""


# --------------------------------------------------------------------------- helpers


def _sidebar(page: Page) -> Locator:
    return page.get_by_test_id("stSidebar")


def ace_frame(page: Page, text: str | None = None, *, timeout: float = TIMEOUT) -> Frame:
    """The frame of the Ace component once its editor exists (and, with ``text``, shows exactly ``text``).

    Opening a file gives the widget a fresh key, so Streamlit replaces the
    iframe: poll until the frame found holds a live editor with the text.
    """
    deadline = time.monotonic() + timeout / 1000
    last = "no Ace iframe"
    while time.monotonic() < deadline:
        try:
            handle = page.locator(ACE_IFRAME).element_handle(timeout=1_000)
            frame = handle.content_frame() if handle else None
            if frame is not None:
                value = frame.evaluate(
                    "() => { const el = document.querySelector('.ace_editor');"
                    " return el && el.env && el.env.editor ? el.env.editor.getValue() : null; }"
                )
                if value is not None and (text is None or value == text):
                    return frame
                last = "no editor yet" if value is None else f"editor text differs: {value[:80]!r}..."
        except Exception as exc:  # the iframe was replaced or detached meanwhile: look again
            last = f"{type(exc).__name__}: {exc}"
        page.wait_for_timeout(100)
    raise AssertionError(f"the Ace editor did not show the expected text within {timeout} ms ({last})")


def ace_value(frame: Frame) -> str:
    return frame.evaluate(f"() => {ACE}.getValue()")


def ace_goto_line_end(frame: Frame, line: int) -> None:
    """Put the cursor at the end of ``line`` (1-based) and give the editor the keyboard focus."""
    frame.evaluate(f"n => {{ const e = {ACE}; e.gotoLine(n, 1000); e.focus(); }}", line)


def gutter_cell(frame: Frame, line: int) -> Locator:
    return frame.locator(".ace_gutter-cell").filter(has_text=re.compile(rf"^\s*{line}\s*$"))


def error_cell(frame: Frame, line: int) -> Locator:
    """The gutter cell of ``line`` carrying an error mark (Ace may keep a stale unmarked copy while redrawing)."""
    return frame.locator(".ace_gutter-cell.ace_error").filter(has_text=re.compile(rf"^\s*{line}\s*$"))


def problem_entries(page: Page, code: str) -> Locator:
    return page.get_by_test_id("stMarkdownContainer").filter(has_text=code)


def header(page: Page) -> Locator:
    """The markdown line under the title: ``**<file>** ● modified``, ``(saved)`` or ``(new, not saved yet)``."""
    return page.get_by_test_id("stMarkdownContainer").filter(
        has_text=re.compile(r"(● modified|\(saved\)|\(new, not saved yet\))$")
    )


def wait_until_sent(page: Page, text: str, *, timeout: float = TIMEOUT) -> None:
    """Wait until the Ace component has handed ``text`` to Streamlit (it debounces by 200 ms).

    ``open_editor`` records the last ``streamlit:setComponentValue`` message the
    app received; the next rerun (a click, a form submit) carries that value.
    """
    page.wait_for_function("t => window.__aceLastValue === t", arg=text, timeout=timeout)


def save_as(page: Page, name: str) -> None:
    page.get_by_label("Save as").fill(name)
    page.get_by_test_id("stForm").get_by_role("button", name="Save as").click()


def shot(page: Page, name: str) -> None:
    save_screenshot(page, ARTIFACTS_DIR / f"{name}.png")


def open_editor(page: Page, open_app, app) -> Page:
    """Go to the Editor page of ``app`` (``page`` is the page ``open_app`` drives)."""
    page.add_init_script(RECORD_COMPONENT_VALUES)
    open_app(app, "Editor")
    expect(page.get_by_role("heading", name="Editor", exact=True)).to_be_visible(timeout=TIMEOUT)
    return page


def open_workspace_file(page: Page, name: str, text: str, *, ask: bool = False) -> Frame:
    """Open ``name`` through the sidebar (with ``ask``, discarding the unsaved buffer); returns the new Ace frame."""
    sidebar = _sidebar(page)
    sidebar.get_by_test_id("stSelectbox").filter(has_text="Workspace file").click()
    page.get_by_role("option", name=name, exact=True).click()
    open_button = sidebar.get_by_role("button", name="Open file")
    expect(open_button).to_be_enabled(timeout=TIMEOUT)
    open_button.click()
    if ask:
        expect(page.get_by_text("has unsaved changes. Discard them and open?")).to_be_visible(timeout=TIMEOUT)
        page.get_by_role("button", name="Discard changes").click()
    expect(page.get_by_text(f"Opened {name}.")).to_be_visible(timeout=TIMEOUT)
    expect(page.get_by_role("button", name="Discard changes")).to_have_count(0)
    expect(header(page)).to_have_text(f"{name} (saved)", timeout=TIMEOUT)
    return ace_frame(page, text)


def line_number(text: str, needle: str) -> int:
    matches = [i for i, line in enumerate(text.splitlines(), start=1) if needle in line]
    assert len(matches) == 1, (needle, matches)
    return matches[0]


# --------------------------------------------------------------------------- tests
#
# Every test asks for ``page`` after ``streamlit_app`` (or only through
# ``open_app``): fixtures are torn down in reverse order, so the teardown
# screenshot is then taken while the server still runs, not of a
# disconnected, greyed-out app.


def test_typed_misspelled_reference_is_marked_then_cleared_when_fixed(streamlit_app, open_app, page: Page) -> None:
    app = streamlit_app()
    source = (app.workspace / "article_writer.yaml").read_text(encoding="utf-8")
    line = line_number(source, "List three short facts")
    typed = " Also use {state.reserch}."
    edited_line = source.splitlines()[line - 1] + typed
    column = edited_line.index("{state.reserch}") + 1  # problems count columns from 1

    open_editor(page, open_app, app)
    frame = open_workspace_file(page, "article_writer.yaml", source)

    ace_goto_line_end(frame, line)
    page.keyboard.type(typed)

    expect(gutter_cell(frame, line)).to_have_class(re.compile(r"\bace_error\b"), timeout=TIMEOUT)
    entry = problem_entries(page, "E-REF-STATE")
    expect(entry).to_have_count(1, timeout=TIMEOUT)
    expect(entry).to_contain_text(f"{line}:{column}")
    expect(entry).to_contain_text("Did you mean 'research'?")
    expect(header(page)).to_have_text("article_writer.yaml ● modified")
    assert ace_value(frame).splitlines()[line - 1] == edited_line
    shot(page, "editor_error_annotation")

    # Fix it: select the misspelled word with Ace's search, then retype it.
    frame.evaluate(f"() => {{ const e = {ACE}; e.find('reserch'); e.focus(); }}")
    page.keyboard.type("research")

    expect(gutter_cell(frame, line)).not_to_have_class(re.compile(r"\bace_(error|warning)\b"), timeout=TIMEOUT)
    expect(problem_entries(page, "E-REF-STATE")).to_have_count(0, timeout=TIMEOUT)
    expect(page.get_by_text("Valid: no problems found")).to_be_visible(timeout=TIMEOUT)
    assert ace_value(frame).splitlines()[line - 1] == edited_line.replace("reserch", "research")


def test_flow_picture_shows_the_nodes_and_survives_broken_yaml(streamlit_app, open_app, page: Page) -> None:
    app = streamlit_app()
    source = (app.workspace / "parallel_research.yaml").read_text(encoding="utf-8")
    open_editor(page, open_app, app)
    frame = open_workspace_file(page, "parallel_research.yaml", source)

    chart = page.get_by_test_id("stGraphVizChart")
    titles = chart.locator("svg g.node > title")
    expect(titles).to_have_count(len(PARALLEL_NODES), timeout=TIMEOUT)
    assert set(titles.all_text_contents()) == PARALLEL_NODES
    expect(page.get_by_text("The text does not parse")).to_have_count(0)

    # Break the YAML on the last (empty) line with an unclosed flow sequence.
    frame.evaluate(f"() => {{ const e = {ACE}; e.navigateFileEnd(); e.focus(); }}")
    page.keyboard.type("oops: [unclosed")
    page.keyboard.press("Escape")  # close Ace's live-autocompletion popup, if any
    page.keyboard.press("Delete")  # Ace closes the bracket by itself: remove the "]" it added
    assert ace_value(frame) == source + "oops: [unclosed"

    expect(page.get_by_text("The text does not parse; showing the last readable version.")).to_be_visible(
        timeout=TIMEOUT
    )
    expect(titles).to_have_count(len(PARALLEL_NODES), timeout=TIMEOUT)
    assert set(titles.all_text_contents()) == PARALLEL_NODES
    expect(chart.locator("svg")).to_be_visible()
    expect(page.get_by_text(re.compile(r"^\d+ error\(s\)"))).to_be_visible()
    shot(page, "editor_broken_yaml_keeps_picture")


def test_save_as_new_file_refuses_outside_and_confirms_overwrite(streamlit_app, open_app, page: Page) -> None:
    app = streamlit_app()
    workspace = app.workspace
    open_editor(page, open_app, app)
    expect(header(page)).to_have_text("untitled.yaml (new, not saved yet)", timeout=TIMEOUT)
    frame = ace_frame(page)

    ace_goto_line_end(frame, 1)
    page.keyboard.type("  # drafted in the browser")
    text = ace_value(frame)
    assert text.splitlines()[0].endswith("# drafted in the browser")
    wait_until_sent(page, text)

    # 1. A new file in a new folder.
    save_as(page, "flows/new_flow.yaml")
    expect(page.get_by_text("Saved flows/new_flow.yaml.")).to_be_visible(timeout=TIMEOUT)
    expect(header(page)).to_have_text("flows/new_flow.yaml (saved)", timeout=TIMEOUT)
    saved = workspace / "flows" / "new_flow.yaml"
    assert saved.is_file()
    assert saved.read_bytes().decode("utf-8") == text == ace_value(frame)

    # 2. A name outside the workspace is refused and nothing is written there.
    outside = workspace.parent / "outside.yaml"
    save_as(page, "../outside.yaml")
    refusal = page.get_by_test_id("stAlertContentError").filter(
        has_text="'../outside.yaml' leads outside the workspace ('..' is not allowed)."
    )
    expect(refusal).to_be_visible(timeout=TIMEOUT)
    shot(page, "editor_save_as_refused")
    assert not outside.exists()
    expect(header(page)).to_have_text("flows/new_flow.yaml (saved)")

    # 3. An existing name asks first; Cancel keeps the file, Overwrite replaces it.
    existing = workspace / "review_loop.yaml"
    original = existing.read_bytes()
    assert original.decode("utf-8") != text
    save_as(page, "review_loop.yaml")
    question = page.get_by_text(
        "'review_loop.yaml' already exists in the workspace. Confirm to overwrite it, or choose another name."
    )
    expect(question).to_be_visible(timeout=TIMEOUT)
    expect(page.get_by_role("button", name="Overwrite")).to_be_visible()
    shot(page, "editor_save_as_overwrite_question")
    page.get_by_role("button", name="Cancel").click()
    expect(page.get_by_text("Cancelled; nothing was changed.")).to_be_visible(timeout=TIMEOUT)
    expect(page.get_by_role("button", name="Overwrite")).to_have_count(0)
    assert existing.read_bytes() == original
    expect(header(page)).to_have_text("flows/new_flow.yaml (saved)")

    save_as(page, "review_loop.yaml")
    expect(question).to_be_visible(timeout=TIMEOUT)
    page.get_by_role("button", name="Overwrite").click()
    expect(page.get_by_text("Saved review_loop.yaml.")).to_be_visible(timeout=TIMEOUT)
    expect(header(page)).to_have_text("review_loop.yaml (saved)", timeout=TIMEOUT)
    assert existing.read_bytes().decode("utf-8") == text
    assert saved.read_bytes().decode("utf-8") == text
    assert not outside.exists()


def test_unsaved_changes_survive_a_page_switch(streamlit_app, open_app, page: Page) -> None:
    app = streamlit_app()
    source = (app.workspace / "article_writer.yaml").read_text(encoding="utf-8")
    line = line_number(source, "Keep each fact to one sentence.")
    typed = " Mention {state.draft_note}."
    open_editor(page, open_app, app)
    frame = open_workspace_file(page, "article_writer.yaml", source)

    ace_goto_line_end(frame, line)
    page.keyboard.type(typed)
    edited = ace_value(frame)
    assert edited.splitlines()[line - 1].endswith(typed)
    # The server has the whole text once the problem names the whole placeholder.
    expect(problem_entries(page, "{state.draft_note} is not a state field")).to_have_count(1, timeout=TIMEOUT)
    expect(header(page)).to_have_text("article_writer.yaml ● modified")

    _sidebar(page).get_by_role("link", name="Home").click()
    expect(page.get_by_role("heading", name="Configurable Agents")).to_be_visible(timeout=TIMEOUT)
    expect(page.locator(ACE_IFRAME)).to_have_count(0)

    _sidebar(page).get_by_role("link", name="Editor").click()
    expect(page.get_by_role("heading", name="Editor", exact=True)).to_be_visible(timeout=TIMEOUT)
    frame = ace_frame(page, edited)
    expect(header(page)).to_have_text("article_writer.yaml ● modified", timeout=TIMEOUT)
    expect(problem_entries(page, "{state.draft_note} is not a state field")).to_have_count(1, timeout=TIMEOUT)
    # The editor has a fixed height and renders only the visible lines: bring the line into view.
    frame.evaluate(f"() => document.querySelector('.ace_editor').env.editor.scrollToLine({line}, true, false)")
    expect(gutter_cell(frame, line)).to_have_class(re.compile(r"\bace_error\b"), timeout=TIMEOUT)
    assert (app.workspace / "article_writer.yaml").read_text(encoding="utf-8") == source


def test_the_first_open_of_a_fresh_session_asks_nothing(streamlit_app, open_app, page: Page) -> None:
    app = streamlit_app()
    source = (app.workspace / "review_loop.yaml").read_text(encoding="utf-8")
    open_editor(page, open_app, app)
    expect(header(page)).to_have_text("untitled.yaml (new, not saved yet)", timeout=TIMEOUT)
    open_workspace_file(page, "review_loop.yaml", source)  # fails if "Discard changes?" is asked
    expect(page.get_by_text("has unsaved changes")).to_have_count(0)


def test_a_reload_keeps_the_unsaved_buffer(streamlit_app, open_app, page: Page) -> None:
    app = streamlit_app()
    source = (app.workspace / "article_writer.yaml").read_text(encoding="utf-8")
    open_editor(page, open_app, app)
    frame = open_workspace_file(page, "article_writer.yaml", source)
    frame.evaluate(f"() => {{ const e = {ACE}; e.navigateFileEnd(); e.focus(); }}")
    page.keyboard.type("# typed, never saved")
    edited = ace_value(frame)
    assert edited.endswith("# typed, never saved")
    wait_until_sent(page, edited)
    expect(header(page)).to_have_text("article_writer.yaml ● modified", timeout=TIMEOUT)

    page.reload()
    wait_for_render(page)
    expect(page.get_by_text("Unsaved changes to article_writer.yaml from")).to_be_visible(timeout=TIMEOUT)
    shot(page, "editor_reload_offers_draft")
    page.get_by_role("button", name="Restore draft").click()
    expect(page.get_by_text("Restored the unsaved changes to article_writer.yaml.")).to_be_visible(timeout=TIMEOUT)
    ace_frame(page, edited)
    expect(header(page)).to_have_text("article_writer.yaml ● modified", timeout=TIMEOUT)
    assert (app.workspace / "article_writer.yaml").read_text(encoding="utf-8") == source

    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_text("Saved article_writer.yaml.")).to_be_visible(timeout=TIMEOUT)
    assert (app.workspace / "article_writer.yaml").read_text(encoding="utf-8") == edited
    page.reload()
    wait_for_render(page)
    expect(page.get_by_role("heading", name="Editor", exact=True)).to_be_visible(timeout=TIMEOUT)
    expect(page.get_by_role("button", name="Restore draft")).to_have_count(0)


def _in_viewport(page: Page, locator: Locator) -> bool:
    box = locator.bounding_box()
    size = page.viewport_size
    return box is not None and box["y"] >= 0 and box["y"] + box["height"] <= size["height"] and box["x"] >= 0


def test_at_1440x900_the_problems_are_beside_the_editor_and_tooltips_fit(streamlit_app, open_app, page: Page) -> None:
    app = streamlit_app()
    page.set_viewport_size({"width": 1440, "height": 900})
    open_editor(page, open_app, app)
    frame = ace_frame(page)
    long_tail = " Also {state.one_very_long_misspelled_reference_name} and {state.another_one_misspelled}."
    for line in (14, 3):  # the prompt (misspelled references) and the flow's name (a long message)
        ace_goto_line_end(frame, line)
        page.keyboard.type(long_tail)
    expect(page.get_by_text(re.compile(r"^\d+ error\(s\)"))).to_be_visible(timeout=TIMEOUT)
    entries = page.get_by_test_id("stMarkdownContainer").filter(has_text=re.compile("E-REF-STATE|E-NAME-INVALID"))
    expect(entries).to_have_count(3, timeout=TIMEOUT)

    banner = page.get_by_test_id("stAlertContentError").filter(has_text="error(s)")
    editor_box = page.locator(ACE_IFRAME).bounding_box()
    banner_box = banner.bounding_box()
    assert _in_viewport(page, banner), banner_box
    assert _in_viewport(page, entries.first), entries.first.bounding_box()
    assert banner_box["x"] >= editor_box["x"] + editor_box["width"]  # beside the editor, not under it
    assert banner_box["y"] < editor_box["y"] + editor_box["height"]
    # The whole list is reachable inside its own box, without scrolling the page.
    problems = page.locator(".st-key-editor_problems")
    assert _in_viewport(page, problems)
    main_scroll = page.evaluate("() => document.querySelector('[data-testid=\"stMain\"]').scrollTop")
    assert main_scroll == 0
    page.screenshot(path=str(ARTIFACTS_DIR / "editor_1440x900.png"))

    # The gutter tooltip of a long message stays inside the editor's frame.
    error_cell(frame, 3).hover()
    tooltip = frame.locator(".ace_tooltip")
    expect(tooltip).to_be_visible(timeout=TIMEOUT)
    tip = tooltip.bounding_box()
    width = frame.evaluate("() => window.innerWidth")
    height = frame.evaluate("() => window.innerHeight")
    local = frame.evaluate(
        "() => { const r = document.querySelector('.ace_tooltip').getBoundingClientRect();"
        " return {x: r.left, y: r.top, right: r.right, bottom: r.bottom}; }"
    )
    page.screenshot(path=str(ARTIFACTS_DIR / "editor_1440x900_tooltip.png"))
    assert tip is not None
    assert local["x"] >= 0 and local["right"] <= width, (local, width)
    assert local["y"] >= 0 and local["bottom"] <= height, (local, height)

    # ... and so does the tooltip of a problem on the editor's last visible line.
    page.mouse.move(0, 0)
    frame.evaluate(f"() => {{ const e = {ACE}; e.navigateFileEnd(); e.focus(); }}")
    page.keyboard.type("\n" * 40 + "unexpected_top_level_key: 1")
    last = ace_value(frame).count("\n") + 1
    expect(gutter_cell(frame, last)).to_have_class(re.compile(r"\bace_error\b"), timeout=TIMEOUT)
    frame.evaluate(f"n => {ACE}.scrollToLine(n, false, false)", last)
    cell = error_cell(frame, last)
    cell_box = frame.evaluate(
        "n => { const c = [...document.querySelectorAll('.ace_gutter-cell')]"
        ".find(c => c.textContent.trim() === String(n)); const r = c.getBoundingClientRect();"
        " return {top: r.top, bottom: r.bottom}; }",
        last,
    )
    assert cell_box["bottom"] > height - 60, (cell_box, height)  # really at the bottom of the frame
    cell.hover()
    expect(tooltip).to_be_visible(timeout=TIMEOUT)
    local = frame.evaluate(
        "() => { const r = document.querySelector('.ace_tooltip').getBoundingClientRect();"
        " return {x: r.left, y: r.top, right: r.right, bottom: r.bottom}; }"
    )
    page.screenshot(path=str(ARTIFACTS_DIR / "editor_1440x900_tooltip_bottom.png"))
    assert local["x"] >= 0 and local["right"] <= width, (local, width)
    assert local["y"] >= 0 and local["bottom"] <= height, (local, height)


def test_the_run_pages_fix_it_link_opens_the_broken_file(streamlit_app, open_app, page: Page) -> None:
    app = streamlit_app()
    broken = 'schema_version: "1.0"\nflow: {name: broken}\n'
    (app.workspace / "broken.yaml").write_text(broken, encoding="utf-8")
    page.add_init_script(RECORD_COMPONENT_VALUES)
    open_app(app, "Run")
    page.get_by_test_id("stSelectbox").filter(has_text="Workflow").click()
    page.get_by_role("option", name="broken.yaml", exact=True).click()
    link = page.get_by_role("link", name=re.compile("Open the Editor to fix it"))
    expect(link).to_be_visible(timeout=TIMEOUT)
    link.click()
    expect(page.get_by_role("heading", name="Editor", exact=True)).to_be_visible(timeout=TIMEOUT)
    expect(header(page)).to_have_text("broken.yaml (saved)", timeout=TIMEOUT)
    ace_frame(page, broken)
