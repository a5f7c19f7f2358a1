"""The Docker build context of a workflow, rendered from ``templates/`` with Jinja2.

``generate_deployment_artifacts`` is the one place that knows what goes into a
deployment: a two-stage ``Dockerfile``, a thin ``server.py`` over
``agents_core.deploy``, ``start.sh``, a ``requirements.txt`` holding only what
this workflow needs at run time (its providers' libraries, MLflow only when
tracking is on; never the workbench), the workflow file, a copy of
``agents_core``, ``docker-compose.yml``, ``.env.example``, ``README.md`` and a
``.dockerignore`` that keeps ``.env`` out of the image.

Offline mode (air-gapped builds, and the tests here) adds ``wheelhouse/``:
every wheel the requirements need, made on the host with ``pip wheel``
(llama-cpp-python comes from pip's wheel cache once it was compiled), so the
image installs with ``pip install --no-index`` and never asks an index.

The CLI's ``deploy`` and the Deploy page both call this function; neither
renders a template itself.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from agents_core.errors import DeployError, DeployOptionError

DEFAULT_BASE_IMAGE = "python:3.11-slim"
DEFAULT_PORT = 8000
DEFAULT_MLFLOW_PORT = 5000
DEFAULT_TIMEOUT = 30

#: The most worker services ``scale`` writes into one compose file.
MAX_SCALE = 64

#: A file in every generated folder, so a later generation knows the folder is its own to rewrite.
MARKER = ".configurable-agents-deployment"

#: The name the workflow file has in the build context and the image (any file name the user chose,
#: spaces and quotes included, would otherwise have to survive Dockerfile and shell quoting).
WORKFLOW_STEM = "workflow"

#: Distributions every deployed server needs, whatever its workflow (the engine, the run store, the API).
BASE_REQUIREMENTS: tuple[str, ...] = (
    "pydantic",
    "pyyaml",
    "typer",
    "rich",
    "tenacity",
    "httpx",
    "langchain-core",
    "langgraph",
    "langgraph-checkpoint-sqlite",
    "sqlalchemy",
    "genai-prices",
    "fastapi",
    "uvicorn",
    "sse-starlette",
    "python-multipart",
    "fastapi-offline",
)
#: Added with ``scale`` (workers): Celery on Redis, PostgreSQL for runs, events and checkpoints.
SCALE_REQUIREMENTS: tuple[str, ...] = ("celery", "redis", "psycopg", "psycopg-binary", "langgraph-checkpoint-postgres")
#: Added when the MLflow tracking (and its UI in the container) is on.
MLFLOW_REQUIREMENTS: tuple[str, ...] = ("mlflow",)
#: Distributions whose native code needs the OpenMP runtime (libgomp) in the image.
OPENMP_DISTRIBUTIONS = frozenset({"llama-cpp-python"})

#: Env variables that never belong in ``.env.example`` as a key to fill in (the container sets them).
_SET_BY_IMAGE = frozenset({"AGENTS_API_KEY"})


def templates_dir() -> Path:
    """The ``templates/`` folder next to the ``agents_core`` package (the repository's root)."""
    import agents_core

    folder = Path(agents_core.__file__).resolve().parent.parent / "templates"
    if not (folder / "Dockerfile.j2").is_file():
        raise DeployError(
            f"The deployment templates are missing (looked in {folder}).",
            "Run from a checkout of configurable-agents (pip install -e .), which has templates/.",
        )
    return folder


def _canonical(name: str) -> str:
    return name.lower().replace("_", "-").replace(".", "-")


def _installed_version(distribution: str) -> str | None:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(distribution)
    except PackageNotFoundError:
        return _pinned_version(distribution)


def _pinned_version(distribution: str) -> str | None:
    """The version the repository's ``requirements.txt`` pins (for one not installed here), else ``None``."""
    import agents_core

    pins = Path(agents_core.__file__).resolve().parent.parent / "requirements.txt"
    try:
        lines = pins.read_text(encoding="utf-8").splitlines()
    except OSError:
        return None
    for line in lines:
        name, _, pinned = line.split("#", 1)[0].strip().partition("==")
        if pinned and _canonical(name.split("[", 1)[0]) == _canonical(distribution):
            return pinned.strip()
    return None


def _distributions_of_modules(modules: tuple[str, ...]) -> list[str]:
    """The installed distributions that provide these top-level modules (a module no one provides is skipped)."""
    from importlib.metadata import packages_distributions

    providers = packages_distributions()
    found: list[str] = []
    for module in modules:
        for distribution in providers.get(module.split(".")[0], []):
            if _canonical(distribution) not in {_canonical(d) for d in found}:
                found.append(distribution)
    return found


def workflow_providers(workflow: Any) -> list[str]:
    """Every provider a node of the workflow calls (``config.llm`` merged with each node's ``llm``)."""
    from agents_core.llm.settings import resolve_llm

    base = workflow.config.llm if workflow.config else None
    names = {resolve_llm(base, node.llm).provider for node in workflow.nodes}
    return sorted(names)


def workflow_key_variables(workflow: Any) -> list[str]:
    """Env variables holding keys the workflow's providers and tools need (for ``.env.example``)."""
    from agents_core.llm.registry import get_provider

    variables: list[str] = []
    for name in workflow_providers(workflow):
        info = get_provider(name)
        if info and info.api_key_env and info.api_key_env not in variables:
            variables.append(info.api_key_env)
    for node in workflow.nodes:
        for tool in node.tools or []:
            variable = "SERPER_API_KEY" if tool == "serper_search" else None
            if variable and variable not in variables:
                variables.append(variable)
    return [v for v in variables if v not in _SET_BY_IMAGE]


def runtime_requirements(workflow: Any, *, enable_mlflow: bool, scale: int = 0) -> list[str]:
    """Pinned requirement lines (``name==version``) of what this workflow needs at run time.

    Versions are those installed here, so the image runs what was tested on
    the host; a distribution not installed here gets the repository's
    ``requirements.txt`` pin, else is left unpinned.
    Provider libraries come from the provider registry's ``requires_modules``,
    so a provider plugin brings its own.
    """
    from agents_core.llm.registry import get_provider

    names: list[str] = list(BASE_REQUIREMENTS)
    for provider in workflow_providers(workflow):
        info = get_provider(provider)
        if info is not None:
            names.extend(_distributions_of_modules(info.requires_modules))
    if enable_mlflow:
        names.extend(MLFLOW_REQUIREMENTS)
    if scale:
        names.extend(SCALE_REQUIREMENTS)
    lines: list[str] = []
    seen: set[str] = set()
    for name in names:
        key = _canonical(name)
        if key in seen:
            continue
        seen.add(key)
        installed = _installed_version(name)
        lines.append(f"{key}=={installed}" if installed else key)
    return lines


def _example_value(type_string: str) -> Any:
    base = type_string.split("[", 1)[0].strip()
    return {"str": "example", "int": 1, "float": 1.0, "bool": True, "list": [], "dict": {}, "object": {}}.get(
        base, "example"
    )


def example_body(workflow: Any) -> dict[str, Any]:
    """A ``POST /run`` body with every required input (an example value of its type)."""
    fields = workflow.state.fields if workflow.state else {}
    body = {name: _example_value(str(spec.type)) for name, spec in fields.items() if spec.required}
    return body


@dataclass
class DeploymentArtifacts(Mapping[str, Path]):
    """What was generated: a mapping of artifact name (``Dockerfile``, ``server.py``, ...) to its path."""

    output_dir: Path
    files: dict[str, Path]
    flow_name: str
    name: str
    image: str
    port: int
    mlflow_port: int
    enable_mlflow: bool
    requirements: list[str] = field(default_factory=list)
    providers: list[str] = field(default_factory=list)
    key_variables: list[str] = field(default_factory=list)
    example_body: dict[str, Any] = field(default_factory=dict)
    offline: bool = False
    #: Worker services in ``docker-compose.yml`` (0: one self-contained container).
    scale: int = 0

    def __getitem__(self, key: str) -> Path:
        return self.files[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self.files)

    def __len__(self) -> int:
        return len(self.files)


def slug(name: str) -> str:
    """A Docker-safe name from a flow name: lower case, ``_`` as ``-``."""
    cleaned = "".join(c if c.isalnum() or c in "-." else "-" for c in name.lower().replace("_", "-")).strip("-.")
    return cleaned or "workflow"


def context_workflow_name(source: Path) -> str:
    """The workflow's file name in the build context: ``workflow.yaml`` (``workflow.json`` for JSON)."""
    return f"{WORKFLOW_STEM}.json" if source.suffix.lower() == ".json" else f"{WORKFLOW_STEM}.yaml"


def _prepare_output_dir(output_dir: Path) -> None:
    """Create the folder; refuse a non-empty one that an earlier generation did not make (never clobber)."""
    if output_dir.exists() and not output_dir.is_dir():
        raise DeployOptionError(f"{output_dir} is a file, not a folder.", "Choose another --output folder.")
    if output_dir.is_dir() and any(output_dir.iterdir()) and not (output_dir / MARKER).is_file():
        raise DeployOptionError(
            f"{output_dir} is not empty and was not made by `deploy`; nothing was written.",
            "Choose an empty or new --output folder.",
        )
    output_dir.mkdir(parents=True, exist_ok=True)
    (output_dir / MARKER).write_text("Generated by configurable-agents deploy; rewritten on every generation.\n")
    for owned in ("agents_core", "wheelhouse", "postgres-init"):
        if (output_dir / owned).is_dir():
            shutil.rmtree(output_dir / owned)


def _copy_package(destination: Path) -> None:
    import agents_core

    source = Path(agents_core.__file__).resolve().parent
    shutil.copytree(source, destination, ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "*.pyo"))


