"""MLflow inside the container: the image built with ``enable_mlflow`` serves the MLflow UI and tracks runs to it.

The image is built offline (mlflow and its dependencies come from the
wheelhouse) on the private engine and started with the host's network; the
test posts a run of article_writer.yaml (the local model) and reads it back
from outside the container over HTTP with ``MlflowClient``: the parent run
with its params and token metrics, one nested run per node, the artifacts
(proxied by the container's MLflow server), and the UI's page.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import httpx
import pytest

from agents_core.deploy import docker_engine as engine_api
from agents_core.deploy.artifacts import generate_deployment_artifacts
from tests.conftest import EXAMPLES_DIR
from tests.docker.conftest import free_port
from tests.docker.engine import BASE_TAG, Engine

pytestmark = pytest.mark.slow

NAME = "article-writer-mlflow"
API_KEY = "mlflow-test-key-0123456789"


@pytest.fixture(scope="module")
def mlflow_image(docker_engine: Engine, tmp_path_factory: pytest.TempPathFactory) -> str:
    context = tmp_path_factory.mktemp("mlflow-context") / "article_writer"
    artifacts = generate_deployment_artifacts(
        EXAMPLES_DIR / "article_writer.yaml", context, 120, True, 5000, base_image=BASE_TAG, offline=True
    )
    wheels = {path.name.split("-")[0].lower() for path in (context / "wheelhouse").glob("*.whl")}
    assert {"mlflow", "mlflow_skinny", "mlflow_tracing"} <= wheels, "mlflow's wheels are in the wheelhouse"
    image = artifacts.image.replace(":latest", ":mlflow")
    engine_api.build_image(docker_engine.client(), context, image, offline=True)
    return image


def _finished(base: str, reply: httpx.Response, headers: dict[str, str]) -> dict:
    body = reply.json()
    deadline = time.monotonic() + 300
    while body.get("status") not in ("success", "failed", "cancelled") and time.monotonic() < deadline:
        time.sleep(1)
        body = httpx.get(f"{base}/status/{body['job_id']}", headers=headers, timeout=10).json()
    return body


def test_the_container_serves_the_mlflow_ui_and_tracks_its_runs_there(
    docker_engine: Engine, mlflow_image: str, tmp_path: Path
) -> None:
    from mlflow import MlflowClient

    client = docker_engine.client()
    config = client.images.get(mlflow_image).attrs["Config"]
    env = dict(item.split("=", 1) for item in config["Env"])
    assert env["MLFLOW_DISABLE_TELEMETRY"] == "true" and env["DO_NOT_TRACK"] == "true"
    assert env["ENABLE_MLFLOW"] == "1"

    port, mlflow_port = free_port(), free_port()
    container = engine_api.run_container(
        client,
        mlflow_image,
        NAME,
        port=port,
        mlflow_port=mlflow_port,
        environment={"AGENTS_API_KEY": API_KEY},
        labels={engine_api.LABEL: "article_writer"},
        network="host",
    )
    try:
        base = f"http://127.0.0.1:{port}"
        mlflow_url = f"http://127.0.0.1:{mlflow_port}"
        engine_api.wait_until_healthy(container, f"{base}/health", timeout=240)
        ui = httpx.get(mlflow_url, timeout=10)
        assert ui.status_code == 200 and "mlflow" in ui.text.lower(), ui.text[:300]

        headers = {"Authorization": f"Bearer {API_KEY}"}
        reply = httpx.post(f"{base}/run", json={"topic": "tide pools"}, headers=headers, timeout=180)
        assert reply.status_code in (200, 202), reply.text
        body = _finished(base, reply, headers)
        assert body["status"] == "success", body
        run_id = body.get("run_id") or body.get("job_id")

        mlf = MlflowClient(tracking_uri=mlflow_url)
        experiment = mlf.get_experiment_by_name("configurable_agents")
        assert experiment is not None, [e.name for e in mlf.search_experiments()]
        found: list = []
        deadline = time.monotonic() + 60  # the tracking observer writes after the run's end
        while time.monotonic() < deadline:
            found = mlf.search_runs(
                [experiment.experiment_id], filter_string=f"tags.`configurable_agents.run_id` = '{run_id}'"
            )
            if len(found) >= 3 and all(r.info.status == "FINISHED" for r in found):
                break
            time.sleep(1)
        parents = [r for r in found if "mlflow.parentRunId" not in r.data.tags]
        children = [r for r in found if "mlflow.parentRunId" in r.data.tags]
        assert len(parents) == 1, [(r.info.run_name, r.data.tags) for r in found]
        parent = parents[0]
        assert parent.data.params["workflow_name"] == "article_writer"
        metrics = parent.data.metrics
        assert metrics["status"] == 1 and metrics["node_count"] == 2
        assert metrics["total_input_tokens"] > 0 and metrics["total_output_tokens"] > 0
        assert sorted(c.info.run_name for c in children) == ["research", "write"]
        for child in children:
            assert child.data.tags["mlflow.parentRunId"] == parent.info.run_id
            assert child.data.metrics["input_tokens"] > 0 and child.data.metrics["output_tokens"] > 0

        # artifacts go through the container's MLflow server, so a client outside reads them too
        names = {a.path for a in mlf.list_artifacts(parent.info.run_id)}
        assert {"inputs.json", "outputs.json"} <= names, names
        local = mlf.download_artifacts(parent.info.run_id, "inputs.json", str(tmp_path))
        assert json.loads(Path(local).read_text())["topic"] == "tide pools"
        logs = "\n".join(engine_api.stream_logs(client, NAME))
        assert "Traceback" not in logs, logs[-3000:]
    finally:
        container.remove(force=True)
