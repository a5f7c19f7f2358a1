"""Runs mirrored into a real MLflow SQLite store, read back with MlflowClient and mlflow.search_traces."""

from __future__ import annotations

import json
import os
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from agents_core.engine.events import NodeFinished, NodeRecord, NodeStarted, RunFinished, RunResult, RunStarted
from agents_core.observability.mirror import RunContext, RunMirror
from agents_core.observability.settings import resolve_settings
from tests.observability.conftest import artifacts, client, flow, read_artifact, runs_of

pytestmark = pytest.mark.slow


def _run(service, workflow, inputs=None, **options):
    handle = service.start(workflow, inputs or {"topic": "cats"}, **options)
    result = handle.wait(60)
    assert service.flush_tracking(60)
    return result


def _traces(ws: Path, experiment: str, run_id: str):
    exp = client(ws).get_experiment_by_name(experiment)
    traces = client(ws).search_traces(locations=[exp.experiment_id], max_results=500)
    return [t for t in traces if t.info.tags.get("configurable_agents.run_id") == run_id]


def test_a_run_becomes_a_parent_run_with_nested_node_runs_and_one_trace(service, tracking_ws):
    result = _run(service, flow("mirrored", mlflow={"enabled": True, "experiment_name": "standard"}))
    assert result.ok
    parent, children = runs_of(tracking_ws, "standard", result.run_id)

    assert parent.data.params == {
        "workflow_name": "mirrored",
        "workflow_version": "1.2.0",
        "schema_version": "1.0",
        "global_model": "scripted-1",
        "global_temperature": "0.3",
        "global_provider": "scripted",
    }
    metrics = parent.data.metrics
    assert metrics["total_input_tokens"] == 20 and metrics["total_output_tokens"] == 10
    assert metrics["node_count"] == 2 and metrics["retry_count"] == 0 and metrics["status"] == 1
    assert metrics["duration_seconds"] > 0
    assert parent.data.tags["provider"] == "scripted" and parent.data.tags["model"] == "scripted-1"
    assert parent.info.status == "FINISHED"
    assert parent.info.artifact_uri.startswith((tracking_ws / "mlartifacts").resolve().as_uri())
    assert artifacts(tracking_ws, parent) == {"cost_summary.json", "inputs.json", "outputs.json", "nodes.json"}
    assert json.loads(read_artifact(tracking_ws, parent, "outputs.json")) == {"out1": "hello", "out2": "hello"}
    assert json.loads(read_artifact(tracking_ws, parent, "inputs.json"))["topic"] == "cats"

    assert [c.info.run_name for c in children] == ["n1", "n2"]
    for child in children:
        assert child.data.tags["mlflow.parentRunId"] == parent.info.run_id
        assert child.data.params["node_id"] == child.info.run_name
        assert child.data.params["node_model"] == "scripted-1" and child.data.params["tools"] == "none"
        assert child.data.metrics["input_tokens"] == 10 and child.data.metrics["output_tokens"] == 5
        assert child.data.metrics["retries"] == 0 and child.data.metrics["node_duration_ms"] >= 0
        assert artifacts(tracking_ws, child) == {"record.json"}  # prompts only at artifact_level full

    (trace,) = _traces(tracking_ws, "standard", result.run_id)
    assert trace.info.trace_metadata["mlflow.sourceRun"] == parent.info.run_id
    spans = {span.name: span for span in trace.data.spans}
    assert {"mirrored", "n1", "n2"} <= set(spans)
    llm = [s for s in trace.data.spans if s.span_type == "CHAT_MODEL"]
    assert len(llm) == 2
    for span in llm:
        assert span.attributes["mlflow.chat.tokenUsage"] == {"input_tokens": 10, "output_tokens": 5, "total_tokens": 15}
        parent_span = next(s for s in trace.data.spans if s.span_id == span.parent_id)
        assert parent_span.name in ("n1", "n2")
    node_spans = [s for s in trace.data.spans if s.name in ("n1", "n2")]
    assert all(s.parent_id == spans["mirrored"].span_id for s in node_spans)
    assert spans["n1"].start_time_ns >= spans["mirrored"].start_time_ns
    assert spans["n2"].end_time_ns <= spans["mirrored"].end_time_ns


