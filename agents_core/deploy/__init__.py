"""Deployment: the HTTP server of a workflow (:mod:`.server`), its settings (:mod:`.settings`), its artifacts.

``create_app(workflow, service, settings)`` builds the FastAPI app;
``app_from_env()`` builds it from environment variables alone (what a
container's ``server.py`` calls); ``main()`` serves it with uvicorn. FastAPI
and uvicorn are imported only when one of these is called.

``generate_deployment_artifacts`` (:mod:`.artifacts`) writes a Docker build
context; ``deploy(workflow, DeployOptions(...))`` (:mod:`.deployment`) runs the
whole flow the CLI's ``deploy`` and the Deploy page run. They are imported on
first use of the name, so ``import agents_core.deploy`` stays light.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

from agents_core.deploy.settings import ServerSettings

if TYPE_CHECKING:
    from fastapi import FastAPI

    from agents_core.deploy.artifacts import DeploymentArtifacts, generate_deployment_artifacts
    from agents_core.deploy.deployment import DeployOptions, deploy
    from agents_core.runs.service import RunService

__all__ = [
    "DeployOptions",
    "DeploymentArtifacts",
    "ServerSettings",
    "app_from_env",
    "create_app",
    "deploy",
    "generate_deployment_artifacts",
    "main",
    "serve",
]

#: Public names imported on first use -> the module that defines them.
_LAZY = {
    "generate_deployment_artifacts": "agents_core.deploy.artifacts",
    "DeploymentArtifacts": "agents_core.deploy.artifacts",
    "deploy": "agents_core.deploy.deployment",
    "DeployOptions": "agents_core.deploy.deployment",
}


def __getattr__(name: str) -> Any:
    """Import ``generate_deployment_artifacts``, ``deploy`` and ``DeployOptions`` when first asked for."""
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


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
    from agents_core.deploy.ports import check_bindable
    from agents_core.errors import AgentsError, describe_exception, exit_code

    try:
        settings = _settings_from_env()
        check_bindable(settings.host, settings.port, port_name="PORT", host_name="HOST")
        serve(settings)
    except AgentsError as exc:
        sys.stderr.write(f"error: {describe_exception(exc)} {exc.hint}".rstrip() + "\n")
        raise SystemExit(exit_code(exc)) from None
