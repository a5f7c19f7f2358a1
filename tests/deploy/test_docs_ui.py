"""``use_offline_docs``: /docs and /redoc load every file from the app itself, never from a CDN.

Needs ``fastapi-offline`` (pinned in requirements.txt): skipped without it locally, a failure under CI=true.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from agents_core.deploy import ServerSettings, create_app
from agents_core.deploy.docs_ui import ASSETS_URL, offline_assets, use_offline_docs

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


@pytest.fixture
def assets() -> Path:
    folder = offline_assets()
    if folder is None:
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail("fastapi-offline is not installed (requirements.txt pins it)")
        pytest.skip("fastapi-offline is not installed (pip install -r requirements.txt)")
    return folder


def _urls(html: str) -> list[str]:
    return re.findall(r"""(?:src|href|url)\s*[=:]\s*['"]([^'"]+)['"]""", html)


def test_the_docs_pages_load_only_local_files(assets: Path, tmp_path: Path) -> None:
    settings = ServerSettings(run_store=str(tmp_path / "runs.sqlite"))
    app = create_app(str(EXAMPLES / "article_writer.yaml"), settings=settings)
    assert use_offline_docs(app)
    with TestClient(app) as client:
        for page in ("/docs", "/redoc"):
            reply = client.get(page)
            assert reply.status_code == 200, page
            urls = _urls(reply.text)
            assert urls, page
            for url in urls:
                assert url.startswith("/"), (page, url)  # nothing from cdn.jsdelivr.net or any other host
                fetched = client.get(url)
                assert fetched.status_code == 200 and fetched.content, (page, url)
        assert "swagger-ui-bundle.js" in client.get("/docs").text
        assert (
            client.get(f"{ASSETS_URL}/swagger-ui-bundle.js").content == (assets / "swagger-ui-bundle.js").read_bytes()
        )
        assert client.get("/openapi.json").json()["openapi"].startswith("3.")
        assert client.get("/docs/oauth2-redirect").status_code == 200
        assert use_offline_docs(app)  # a second call (create_app's own, say) changes nothing
        paths = [getattr(route, "path", None) for route in app.router.routes]
        assert paths.count("/docs") == 1 and paths.count("/redoc") == 1  # the CDN pages are gone, not shadowed
        assert paths.count(ASSETS_URL) == 1


def test_without_the_package_the_app_is_left_as_it_was(monkeypatch: pytest.MonkeyPatch) -> None:
    from fastapi import FastAPI

    from agents_core.deploy import docs_ui

    monkeypatch.setattr(docs_ui, "offline_assets", lambda: None)
    app = FastAPI()
    before = list(app.router.routes)
    assert not use_offline_docs(app)
    assert app.router.routes == before
