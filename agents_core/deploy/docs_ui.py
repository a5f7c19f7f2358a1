"""``/docs`` and ``/redoc`` that work offline: Swagger UI and ReDoc served by the app itself.

FastAPI's own pages load their JavaScript and CSS from cdn.jsdelivr.net, so in
a container without internet (or behind a strict proxy) ``/docs`` is a blank
page. The ``fastapi-offline`` package ships those files (Swagger UI 5, which
renders FastAPI's OpenAPI 3.1, and ReDoc); :func:`use_offline_docs` mounts
them under :data:`ASSETS_URL` and points both pages there, replacing the CDN
pages an app was made with. Without the package the app is left as it was
(one log line says so), so a development install that lacks it still serves.

``create_app`` calls ``use_offline_docs(app)`` once, right after making the app.
"""

# No ``from __future__ import annotations``: FastAPI reads the routes' ``Request`` annotations at run time,
# and they name a class imported inside use_offline_docs.
import logging
from importlib import resources
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

#: Where the Swagger UI and ReDoc files are served from.
ASSETS_URL = "/docs-assets"

#: The files the pages need, all in fastapi-offline's ``static`` folder.
SWAGGER_JS, SWAGGER_CSS, REDOC_JS, FAVICON = (
    "swagger-ui-bundle.js",
    "swagger-ui.css",
    "redoc.standalone.js",
    "favicon.png",
)


def offline_assets() -> Path | None:
    """The folder holding the Swagger UI and ReDoc files, or ``None`` when ``fastapi-offline`` is not installed."""
    try:
        folder = Path(str(resources.files("fastapi_offline") / "static"))
    except ModuleNotFoundError:
        return None
    return folder if (folder / SWAGGER_JS).is_file() else None


def use_offline_docs(app: Any, *, assets_url: str = ASSETS_URL) -> bool:
    """Serve ``app``'s docs pages from local files; ``False`` (the app unchanged) when none are installed.

    The pages keep the URLs the app was made with (``app.docs_url``, default
    ``/docs``; ``app.redoc_url``, default ``/redoc``); a page the app was made
    without stays off.
    """
    folder = offline_assets()
    if folder is None:
        log.info("fastapi-offline is not installed: /docs loads Swagger UI from a CDN (blank when offline).")
        return False
    if any(getattr(route, "path", None) == assets_url for route in app.router.routes):
        return True  # done already (a second call changes nothing)
    from fastapi import Request
    from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html, get_swagger_ui_oauth2_redirect_html
    from fastapi.responses import HTMLResponse
    from fastapi.staticfiles import StaticFiles

    docs_url, redoc_url, redirect_url = app.docs_url, app.redoc_url, app.swagger_ui_oauth2_redirect_url
    replaced = {url for url in (docs_url, redoc_url, redirect_url) if url}
    app.router.routes[:] = [route for route in app.router.routes if getattr(route, "path", None) not in replaced]
    app.mount(assets_url, StaticFiles(directory=folder), name="docs-assets")

    def asset(request: Request, name: str) -> str:
        return f"{request.scope.get('root_path', '')}{assets_url}/{name}"

    if docs_url:

        @app.get(docs_url, include_in_schema=False)
        async def swagger_ui(request: Request) -> HTMLResponse:
            return get_swagger_ui_html(
                openapi_url=f"{request.scope.get('root_path', '')}{app.openapi_url}",
                title=f"{app.title} - Swagger UI",
                swagger_js_url=asset(request, SWAGGER_JS),
                swagger_css_url=asset(request, SWAGGER_CSS),
                swagger_favicon_url=asset(request, FAVICON),
                oauth2_redirect_url=redirect_url,
                init_oauth=app.swagger_ui_init_oauth,
                swagger_ui_parameters=app.swagger_ui_parameters,
            )

        if redirect_url:

            @app.get(redirect_url, include_in_schema=False)
            async def swagger_ui_redirect() -> HTMLResponse:
                return get_swagger_ui_oauth2_redirect_html()

    if redoc_url:

        @app.get(redoc_url, include_in_schema=False)
        async def redoc(request: Request) -> HTMLResponse:
            return get_redoc_html(
                openapi_url=f"{request.scope.get('root_path', '')}{app.openapi_url}",
                title=f"{app.title} - ReDoc",
                redoc_js_url=asset(request, REDOC_JS),
                redoc_favicon_url=asset(request, FAVICON),
                with_google_fonts=False,
            )

    return True
