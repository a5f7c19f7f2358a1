"""The Run page (``pages/2_Run.py``) through Streamlit's AppTest, with a scripted provider.

AppTest runs the page in this process, so a provider registered here with
``scripted_provider`` is the one the page's runs use; ``Script.calls`` then
tells which nodes called the model. The run store is the workspace's own
(``<workspace>/.configurable-agents/runs.sqlite``), in ``tmp_path``.
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from agents_core.engine.runner import LOCAL_FALLBACK_NOTICE
from agents_core.runs import default_service
from agents_core.runs.store import STORE_DIR, STORE_ENV, STORE_FILE
from agents_core.llm.registry import get_provider, register_provider
from agents_core.workspace import WORKSPACE_ENV, list_workflows
from tests.fakes import Script, scripted_provider
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
    return [text for text in _markdown(at) if text[:1] in "⏳✅❌"]


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


