"""Configurable Agents: LLM agent workflows written in YAML.

The public API::

    from agents_core import load_workflow, validate_workflow, run_workflow, resume_run

    report = validate_workflow("examples/article_writer.yaml")
    result = run_workflow("examples/article_writer.yaml", {"topic": "tide pools"})
    print(result.status, result.outputs)

    for event in stream_run("examples/review_loop.yaml", {"topic": "cats"}):
        print(event.kind)

Validation imports no LLM library; the run functions load LangGraph and
LangChain on first use, so ``import agents_core`` stays fast.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from agents_core.config.validator import ValidationReport, validate_file, validate_text, validate_workflow
from agents_core.errors import AgentsError, Problem, ValidationFailed
from agents_core.workflow import load_workflow

if TYPE_CHECKING:
    from agents_core.engine.events import RunResult
    from agents_core.engine.runner import (
        aresume_run,
        arun_workflow,
        astream_resume,
        astream_run,
        resume_run,
        run_workflow,
        stream_resume,
        stream_run,
    )

_RUNNER_API = {
    "run_workflow",
    "arun_workflow",
    "stream_run",
    "astream_run",
    "resume_run",
    "aresume_run",
    "stream_resume",
    "astream_resume",
}

__all__ = [
    "AgentsError",
    "Problem",
    "RunResult",
    "ValidationFailed",
    "ValidationReport",
    "aresume_run",
    "arun_workflow",
    "astream_resume",
    "astream_run",
    "load_workflow",
    "resume_run",
    "run_workflow",
    "stream_resume",
    "stream_run",
    "validate_file",
    "validate_text",
    "validate_workflow",
]
__version__ = "0.1.0"


def __getattr__(name: str) -> Any:
    """Load the runner (LangGraph, LangChain) only when a run function is first used."""
    if name in _RUNNER_API:
        from agents_core.engine import runner

        return getattr(runner, name)
    if name == "RunResult":
        from agents_core.engine.events import RunResult

        return RunResult
    raise AttributeError(f"module 'agents_core' has no attribute {name!r}")
