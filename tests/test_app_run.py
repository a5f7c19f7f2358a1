"""The Run page (``pages/2_Run.py``) through Streamlit's AppTest, with a scripted provider.

AppTest runs the page in this process, so a provider registered here with
``scripted_provider`` is the one the page's runs use; ``Script.calls`` then
tells which nodes called the model. The run store is the workspace's own
(``<workspace>/.configurable-agents/runs.sqlite``), in ``tmp_path``.
"""

from __future__ import annotations

import asyncio
import json
import re
import shutil
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from langchain_core.messages import AIMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from langchain_core.runnables import RunnableLambda
from pydantic import BaseModel
from streamlit.testing.v1 import AppTest

from agents_core.engine.runner import LOCAL_FALLBACK_NOTICE
from agents_core.llm.registry import ProviderInfo, get_provider, register_provider, unregister_provider
from agents_core.runs import default_service
from agents_core.runs.store import STORE_DIR, STORE_ENV, STORE_FILE
from agents_core.workspace import WORKSPACE_ENV, list_workflows
from tests.fakes import Script, ScriptedChatModel, scripted_provider
from tests.samples import BROKEN_WORKFLOW
from workbench.run_form import AS_CONFIGURED

REPO_ROOT = Path(__file__).resolve().parents[1]
APP = str(REPO_ROOT / "app.py")
RUN_PAGE = "pages/2_Run.py"
RUN_TIMEOUT = 60
RUN_BUTTON = "FormSubmitter:run_form-Run"
ARTICLE = {"title": "Tide pools", "article": "Small *worlds* between the tides."}

#: Every widget kind: int and str required, float/bool/list/object optional.
ALL_KINDS = """\
schema_version: "1.0"
flow: {name: all_kinds, description: One field of every widget kind.}
state:
  fields:
    count: {type: int, required: true, description: How many.}
    name: {type: str, required: true}
    ratio: {type: float, default: 0.5}
    loud: {type: bool, default: false}
    tags: {type: "list[str]", default: [a]}
    extra: {type: object, schema: {size: int}}
    answer: {type: str, default: ""}
nodes:
  - id: answer
    prompt: "answer: {state.name} {state.count} {state.ratio} {state.loud} {state.tags} {state.extra}"
    outputs: [answer]
edges:
  - {from: START, to: answer}
  - {from: answer, to: END}
config:
  llm: {provider: local}
"""


# --------------------------------------------------------------------------- helpers


@pytest.fixture
def workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "examples"
    shutil.copytree(REPO_ROOT / "examples", folder)
    monkeypatch.setenv(WORKSPACE_ENV, str(folder))
    monkeypatch.delenv(STORE_ENV, raising=False)  # the store is the workspace's own
    monkeypatch.setattr(sys, "argv", ["app.py"])  # keep pytest's arguments away from --workspace
    return folder


def _ok(at: AppTest) -> AppTest:
    assert not at.exception, [e.value for e in at.exception]
    return at


def _run_page() -> AppTest:
    at = AppTest.from_file(APP, default_timeout=RUN_TIMEOUT)
    _ok(at.run())
    at.switch_page(RUN_PAGE)
    _ok(at.run())
    assert [t.value for t in at.title] == ["Run"]
    return at


def _choose(at: AppTest, name: str) -> AppTest:
    at.selectbox(key="run_workflow").select(name)
    return _ok(at.run())


def _input(at: AppTest, name: str, label: str):
    """The input widget labelled ``label`` of workflow file ``name``."""
    matches = [w for w in _widgets(at) if w.label == label and (w.key or "").startswith(f"run_in:{name}:")]
    assert len(matches) == 1, (label, [(w.label, w.key) for w in _widgets(at)])
    return matches[0]


def _widgets(at: AppTest) -> list:
    return [*at.text_area, *at.number_input, *at.checkbox]


def _start(at: AppTest, provider: str = "scripted") -> AppTest:
    at.selectbox(key="run_provider").select(provider)
    return _ok(at.button(key=RUN_BUTTON).click().run())


