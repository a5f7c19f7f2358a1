"""What does running cost besides the model? Local model throughput and engine overhead.

Prints:
- the embedded model's speed: tokens/s of a raw ``llama_cpp`` chat completion next to
  the same request through our LangChain chat model (the wrapper's cost, as a ratio);
- the engine's overhead per node: a 20-node linear workflow on an instant model
  (prompt rendering, LangGraph, events, SQLite checkpoint after every node) next to
  calling that model 20 times directly.
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

from instant import Instant, chain, register_instant  # noqa: E402
from langchain_core.messages import HumanMessage  # noqa: E402

from agents_core import run_workflow  # noqa: E402
from agents_core.llm.local import create_chat_model, load_model, model_path  # noqa: E402
from agents_core.llm.settings import resolve_llm  # noqa: E402

ROUNDS = 5
NODES = 20
PROMPT = "Write two sentences about the sea."


def local_model() -> None:
    settings = resolve_llm({"provider": "local", "temperature": 0, "max_tokens": 64})
    chat = create_chat_model(settings)
    llama = load_model(str(model_path(None))).llama
    raw_rates, wrapped_rates = [], []
    for _ in range(ROUNDS):
        start = time.perf_counter()
        response = llama.create_chat_completion(
            messages=[{"role": "user", "content": PROMPT}], temperature=0, max_tokens=64
        )
        raw_rates.append(response["usage"]["completion_tokens"] / (time.perf_counter() - start))
        start = time.perf_counter()
        reply = chat.invoke([HumanMessage(PROMPT)])
        wrapped_rates.append(reply.usage_metadata["output_tokens"] / (time.perf_counter() - start))
    raw, wrapped = statistics.median(raw_rates), statistics.median(wrapped_rates)
    print(f"local model (SmolLM2-135M, {os.cpu_count()} cores), median of {ROUNDS}:")
    print(f"  llama_cpp create_chat_completion      {raw:7.1f} tokens/s")
    print(f"  ChatLocalLlama.invoke                 {wrapped:7.1f} tokens/s")
    print(f"  ratio wrapper / raw                   {wrapped / raw:7.2f}")


def engine_overhead() -> None:
    register_instant()
    os.environ["AGENTS_RUN_STORE"] = str(Path(tempfile.mkdtemp()) / "runs.sqlite")
    workflow = chain(NODES)
    model = Instant()
    direct, engine = [], []
    run_workflow(workflow, {"x0": "go"})  # warm-up: imports, SQLite schema
    for _ in range(ROUNDS):
        start = time.perf_counter()
        for i in range(NODES):
            model.invoke([HumanMessage(f"step {i}: go")])
        direct.append(time.perf_counter() - start)
        start = time.perf_counter()
        result = run_workflow(workflow, {"x0": "go"})
        engine.append(time.perf_counter() - start)
        assert result.ok, result.error
    d, e = statistics.median(direct), statistics.median(engine)
    print(f"engine, {NODES}-node chain on an instant model, median of {ROUNDS}:")
    print(f"  model called directly                 {d * 1000 / NODES:7.2f} ms/node")
    print(f"  through the engine (with checkpoints) {e * 1000 / NODES:7.2f} ms/node")
    print(f"  overhead per node                     {(e - d) * 1000 / NODES:7.2f} ms  (ratio {e / d:.1f} x)")


if __name__ == "__main__":
    local_model()
    engine_overhead()