@pytest.mark.parametrize(
    ("level", "log_prompts", "parent_files", "child_files", "has_trace"),
    [
        ("minimal", True, {"cost_summary.json"}, set(), False),
        (
            "full",
            True,
            {"cost_summary.json", "inputs.json", "outputs.json", "nodes.json"},
            {"record.json", "prompt.txt", "response.txt"},
            True,
        ),
        ("full", False, {"cost_summary.json", "inputs.json", "outputs.json", "nodes.json"}, {"record.json"}, True),
    ],
)
def test_artifact_level_and_log_prompts(service, tracking_ws, level, log_prompts, parent_files, child_files, has_trace):
    experiment = f"level-{level}-{log_prompts}"
    settings = {"enabled": True, "experiment_name": experiment, "artifact_level": level, "log_prompts": log_prompts}
    result = _run(service, flow(mlflow=settings))
    parent, children = runs_of(tracking_ws, experiment, result.run_id)
    assert artifacts(tracking_ws, parent) == parent_files
    assert all(artifacts(tracking_ws, child) == child_files for child in children)
    if "prompt.txt" in child_files:
        assert read_artifact(tracking_ws, children[0], "prompt.txt") == "n1: about cats"
        assert read_artifact(tracking_ws, children[0], "response.txt") == "hello"
    traces = _traces(tracking_ws, experiment, result.run_id)
    assert len(traces) == (1 if has_trace else 0)
    if traces:
        llm = next(s for s in traces[0].data.spans if s.span_type == "CHAT_MODEL")
        assert (llm.inputs is not None) == log_prompts


def test_log_artifacts_false_logs_no_files(service, tracking_ws):
    result = _run(service, flow(mlflow={"enabled": True, "experiment_name": "no-files", "log_artifacts": False}))
    parent, children = runs_of(tracking_ws, "no-files", result.run_id)
    assert artifacts(tracking_ws, parent) == set() and parent.data.metrics["node_count"] == 2
    assert len(children) == 2


def test_a_failed_run_is_recorded_as_failed_with_its_error(service, tracking_ws, script):
    script.replies["n2"] = [ValueError("the model broke")]
    result = _run(service, flow(mlflow={"enabled": True, "experiment_name": "failing"}))
    assert result.status == "failed"
    parent, children = runs_of(tracking_ws, "failing", result.run_id)
    assert parent.info.status == "FAILED" and parent.data.metrics["status"] == 0
    assert "error.txt" in artifacts(tracking_ws, parent)
    assert "the model broke" in read_artifact(tracking_ws, parent, "error.txt")
    assert [c.data.tags["status"] for c in children] == ["success", "failed"]
    assert children[1].info.status == "FAILED"
    (trace,) = _traces(tracking_ws, "failing", result.run_id)
    assert trace.info.state.value == "ERROR"


def test_tracking_is_off_unless_the_file_or_the_face_turns_it_on(service, tracking_ws):
    plain = _run(service, flow("untracked"))
    assert service._tracker is None  # nothing attached, MLflow never touched
    on = _run(service, flow("untracked"), tracking=True)
    runs_of(tracking_ws, "configurable_agents", on.run_id)
    off = _run(service, flow("untracked", mlflow={"enabled": True, "experiment_name": "never"}), tracking=False)
    assert client(tracking_ws).get_experiment_by_name("never") is None
    found = client(tracking_ws).search_runs(
        [client(tracking_ws).get_experiment_by_name("configurable_agents").experiment_id]
    )
    tracked_ids = {r.data.tags["configurable_agents.run_id"] for r in found}
    assert on.run_id in tracked_ids and plain.run_id not in tracked_ids and off.run_id not in tracked_ids


def test_run_name_template_and_redaction_of_everything_sent(service, tracking_ws):
    settings = {
        "enabled": True,
        "experiment_name": "redacted",
        "run_name": "{flow.name}-{state.topic}",
        "redact_pii": True,
        "artifact_level": "full",
    }
    secret = "write to jane.doe@example.com or +44 20 7946 0958"
    result = _run(service, flow("pii", mlflow=settings), {"topic": secret})
    parent, children = runs_of(tracking_ws, "redacted", result.run_id)
    assert parent.info.run_name == "pii-write to [EMAIL] or [PHONE]"
    assert "jane.doe" not in read_artifact(tracking_ws, parent, "inputs.json")
    prompt = read_artifact(tracking_ws, children[0], "prompt.txt")
    assert prompt == "n1: about write to [EMAIL] or [PHONE]"
    (trace,) = _traces(tracking_ws, "redacted", result.run_id)
    assert "jane.doe" not in json.dumps([s.to_dict() for s in trace.data.spans], default=str)


