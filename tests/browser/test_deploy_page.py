"""The Deploy page in chromium against the private real engine: the build's progress appears by itself.

AppTest reruns the page when told to; here nobody touches the page after
"Build and deploy", so the build log, the "Deployed" state and the new
container in the list can only appear through the page's own polling of its
background build. Stop and Remove are then clicked as a person would, and the
engine (docker SDK) says whether they happened.
"""

from __future__ import annotations

import contextlib
import re
import shutil
from pathlib import Path

import httpx
import pytest
from docker.errors import NotFound
from playwright.sync_api import expect

from tests.conftest import EXAMPLES_DIR
from tests.docker.conftest import free_port
from tests.docker.engine import BASE_TAG, Engine

pytestmark = pytest.mark.slow

NAME = "browser-article"
#: A cold build installs every wheel of the image; a warm layer cache makes it seconds.
DEPLOY_TIMEOUT = 900_000
TIMEOUT = 30_000


def test_build_and_deploy_streams_its_log_and_the_container_can_be_stopped_and_removed(
    docker_engine: Engine, tmp_path: Path, streamlit_app, open_app
) -> None:
    workspace = tmp_path / "ws"
    workspace.mkdir()
    shutil.copy(EXAMPLES_DIR / "article_writer.yaml", workspace)
    client = docker_engine.client()
    port = free_port()
    app = streamlit_app(workspace, env={"DOCKER_HOST": docker_engine.url})
    page = open_app(app, "Deploy", timeout=TIMEOUT)
    try:
        expect(page.get_by_text(f"Docker engine ready at {docker_engine.url}.")).to_be_visible(timeout=TIMEOUT)
        for label, value in (("API port", str(port)), ("Container name", NAME)):
            page.get_by_label(label).fill(value)
            page.get_by_label(label).press("Enter")
            expect(page.get_by_label(label)).to_have_value(value)
        page.get_by_text("MLflow tracking and UI in the container").click()
        expect(page.get_by_role("checkbox", name="MLflow tracking and UI in the container")).not_to_be_checked()
        page.get_by_text("Advanced").click()
        page.get_by_label("Base image").fill(BASE_TAG)
        page.get_by_label("Base image").press("Enter")
        expect(page.get_by_label("Base image")).to_have_value(BASE_TAG)
        for label in ("Offline build (wheelhouse made here, network off)", "Use the host's network"):
            page.get_by_text(label).click()
            expect(page.get_by_role("checkbox", name=label)).to_be_checked()

        page.get_by_role("button", name="Build and deploy").click()
        # from here on nobody touches the page: what appears comes from its polling
        expect(page.get_by_text(re.compile(r"^Build log, last lines of \d+$"))).to_be_visible(timeout=TIMEOUT)
        expect(page.get_by_role("heading", name=f"Running: {NAME}")).to_be_visible(timeout=DEPLOY_TIMEOUT)
        expect(page.get_by_text("Successfully tagged configurable-agents-article-writer:latest")).to_be_attached()
        assert httpx.get(f"http://127.0.0.1:{port}/health", timeout=10).status_code == 200
        expect(page.get_by_text(f"{NAME} · article_writer · running")).to_be_visible(timeout=TIMEOUT)

        page.get_by_role("button", name="Stop").click()
        expect(page.get_by_text(f"{NAME} · article_writer · exited")).to_be_visible(timeout=TIMEOUT)
        assert client.containers.get(NAME).status == "exited"
        page.get_by_role("button", name="Remove").click()
        expect(page.get_by_text("No deployment containers.")).to_be_visible(timeout=TIMEOUT)
        with pytest.raises(NotFound):
            client.containers.get(NAME)
    finally:
        with contextlib.suppress(NotFound):
            client.containers.get(NAME).remove(force=True)
