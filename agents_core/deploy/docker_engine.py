"""The Docker engine, through the ``docker`` SDK: connect, build, run, list, logs, stop, remove.

Every deployment container carries the label :data:`LABEL` (its flow's
name), so ``deploy list`` shows ours and never a stranger's, and ``stop`` /
``rm`` refuse a container that is not a deployment. Each failure of the
engine becomes a :class:`DeployError` (or :class:`DockerUnavailable` when
there is no engine at all) with what to do next; the SDK's exceptions never
reach a face.

``docker`` is imported inside the functions: ``--help`` and ``validate`` stay fast.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from agents_core.errors import DeployError, DockerUnavailable

#: The label every deployment container and image carries; its value is the flow's name.
LABEL = "configurable-agents.workflow"

INSTALL_HINT = (
    "Install Docker (https://docs.docker.com/engine/install/, or `apt-get install docker.io`) and start it, "
    "or point DOCKER_HOST at a running engine. `deploy --generate` writes the build context without an engine."
)


def engine_address() -> str:
    """Where the SDK looks for the engine: ``DOCKER_HOST``, else the default socket."""
    return os.environ.get("DOCKER_HOST") or "unix:///var/run/docker.sock"


def connect(base_url: str | None = None, *, timeout: int = 120) -> Any:
    """A connected ``docker.DockerClient`` (``DOCKER_HOST`` honoured), or :class:`DockerUnavailable`."""
    try:
        import docker
        from docker.errors import DockerException
    except ImportError:  # pragma: no cover - docker is a pinned requirement
        raise DockerUnavailable("The docker Python package is not installed.", "pip install docker") from None
    where = base_url or engine_address()
    try:
        client = (
            docker.DockerClient(base_url=base_url, timeout=timeout) if base_url else docker.from_env(timeout=timeout)
        )
        client.ping()
    except (DockerException, OSError) as exc:
        reason = str(exc).splitlines()[0][:300] if str(exc) else type(exc).__name__
        raise DockerUnavailable(f"No Docker engine is reachable at {where} ({reason}).", INSTALL_HINT) from None
    return client


def _api_error(exc: Exception, doing: str) -> DeployError:
    explanation = getattr(exc, "explanation", None) or str(exc)
    return DeployError(
        f"Docker could not {doing}: {explanation}", "See the engine's message above; `docker info` helps."
    )


def build_image(
    client: Any,
    context_dir: Path,
    tag: str,
    *,
    offline: bool = False,
    labels: dict[str, str] | None = None,
    on_log: Callable[[str], None] | None = None,
) -> str:
    """Build ``context_dir`` as ``tag``, handing each line of the build log to ``on_log``; the image id.

    An offline build runs with the network off (``network_mode="none"``): it
    installs from its wheelhouse and must not reach anything.
    """
    from docker.errors import APIError, DockerException

    tail: list[str] = []
    image_id = ""
    try:
        stream = client.api.build(
            path=str(context_dir),
            tag=tag,
            rm=True,
            forcerm=True,
            decode=True,
            labels=labels,
            network_mode="none" if offline else None,
        )
        for chunk in stream:
            if "error" in chunk:
                detail = chunk.get("errorDetail", {}).get("message") or chunk["error"]
                lines = "\n".join(tail[-8:])
                raise DeployError(
                    f"The image build failed: {detail.strip()}\n{lines}".rstrip(),
                    "Read the build log above; fix the Dockerfile step it names and deploy again.",
                )
            text = chunk.get("stream") or chunk.get("status") or ""
            if "aux" in chunk and isinstance(chunk["aux"], dict):
                image_id = chunk["aux"].get("ID", image_id)
            for line in text.splitlines():
                if line.strip():
                    tail.append(line)
                    del tail[:-20]
                    if on_log:
                        on_log(line)
    except (APIError, DockerException) as exc:
        raise _api_error(exc, "build the image") from None
    return image_id or tag


@dataclass(frozen=True)
class ContainerInfo:
    """One deployment container as ``deploy list`` shows it."""

    name: str
    id: str
    status: str
    image: str
    workflow: str
    ports: str
    health: str

    def to_dict(self) -> dict[str, str]:
        return dict(self.__dict__)


def _info(container: Any) -> ContainerInfo:
    attrs = container.attrs or {}
    state = attrs.get("State", {})
    config = attrs.get("Config", {})
    ports = []
    for port, bindings in (attrs.get("NetworkSettings", {}).get("Ports") or {}).items():
        for binding in bindings or []:
            ports.append(f"{binding.get('HostIp') or '0.0.0.0'}:{binding.get('HostPort')}->{port}")
    if not ports and attrs.get("HostConfig", {}).get("NetworkMode") == "host":
        env = dict(item.split("=", 1) for item in config.get("Env") or [] if "=" in item)
        ports.append(f"host network, port {env.get('PORT', '?')}")
    return ContainerInfo(
        name=container.name,
        id=container.short_id,
        status=container.status,
        image=config.get("Image", ""),
        workflow=(config.get("Labels") or {}).get(LABEL, ""),
        ports=", ".join(ports),
        health=(state.get("Health") or {}).get("Status", ""),
    )


def list_deployments(client: Any) -> list[ContainerInfo]:
    """Every deployment container (running or not), newest first."""
    from docker.errors import DockerException

    try:
        containers = client.containers.list(all=True, filters={"label": LABEL})
    except DockerException as exc:
        raise _api_error(exc, "list containers") from None
    return [_info(c) for c in containers]


def get_deployment(client: Any, name: str) -> Any:
    """The deployment container called ``name``; a :class:`DeployError` when there is none (or not ours)."""
    from docker.errors import DockerException, NotFound

    try:
        container = client.containers.get(name)
    except NotFound:
        raise DeployError(
            f"No deployment container named {name!r}.", "`configurable-agents deploy list` shows them."
        ) from None
    except DockerException as exc:
        raise _api_error(exc, f"find the container {name!r}") from None
    if LABEL not in ((container.attrs or {}).get("Config", {}).get("Labels") or {}):
        raise DeployError(
            f"The container {name!r} was not made by `deploy`; it is left alone.",
            "Use `docker` itself for containers of your own.",
        )
    return container


def run_container(
    client: Any,
    image: str,
    name: str,
    *,
    port: int,
    mlflow_port: int | None,
    environment: dict[str, str],
    labels: dict[str, str],
    network: str | None = None,
) -> Any:
    """Start ``image`` detached as ``name`` with ``environment`` given now, at run time (never in the image).

    An earlier deployment container of the same name is replaced; a foreign
    container of that name is an error. With ``network="host"`` the server
    listens on ``port`` of the host directly, otherwise the port is published.
    """
    from docker.errors import DockerException, NotFound

    try:
        existing = client.containers.get(name)
    except NotFound:
        existing = None
    except DockerException as exc:
        raise _api_error(exc, "look up the container name") from None
    if existing is not None:
        if LABEL not in ((existing.attrs or {}).get("Config", {}).get("Labels") or {}):
            raise DeployError(
                f"A container named {name!r} exists and was not made by `deploy`.", "Pass another --name."
            )
        try:
            existing.remove(force=True)
        except DockerException as exc:
            raise _api_error(exc, f"replace the old container {name!r}") from None
    env = {**environment, "PORT": str(port)}
    options: dict[str, Any] = {"detach": True, "name": name, "environment": env, "labels": labels}
    if network == "host":
        options["network_mode"] = "host"
    else:
        published = {f"{port}/tcp": port}
        if mlflow_port:
            published[f"{mlflow_port}/tcp"] = mlflow_port
        options["ports"] = published
        if network:
            options["network"] = network
    if mlflow_port:
        env["MLFLOW_PORT"] = str(mlflow_port)
    try:
        return client.containers.run(image, **options)
    except DockerException as exc:
        raise _api_error(exc, f"start the container {name!r}") from None


def wait_until_healthy(container: Any, url: str, *, timeout: float = 120.0) -> None:
    """Poll ``url`` (the server's ``/health``) until it answers 200; a :class:`DeployError` with the logs if not."""
    import httpx

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        container.reload()
        if container.status in ("exited", "dead"):
            logs = container.logs(tail=30).decode("utf-8", "replace")
            raise DeployError(
                f"The container {container.name!r} stopped while starting. Its last log lines:\n{logs}".rstrip(),
                "Fix what the log names (a missing key in the env file?) and deploy again.",
            )
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise DeployError(
        f"The container {container.name!r} did not answer {url} within {timeout:.0f} s.",
        f"See `configurable-agents deploy logs {container.name}`.",
    )


def stream_logs(client: Any, name: str, *, tail: int | str = "all", follow: bool = False) -> Iterator[str]:
    """The log lines of a deployment container (and, with ``follow``, the lines to come)."""
    from docker.errors import DockerException

    container = get_deployment(client, name)
    try:
        if not follow:
            yield from container.logs(tail=tail).decode("utf-8", "replace").splitlines()
            return
        buffer = ""
        for chunk in container.logs(stream=True, follow=True, tail=tail):
            buffer += chunk.decode("utf-8", "replace")
            *lines, buffer = buffer.split("\n")
            yield from lines
        if buffer:
            yield buffer
    except DockerException as exc:
        raise _api_error(exc, f"read the logs of {name!r}") from None


def stop_deployment(client: Any, name: str, *, timeout: int = 10) -> ContainerInfo:
    """Stop a deployment container (it stays, with its data, until removed)."""
    from docker.errors import DockerException

    container = get_deployment(client, name)
    try:
        container.stop(timeout=timeout)
        container.reload()
    except DockerException as exc:
        raise _api_error(exc, f"stop {name!r}") from None
    return _info(container)


def remove_deployment(client: Any, name: str, *, force: bool = False) -> None:
    """Remove a deployment container; a running one only with ``force`` (else: stop it first)."""
    from docker.errors import DockerException

    container = get_deployment(client, name)
    if container.status == "running" and not force:
        raise DeployError(
            f"The container {name!r} is running.", f"Stop it first (`deploy stop {name}`) or pass --force."
        )
    try:
        container.remove(force=force)
    except DockerException as exc:
        raise _api_error(exc, f"remove {name!r}") from None
