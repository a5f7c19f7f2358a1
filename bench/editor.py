"""How fast does the Editor answer? Server-side and in the browser.

Prints:
- the median time from a changed buffer to its list of annotations (validate,
  annotations, flow picture) for a 300-line workflow, over 50 different edits,
  next to a bare ``yaml.safe_load`` of the same text (the floor) and the ratio;
- the median time for the Editor page to become interactive in Debian's
  chromium (Ace editor rendered, script run finished), next to the Home page.

Target (issue 4): <= 150 ms for the first figure.
"""

from __future__ import annotations

import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import yaml  # noqa: E402

from workbench.analysis import analyse  # noqa: E402

EDITS = 50
PAGE_LOADS = 5
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def workflow_of_about(lines: int) -> str:
    """A readable block-style workflow (loops, routes, structured outputs) of about ``lines`` lines."""
    nodes = max(2, lines // 16)
    out = [
        'schema_version: "1.0"',
        "flow:",
        "  name: bench_editor",
        "  description: Generated for the bench.",
        "state:",
    ]
    out.append("  fields:")
    out.append("    topic: {type: str, required: true, description: The subject.}")
    for i in range(1, nodes + 1):
        out.append(f'    draft{i}: {{type: str, default: "", description: Draft {i}.}}')
    out.append("    score: {type: int, default: 0}")
    out.append("nodes:")
    for i in range(1, nodes + 1):
        previous = "topic" if i == 1 else f"draft{i - 1}"
        out += [
            f"  - id: step{i}",
            f"    description: Step {i} of the chain.",
            "    inputs:",
            f'      source: "{{state.{previous}}}"',
            "    prompt: |",
            f"      Improve this text about {{state.topic}} (step {i}).",
            "      Keep it short and concrete.",
            "      {source}",
            "    output_schema:",
            "      type: object",
            "      fields:",
            f"        - {{name: draft{i}, type: str, description: The improved text.}}",
            "        - {name: score, type: int, description: Quality from 1 to 10.}",
            f"    outputs: [draft{i}, score]",
        ]
    out.append("edges:")
    out.append("  - {from: START, to: step1}")
    for i in range(1, nodes + 1):
        nxt = f"step{i + 1}" if i < nodes else "END"
        out += [
            f"  - from: step{i}",
            "    routes:",
            f"      - {{condition: {{logic: '{{state.score}} < 3'}}, to: step{i}}}",
            f"      - {{condition: {{logic: default}}, to: {nxt}}}",
        ]
    out.append("config: {llm: {provider: local}, execution: {max_loop_iterations: 3}}")
    return "\n".join(out) + "\n"


def edited_versions(text: str, count: int) -> list[str]:
    """Realistic edits: a word typed into a prompt, sometimes a misspelled reference."""
    rng = random.Random(7)
    lines = text.splitlines(keepends=True)
    prompt_lines = [i for i, line in enumerate(lines) if "Improve this text" in line]
    versions = []
    for n in range(count):
        i = rng.choice(prompt_lines)
        extra = " {state.topik}" if n % 3 == 0 else f" word{n}"
        changed = lines.copy()
        changed[i] = changed[i].rstrip("\n") + extra + "\n"
        versions.append("".join(changed))
    return versions


def server_side() -> None:
    text = workflow_of_about(300)
    versions = edited_versions(text, EDITS)
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    baseline, timings, problems = [], [], 0
    for version in versions:
        start = time.perf_counter()
        yaml.load(version, Loader=loader)  # the safe C loader
        baseline.append(time.perf_counter() - start)
        start = time.perf_counter()
        result = analyse(version, "bench.yaml")
        timings.append(time.perf_counter() - start)
        problems += len(result.annotations)
    floor, median = statistics.median(baseline), statistics.median(timings)
    print(f"server side, {text.count(chr(10))}-line workflow, median over {EDITS} distinct edits:")
    print(f"  yaml.safe_load (floor)                      {floor * 1000:7.2f} ms")
    print(f"  buffer -> annotations + list + flow picture {median * 1000:7.2f} ms   (target <= 150 ms)")
    print(f"  ratio                                       {median / floor:7.1f} x   ({problems} annotations in all)")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def browser_side() -> None:
    if not Path(CHROMIUM).exists():
        print(f"browser: skipped ({CHROMIUM} is missing; `make test` installs it)")
        return
    from playwright.sync_api import sync_playwright

    workspace = Path(tempfile.mkdtemp(prefix="bench-editor-"))
    (workspace / "bench.yaml").write_text(workflow_of_about(300))
    port = free_port()
    env = {**os.environ, "MLFLOW_DISABLE_TELEMETRY": "true", "DO_NOT_TRACK": "true"}
    server = subprocess.Popen(
        [sys.executable, "-m", "agents_core", "ui", "--workspace", str(workspace), "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        import httpx

        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{url}/_stcore/health", timeout=1, trust_env=False).text == "ok":
                    break
            except httpx.TransportError:
                time.sleep(0.2)
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            home, editor = [], []
            for _ in range(PAGE_LOADS):
                for path, bucket, ready in (("/", home, "table"), ("/Editor", editor, "ace")):
                    page = browser.new_page(viewport={"width": 1400, "height": 1000})
                    start = time.perf_counter()
                    page.goto(url + path)
                    if ready == "ace":
                        frame = page.frame_locator('iframe[title*="streamlit_ace"]')
                        frame.locator(".ace_content").wait_for(timeout=30_000)
                    else:
                        page.locator("table").first.wait_for(timeout=30_000)
                    page.locator('[data-testid="stApp"][data-test-script-state="notRunning"]').wait_for(timeout=30_000)
                    bucket.append(time.perf_counter() - start)
                    page.close()
            browser.close()
        h, e = statistics.median(home), statistics.median(editor)
        print(f"browser (Debian chromium), median of {PAGE_LOADS} fresh page loads:")
        print(f"  Home page interactive                       {h * 1000:7.0f} ms")
        print(f"  Editor page interactive (Ace ready)         {e * 1000:7.0f} ms")
        print(f"  ratio Editor / Home                         {e / h:7.2f} x")
    finally:
        server.terminate()
        server.wait(timeout=10)


if __name__ == "__main__":
    server_side()
    browser_side()
