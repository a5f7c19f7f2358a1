"""What tracking a run gets: the workflow's ``config.observability.mlflow`` resolved against the workspace.

The tracking URI is, in order: the one the face passed (a server's
``MLFLOW_TRACKING_URI``), the workflow's ``tracking_uri``, the process's
``MLFLOW_TRACKING_URI``, else ``sqlite:///<workspace>/mlflow.db``. A relative
``sqlite:///file.db`` or ``file:dir`` is taken relative to the workspace, so a
run started from anywhere lands in the workspace's store. Artifacts of a
SQLite store go beside the database (``<dir>/mlartifacts``), those of a
PostgreSQL store in ``<workspace>/mlartifacts``; without an explicit
``artifact_location`` MLflow would put them in ``./mlruns`` of whatever the
current directory is.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlparse

DEFAULT_DB = "mlflow.db"
#: The tag on the MLflow run of each workflow run (here, not in ``mirror``, so faces read it without the engine's events).
TAG_RUN_ID = "configurable_agents.run_id"
ARTIFACT_DIR = "mlartifacts"
DEFAULT_EXPERIMENT = "configurable_agents"


@dataclass(frozen=True)
class TrackingSettings:
    """The resolved tracking options of one run (see docs/OBSERVABILITY.md for each)."""

    tracking_uri: str
    experiment_name: str = DEFAULT_EXPERIMENT
    artifact_location: str | None = None
    run_name: str | None = None
    log_artifacts: bool = True
    log_prompts: bool = True
    redact_pii: bool = False
    async_logging: bool = True
    artifact_level: Literal["minimal", "standard", "full"] = "standard"
    retention_days: int | None = None

    @property
    def remote(self) -> bool:
        return self.tracking_uri.startswith(("http://", "https://"))

    @property
    def prompts_logged(self) -> bool:
        """Prompts and responses leave the process only at ``full`` and with ``log_prompts``."""
        return self.log_prompts and self.artifact_level == "full"

    @property
    def detailed(self) -> bool:
        """Per-node records and the trace: ``standard`` and ``full``."""
        return self.artifact_level in ("standard", "full")


def mlflow_config(workflow: Any) -> Any | None:
    """The workflow's ``config.observability.mlflow`` section, or ``None``."""
    config = getattr(workflow, "config", None)
    observability = getattr(config, "observability", None) if config else None
    return getattr(observability, "mlflow", None) if observability else None


def tracking_enabled_in(workflow: Any) -> bool:
    """Whether the workflow file turns tracking on (the default of the workbench's toggle)."""
    section = mlflow_config(workflow)
    return bool(section and section.enabled)


def resolve_uri(uri: str | None, workspace: Path) -> str:
    """An absolute tracking URI: relative SQLite files and file: stores are placed in the workspace."""
    if not uri:
        return f"sqlite:///{(workspace / DEFAULT_DB).resolve()}"
    if uri.startswith("sqlite:///"):
        path = uri[len("sqlite:///") :]
        if path and not path.startswith("/") and path != ":memory:":
            return f"sqlite:///{(workspace / path).resolve()}"
        return uri
    if uri.startswith("file:"):
        parsed = urlparse(uri)
        path = parsed.path if parsed.netloc in ("", "localhost") else ""
        if uri.startswith("file:") and not uri.startswith("file:/"):
            path = uri[len("file:") :]
        if path and not path.startswith("/"):
            return (workspace / path).resolve().as_uri()
        return uri
    if "://" not in uri:  # a bare path is a file store
        return (workspace / uri).resolve().as_uri()
    return uri


#: Database back ends MLflow tracks into directly (their artifacts need a folder of ours, as SQLite's do).
_SERVER_DATABASES = ("postgresql", "mysql", "mssql")


def artifact_location_for(
    uri: str, experiment_name: str, workspace: str | os.PathLike[str] | None = None
) -> str | None:
    """Where a new experiment keeps artifacts: beside a SQLite database, in the workspace for a database server.

    With a PostgreSQL (MySQL, MSSQL) store and a ``workspace``, artifacts go to
    ``<workspace>/mlartifacts`` (a scaled deployment mounts one volume there
    in the API and every worker, so the UI sees every worker's artifacts);
    an ``http(s)`` tracking server makes its own choice.
    """
    safe = re.sub(r"[^A-Za-z0-9_.-]", "_", experiment_name) or "experiment"
    if uri.startswith("sqlite:///"):
        db = Path(uri[len("sqlite:///") :])
        return (db.parent / ARTIFACT_DIR / safe).as_uri()
    scheme = uri.split("://", 1)[0].split("+", 1)[0].lower() if "://" in uri else ""
    if scheme in _SERVER_DATABASES and workspace is not None:
        return (Path(workspace).resolve() / ARTIFACT_DIR / safe).as_uri()
    return None


def resolve_settings(
    workflow: Any,
    workspace: str | os.PathLike[str],
    *,
    tracking_uri: str | None = None,
) -> TrackingSettings:
    """The run's tracking options from its workflow, the face's URI and the environment."""
    section = mlflow_config(workflow)
    root = Path(workspace)
    uri = tracking_uri or (section.tracking_uri if section else None) or os.environ.get("MLFLOW_TRACKING_URI")
    uri = resolve_uri(uri, root)
    settings = TrackingSettings(tracking_uri=uri)
    if section is not None:
        settings = replace(
            settings,
            experiment_name=section.experiment_name or DEFAULT_EXPERIMENT,
            run_name=section.run_name,
            log_artifacts=section.log_artifacts,
            log_prompts=section.log_prompts,
            redact_pii=section.redact_pii,
            async_logging=section.async_logging,
            artifact_level=section.artifact_level,
            retention_days=section.retention_days,
        )
    return replace(settings, artifact_location=artifact_location_for(uri, settings.experiment_name, root))


def render_run_name(
    template: str | None, flow_name: str, state: dict[str, Any], started: datetime | None = None
) -> str:
    """``run_name`` with ``{flow.name}``, ``{timestamp}`` and ``{state.field}`` filled (unknown ones left as written)."""
    if not template:
        return flow_name
    stamp = (started or datetime.now(UTC)).strftime("%Y%m%d-%H%M%S")

    def fill(match: re.Match[str]) -> str:
        name = match.group(1).strip()
        if name == "flow.name":
            return flow_name
        if name == "timestamp":
            return stamp
        if name.startswith("state."):
            value: Any = state
            for part in name[len("state.") :].split("."):
                if not isinstance(value, dict) or part not in value:
                    return match.group(0)
                value = value[part]
            return str(value)[:100]
        return match.group(0)

    return re.sub(r"\{([^{}]+)\}", fill, template)[:250]