def generate_deployment_artifacts(
    config: str | os.PathLike[str],
    output_dir: str | os.PathLike[str],
    timeout: int = DEFAULT_TIMEOUT,
    enable_mlflow: bool = True,
    mlflow_port: int = DEFAULT_MLFLOW_PORT,
    *,
    port: int = DEFAULT_PORT,
    name: str | None = None,
    base_image: str = DEFAULT_BASE_IMAGE,
    offline: bool = False,
    on_progress: Callable[[str], None] | None = None,
    scale: int = 0,
) -> DeploymentArtifacts:
    """Render the build context of the workflow file ``config`` into ``output_dir``; return what was written.

    The workflow is validated first (``ValidationFailed`` lists every problem
    and nothing is written). ``timeout`` is the server's sync timeout in
    seconds, ``port``/``mlflow_port`` the ports the API and the MLflow UI
    listen on, ``name`` the container name (the flow's name by default),
    ``base_image`` the ``FROM`` of both stages. With ``offline`` a wheelhouse
    is built here and the image installs from it with ``--no-index``.
    ``mlflow_port`` is only checked when ``enable_mlflow`` is on (0 means
    no MLflow UI, the seed's convention). A bad value is a
    :class:`DeployOptionError` (bad input: exit 2, HTTP 422) naming the
    parameter. The workflow is copied in as ``workflow.yaml`` (or
    ``workflow.json``), whatever its own file name; that name is kept in
    the image's labels and the README only.

    ``docker-compose.yml`` always reads ``.env`` at run time (``cp
    .env.example .env`` first, as the README says); without it compose stops
    with a clear message instead of starting a container that has no keys.

    With ``scale`` N (1 or more) ``docker-compose.yml`` is the scaled-out
    shape instead: PostgreSQL (runs, events, checkpoints) and Redis (the Celery
    broker), the API service (``AGENTS_EXECUTOR=celery``, stateless, so it may
    have replicas) and N worker services, each with a healthcheck and named
    volumes; the image then also carries Celery and the PostgreSQL drivers.
    """
    from agents_core.workflow import load_workflow

    source = Path(config)
    workflow = load_workflow(source)
    _check_port(port, "port")
    if enable_mlflow and mlflow_port:
        _check_port(mlflow_port, "mlflow_port")
    elif enable_mlflow:
        enable_mlflow = False  # mlflow_port 0: no MLflow (the seed's convention)
    if timeout < 0:
        raise DeployOptionError(f"timeout must be 0 or more seconds, not {timeout}.", "Pass a timeout of 30, say.")
    if not isinstance(scale, int) or isinstance(scale, bool) or not 0 <= scale <= MAX_SCALE:
        raise DeployOptionError(
            f"scale must be a number of workers from 1 to {MAX_SCALE} (0: no workers), not {scale!r}.",
            "Pass a scale of 2, say; one worker runs one run at a time.",
        )
    flow_name = workflow.flow.name
    container = name or slug(flow_name)
    image = f"configurable-agents-{slug(flow_name)}:latest"
    requirements = runtime_requirements(workflow, enable_mlflow=enable_mlflow, scale=scale)
    providers = workflow_providers(workflow)
    key_variables = workflow_key_variables(workflow)
    body = example_body(workflow)
    workflow_file = context_workflow_name(source)

    out = Path(output_dir).absolute()
    _prepare_output_dir(out)
    context = {
        "flow_name": flow_name,
        "description": workflow.flow.description or "",
        "name": container,
        "service": slug(flow_name),
        "image": image,
        "port": port,
        "mlflow_port": mlflow_port,
        "timeout": timeout,
        "enable_mlflow": enable_mlflow,
        "base_image": base_image,
        "offline": offline,
        "workflow_file": workflow_file,
        "source_file": source.name,
        "needs_openmp": any(line.split("==")[0] in OPENMP_DISTRIBUTIONS for line in requirements),
        "key_variables": key_variables,
        "example_body": json.dumps(body),
        "requirement_count": len(requirements),
        "python_version": f"{sys.version_info.major}.{sys.version_info.minor}",
        "scale": scale,
        "workers": [f"worker-{i}" for i in range(1, scale + 1)],
    }
    rendered = {
        "Dockerfile": "Dockerfile.j2",
        "server.py": "server.py.j2",
        "start.sh": "start.sh.j2",
        "docker-compose.yml": "docker-compose.yml.j2",
        ".env.example": "env.example.j2",
        "README.md": "README.md.j2",
        ".dockerignore": "dockerignore.j2",
    }
    environment = _jinja_environment()
    files: dict[str, Path] = {}
    for artifact, template in rendered.items():
        path = out / artifact
        path.write_text(environment.get_template(template).render(**context), encoding="utf-8")
        files[artifact] = path
    (out / "requirements.txt").write_text(
        "# Runtime dependencies of this workflow only (generated by configurable-agents deploy).\n"
        + "\n".join(requirements)
        + "\n",
        encoding="utf-8",
    )
    files["requirements.txt"] = out / "requirements.txt"
    if scale and enable_mlflow:
        files["postgres-init"] = _write_postgres_init(out / "postgres-init")
    shutil.copyfile(source, out / workflow_file)
    files[workflow_file] = out / workflow_file
    _copy_package(out / "agents_core")
    files["agents_core"] = out / "agents_core"
    if offline:
        files["wheelhouse"] = build_wheelhouse(out / "requirements.txt", out / "wheelhouse", on_progress=on_progress)
    return DeploymentArtifacts(
        output_dir=out,
        files=files,
        flow_name=flow_name,
        name=container,
        image=image,
        port=port,
        mlflow_port=mlflow_port,
        enable_mlflow=enable_mlflow,
        requirements=requirements,
        providers=providers,
        key_variables=key_variables,
        example_body=body,
        offline=offline,
        scale=scale,
    )


