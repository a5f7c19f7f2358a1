"""The MLflow side of one workflow run: a parent run, a nested run per node, one trace.

A :class:`RunMirror` is fed the run's events in order (by the tracker, on its
writer thread) and turns them into MLflow calls with explicit times taken
from the events, so what MLflow shows is when things happened, not when they
were written. Everything passes through the redactor first when
``redact_pii`` is on. MLflow is imported here, never at start-up.
"""

from __future__ import annotations

import json
import logging
import os
import sqlite3
import threading
from collections import defaultdict, deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from agents_core.engine.events import NodeFailed, NodeFinished, NodeRecord, NodeRetried, NodeStarted, RunFinished
from agents_core.engine.events import RunStarted as RunStartedEvent
from agents_core.observability.redact import redact
from agents_core.observability.settings import TAG_RUN_ID, TrackingSettings, render_run_name

log = logging.getLogger(__name__)

TAG_KIND = "configurable_agents.kind"
_MLFLOW_STATUS = {"success": "FINISHED", "failed": "FAILED", "cancelled": "KILLED", "interrupted": "KILLED"}

_clients: dict[str, Any] = {}
_experiments: dict[tuple[str, str], str] = {}
_client_lock = threading.Lock()


def ms(at: datetime) -> int:
    return int(at.timestamp() * 1000)


def ns(at: datetime) -> int:
    return int(at.timestamp() * 1_000_000_000)


def client_for(uri: str) -> Any:
    """One ``MlflowClient`` per tracking URI in this process (a SQLite file is switched to WAL first)."""
    with _client_lock:
        client = _clients.get(uri)
        if client is None:
            if uri.startswith("sqlite:///"):
                path = Path(uri[len("sqlite:///") :])
                path.parent.mkdir(parents=True, exist_ok=True)
                with sqlite3.connect(path) as db:
                    db.execute("PRAGMA journal_mode=WAL")
            if uri.startswith("file:"):  # asked for by name: MLflow 3 refuses its deprecated file store otherwise
                os.environ.setdefault("MLFLOW_ALLOW_FILE_STORE", "true")
            from mlflow import MlflowClient

            from agents_core.observability.writer import register_exit_flush

            register_exit_flush()
            client = _clients[uri] = MlflowClient(tracking_uri=uri)
        return client


def experiment_id(settings: TrackingSettings) -> str:
    """The experiment's id, created (with its artifact location) on first use."""
    key = (settings.tracking_uri, settings.experiment_name)
    with _client_lock:
        if key in _experiments:
            return _experiments[key]
    client = client_for(settings.tracking_uri)
    found = client.get_experiment_by_name(settings.experiment_name)
    if found is None:
        try:
            exp = client.create_experiment(settings.experiment_name, artifact_location=settings.artifact_location)
        except Exception:  # another process created it in between
            found = client.get_experiment_by_name(settings.experiment_name)
            if found is None:
                raise
            exp = found.experiment_id
    else:
        exp = found.experiment_id
    with _client_lock:
        _experiments[key] = exp
    return exp


@contextmanager
def tracing_to(uri: str) -> Iterator[None]:
    """MLflow's tracing writes to the process's global tracking URI: point it at ``uri``, then put it back.

    ``mlflow.set_tracking_uri`` also sets ``$MLFLOW_TRACKING_URI``; the variable is
    restored exactly, so one run's store never becomes the next run's default.
    """
    import mlflow
    from mlflow.tracking._tracking_service import utils

    env = os.environ.get("MLFLOW_TRACKING_URI")
    previous = utils._tracking_uri
    mlflow.set_tracking_uri(uri)
    try:
        yield
    finally:
        mlflow.set_tracking_uri(previous)
        if env is None:
            os.environ.pop("MLFLOW_TRACKING_URI", None)
        else:
            os.environ["MLFLOW_TRACKING_URI"] = env


@dataclass
class RunContext:
    """What the events do not carry: the workflow's facts, taken when the run was prepared."""

    workflow_name: str
    workflow_version: str
    schema_version: str
    global_provider: str
    global_model: str
    global_temperature: float
    node_models: dict[str, tuple[str, str]] = field(default_factory=dict)  # node -> (provider, model)
    node_tools: dict[str, list[str]] = field(default_factory=dict)

    @classmethod
    def from_prepared(cls, prepared: Any) -> RunContext:
        from agents_core.llm.settings import resolve_llm

        workflow = prepared.workflow
        config = workflow.config
        llm = resolve_llm(config.llm if config else None, prepared.overrides)
        return cls(
            workflow_name=workflow.flow.name,
            workflow_version=str(workflow.flow.version or ""),
            schema_version=str(workflow.schema_version),
            global_provider=llm.provider,
            global_model=llm.model,
            global_temperature=float(llm.temperature),
            node_models={k: (p.llm.provider, p.llm.model) for k, p in prepared.plans.items()},
            node_tools={k: list(p.tools) for k, p in prepared.plans.items()},
        )


