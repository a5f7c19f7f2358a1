"""``deploy``: the whole flow of SPEC §10, once, for the CLI and the Deploy page.

validate (fail fast) → check the env file → generate the build context →
stop here with ``generate_only`` (no engine needed) → connect to the engine
(an install hint when none) → build, streaming the log → run detached, the
environment given at run time → wait for ``/health`` → a :class:`Deployment`
that knows its endpoints, curl examples and the commands to see the logs,
stop and remove it.

Secure by default: when the env file holds no ``AGENTS_API_KEY`` (and does
not set ``AGENTS_NO_AUTH``), a key is made up here, passed to the container
and reported once, so a container reachable from the network never serves
without one.
"""

from __future__ import annotations

import json
import os
import secrets
import shlex
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from agents_core.deploy.artifacts import (
    DEFAULT_BASE_IMAGE,
    DEFAULT_MLFLOW_PORT,
    DEFAULT_PORT,
    DEFAULT_TIMEOUT,
    DeploymentArtifacts,
    generate_deployment_artifacts,
)
from agents_core.deploy.envfile import parse_env_text, read_env_file
from agents_core.errors import EnvFileError

Step = Callable[[str], None]


@dataclass
class DeployOptions:
    """Every choice of a deployment (the CLI's options; the Deploy page's widgets)."""

    port: int = DEFAULT_PORT
    mlflow_port: int = DEFAULT_MLFLOW_PORT
    output: Path | None = None
    name: str | None = None
    timeout: int = DEFAULT_TIMEOUT
    enable_mlflow: bool = True
    generate_only: bool = False
    base_image: str = DEFAULT_BASE_IMAGE
    offline: bool = False
    #: ``None``: the network's default (ports published); ``"host"``: the host's network.
    network: str | None = None
    #: Seconds to wait for ``/health`` after the start.
    health_timeout: float = 180.0
    #: Celery worker services in the generated ``docker-compose.yml`` (with PostgreSQL and Redis); 0: none.
    #: A scaled deployment is a compose project: it is generated, and ``docker compose up`` starts it.
    scale: int = 0


@dataclass
class EnvChoice:
    """The environment a container gets, and where it came from (a file, pasted text, nothing)."""

    values: dict[str, str] = field(default_factory=dict)
    source: str = "none"


def choose_env(
    env_file: str | os.PathLike[str] | None, *, no_env_file: bool = False, cwd: Path | None = None
) -> EnvChoice:
    """The env file to pass: ``env_file``, else ``.env`` in the working directory when present, else none."""
    if no_env_file:
        if env_file is not None:
            raise EnvFileError("--env-file and --no-env-file contradict each other.", "Pass only one of them.")
        return EnvChoice()
    if env_file is not None:
        return EnvChoice(read_env_file(env_file), str(env_file))
    default = (cwd or Path.cwd()) / ".env"
    if default.is_file():
        return EnvChoice(read_env_file(default), str(default))
    return EnvChoice()


def env_from_text(text: str, source: str = "pasted variables") -> EnvChoice:
    """An :class:`EnvChoice` from the text of an env file (the Deploy page's paste or upload)."""
    return EnvChoice(parse_env_text(text, source=source), source)


def _truthy(value: str | None) -> bool:
    return (value or "").strip().lower() in ("1", "true", "yes", "on")


