"""``agents_core.deploy`` exports the artifact generator and the deploy flow, imported only when asked for."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import EXAMPLES_DIR, REPO_ROOT


def test_the_generator_and_the_deploy_flow_are_public(tmp_path: Path) -> None:
    import agents_core.deploy as deploy_package
    from agents_core.deploy import DeployOptions, deploy, generate_deployment_artifacts
    from agents_core.deploy.artifacts import DeploymentArtifacts

    assert {"generate_deployment_artifacts", "deploy", "DeployOptions"} <= set(deploy_package.__all__)
    artifacts = generate_deployment_artifacts(EXAMPLES_DIR / "article_writer.yaml", tmp_path / "a", 30, False, 0)
    assert (tmp_path / "a" / "Dockerfile").is_file()
    result = deploy(EXAMPLES_DIR / "article_writer.yaml", DeployOptions(output=tmp_path / "b", generate_only=True))
    assert isinstance(artifacts, DeploymentArtifacts) and isinstance(result, DeploymentArtifacts)
    assert (tmp_path / "b" / "docker-compose.yml").is_file()


def test_importing_the_package_or_starting_the_cli_loads_no_heavy_module() -> None:
    probe = (
        "import sys, agents_core.deploy, agents_core.cli; "
        "print(sorted(m for m in ('fastapi', 'docker', 'jinja2', 'mlflow', 'uvicorn') if m in sys.modules))"
    )
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    done = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True, timeout=60)
    assert done.stdout.strip() == "[]", done.stderr
    helped = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "agents_core", "--help"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert helped.returncode == 0
    imported = {line.rsplit("|", 1)[-1].strip().split(".")[0] for line in helped.stderr.splitlines() if "|" in line}
    assert not imported & {"fastapi", "docker", "jinja2", "mlflow", "uvicorn"}
