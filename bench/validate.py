"""How fast is `validate`? Cold CLI start against a bare interpreter, and growth with size.

Prints:
- the median wall time of `configurable-agents validate examples/article_writer.yaml`
  as a fresh process, next to `python -c pass` (the floor), and their ratio;
- in-process validation time for generated workflows of 10 to 5,000 nodes, with
  the time per node (flat per-node time means linear growth).

Targets (issue 3): cold CLI validate < 0.35 s; 1,000 nodes < 0.5 s.
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from agents_core.config.validator import validate_text  # noqa: E402

COLD_ROUNDS = 15
SIZES = (10, 100, 1_000, 5_000)


def median_wall(command: list[str], rounds: int) -> float:
    timings = []
    env = {**os.environ, "NO_COLOR": "1"}
    for _ in range(rounds):
        start = time.perf_counter()
        subprocess.run(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
        timings.append(time.perf_counter() - start)
    return statistics.median(timings)


def generated_workflow(nodes: int) -> str:
    """A chain of `nodes` nodes; every tenth node routes on a condition (loop back or go on)."""
    lines = ['schema_version: "1.0"', "flow: {name: generated}", "state:", "  fields:"]
    lines.append("    f0: {type: str, required: true}")
    lines += [f'    f{i}: {{type: str, default: ""}}' for i in range(1, nodes + 1)]
    lines.append("    score: {type: int, default: 0}")
    lines.append("nodes:")
    for i in range(1, nodes + 1):
        lines.append(f'  - {{id: n{i}, prompt: "Improve {{state.f{i - 1}}} ({{state.score}})", outputs: [f{i}]}}')
    lines.append("edges:")
    lines.append("  - {from: START, to: n1}")
    for i in range(1, nodes + 1):
        nxt = f"n{i + 1}" if i < nodes else "END"
        if i % 10 == 0 and i > 1:
            lines.append(f"  - from: n{i}")
            lines.append("    routes:")
            lines.append(f"      - {{condition: {{logic: '{{state.score}} < 3'}}, to: n{i - 1}}}")
            lines.append(f"      - {{condition: {{logic: default}}, to: {nxt}}}")
        else:
            lines.append(f"  - {{from: n{i}, to: {nxt}}}")
    lines.append("config: {llm: {provider: local}}")
    return "\n".join(lines) + "\n"


def main() -> None:
    script = shutil.which("configurable-agents", path=str(Path(sys.executable).parent))
    cli = [script] if script else [sys.executable, "-m", "agents_core"]
    example = str(ROOT / "examples" / "article_writer.yaml")
    baseline = median_wall([sys.executable, "-c", "pass"], COLD_ROUNDS)
    cold = median_wall([*cli, "validate", example], COLD_ROUNDS)
    print(f"cold process, median of {COLD_ROUNDS}:")
    print(f"  python -c pass                                 {baseline * 1000:7.1f} ms")
    print(f"  configurable-agents validate article_writer    {cold * 1000:7.1f} ms   (target < 350 ms)")
    print(f"  ratio validate / bare interpreter              {cold / baseline:7.1f} x")

    print("in-process validate_text of generated workflows:")
    print(f"  {'nodes':>6} {'lines':>7} {'median ms':>10} {'us/node':>9} {'problems':>9}")
    for size in SIZES:
        text = generated_workflow(size)
        rounds = 5 if size <= 1_000 else 3
        timings, problems = [], 0
        for _ in range(rounds):
            start = time.perf_counter()
            report = validate_text(text, "generated.yaml")
            timings.append(time.perf_counter() - start)
            problems = len(report.problems)
        median = statistics.median(timings)
        print(f"  {size:>6} {text.count(chr(10)):>7} {median * 1000:>10.1f} {median / size * 1e6:>9.1f} {problems:>9}")
    print("  (target: 1,000 nodes < 500 ms; flat us/node = linear growth)")


if __name__ == "__main__":
    main()
