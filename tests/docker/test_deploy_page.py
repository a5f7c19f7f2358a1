"""The Deploy page's "Build and deploy", Stop and Remove, driven with AppTest against the private real engine.

The page builds the generated image of article_writer.yaml offline (its
builder stage is a layer-cache hit when test_container.py built the same
requirements first), starts it with the host's network on a free port, and
the test checks what a user would: the build log on the page, ``/health``
over HTTP, the container in the page's list, and the engine's own word (the
docker SDK) after Stop and Remove.
"""

from __future__ import annotations

import contextlib
import re
import shutil
import sys
import time
from pathlib import Path

import httpx
import pytest
from docker.errors import NotFound
from streamlit.testing.v1 import AppTest

from tests.conftest import EXAMPLES_DIR, REPO_ROOT
from tests.docker.conftest import free_port
from tests.docker.engine import BASE_TAG, Engine

pytestmark = pytest.mark.slow

APP = str(REPO_ROOT / "app.py")
PAGE = "pages/4_Deploy.py"
NAME = "page-article"

#: AppTest's limit for one script run; the page polls a background build, so a run is short.
RUN_TIMEOUT = 60
#: How long the whole build-and-start may take (a cold build installs every wheel of the image).
DEPLOY_DEADLINE = 900


def _deploy_page(monkeypatch: pytest.MonkeyPatch, workspace: Path) -> AppTest:
    shutil.copy(EXAMPLES_DIR / "article_writer.yaml", workspace / "article_writer.yaml")
    monkeypatch.setattr(sys, "argv", ["app.py"])
    at = AppTest.from_file(APP, default_timeout=RUN_TIMEOUT)
    at.run()
    at.switch_page(PAGE)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _texts(at: AppTest) -> str:
    parts = [m.value for m in at.markdown] + [c.value for c in at.code] + [s.value for s in at.success]
    return "\n".join(str(p) for p in parts)


def _wait_for_deployment(at: AppTest) -> None:
    """Rerun the page (as its timer does in a browser) until the deployment is done or failed."""
    deadline = time.monotonic() + DEPLOY_DEADLINE
    while time.monotonic() < deadline:
        assert not at.exception, [e.value for e in at.exception]
        assert not at.error, [e.value for e in at.error]
        if "deploy_last" in at.session_state:
            return
        time.sleep(2)
        at.run()
    pytest.fail(f"the page's deployment did not finish in {DEPLOY_DEADLINE} s:\n{_texts(at)[-3000:]}")


def test_the_page_builds_deploys_lists_stops_and_removes_a_container(
    docker_engine: Engine, docker_host: str, isolated_workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = docker_engine.client()
    port = free_port()
    at = _deploy_page(monkeypatch, isolated_workspace)
    assert any(docker_host in s.value for s in at.success), "the page names the engine it found"

    at.selectbox(key="deploy_workflow").set_value("article_writer.yaml")
    at.number_input(key="deploy_port").set_value(port)
    at.text_input(key="deploy_name").input(NAME)
    at.checkbox(key="deploy_mlflow").uncheck()
    at.text_input(key="deploy_base_image").input(BASE_TAG)
    at.checkbox(key="deploy_offline").check()
    at.checkbox(key="deploy_host_network").check()
    at.run()
    button = next(b for b in at.button if b.label == "Build and deploy")
    assert not button.disabled
    try:
        button.click().run()
        assert not at.exception, [e.value for e in at.exception]
        if at.session_state["deploy_job"].view().running:  # (a warm layer cache may have finished it already)
            assert next(b for b in at.button if b.label == "Build and deploy").disabled, "no second build meanwhile"
            assert "Deploying..." in [e.label for e in at.expander]
        _wait_for_deployment(at)
        assert "Deployed" in [e.label for e in at.expander]
        view = at.session_state["deploy_job"].view()
        shown = "\n".join(c.value for c in at.code)
        assert re.search(r"Step \d+/\d+ : ", shown), "the build log (its last lines) is on the page"
        assert "Successfully tagged configurable-agents-article-writer:latest" in shown, shown[-2000:]
        assert view.log_lines > 40 and any(f"last lines of {view.log_lines}" in c.value for c in at.caption)

        # the container really runs, with the settings chosen on the page
        assert httpx.get(f"http://127.0.0.1:{port}/health", timeout=10).status_code == 200
        last = at.session_state["deploy_last"]
        assert last["name"] == NAME and last["port"] == port and last["mlflow_port"] is None
        key = last["api_key"]
        assert key and httpx.get(f"http://127.0.0.1:{port}/schema", timeout=10).status_code == 401
        schema = httpx.get(f"http://127.0.0.1:{port}/schema", headers={"X-API-Key": key}, timeout=10)
        assert schema.status_code == 200 and "topic" in schema.text
        assert client.containers.get(NAME).status == "running"
        assert any(f"{port}/health" in m.value for m in at.markdown), "the endpoints are listed"
        assert any(f"127.0.0.1:{port}/run" in c.value for c in at.code), "curl examples are shown"

        # the page lists it, and Stop stops it for real
        listed = [m.value for m in at.markdown if NAME in m.value and "article_writer" in m.value]
        assert listed and "running" in listed[0], [m.value for m in at.markdown]
        at.button(key=f"stop_{NAME}").click().run()
        assert not at.exception and not at.error, [e.value for e in (*at.exception, *at.error)]
        container = client.containers.get(NAME)
        assert container.status == "exited"
        assert any(NAME in m.value and "exited" in m.value for m in at.markdown)
        assert at.button(key=f"stop_{NAME}").disabled

        # Remove removes it from the engine and from the page
        at.button(key=f"rm_{NAME}").click().run()
        assert not at.exception and not at.error, [e.value for e in (*at.exception, *at.error)]
        with pytest.raises(NotFound):
            client.containers.get(NAME)
        assert not any(NAME in m.value and "article_writer" in m.value for m in at.markdown)
        assert any("No deployment containers" in c.value for c in at.caption)
    finally:
        with contextlib.suppress(NotFound):
            client.containers.get(NAME).remove(force=True)


def test_a_deploy_refused_at_once_shows_its_error_in_the_same_click(
    docker_host: str, isolated_workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.samples import BROKEN_WORKFLOW

    (isolated_workspace / "broken.yaml").write_text(BROKEN_WORKFLOW, encoding="utf-8")
    at = _deploy_page(monkeypatch, isolated_workspace)
    at.selectbox(key="deploy_workflow").set_value("broken.yaml").run()
    next(b for b in at.button if b.label == "Build and deploy").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert "Deploy failed" in [e.label for e in at.expander]
    assert any("broken.yaml" in e.value for e in at.error), [e.value for e in at.error]
    assert "deploy_last" not in at.session_state
    assert not next(b for b in at.button if b.label == "Build and deploy").disabled  # ready for another try