def test_async_logging_false_writes_in_the_run_itself(service, tracking_ws):
    result = _run(service, flow(mlflow={"enabled": True, "experiment_name": "sync", "async_logging": False}))
    assert service.tracker._writer is None  # no background thread was needed
    parent, children = runs_of(tracking_ws, "sync", result.run_id)
    assert parent.info.status == "FINISHED" and len(children) == 2


def test_server_style_service_tracks_every_run_to_its_uri(tracking_ws, script, tmp_path):
    from agents_core.runs.service import RunService

    uri = f"sqlite:///{tracking_ws}/mlflow.db"
    service = RunService(tmp_path / "runs.sqlite", tracking=True, tracking_uri=uri)
    try:
        result = _run(service, flow("served"))
    finally:
        service.shutdown()
    parent, _ = runs_of(tracking_ws, "configurable_agents", result.run_id)
    assert parent.data.params["workflow_name"] == "served"


def test_a_server_with_mlflow_tracking_uri_tracks_every_run(tracking_ws, script, tmp_path):
    """``MLFLOW_TRACKING_URI`` in a server's settings: each POST /run is mirrored into that store."""
    from fastapi.testclient import TestClient

    from agents_core.deploy import ServerSettings, create_app

    uri = f"sqlite:///{tracking_ws}/mlflow.db"
    settings = ServerSettings(mlflow_tracking_uri=uri, run_store=str(tmp_path / "runs.sqlite"), sync_timeout=30)
    app = create_app(flow("posted"), settings=settings)
    with TestClient(app) as http:
        reply = http.post("/run", json={"topic": "cats"})
        assert reply.status_code == 200, reply.text
        run_id = reply.json()["run_id"]
        assert app.state.server.service.flush_tracking(60)
    parent, children = runs_of(tracking_ws, "configurable_agents", run_id)
    assert parent.data.params["workflow_name"] == "posted" and len(children) == 2


def _feed(ws: Path, experiment: str, records: list[NodeRecord]) -> str:
    """Events of a finished two-node run, fed to a mirror as the run service would (times explicit)."""
    settings = resolve_settings(None, ws)
    settings = type(settings)(**{**settings.__dict__, "experiment_name": experiment})
    context = RunContext("priced", "1", "1.0", "google", "gemini-2.5-flash", 0.7)
    mirror = RunMirror(settings, context)
    t0 = datetime.now(UTC)
    run_id = f"priced-{experiment}"
    mirror.handle(RunStarted(run_id, "priced", {"topic": "x"}, at=t0))
    for index, record in enumerate(records):
        mirror.handle(NodeStarted(run_id, record.id, record.provider, record.model, at=t0 + timedelta(seconds=index)))
        mirror.handle(NodeFinished(run_id, record, at=t0 + timedelta(seconds=index + 0.5)))
    result = RunResult(run_id, "priced", "success", {}, {}, list(records))
    mirror.handle(RunFinished(run_id, result, at=t0 + timedelta(seconds=len(records))))
    return run_id


def _priced(node: str, cost: float | None, source: str | None) -> NodeRecord:
    return NodeRecord(
        node, "success", 500.0, 1000, 200, 0, "google", "gemini-2.5-flash", cost_usd=cost, price_source=source
    )