#: The database the scaled compose file's MLflow tracking store lives in (beside the run store's "agents").
MLFLOW_DATABASE = "mlflow"


def _write_postgres_init(folder: Path) -> Path:
    """``postgres-init/``: SQL the compose file's PostgreSQL runs on its first start (the MLflow database)."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "10-mlflow.sql").write_text(
        "-- Run by the postgres image on the first start of an empty postgres-data volume.\n"
        f"-- The MLflow tracking store of the whole deployment (MLFLOW_TRACKING_URI .../{MLFLOW_DATABASE}).\n"
        f"CREATE DATABASE {MLFLOW_DATABASE};\n",
        encoding="utf-8",
    )
    return folder


def _check_port(value: int, label: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 65535:
        raise DeployOptionError(f"{label} must be between 1 and 65535, not {value!r}.", "Pass a free TCP port.")


def dockerfile_string(value: str) -> str:
    """``value`` for the inside of a double-quoted Dockerfile string: no expansion, no line break, no early end."""
    cleaned = "".join(c if c.isprintable() else "?" for c in value)
    return cleaned.replace("\\", "\\\\").replace('"', '\\"').replace("$", "\\$")


def _jinja_environment() -> Any:
    import jinja2

    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(templates_dir()),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        autoescape=False,  # Dockerfiles and shell, not HTML
    )
    environment.filters["dockerfile_string"] = dockerfile_string
    return environment


def wheelhouse_cache_dir() -> Path:
    """Where built wheelhouses are kept between builds (``AGENTS_WHEELHOUSE_CACHE`` or the user's cache)."""
    configured = os.environ.get("AGENTS_WHEELHOUSE_CACHE")
    if configured:
        return Path(configured)
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "configurable-agents" / "wheelhouse"


def build_wheelhouse(
    requirements_file: Path, destination: Path, *, on_progress: Callable[[str], None] | None = None
) -> Path:
    """Every wheel ``requirements_file`` needs (dependencies included) in ``destination``.

    Made once per set of requirements with ``pip wheel`` (pip's caches make a
    compiled llama-cpp-python a copy, not a rebuild) and kept in
    :func:`wheelhouse_cache_dir`, so the next build of the same requirements
    needs no index at all.
    """
    requirements = requirements_file.read_text(encoding="utf-8")
    digest = hashlib.sha256(f"{sys.version_info[:2]}\n{requirements}".encode()).hexdigest()[:16]
    cached = wheelhouse_cache_dir() / digest
    if not (cached / ".complete").is_file():
        partial = cached.with_name(cached.name + ".partial")
        shutil.rmtree(partial, ignore_errors=True)
        partial.mkdir(parents=True)
        if on_progress:
            on_progress(f"Building the wheelhouse with pip wheel (once; cached in {cached})")
        command = [sys.executable, "-m", "pip", "wheel", "--quiet", "--wheel-dir", str(partial)]
        command += ["--requirement", str(requirements_file)]
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            shutil.rmtree(partial, ignore_errors=True)
            tail = "\n".join((done.stderr or done.stdout).strip().splitlines()[-5:])
            raise DeployError(
                f"pip wheel could not build the wheelhouse for the offline image:\n{tail}",
                "Check that the package index (or pip's cache) is reachable, or build without --offline.",
            )
        (partial / ".complete").write_text(requirements, encoding="utf-8")
        shutil.rmtree(cached, ignore_errors=True)
        partial.rename(cached)
    destination.mkdir(parents=True, exist_ok=True)
    for wheel in cached.glob("*.whl"):
        target = destination / wheel.name
        try:
            os.link(wheel, target)
        except OSError:
            shutil.copyfile(wheel, target)
    return destination