def _markdown(at: AppTest) -> list[str]:
    return [m.value for m in at.markdown]


def _rows(at: AppTest) -> list[str]:
    return [text for text in _markdown(at) if text[:1] in "⏳✅❌⏹⚠"]


def _errors(at: AppTest) -> list[str]:
    return [e.value for e in at.error]


def _article_run(at: AppTest, topic: str = "tide pools") -> AppTest:
    _choose(at, "article_writer.yaml")
    _input(at, "article_writer.yaml", "topic *").input(topic)
    return _start(at)


def _active(at: AppTest) -> str:
    """The id of the run this session started (all the page keeps of it)."""
    return at.session_state["run_active_id"]


def _finished(at: AppTest, workspace: Path) -> AppTest:
    """Wait until the session's run ends in the run service, then redraw the page."""
    default_service(workspace).wait(_active(at), timeout=RUN_TIMEOUT)
    return _ok(at.run())


def _run_button(at: AppTest):
    return at.button(key=RUN_BUTTON)


# --------------------------------------------------------------------------- choosing and the form


def test_lists_the_workspace_workflows(workspace: Path) -> None:
    at = _run_page()
    expected = [p.relative_to(workspace).as_posix() for p in list_workflows(workspace)]
    assert at.selectbox(key="run_workflow").options == expected
    assert "article_writer.yaml" in expected and "user_profile.yaml" in expected


def test_article_writer_form_has_topic_required_and_the_rest_optional(workspace: Path) -> None:
    at = _choose(_run_page(), "article_writer.yaml")
    topic = _input(at, "article_writer.yaml", "topic *")
    assert topic.value == ""
    assert "What the article is about." in topic.help
    assert [e.label for e in at.expander if e.label.startswith("Optional")] == ["Optional inputs (3)"]
    for name in ("research", "title", "article"):
        widget = _input(at, "article_writer.yaml", name)
        assert widget.value == "" and "Written by" in widget.help
    assert at.selectbox(key="run_provider").options[0] == AS_CONFIGURED
    assert {"local", "google", "openai"} <= set(at.selectbox(key="run_provider").options)


def test_user_profile_form_has_json_areas_for_structured_fields(workspace: Path) -> None:
    at = _choose(_run_page(), "user_profile.yaml")
    profile = _input(at, "user_profile.yaml", "profile * (JSON)")
    assert profile.value == ""
    assert "address: object{city: str, country: str}" in profile.help
    assert json.loads(profile.placeholder)["address"] == {"city": "text", "country": "text"}
    assert _input(at, "user_profile.yaml", "suggestions (JSON)").value == "[]"
    assert _input(at, "user_profile.yaml", "scores (JSON)").value == "{}"
    assert _input(at, "user_profile.yaml", "note").value == ""


def test_every_type_gets_its_widget(workspace: Path) -> None:
    (workspace / "all_kinds.yaml").write_text(ALL_KINDS, encoding="utf-8")
    at = _choose(_run_page(), "all_kinds.yaml")
    count = _input(at, "all_kinds.yaml", "count *")
    assert type(count).__name__ == "NumberInput" and count.value is None and count.step == 1
    ratio = _input(at, "all_kinds.yaml", "ratio")
    assert type(ratio).__name__ == "NumberInput" and ratio.value == 0.5
    assert type(_input(at, "all_kinds.yaml", "loud")).__name__ == "Checkbox"
    assert type(_input(at, "all_kinds.yaml", "name *")).__name__ == "TextArea"
    assert _input(at, "all_kinds.yaml", "tags (JSON)").value == '[\n  "a"\n]'
    assert _input(at, "all_kinds.yaml", "extra (JSON)").value == ""