@dataclass
class _NodeVisit:
    record: NodeRecord
    started: datetime
    finished: datetime
    retries: list[NodeRetried]
    error: str | None = None


def _node_cost(record: NodeRecord) -> float | None:
    return getattr(record, "cost_usd", None)


def run_cost(records: list[NodeRecord]) -> float | None:
    """Sum of node costs; ``None`` (unpriced) when a node that used tokens has no cost."""
    total = 0.0
    for record in records:
        cost = _node_cost(record)
        if cost is None:
            if record.input_tokens or record.output_tokens:
                return None
            continue
        total += cost
    return total


def _cost_split(record: NodeRecord) -> dict[str, float] | None:
    """``mlflow.llm.cost``: input/output/total USD (the split from the price used, when the pricing module has it)."""
    total = _node_cost(record)
    if total is None:
        return None
    value = {"total_cost": float(total)}
    try:
        from agents_core.llm.pricing import calculate_cost  # the cost branch; absent until it merges

        price = calculate_cost(record.provider, record.model, record.input_tokens, record.output_tokens)
        if price.input_per_mtok is not None and price.output_per_mtok is not None:
            value["input_cost"] = record.input_tokens * float(price.input_per_mtok) / 1e6
            value["output_cost"] = record.output_tokens * float(price.output_per_mtok) / 1e6
    except Exception:
        pass
    return value


