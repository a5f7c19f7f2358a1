"""How a server is configured: one pydantic model, filled from arguments or from environment variables.

A container's ``server.py`` has nothing but its environment, so every setting
has a variable (:meth:`ServerSettings.from_env`); ``configurable-agents serve``
fills the same model from its options. The defaults are safe: bound to
loopback, no key needed there, and a key (or an explicit ``--no-auth``)
required anywhere else.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from agents_core.errors import InputError

LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")

#: Setting name -> the environment variables that set it (the first one set wins).
ENV_NAMES: dict[str, tuple[str, ...]] = {
    "workflow": ("WORKFLOW_FILE", "AGENTS_WORKFLOW"),
    "api_key": ("AGENTS_API_KEY",),
    "host": ("HOST", "AGENTS_HOST"),
    "port": ("PORT", "AGENTS_PORT"),
    "sync_timeout": ("SYNC_TIMEOUT",),
    "max_concurrent": ("MAX_CONCURRENT",),
    "max_queue": ("MAX_QUEUE",),
    "max_body_bytes": ("MAX_BODY_BYTES",),
    "max_attempts": ("MAX_ATTEMPTS",),
    "no_auth": ("AGENTS_NO_AUTH",),
    "mlflow_tracking_uri": ("MLFLOW_TRACKING_URI",),
    "run_store": ("AGENTS_RUN_STORE",),
    "executor": ("AGENTS_EXECUTOR",),
    "broker_url": ("CELERY_BROKER_URL",),
}


class ServerSettings(BaseModel):
    """Everything the server needs besides the workflow's own file."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    workflow: str | None = Field(None, description="Path of the workflow file (WORKFLOW_FILE).")
    api_key: str | None = Field(None, description="Required key for every endpoint but /health (AGENTS_API_KEY).")
    host: str = Field("127.0.0.1", description="Address uvicorn binds.")
    port: int = Field(8000, ge=0, le=65535)
    sync_timeout: float = Field(30.0, ge=0, description="Seconds POST /run waits before answering 202.")
    max_concurrent: int = Field(4, ge=1, description="Runs executing at once.")
    max_queue: int = Field(
        64,
        ge=0,
        description="Accepted runs waiting for a slot (with Celery: in the shared store, for a worker); "
        "beyond it POST /run gets 429.",
    )
    max_body_bytes: int = Field(1_048_576, ge=1, description="Largest request body (413 above it).")
    max_attempts: int = Field(3, ge=1, description="Executions of one job across restarts before it is failed.")
    retry_after: int = Field(2, ge=1, description="Seconds a 429 asks the client to wait.")
    no_auth: bool = Field(False, description="Allow serving beyond loopback without a key.")
    mlflow_tracking_uri: str | None = None
    run_store: str | None = Field(
        None,
        description="Run store path or URL (AGENTS_RUN_STORE); else DATABASE_URL, else the workspace's file.",
    )
    executor: Literal["inprocess", "celery"] = Field(
        "inprocess",
        description="Where runs execute (AGENTS_EXECUTOR): in this process, or on Celery workers (then POST /run "
        "queues the run; workers started with `configurable-agents worker` execute it).",
    )
    broker_url: str | None = Field(None, description="Celery broker with executor=celery (CELERY_BROKER_URL).")

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> ServerSettings:
        """Settings from environment variables (see :data:`ENV_NAMES`), then ``overrides``.

        A value that does not parse is an ``InputError`` naming the variable.
        """
        environ = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        source: dict[str, str] = {}
        for name, variables in ENV_NAMES.items():
            for variable in variables:
                if environ.get(variable):
                    values[name] = environ[variable]
                    source[name] = variable
                    break
        if "executor" in values:
            values["executor"] = str(values["executor"]).strip().lower()
        if "no_auth" in values:
            values["no_auth"] = str(values["no_auth"]).strip().lower() in ("1", "true", "yes", "on")
        values.update({k: v for k, v in overrides.items() if v is not None})
        try:
            return cls(**values)
        except ValidationError as exc:
            error = exc.errors()[0]
            name = str(error["loc"][0]) if error["loc"] else "?"
            where = source.get(name, name)
            raise InputError(
                f"server setting {where}={values.get(name)!r} is invalid: {error['msg']}.",
                f"Fix {where} and start the server again.",
            ) from None

    @property
    def loopback(self) -> bool:
        return self.host in LOOPBACK_HOSTS

    def check_exposure(self) -> None:
        """Refuse to serve beyond loopback without a key, unless ``no_auth`` says so explicitly."""
        if not self.loopback and not self.api_key and not self.no_auth:
            raise InputError(
                f"refusing to serve on {self.host} without an API key: anyone who can reach it could run "
                "the workflow (and spend on its models).",
                "Set AGENTS_API_KEY, bind 127.0.0.1, or pass --no-auth (AGENTS_NO_AUTH=1) if that is what you mean.",
            )