def test_invalid_workflow_shows_its_error_count_and_points_to_the_editor(workspace: Path) -> None:
    (workspace / "broken.yaml").write_text(BROKEN_WORKFLOW, encoding="utf-8")
    at = _choose(_run_page(), "broken.yaml")
    assert any("broken.yaml has 2 errors" in text for text in _errors(at)), _errors(at)
    assert not [b for b in at.button if b.key == RUN_BUTTON]
    assert [link.value for link in at.main.get("page_link")] == ["Open the Editor to fix it"]


# --------------------------------------------------------------------------- bad inputs


def test_malformed_and_mistyped_json_name_the_field(workspace: Path) -> None:
    at = _choose(_run_page(), "user_profile.yaml")
    _input(at, "user_profile.yaml", "profile * (JSON)").input('{"name": "Ada", ')
    _ok(at.button(key=RUN_BUTTON).click().run())
    [error] = _errors(at)
    assert error.startswith("profile: the JSON is malformed at line 1") and "e.g." in error
    _input(at, "user_profile.yaml", "profile * (JSON)").input('{"name": "Ada", "age": "old"}')
    _ok(at.button(key=RUN_BUTTON).click().run())
    [error] = _errors(at)
    assert error.startswith('profile.age must be int, not a string ("old")'), error
    assert not _rows(at)