def test_cost_is_a_metric_a_tag_and_a_span_attribute(tracking_ws):
    records = [_priced("a", 0.0008, "genai-prices 0.2.3"), _priced("b", 0.0012, "genai-prices 0.2.3")]
    run_id = _feed(tracking_ws, "priced", records)
    parent, children = runs_of(tracking_ws, "priced", run_id)
    assert parent.data.metrics["cost_usd"] == pytest.approx(0.002)
    assert parent.data.metrics["cost_per_node_avg"] == pytest.approx(0.001)
    assert parent.data.tags["price_source"] == "genai-prices 0.2.3"
    assert [c.data.metrics["cost_usd"] for c in children] == pytest.approx([0.0008, 0.0012])
    assert children[0].data.tags["price_source"] == "genai-prices 0.2.3"
    summary = json.loads(read_artifact(tracking_ws, parent, "cost_summary.json"))
    assert summary["cost_usd"] == pytest.approx(0.002) and summary["unpriced"] is False
    (trace,) = _traces(tracking_ws, "priced", run_id)
    costs = [s.attributes["mlflow.llm.cost"]["total_cost"] for s in trace.data.spans if s.span_type == "CHAT_MODEL"]
    assert costs == pytest.approx([0.0008, 0.0012])
    assert child_durations_match(trace)


def child_durations_match(trace) -> bool:
    """Span times come from the events (0.5 s per node), not from when they were written."""
    nodes = [s for s in trace.data.spans if s.name in ("a", "b")]
    return all(abs((s.end_time_ns - s.start_time_ns) / 1e9 - 0.5) < 0.01 for s in nodes)


def test_an_unpriced_node_makes_the_run_unpriced_never_zero(tracking_ws):
    run_id = _feed(tracking_ws, "unpriced", [_priced("a", 0.001, "genai-prices 0.2.3"), _priced("b", None, None)])
    parent, children = runs_of(tracking_ws, "unpriced", run_id)
    assert "cost_usd" not in parent.data.metrics and parent.data.tags["cost_status"] == "unpriced"
    assert "cost_usd" not in children[1].data.metrics
    assert json.loads(read_artifact(tracking_ws, parent, "cost_summary.json"))["cost_usd"] is None


def test_the_example_really_tracks(tracking_ws, script, tmp_path, monkeypatch):
    from agents_core.runs.service import RunService
    from tests.conftest import EXAMPLES_DIR

    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    script.replies["Write"] = ['{"title": "Tide pools", "article": "They are small."}']
    service = RunService(tracking_ws / ".configurable-agents" / "example.sqlite")
    try:
        result = _run(
            service, EXAMPLES_DIR / "article_writer_mlflow.yaml", {"topic": "tide pools"}, provider="scripted"
        )
    finally:
        service.shutdown()
    assert result.ok, result.error
    parent, children = runs_of(tracking_ws, "article_writer", result.run_id)
    assert parent.info.run_name.startswith("article_writer_mlflow-")
    assert [c.info.run_name for c in children] == ["research", "write"]
    assert json.loads(read_artifact(tracking_ws, parent, "outputs.json"))["title"] == "Tide pools"


def test_timing_of_flush_is_bounded(service, tracking_ws):
    """flush returns False rather than hanging when asked for less time than the writes need."""
    service.start(flow(mlflow={"enabled": True, "experiment_name": "bounded"}), {"topic": "x"}).wait(60)
    started = time.monotonic()
    service.flush_tracking(0)
    assert time.monotonic() - started < 5  # a hang guard, not a speed figure


def test_a_file_store_uri_works_too(service, tracking_ws):
    from mlflow import MlflowClient

    settings = {"enabled": True, "tracking_uri": "file:mlruns-file", "experiment_name": "on-files"}
    result = _run(service, flow(mlflow=settings))
    uri = (tracking_ws / "mlruns-file").resolve().as_uri()  # relative to the workspace
    mlf = MlflowClient(uri)
    exp = mlf.get_experiment_by_name("on-files")
    found = mlf.search_runs([exp.experiment_id], filter_string=f"tags.`configurable_agents.run_id` = '{result.run_id}'")
    assert len(found) == 3 and not service.tracker.warnings
    assert "MLFLOW_TRACKING_URI" not in os.environ  # one run's store never becomes the next run's default


def test_tracking_turns_off_mlflows_remote_model_catalog_and_telemetry() -> None:
    """Costing spans would make MLflow fetch a model catalog from github.com: importing the tracker stops it."""
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if k not in ("MLFLOW_MODEL_CATALOG_URI", "MLFLOW_DISABLE_TELEMETRY")}
    code = (
        "import os, agents_core.observability.tracker; "
        "print(repr(os.environ['MLFLOW_MODEL_CATALOG_URI']), os.environ['MLFLOW_DISABLE_TELEMETRY'])"
    )
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True).stdout
    assert out.split() == ["''", "true"]
