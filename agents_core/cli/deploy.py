"""``configurable-agents deploy``: package a workflow as a Docker container, and operate its containers.

``deploy WORKFLOW [options]`` (the same as ``deploy up WORKFLOW``) runs the
flow of :func:`agents_core.deploy.deployment.deploy`; ``deploy list|logs|stop|rm``
look after the containers it made. Everything Docker is imported on use, so
``--help`` stays fast; errors exit through the one table (``errors.exit_code``).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from agents_core.cli.app import PlainHelpGroup, app

SUBCOMMANDS = ("up", "list", "logs", "stop", "rm")
#: The most workers ``--scale`` takes (agents_core.deploy.artifacts.MAX_SCALE; not imported, to keep --help light).
MAX_SCALE = 64


class DeployGroup(PlainHelpGroup):
    """``deploy [OPTIONS] WORKFLOW ...`` means ``deploy up ...``; ``deploy list`` and friends stay commands.

    Options may come before the file (``deploy --generate flow.yaml``), so
    anything but a subcommand name or the group's own help option first is handed to ``up``.
    """

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and args[0] not in ctx.help_option_names:
            args = ["up", *args]
        return super().parse_args(ctx, args)


deploy_app = typer.Typer(
    cls=DeployGroup,
    help=(
        "Package a workflow as a Docker container and run it: `deploy WORKFLOW [OPTIONS]` "
        "(validate, generate, build, run). `deploy list|logs|stop|rm` operate the containers it made."
    ),
    no_args_is_help=True,
)
app.add_typer(deploy_app, name="deploy")

JSON_OPTION = typer.Option("--json", help="Print JSON on stdout (errors too).")


def _fail(exc: BaseException, as_json: bool) -> None:
    from agents_core.cli.runs import exit_with_error

    exit_with_error(exc, as_json=as_json)


def _err(line: str, style: str = "") -> None:
    from agents_core.cli.output import wants_colour
    from agents_core.cli.terminal import neutralise

    text = neutralise(line)
    if style and wants_colour(sys.stderr):
        from rich.console import Console

        Console(stderr=True, highlight=False, soft_wrap=True).print(text, style=style, markup=False)
    else:
        sys.stderr.write(text + "\n")


@deploy_app.command("up")
def up(
    workflow: Annotated[Path, typer.Argument(help="The workflow file to deploy.", show_default=False)],
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port of the API.")] = 8000,
    mlflow_port: Annotated[int, typer.Option(min=1, max=65535, help="Port of the MLflow UI.")] = 5000,
    output: Annotated[
        Path | None, typer.Option(help="Folder of the build context (default: deploy/<workflow name>).")
    ] = None,
    name: Annotated[str | None, typer.Option(help="Container name (default: the flow's name).")] = None,
    timeout: Annotated[
        int, typer.Option(min=0, help="Seconds POST /run waits before answering 202 with a job id.")
    ] = 30,
    generate: Annotated[
        bool, typer.Option("--generate", help="Only write the build context; needs no Docker.")
    ] = False,
    no_mlflow: Annotated[bool, typer.Option("--no-mlflow", help="No MLflow tracking or UI in the container.")] = False,
    env_file: Annotated[
        Path | None, typer.Option(help="KEY=value file passed to the container at run time (default: ./.env).")
    ] = None,
    no_env_file: Annotated[bool, typer.Option("--no-env-file", help="Pass no env file, not even ./.env.")] = False,
    base_image: Annotated[str, typer.Option(help="Base image of both build stages.")] = "python:3.11-slim",
    offline: Annotated[
        bool,
        typer.Option("--offline", help="Build a wheelhouse here; the image installs with --no-index, network off."),
    ] = False,
    network: Annotated[
        str | None, typer.Option(help="Docker network of the container ('host': the host's network).")
    ] = None,
    scale: Annotated[
        int,
        typer.Option(
            "--scale",
            min=0,
            max=MAX_SCALE,
            metavar="N",
            help="Generate a docker-compose.yml with PostgreSQL, Redis, the API and N Celery workers "
            "(start it with `docker compose up -d --build`).",
        ),
    ] = 0,
    as_json: Annotated[bool, JSON_OPTION] = False,
) -> None:
    """Validate, generate the build context, build the image and run it detached."""
    from agents_core.deploy.deployment import DeployOptions, choose_env, deploy

    options = DeployOptions(
        port=port,
        mlflow_port=mlflow_port,
        output=output,
        name=name,
        timeout=timeout,
        enable_mlflow=not no_mlflow,
        generate_only=generate,
        base_image=base_image,
        offline=offline,
        network=network,
        scale=scale,
    )
    try:
        env = choose_env(env_file, no_env_file=no_env_file)
        result = deploy(
            workflow,
            options,
            env,
            on_step=lambda line: _err(f"==> {line}", "bold"),
            on_log=lambda line: _err(f"    {line}", "dim"),
        )
    except Exception as exc:
        _fail(exc, as_json)
        return
    from agents_core.deploy.artifacts import DeploymentArtifacts

    if isinstance(result, DeploymentArtifacts):
        _print_artifacts(result, as_json)
    else:
        _print_deployment(result, as_json)


def _print_artifacts(artifacts: Any, as_json: bool) -> None:
    if as_json:
        body = {
            "ok": True,
            "output_dir": str(artifacts.output_dir),
            "files": sorted(artifacts.files),
            "image": artifacts.image,
            "name": artifacts.name,
            "requirements": artifacts.requirements,
            "scale": artifacts.scale,
        }
        sys.stdout.write(json.dumps(body) + "\n")
        return
    out = artifacts.output_dir
    lines = [f"Build context of {artifacts.flow_name} written to {out}:"]
    lines += [f"  {name}" for name in sorted(artifacts.files)]
    if artifacts.scale:
        lines += [
            f"docker-compose.yml runs PostgreSQL, Redis, the API and {artifacts.scale} worker(s). Start it:",
            f"  cd {out} && cp .env.example .env   # fill in the keys",
            "  docker compose up -d --build",
            f"  curl http://127.0.0.1:{artifacts.port}/health",
        ]
        sys.stdout.write("\n".join(lines) + "\n")
        return
    lines += [
        "Build and run it yourself:",
        f"  cd {out} && cp .env.example .env   # fill in the keys (docker-compose.yml reads .env too)",
        f"  docker build -t {artifacts.image} {out}",
        f"  docker run -d --name {artifacts.name} --env-file .env -p {artifacts.port}:{artifacts.port} {artifacts.image}",
    ]
    sys.stdout.write("\n".join(lines) + "\n")


def _print_deployment(deployment: Any, as_json: bool) -> None:
    if as_json:
        sys.stdout.write(json.dumps({"ok": True, **deployment.to_dict()}) + "\n")
        return
    lines = [f"✓ {deployment.artifacts.flow_name} is running as container {deployment.name} ({deployment.image})"]
    lines.append("Endpoints:")
    lines += [f"  {label:<8} {url}" for label, url in deployment.endpoints().items()]
    if deployment.generated_api_key:
        lines.append(f"API key (made up for this container, as the env file had none): {deployment.generated_api_key}")
    lines.append("Try:")
    lines += [f"  {example}" for example in deployment.curl_examples()]
    lines += [f"{label.capitalize() + ':':<8} {command}" for label, command in deployment.commands().items()]
    sys.stdout.write("\n".join(lines) + "\n")


def _client() -> Any:
    from agents_core.deploy.docker_engine import connect

    return connect()


@deploy_app.command("list")
def list_containers(as_json: Annotated[bool, JSON_OPTION] = False) -> None:
    """List the containers `deploy` made (running or stopped)."""
    from agents_core.deploy.docker_engine import list_deployments

    try:
        containers = list_deployments(_client())
    except Exception as exc:
        _fail(exc, as_json)
        return
    if as_json:
        sys.stdout.write(json.dumps([c.to_dict() for c in containers]) + "\n")
        return
    if not containers:
        sys.stdout.write("No deployments. Make one with `configurable-agents deploy WORKFLOW`.\n")
        return
    rows = [("NAME", "WORKFLOW", "STATUS", "PORTS", "IMAGE")]
    rows += [
        (c.name, c.workflow, c.status + (f" ({c.health})" if c.health else ""), c.ports, c.image) for c in containers
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    for row in rows:
        sys.stdout.write("  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row[:4])) + "  " + row[4] + "\n")


@deploy_app.command("logs")
def logs(
    name: Annotated[str, typer.Argument(help="Container name.", show_default=False)],
    follow: Annotated[bool, typer.Option("--follow", "-f", help="Keep printing new lines.")] = False,
    tail: Annotated[int | None, typer.Option(help="Only the last N lines.")] = None,
) -> None:
    """Print the logs of a deployment container."""
    from agents_core.cli.terminal import neutralise
    from agents_core.deploy.docker_engine import stream_logs

    try:
        for line in stream_logs(_client(), name, tail="all" if tail is None else tail, follow=follow):
            sys.stdout.write(neutralise(line) + "\n")
            sys.stdout.flush()
    except KeyboardInterrupt:
        return
    except Exception as exc:
        _fail(exc, False)


@deploy_app.command("stop")
def stop(
    name: Annotated[str, typer.Argument(help="Container name.", show_default=False)],
    as_json: Annotated[bool, JSON_OPTION] = False,
) -> None:
    """Stop a deployment container (remove it with `deploy rm`)."""
    from agents_core.deploy.docker_engine import stop_deployment

    try:
        info = stop_deployment(_client(), name)
    except Exception as exc:
        _fail(exc, as_json)
        return
    if as_json:
        sys.stdout.write(json.dumps({"ok": True, **info.to_dict()}) + "\n")
    else:
        sys.stdout.write(f"Stopped {name} ({info.status}). Remove it with: configurable-agents deploy rm {name}\n")


@deploy_app.command("rm")
def rm(
    name: Annotated[str, typer.Argument(help="Container name.", show_default=False)],
    force: Annotated[bool, typer.Option("--force", help="Remove it even while it runs.")] = False,
    as_json: Annotated[bool, JSON_OPTION] = False,
) -> None:
    """Remove a deployment container."""
    from agents_core.deploy.docker_engine import remove_deployment

    try:
        remove_deployment(_client(), name, force=force)
    except Exception as exc:
        _fail(exc, as_json)
        return
    if as_json:
        sys.stdout.write(json.dumps({"ok": True, "name": name}) + "\n")
    else:
        sys.stdout.write(f"Removed {name}.\n")