def test_missing_required_field_and_missing_key_are_errors_not_tracebacks(
    workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("GOOGLE_API_KEY", raising=False)
    at = _choose(_run_page(), "article_writer.yaml")
    _ok(at.button(key=RUN_BUTTON).click().run())
    assert _errors(at) == ["topic is required.  \nType a value."]
    _input(at, "article_writer.yaml", "topic *").input("tides")
    _start(at, provider="google")
    [error] = _errors(at)
    assert "GOOGLE_API_KEY" in error, error
    assert not _rows(at)


# --------------------------------------------------------------------------- running


class Gate:
    """A reply held until the test opens the gate (awaited off the loop, so a cancel stops the wait)."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.open = threading.Event()


class GatedChatModel(ScriptedChatModel):
    async def _agenerate(self, messages: Any, stop: Any = None, run_manager: Any = None, **kw: Any) -> ChatResult:
        reply = self.script.next_reply(messages)
        if isinstance(reply, Gate):
            await asyncio.get_running_loop().run_in_executor(None, reply.open.wait, RUN_TIMEOUT)
            reply = reply.text
        return self._generate_reply(reply)

    def with_structured_output(self, schema: type[BaseModel], *, include_raw: bool = False, **kw: Any) -> Any:
        async def call(messages: Any) -> dict[str, Any]:
            raw = await self.ainvoke(messages)
            return {"raw": raw, "parsed": schema.model_validate(json.loads(raw.text)), "parsing_error": None}

        return RunnableLambda(call)

    def _generate_reply(self, reply: Any) -> ChatResult:
        message = AIMessage(
            content=str(reply), usage_metadata={"input_tokens": 10, "output_tokens": 5, "total_tokens": 15}
        )
        return ChatResult(generations=[ChatGeneration(message=message)])


@contextmanager
def gated_provider(script: Script) -> Iterator[Script]:
    """The ``scripted`` provider, whose ``Gate`` replies wait for the test (the gates open at the end)."""
    register_provider(
        ProviderInfo("scripted", "gated", default_model="scripted-1", factory=lambda s: GatedChatModel(script=script))
    )
    try:
        yield script
    finally:
        for replies in script.replies.values():
            for reply in replies:
                if isinstance(reply, Gate):
                    reply.open.set()
        unregister_provider("scripted")


def _until(at: AppTest, condition: Any, what: str) -> AppTest:
    """Redraw the page until ``condition(at)`` holds (the run goes on in the service meanwhile)."""
    deadline = time.monotonic() + RUN_TIMEOUT
    while not condition(_ok(at.run())):
        assert time.monotonic() < deadline, f"{what}: {_markdown(at)}"
        time.sleep(0.1)
    return at


def _writing(at: AppTest) -> bool:
    return any(re.match(r"^⏳ \*\*write\*\* · running \d+ s · scripted / scripted-1$", r) for r in _rows(at))


def _resume_buttons(at: AppTest) -> list[str]:
    """The runs the Resume buttons on the page act on (keys are ``run_resume:<run id>:<seq of its start>``)."""
    return [b.key.split(":")[1] for b in at.button if (b.key or "").startswith("run_resume:")]


def _click(at: AppTest, prefix: str) -> AppTest:
    """Click the one button whose key starts with ``prefix`` (e.g. ``run_resume:<run id>``)."""
    [button] = [b for b in at.button if (b.key or "").startswith(prefix + ":")]
    return _ok(button.click().run())


def test_run_shows_a_row_per_node_and_the_outputs(workspace: Path) -> None:
    script = Script({"List": ["- tides come and go"], "Write": [json.dumps(ARTICLE)]})
    with scripted_provider(script):
        at = _finished(_article_run(_run_page()), workspace)
    assert script.calls == ["List", "Write"]
    rows = _rows(at)
    assert len(rows) == 2, rows
    assert (
        rows[0].startswith("✅ **research** · ")
        and "10 in / 5 out tokens · 0 retries · scripted / scripted-1 · unpriced" in rows[0]
    )
    assert rows[1].startswith("✅ **write** · ")
    texts = _markdown(at)
    assert f"**Run `{_active(at)}`** of article_writer.yaml" in texts
    assert next(s.value for s in at.success).startswith("Finished · 2 node runs · 20 in / 10 out tokens")
    assert "**title**" in texts and "Tide pools" in texts
    assert "Small *worlds* between the tides." in texts  # str outputs are Markdown
    [info] = default_service(workspace).list()
    assert info.status == "success" and info.inputs == {"topic": "tide pools"}
    assert (workspace / STORE_DIR / STORE_FILE).exists()

    # the result survives reruns caused by other widgets
    at.selectbox(key="run_provider").select(AS_CONFIGURED)
    _ok(at.run())
    assert len(_rows(at)) == 2 and "Tide pools" in _markdown(at)

    # each node's prompt and raw reply, in an expander
    assert [e.label for e in at.expander if e.label.startswith("Prompt and reply")] == [
        "Prompt and reply of research",
        "Prompt and reply of write",
    ]
    codes = [c.value for c in at.code]
    assert any(c.startswith("List three short facts about tide pools.") for c in codes)
    assert "- tides come and go" in codes and json.dumps(ARTICLE) in codes

    # outputs as Markdown, or all of them as raw JSON
    [raw] = [t for t in at.toggle if t.key.startswith(f"run_raw:{_active(at)}:")]
    raw.set_value(True)
    _ok(at.run())
    assert [json.loads(j.value) for j in at.json] == [{"research": "- tides come and go", **ARTICLE}]
    assert "Small *worlds* between the tides." not in _markdown(at)


def test_structured_outputs_are_shown_as_json(workspace: Path) -> None:
    reply = json.dumps({"suggestions": ["chess", "rowing"], "scores": {"chess": 9, "rowing": 6}})
    script = Script({"Suggest": [reply]})
    with scripted_provider(script):
        at = _choose(_run_page(), "user_profile.yaml")
        profile = {"name": "Ada", "age": 36, "address": {"city": "London", "country": "UK"}, "interests": ["maths"]}
        _input(at, "user_profile.yaml", "profile * (JSON)").input(json.dumps(profile))
        _finished(_start(at), workspace)
    assert [r.split(" · ")[0] for r in _rows(at)] == ["✅ **suggest**"]
    assert [j.value for j in at.json] == [json.dumps(["chess", "rowing"]), json.dumps({"chess": 9, "rowing": 6})]


def test_run_is_disabled_while_running_and_cancel_leaves_a_resumable_run(workspace: Path) -> None:
    script = Script({"List": ["- facts"], "Write": [Gate(json.dumps(ARTICLE))]})
    with gated_provider(script):
        at = _until(_article_run(_run_page()), _writing, "the write node never showed as running")
        run_id = _active(at)
        assert _rows(at)[0].startswith("✅ **research**")
        assert _run_button(at).disabled  # no second (paid) run while this one goes on
        assert not _resume_buttons(at) and not at.success

        _click(at, f"run_cancel:{run_id}")
        default_service(workspace).wait(run_id, timeout=RUN_TIMEOUT)
        _ok(at.run())
        assert default_service(workspace).get(run_id).status == "cancelled"
        [warning] = [w.value for w in at.warning]
        assert warning.startswith("Run cancelled at node **write**.")
        assert _rows(at)[1] == "⏹️ **write** · cancelled while running · scripted / scripted-1"
        assert not _run_button(at).disabled
        assert _resume_buttons(at) == [run_id]
        assert "cancelled" in next(t for t in _markdown(at) if t.startswith("| Run |"))

        script.replies["Write"] = [json.dumps(ARTICLE)]
        _click(at, f"run_resume:{run_id}")
        _finished(at, workspace)
    assert script.calls == ["List", "Write", "Write"]  # research was not called again
    assert any(t.startswith(f"**Resumed run `{run_id}`**") for t in _markdown(at))
    assert "Tide pools" in _markdown(at) and not _resume_buttons(at)


def test_leaving_the_page_and_coming_back_reattaches_to_the_run(workspace: Path) -> None:
    gate = Gate(json.dumps(ARTICLE))
    with gated_provider(Script({"List": ["- facts"], "Write": [gate]})):
        at = _until(_article_run(_run_page()), _writing, "the write node never showed as running")
        run_id = _active(at)
        at.switch_page("app.py")
        _ok(at.run())
        assert [t.value for t in at.title] == ["Configurable Agents"]
        assert f"| {run_id} | article_writer | running |" in next(t for t in _markdown(at) if t.startswith("| Run |"))

        at.switch_page(RUN_PAGE)
        _ok(at.run())
        rows = _rows(at)  # replayed from the log: the run is still going
        assert rows[0].startswith("✅ **research**") and _writing(at), rows
        assert _run_button(at).disabled
        gate.open.set()
        _finished(at, workspace)
    assert [r.split(" · ")[0] for r in _rows(at)] == ["✅ **research**", "✅ **write**"]
    assert "Tide pools" in _markdown(at) and not _run_button(at).disabled


def test_failed_run_shows_the_node_and_resume_finishes_without_calling_it_again(workspace: Path) -> None:
    script = Script({"List": ["- facts"], "Write": [ValueError("boom")]})
    with scripted_provider(script):
        at = _finished(_article_run(_run_page()), workspace)
        run_id = _active(at)
        rows = _rows(at)
        assert rows[0].startswith("✅ **research**") and rows[1].startswith("❌ **write** · failed after")
        [error] = _errors(at)
        assert error.startswith("Node **write** failed (ProviderError):") and "boom" in error
        assert script.calls == ["List", "Write"]

        script.replies["Write"] = [json.dumps(ARTICLE)]  # the cause is fixed
        _click(at, f"run_resume:{run_id}")
        _finished(at, workspace)
    assert script.calls == ["List", "Write", "Write"]  # research was not called again
    assert not _errors(at)
    rows = _rows(at)
    assert rows[0].startswith("✅ **research**") and rows[0].endswith("before the resume")
    assert rows[1].startswith("✅ **write**") and not rows[1].endswith("before the resume")
    assert any(t.startswith("**Resumed run `") for t in _markdown(at))
    assert "Tide pools" in _markdown(at)


def test_any_run_can_be_opened_from_the_list_in_a_new_session_and_resumed(workspace: Path) -> None:
    script = Script({"List": ["- facts"], "Write": [ValueError("boom")]})
    with scripted_provider(script):
        failed = _active(_finished(_article_run(_run_page()), workspace))
        script.replies["Write"] = [json.dumps(ARTICLE), json.dumps(ARTICLE)]
        good = _active(_finished(_article_run(_run_page(), topic="coral"), workspace))

        at = _run_page()  # a new session: nothing shown yet, but every run is listed
        assert not _rows(at) and not _resume_buttons(at)
        table = next(t for t in _markdown(at) if t.startswith("| Run |"))
        assert f"| {failed} | article_writer | failed |" in table and f"| {good} | article_writer | success |" in table
        chooser = at.selectbox(key="run_open_choice")
        assert chooser.options[0].startswith(f"{good} · article_writer · success · ")
        assert chooser.options[1].startswith(f"{failed} · article_writer · failed · ")

        _ok(chooser.select(good).run())  # a finished run: rows, prompts, outputs, no Resume
        assert [r.split(" · ")[0] for r in _rows(at)] == ["✅ **research**", "✅ **write**"]
        assert any(c.value.startswith("List three short facts about coral.") for c in at.code)
        assert not _resume_buttons(at)

        _ok(at.selectbox(key="run_open_choice").select(failed).run())  # a failed one: its error, and Resume
        assert "boom" in _errors(at)[0] and _resume_buttons(at) == [failed]
        _click(at, f"run_resume:{failed}")
        _finished(at, workspace)
    assert _active(at) == failed
    assert script.calls == ["List", "Write", "List", "Write", "Write"]
    assert "Tide pools" in _markdown(at)


def test_a_new_run_clears_the_resume_button_of_the_run_shown_before(workspace: Path) -> None:
    script = Script({"List": ["- facts"], "Write": [ValueError("boom")]})
    with scripted_provider(script):
        at = _finished(_article_run(_run_page()), workspace)
        failed = _active(at)
        assert _resume_buttons(at) == [failed]
        script.replies["Write"] = [json.dumps(ARTICLE)]
        _choose(at, "user_profile.yaml")  # another workflow: its run must not offer the old Resume
        _ok(at.selectbox(key="run_workflow").select("article_writer.yaml").run())
        _input(at, "article_writer.yaml", "topic *").input("coral")
        _finished(_start(at), workspace)
    assert _active(at) != failed
    assert not _resume_buttons(at) and "Tide pools" in _markdown(at)


def test_local_fallback_notice_and_run_id_are_shown(workspace: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No provider named and no GOOGLE_API_KEY: the engine runs on "local" and says so in RunStarted."""
    monkeypatch.delenv("GOOGLE_API_KEY", raising=False)
    text = (workspace / "article_writer.yaml").read_text(encoding="utf-8")
    (workspace / "unnamed_provider.yaml").write_text(text.split("\nconfig:")[0] + "\n", encoding="utf-8")
    local = get_provider("local")
    script = Script({"List": ["- facts"], "Write": [json.dumps(ARTICLE)]})
    try:
        with scripted_provider(script, name="local"):  # "local" answers from the script for this test
            at = _choose(_run_page(), "unnamed_provider.yaml")
            _input(at, "unnamed_provider.yaml", "topic *").input("tides")
            _ok(at.button(key=RUN_BUTTON).click().run())
            _finished(at, workspace)
    finally:
        register_provider(local)
    assert [i.value for i in at.info] == [LOCAL_FALLBACK_NOTICE]
    assert script.calls == ["List", "Write"]
    assert all(" · local / " in row for row in _rows(at))
    [info] = default_service(workspace).list()
    assert any(t == f"**Run `{info.run_id}`** of unnamed_provider.yaml" for t in _markdown(at)), _markdown(at)


def test_a_remembered_run_missing_from_the_store_is_not_a_traceback(workspace: Path) -> None:
    with scripted_provider(Script({"Write": [json.dumps(ARTICLE)]})):
        at = _finished(_article_run(_run_page()), workspace)
    at.session_state["run_shown_id"] = "not-in-this-store"
    at.session_state["run_active_id"] = "not-in-this-store"
    _ok(at.run())
    assert not _rows(at) and not _run_button(at).disabled
    assert next(t for t in _markdown(at) if t.startswith("| Run |"))  # the list is still there
