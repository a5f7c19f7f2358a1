"""Configurable Agents: LLM agent workflows written in YAML.

The public API::

    from agents_core import load_workflow, validate_workflow, run_workflow, resume_run

    report = validate_workflow("examples/article_writer.yaml")
    result = run_workflow("examples/article_writer.yaml", {"topic": "tide pools"})
    print(result.status, result.outputs)

    for event in stream_run("examples/review_loop.yaml", {"topic": "cats"}):
        print(event.kind)

Everything is imported on first use (PEP 562): validation loads pydantic and
PyYAML, the run functions LangGraph and LangChain, and ``import agents_core``
itself loads nothing, so the CLI starts fast.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from agents_core.config.validator import ValidationReport, validate_file, validate_text, validate_workflow
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
    from agents_core.errors import AgentsError, Problem, ValidationFailed
    from agents_core.workflow import load_workflow

#: Public name -> the module that defines it.
_LOCATIONS = {
    "ValidationReport": "agents_core.config.validator",
    "validate_file": "agents_core.config.validator",
    "validate_text": "agents_core.config.validator",
    "validate_workflow": "agents_core.config.validator",
    "AgentsError": "agents_core.errors",
    "Problem": "agents_core.errors",
    "ValidationFailed": "agents_core.errors",
    "load_workflow": "agents_core.workflow",
    "RunResult": "agents_core.engine.events",
    **{
        name: "agents_core.engine.runner"
        for name in (
            "run_workflow",
            "arun_workflow",
            "stream_run",
            "astream_run",
            "resume_run",
            "aresume_run",
            "stream_resume",
            "astream_resume",
        )
    },
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
    """Import a public name's module on first use."""
    module = _LOCATIONS.get(name)
    if module is None:
        raise AttributeError(f"module 'agents_core' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
