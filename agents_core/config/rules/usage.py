"""Rule 7 (warnings): state fields nobody uses, fields read but never set, DSPy settings."""

from __future__ import annotations

from agents_core.config.rules.context import Context
from agents_core.config.rules.nodes import check_template


def check_usage(ctx: Context) -> None:
    run_name = ctx.section("config", "observability", "mlflow").get("run_name")
    if isinstance(run_name, str):
        _note_run_name_reads(ctx, run_name)
    written: set[str] = set()
    for _, node in ctx.nodes():
        outputs = node.get("outputs")
        if isinstance(outputs, list):
            written.update(o for o in outputs if isinstance(o, str))
    for name, spec in ctx.state_fields().items():
        if not isinstance(spec, dict) or name not in ctx.state_types:
            continue
        path = ("state", "fields", name)
        read = name in ctx.reads
        if not read and name not in written:
            ctx.add(
                "W-STATE-UNUSED",
                path,
                f"state field {name!r} is never read nor written by any node.",
                "Remove it, or use it in a prompt, an input, a condition or `outputs`.",
                at_key=True,
            )
        elif read and name not in written and spec.get("required") is not True and spec.get("default") is None:
            ctx.add(
                "W-STATE-UNSET",
                path,
                f"state field {name!r} is read but never written, required or given a default, so it may be empty.",
                "Mark it `required: true`, give it a `default`, or write it from an earlier node.",
                at_key=True,
            )
    _check_optimization(ctx)


def _note_run_name_reads(ctx: Context, run_name: str) -> None:
    """{state.x} in the MLflow run name counts as a read; {flow.name} and {timestamp} are allowed."""
    allowed = {"flow.name", "timestamp"}
    cleaned = run_name
    for token in allowed:
        cleaned = cleaned.replace("{" + token + "}", " " * (len(token) + 2))  # keep offsets
    check_template(ctx, ("config", "observability", "mlflow", "run_name"), cleaned, {"timestamp"}, bare_state=False)


def _check_optimization(ctx: Context) -> None:
    if ctx.section("optimization").get("enabled") is True:
        ctx.add(
            "W-OPTIMIZATION",
            ("optimization", "enabled"),
            "optimization is enabled, but DSPy optimization is not applied yet; runs use the prompts as written.",
            "Set `enabled: false` to silence this, or keep it to opt in once it ships.",
        )
    for index, node in ctx.nodes():
        optimize = node.get("optimize")
        if isinstance(optimize, dict) and optimize.get("enabled") is True:
            ctx.add(
                "W-OPTIMIZATION",
                ("nodes", index, "optimize", "enabled"),
                f"node {node.get('id')!r} asks for optimization, which is not applied yet.",
                "Runs use the prompt as written.",
            )