@dataclass
class Deployment:
    """A running deployment: where it answers and how to operate it."""

    artifacts: DeploymentArtifacts
    name: str
    image: str
    container_id: str
    port: int
    mlflow_port: int | None
    env_source: str
    #: The key made up for this container (None when the env file brought one, or auth is off).
    generated_api_key: str | None = None
    auth: bool = True

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def endpoints(self) -> dict[str, str]:
        urls = {
            "api": self.base_url,
            "health": f"{self.base_url}/health",
            "schema": f"{self.base_url}/schema",
            "run": f"{self.base_url}/run",
            "docs": f"{self.base_url}/docs",
        }
        if self.mlflow_port:
            urls["mlflow"] = f"http://127.0.0.1:{self.mlflow_port}"
        return urls

    def curl_examples(self) -> list[str]:
        key = self.generated_api_key or "$AGENTS_API_KEY"
        auth = f' -H "Authorization: Bearer {key}"' if self.auth else ""
        body = shlex.quote(json.dumps(self.artifacts.example_body))
        return [
            f"curl {self.base_url}/health",
            f"curl{auth} {self.base_url}/schema",
            f'curl -X POST {self.base_url}/run{auth} -H "Content-Type: application/json" -d {body}',
            f"curl{auth} {self.base_url}/status/JOB_ID",
        ]

    def commands(self) -> dict[str, str]:
        return {
            "logs": f"configurable-agents deploy logs {self.name} --follow",
            "stop": f"configurable-agents deploy stop {self.name}",
            "remove": f"configurable-agents deploy rm {self.name}",
        }

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "image": self.image,
            "container_id": self.container_id,
            "port": self.port,
            "mlflow_port": self.mlflow_port,
            "output_dir": str(self.artifacts.output_dir),
            "env_source": self.env_source,
            "api_key": self.generated_api_key,
            "endpoints": self.endpoints(),
            "curl": self.curl_examples(),
            "commands": self.commands(),
        }


def default_output(workflow: str | os.PathLike[str]) -> Path:
    """``deploy/<file stem>`` in the working directory."""
    return Path.cwd() / "deploy" / Path(workflow).stem


def deploy(
    workflow: str | os.PathLike[str],
    options: DeployOptions,
    env: EnvChoice | None = None,
    *,
    on_step: Step | None = None,
    on_log: Step | None = None,
    client: Any = None,
) -> Deployment | DeploymentArtifacts:
    """Run the deploy flow; the artifacts alone with ``options.generate_only``, else the running deployment.

    ``on_step`` hears one line per stage, ``on_log`` every line of the build
    log. Errors are :class:`AgentsError` kinds (``ValidationFailed``,
    ``EnvFileError``, ``DockerUnavailable``, ``DeployError``).
    """
    from agents_core.deploy import docker_engine
    from agents_core.workflow import load_workflow

    say = on_step or (lambda _line: None)
    say(f"Validating {workflow}")
    load_workflow(workflow)
    env = env or EnvChoice()
    output = Path(options.output) if options.output else default_output(workflow)
    say(f"Generating the build context in {output}")
    artifacts = generate_deployment_artifacts(
        workflow,
        output,
        options.timeout,
        options.enable_mlflow,
        options.mlflow_port,
        port=options.port,
        name=options.name,
        base_image=options.base_image,
        offline=options.offline,
        on_progress=say,
        scale=options.scale,
    )
    if options.generate_only or options.scale:
        return artifacts

    say(f"Connecting to the Docker engine at {docker_engine.engine_address()}")
    engine = client or docker_engine.connect()
    labels = {docker_engine.LABEL: artifacts.flow_name}
    say(f"Building the image {artifacts.image}" + (" (offline, network off)" if options.offline else ""))
    docker_engine.build_image(
        engine, artifacts.output_dir, artifacts.image, offline=options.offline, labels=labels, on_log=on_log
    )

    environment = dict(env.values)
    generated: str | None = None
    auth = not _truthy(environment.get("AGENTS_NO_AUTH"))
    if auth and not environment.get("AGENTS_API_KEY"):
        generated = secrets.token_urlsafe(24)
        environment["AGENTS_API_KEY"] = generated
    say(f"Starting the container {artifacts.name}")
    container = docker_engine.run_container(
        engine,
        artifacts.image,
        artifacts.name,
        port=options.port,
        mlflow_port=options.mlflow_port if artifacts.enable_mlflow else None,
        environment=environment,
        labels=labels,
        network=options.network,
    )
    deployment = Deployment(
        artifacts=artifacts,
        name=artifacts.name,
        image=artifacts.image,
        container_id=container.short_id,
        port=options.port,
        mlflow_port=options.mlflow_port if artifacts.enable_mlflow else None,
        env_source=env.source,
        generated_api_key=generated,
        auth=auth,
    )
    say(f"Waiting for {deployment.endpoints()['health']}")
    docker_engine.wait_until_healthy(container, deployment.endpoints()["health"], timeout=options.health_timeout)
    return deployment
