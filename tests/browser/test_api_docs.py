"""The deployed API's /docs in a real browser with every request beyond 127.0.0.1 refused (an offline container).

Swagger UI must render the workflow's operations from files the server serves
itself (``agents_core.deploy.docs_ui``). Needs ``fastapi-offline`` (pinned in
requirements.txt): skipped without it locally, a failure under CI=true.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Page, Route, expect

from agents_core.deploy.docs_ui import offline_assets
from tests.conftest import EXAMPLES_DIR, REPO_ROOT
from tests.servers import free_port

SERVE = """
import sys, uvicorn
from agents_core.deploy import ServerSettings, create_app
from agents_core.deploy.docs_ui import use_offline_docs
app = create_app(sys.argv[1], settings=ServerSettings(run_store=sys.argv[2]))
use_offline_docs(app)
uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[3]), log_level="warning")
"""


@pytest.fixture
def api(tmp_path: Path) -> Iterator[str]:
    if offline_assets() is None:
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail("fastapi-offline is not installed (requirements.txt pins it)")
        pytest.skip("fastapi-offline is not installed (pip install -r requirements.txt)")
    port = free_port()
    command = [sys.executable, "-c", SERVE, str(EXAMPLES_DIR / "article_writer.yaml"), str(tmp_path / "runs.sqlite")]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO_ROOT), os.environ.get("PYTHONPATH", "")])}
    process = subprocess.Popen([*command, str(port)], env=env)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, "the API exited"
            try:
                if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "the API did not answer /health within 60 s"
            time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)


def test_swagger_ui_renders_the_operations_with_no_request_beyond_the_server(api: str, page: Page) -> None:
    refused: list[str] = []

    def only_the_server(route: Route) -> None:
        if route.request.url.startswith(api):
            route.continue_()
        else:
            refused.append(route.request.url)
            route.abort()

    page.route("**/*", only_the_server)
    page.goto(f"{api}/docs")
    expect(page.locator(".swagger-ui .opblock-summary-path", has_text="/run").first).to_be_visible(timeout=30_000)
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("article_writer")
    assert refused == []
