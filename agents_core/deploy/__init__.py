"""Deployment: the HTTP server of a workflow (:mod:`.server`), its settings (:mod:`.settings`).

``create_app(workflow, service, settings)`` builds the FastAPI app;
``app_from_env()`` builds it from environment variables alone (what a
container's ``server.py`` calls); ``main()`` serves it with uvicorn. FastAPI
and uvicorn are imported only when one of these is called.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

from agents_core.deploy.settings import ServerSettings

if TYPE_CHECKING:
    from fastapi import FastAPI

    from agents_core.runs.service import RunService

__all__ = ["ServerSettings", "app_from_env", "create_app", "main", "serve"]


def create_app(workflow: Any, service: RunService | None = None, settings: ServerSettings | None = None) -> FastAPI:
    """See :func:`agents_core.deploy.server.create_app`."""
    from agents_core.deploy.server import create_app as build

    return build(workflow, service, settings)


def _settings_from_env(**overrides: Any) -> ServerSettings:
    from agents_core.errors import InputError

    settings = ServerSettings.from_env(**overrides)
    if not settings.workflow:
        raise InputError(
            "no workflow to serve: WORKFLOW_FILE (or AGENTS_WORKFLOW) is not set.",
            "Set WORKFLOW_FILE to the workflow's path, e.g. WORKFLOW_FILE=/app/workflow.yaml.",
        )
    settings.check_exposure()
    return settings


def app_from_env(**overrides: Any) -> FastAPI:
    """The app for ``$WORKFLOW_FILE`` with every setting from the environment (``ServerSettings.from_env``)."""
    settings = _settings_from_env(**overrides)
    return create_app(settings.workflow, settings=settings)


def serve(settings: ServerSettings, *, log_level: str = "info") -> None:
    """Serve ``settings.workflow`` with uvicorn on ``settings.host``:``settings.port`` until stopped."""
    import uvicorn

    settings.check_exposure()
    app = create_app(settings.workflow, settings=settings)
    uvicorn.run(app, host=settings.host, port=settings.port, log_level=log_level, timeout_graceful_shutdown=5)


def main() -> None:
    """``python -m agents_core.deploy``: serve from environment variables; a bad setting is one line, exit 2."""
    from agents_core.errors import AgentsError, describe_exception, exit_code

    try:
        settings = _settings_from_env()
        serve(settings)
    except AgentsError as exc:
        sys.stderr.write(f"error: {describe_exception(exc)} {exc.hint}".rstrip() + "\n")
        raise SystemExit(exit_code(exc)) from None
