"""What does MLflow tracking add to a run? A 5-node workflow on an instant model, tracking off vs on.

Prints, in one process (several rounds, medians):
- the run's wall time (start to result) with tracking off and on, and the
  milliseconds tracking adds per node on the critical path (target <= 5 ms);
- the time the tracking observer itself spends per event in the run's task;
- after one flush: how many parent runs, nested node runs and traces are in
  the MLflow store against how many runs were tracked (every one must be there);
- how long that flush took (the background writer's work, off the critical path).

Run: ``python bench/tracking.py`` (MLflow's SQLite store is made in a temp folder).
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
os.environ.setdefault("DO_NOT_TRACK", "true")

from instant import chain, register_instant  # noqa: E402

from agents_core.runs.service import RunService  # noqa: E402

NODES = 5
ROUNDS = 15


def timed_run(service: RunService, workflow: dict, tracking: bool) -> float:
    start = time.perf_counter()
    result = service.start(workflow, {"x0": "go"}, tracking=tracking).wait(60)
    elapsed = time.perf_counter() - start
    assert result.ok, result.error
    return elapsed


def main() -> None:
    register_instant(input_tokens=3)
    workspace = Path(tempfile.mkdtemp(prefix="bench-tracking-"))
    service = RunService(workspace / ".configurable-agents" / "runs.sqlite")
    workflow = chain(NODES, name="bench_tracking", config={"observability": {"mlflow": {"experiment_name": "bench"}}})
    tracker = service.tracker
    observer_seconds: list[float] = []
    original = tracker.on_event

    def measured(event):  # type: ignore[no-untyped-def]
        start = time.perf_counter()
        original(event)
        observer_seconds.append(time.perf_counter() - start)

    tracker.on_event = measured  # type: ignore[method-assign]
    # warm-up: imports, the run store's schema, MLflow's database and first experiment
    timed_run(service, workflow, False)
    timed_run(service, workflow, True)
    warm_start = time.perf_counter()
    service.flush_tracking(300)
    warm_flush = time.perf_counter() - warm_start
    observer_seconds.clear()

    off, on = [], []
    for _ in range(ROUNDS):  # interleaved, so drift hits both alike
        off.append(timed_run(service, workflow, False))
        on.append(timed_run(service, workflow, True))
    flush_start = time.perf_counter()
    assert service.flush_tracking(600), "tracking did not finish writing within 600 s"
    flush = time.perf_counter() - flush_start
    service.shutdown()

    import mlflow
    from mlflow import MlflowClient

    uri = f"sqlite:///{workspace}/mlflow.db"
    client = MlflowClient(uri)
    experiment = client.get_experiment_by_name("bench")
    runs = client.search_runs([experiment.experiment_id], max_results=10_000)
    parents = [r for r in runs if "mlflow.parentRunId" not in r.data.tags]
    children = [r for r in runs if "mlflow.parentRunId" in r.data.tags]
    mlflow.set_tracking_uri(uri)
    traces = mlflow.search_traces(locations=[experiment.experiment_id], return_type="list", include_spans=False)
    tracked = ROUNDS + 1

    o, n = statistics.median(off), statistics.median(on)
    per_event = statistics.median(observer_seconds) * 1000 if observer_seconds else 0.0
    print(f"tracking, {NODES}-node chain on an instant model, median of {ROUNDS} runs each (SQLite store):")
    print(f"  run wall time, tracking off           {o * 1000:8.2f} ms")
    print(f"  run wall time, tracking on            {n * 1000:8.2f} ms  (ratio {n / o:.2f} x)")
    print(f"  added per node on the critical path   {(n - o) * 1000 / NODES:8.2f} ms  (target <= 5 ms)")
    print(f"  observer time per event (median)      {per_event:8.3f} ms  ({len(observer_seconds)} events)")
    print(
        f"  background flush after the rounds     {flush:8.2f} s   (first run incl. MLflow set-up: {warm_flush:.2f} s)"
    )
    print("in the MLflow store after flush:")
    print(f"  workflow runs   {len(parents):4d} of {tracked} tracked")
    print(f"  node runs       {len(children):4d} of {tracked * NODES}")
    print(f"  traces          {len(traces):4d} of {tracked}")
    complete = len(parents) == tracked and len(children) == tracked * NODES and len(traces) == tracked
    print("  complete" if complete else "  INCOMPLETE: something tracked was not written")
    sys.exit(0 if complete else 1)


if __name__ == "__main__":
    main()