class RunMirror:
    """Mirrors one workflow run into MLflow; every method is called on the writer thread, in event order."""

    def __init__(self, settings: TrackingSettings, context: RunContext) -> None:
        self.settings = settings
        self.context = context
        self.parent_id: str | None = None
        self.experiment_id: str | None = None
        self.started: datetime | None = None
        self.inputs: dict[str, Any] = {}
        self.resumed = False
        self.starts: dict[str, deque[datetime]] = defaultdict(deque)
        self.retries: dict[str, list[NodeRetried]] = defaultdict(list)
        self.visits: list[_NodeVisit] = []
        self.child_count: dict[str, int] = defaultdict(int)
        self.broken = False

    # -- helpers -------------------------------------------------------------------------------
    def _clean(self, value: Any) -> Any:
        return redact(value) if self.settings.redact_pii else value

    def _text(self, run_id: str, text: str, name: str) -> None:
        client_for(self.settings.tracking_uri).log_text(run_id, self._clean(text), name)

    def _json(self, run_id: str, data: Any, name: str) -> None:
        text = json.dumps(self._clean(data), indent=2, ensure_ascii=False, default=str)
        client_for(self.settings.tracking_uri).log_text(run_id, text, name)

    # -- events --------------------------------------------------------------------------------
    def handle(self, event: Any) -> None:
        if self.broken:
            return
        if isinstance(event, RunStartedEvent):
            self.run_started(event)
        elif isinstance(event, NodeStarted):
            self.starts[event.node].append(event.at)
        elif isinstance(event, NodeRetried):
            self.retries[event.node].append(event)
        elif isinstance(event, NodeFinished | NodeFailed):
            self.node_done(event)
        elif isinstance(event, RunFinished):
            self.run_finished(event)

    def run_started(self, event: RunStartedEvent) -> None:
        from mlflow.entities import Param

        client = client_for(self.settings.tracking_uri)
        self.experiment_id = experiment_id(self.settings)
        self.started = event.at
        self.inputs = dict(event.inputs)
        self.resumed = event.resumed
        ctx = self.context
        name = render_run_name(self.settings.run_name, ctx.workflow_name, self._clean(self.inputs), event.at)
        tags = {
            TAG_RUN_ID: event.run_id,
            TAG_KIND: "workflow",
            "workflow_name": ctx.workflow_name,
            "provider": ctx.global_provider,
            "model": ctx.global_model,
            "resumed": str(event.resumed).lower(),
        }
        run = client.create_run(self.experiment_id, start_time=ms(event.at), tags=tags, run_name=name)
        self.parent_id = run.info.run_id
        params = {
            "workflow_name": ctx.workflow_name,
            "workflow_version": ctx.workflow_version,
            "schema_version": ctx.schema_version,
            "global_model": ctx.global_model,
            "global_temperature": ctx.global_temperature,
            "global_provider": ctx.global_provider,
        }
        client.log_batch(self.parent_id, params=[Param(k, str(v)) for k, v in params.items()])

    def node_done(self, event: NodeFinished | NodeFailed) -> None:
        from mlflow.entities import Metric, Param, RunTag

        record = event.record
        queue = self.starts.get(record.id)
        started = queue.popleft() if queue else event.at
        retries, self.retries[record.id] = self.retries.get(record.id, []), []
        error = event.error.message if isinstance(event, NodeFailed) else record.error
        self.visits.append(_NodeVisit(record, started, event.at, retries, error))
        if self.parent_id is None:
            return
        client = client_for(self.settings.tracking_uri)
        self.child_count[record.id] += 1
        visit = self.child_count[record.id]
        name = record.id if visit == 1 else f"{record.id} #{visit}"
        provider, model = self.context.node_models.get(record.id, (record.provider, record.model))
        tags = {
            "mlflow.parentRunId": self.parent_id,
            TAG_RUN_ID: event.run_id,
            TAG_KIND: "node",
            "workflow_name": self.context.workflow_name,
            "node_id": record.id,
            "provider": record.provider or provider,
            "model": record.model or model,
            "status": record.status,
        }
        price_source = getattr(record, "price_source", None)
        if price_source:
            tags["price_source"] = price_source
        child = client.create_run(self.experiment_id, start_time=ms(started), tags=tags, run_name=name)
        child_id = child.info.run_id
        stamp = ms(event.at)
        metrics = {
            "node_duration_ms": record.duration_ms,
            "input_tokens": record.input_tokens,
            "output_tokens": record.output_tokens,
            "retries": record.retries,
        }
        cost = _node_cost(record)
        if cost is not None:
            metrics["cost_usd"] = cost
        params = {
            "node_id": record.id,
            "node_model": record.model or model,
            "tools": ",".join(self.context.node_tools.get(record.id, [])) or "none",
        }
        client.log_batch(
            child_id,
            metrics=[Metric(k, float(v), stamp, 0) for k, v in metrics.items()],
            params=[Param(k, str(v)) for k, v in params.items()],
            tags=[RunTag("cost_status", "priced" if cost is not None else "unpriced")],
        )
        if self.settings.log_artifacts:
            if self.settings.detailed:
                summary = record.summary() if hasattr(record, "summary") else {}
                summary["outputs"] = record.outputs
                self._json(child_id, summary, "record.json")
            if self.settings.prompts_logged:
                self._text(child_id, record.prompt, "prompt.txt")
                self._text(child_id, record.response, "response.txt")
            if error:
                self._text(child_id, error, "error.txt")
        client.set_terminated(child_id, "FINISHED" if record.status == "success" else "FAILED", end_time=stamp)

    def run_finished(self, event: RunFinished) -> None:
        from mlflow.entities import Metric, RunTag

        if self.parent_id is None:
            return
        client = client_for(self.settings.tracking_uri)
        result = event.result
        records = [visit.record for visit in self.visits] or list(result.nodes)
        stamp = ms(event.at)
        duration = (event.at - self.started).total_seconds() if self.started else result.duration_ms / 1000
        cost = run_cost(records)
        metrics: dict[str, float] = {
            "duration_seconds": duration,
            "total_input_tokens": sum(r.input_tokens for r in records),
            "total_output_tokens": sum(r.output_tokens for r in records),
            "node_count": len(records),
            "retry_count": sum(r.retries for r in records),
            "status": 1.0 if result.status == "success" else 0.0,
        }
        if cost is not None:
            metrics["cost_usd"] = cost
            metrics["cost_per_node_avg"] = cost / len(records) if records else 0.0
        sources = sorted({s for r in records if (s := getattr(r, "price_source", None))})
        tags = [RunTag("status", result.status), RunTag("cost_status", "priced" if cost is not None else "unpriced")]
        if sources:
            tags.append(RunTag("price_source", "; ".join(sources)))
        if result.error:
            tags.append(RunTag("error_node", result.error.node or ""))
        client.log_batch(self.parent_id, metrics=[Metric(k, float(v), stamp, 0) for k, v in metrics.items()], tags=tags)
        if self.settings.log_artifacts:
            self._json(self.parent_id, self._cost_summary(records, cost, sources), "cost_summary.json")
            if self.settings.detailed:
                self._json(self.parent_id, self.inputs, "inputs.json")
                self._json(self.parent_id, result.outputs, "outputs.json")
                nodes = [dict(r.summary(), error=r.error) for r in records]
                self._json(self.parent_id, nodes, "nodes.json")
            if result.error:
                error = result.error
                text = f"{error.type}: {error.message}" + (f"\nnode: {error.node}" if error.node else "")
                self._text(self.parent_id, text + (f"\nhint: {error.hint}" if error.hint else ""), "error.txt")
        if self.settings.detailed:
            try:
                self._trace(event)
            except Exception as exc:  # a trace problem must not lose the run's metrics
                log.warning("MLflow tracking: the trace of run %s was not logged: %s", event.run_id, exc)
        client.set_terminated(self.parent_id, _MLFLOW_STATUS.get(result.status, "FAILED"), end_time=stamp)

    def _cost_summary(self, records: list[NodeRecord], cost: float | None, sources: list[str]) -> dict[str, Any]:
        return {
            "cost_usd": cost,
            "unpriced": cost is None,
            "price_sources": sources,
            "input_tokens": sum(r.input_tokens for r in records),
            "output_tokens": sum(r.output_tokens for r in records),
            "nodes": [
                {
                    "id": r.id,
                    "provider": r.provider,
                    "model": r.model,
                    "input_tokens": r.input_tokens,
                    "output_tokens": r.output_tokens,
                    "cost_usd": _node_cost(r),
                    "price_source": getattr(r, "price_source", None),
                }
                for r in records
            ],
        }

    def _trace(self, event: RunFinished) -> None:
        """One trace: the workflow's root span, a span per node visit, an LLM span per model call."""
        started = self.started or event.at
        prompts = self.settings.prompts_logged
        with tracing_to(self.settings.tracking_uri):
            self._spans(event, started, prompts)
        from agents_core.observability.writer import register_exit_flush

        register_exit_flush()  # MLflow's trace queue registers its exit hook on first use; ours must run first

    def _spans(self, event: RunFinished, started: datetime, prompts: bool) -> None:
        import mlflow
        from mlflow.entities import SpanStatusCode, SpanType
        from mlflow.tracing.constant import SpanAttributeKey, TraceMetadataKey

        result = event.result
        root = mlflow.start_span_no_context(
            self.context.workflow_name,
            span_type=SpanType.CHAIN,
            inputs=self._clean(self.inputs),
            attributes={"run_id": event.run_id, "status": result.status},
            metadata={TraceMetadataKey.SOURCE_RUN: self.parent_id or ""},
            tags={TAG_RUN_ID: event.run_id},
            experiment_id=self.experiment_id,
            start_time_ns=ns(started),
        )
        for visit in self.visits:
            record = visit.record
            node = mlflow.start_span_no_context(
                record.id,
                span_type=SpanType.AGENT if self.context.node_tools.get(record.id) else SpanType.CHAIN,
                parent_span=root,
                attributes={"node_id": record.id, "retries": record.retries},
                start_time_ns=ns(visit.started),
            )
            call_start = visit.started
            for retry in visit.retries:  # each failed attempt is a model call of its own
                failed = mlflow.start_span_no_context(
                    f"{record.model or 'model'} (attempt {retry.attempt})",
                    span_type=SpanType.CHAT_MODEL,
                    parent_span=node,
                    attributes={SpanAttributeKey.MODEL: record.model, SpanAttributeKey.MODEL_PROVIDER: record.provider},
                    start_time_ns=ns(call_start),
                )
                failed.end(
                    attributes={"error": self._clean(retry.reason)},
                    status=SpanStatusCode.ERROR,
                    end_time_ns=ns(retry.at),
                )
                call_start = retry.at
            usage = {
                "input_tokens": record.input_tokens,
                "output_tokens": record.output_tokens,
                "total_tokens": record.input_tokens + record.output_tokens,
            }
            attributes: dict[str, Any] = {
                SpanAttributeKey.CHAT_USAGE: usage,
                SpanAttributeKey.MODEL: record.model,
                SpanAttributeKey.MODEL_PROVIDER: record.provider,
            }
            cost = _cost_split(record)
            if cost is not None:
                attributes[SpanAttributeKey.LLM_COST] = cost
            if getattr(record, "price_source", None):
                attributes["price_source"] = record.price_source  # type: ignore[attr-defined]
            call = mlflow.start_span_no_context(
                record.model or "model",
                span_type=SpanType.CHAT_MODEL,
                parent_span=node,
                inputs=self._clean([{"role": "user", "content": record.prompt}]) if prompts else None,
                attributes=attributes,
                start_time_ns=ns(call_start),
            )
            ok = record.status == "success"
            call.end(
                outputs=self._clean({"role": "assistant", "content": record.response}) if prompts else None,
                status=SpanStatusCode.OK if ok else SpanStatusCode.ERROR,
                end_time_ns=ns(visit.finished),
            )
            node.end(
                outputs=self._clean(record.outputs) if ok else None,
                attributes={"error": self._clean(visit.error)} if visit.error else None,
                status=SpanStatusCode.OK if ok else SpanStatusCode.ERROR,
                end_time_ns=ns(visit.finished),
            )
        root.end(
            outputs=self._clean(result.outputs),
            attributes={"error": self._clean(result.error.message)} if result.error else None,
            status=SpanStatusCode.OK if result.ok else SpanStatusCode.ERROR,
            end_time_ns=ns(event.at),
        )
        mlflow.flush_trace_async_logging()  # written before the tracking URI is put back
