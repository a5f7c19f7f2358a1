"""Configurable Agents: LLM agent workflows written in YAML.

The public API::

    from agents_core import load_workflow, validate_workflow, run_workflow, resume_run

    report = validate_workflow("examples/article_writer.yaml")
    result = run_workflow("examples/article_writer.yaml", {"topic": "tide pools"})
    print(result.status, result.outputs)

    for event in stream_run("examples/review_loop.yaml", {"topic": "cats"}):
        print(event.kind)

Every error these functions raise on purpose is an :class:`AgentsError`
(``ValidationFailed``, ``ParseError``, ``InputError``, ``RunError`` and its
kinds, ...), exported here, so ``except agents_core.AgentsError`` catches them
all. Plugins register with ``register_provider`` / ``register_tool``, or
through entry points (see the README's "Plugins").

Everything is imported on first use (PEP 562): validation loads pydantic and
PyYAML, the run functions LangGraph and LangChain, and ``import agents_core``
itself loads nothing, so the CLI starts fast.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from agents_core.config.validator import ValidationReport, validate_file, validate_text, validate_workflow
    from agents_core.engine.events import RunEvent, RunResult
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
    from agents_core.errors import (
        AgentsError,
        BudgetExceeded,
        BudgetUnenforceable,
        DeployError,
        DeployOptionError,
        DockerUnavailable,
        EnvFileError,
        FileExists,
        InputError,
        InvalidStructuredOutput,
        LoopLimitExceeded,
        MonthlyBudgetReached,
        NodeError,
        NodeTimeoutError,
        ParseError,
        PricingFileError,
        Problem,
        ProviderError,
        ProviderUnavailable,
        RunCancelled,
        RunConflict,
        RunError,
        RunNotFound,
        StoreError,
        ToolError,
        ValidationFailed,
        WorkflowFileError,
        WorkspaceError,
    )
    from agents_core.llm.pricing import Cost, calculate_cost
    from agents_core.llm.registry import ProviderInfo, register_provider
    from agents_core.tools.registry import ToolInfo, register_tool
    from agents_core.workflow import load_workflow

#: The error types the public functions raise, all under ``AgentsError`` (see ``agents_core.errors``).
_ERRORS = (
    "AgentsError",
    "WorkflowFileError",
    "ParseError",
    "ValidationFailed",
    "RunError",
    "NodeError",
    "ProviderError",
    "ProviderUnavailable",
    "ToolError",
    "NodeTimeoutError",
    "InputError",
    "InvalidStructuredOutput",
    "LoopLimitExceeded",
    "BudgetExceeded",
    "MonthlyBudgetReached",
    "BudgetUnenforceable",
    "PricingFileError",
    "RunNotFound",
    "RunConflict",
    "RunCancelled",
    "StoreError",
    "DeployError",
    "DockerUnavailable",
    "EnvFileError",
    "DeployOptionError",
    "WorkspaceError",
    "FileExists",
)
_RUNNER = (
    "run_workflow",
    "arun_workflow",
    "stream_run",
    "astream_run",
    "resume_run",
    "aresume_run",
    "stream_resume",
    "astream_resume",
)

#: Public name -> the module that defines it.
_LOCATIONS = {
    "ValidationReport": "agents_core.config.validator",
    "validate_file": "agents_core.config.validator",
    "validate_text": "agents_core.config.validator",
    "validate_workflow": "agents_core.config.validator",
    "Problem": "agents_core.errors",
    **dict.fromkeys(_ERRORS, "agents_core.errors"),
    "load_workflow": "agents_core.workflow",
    "RunEvent": "agents_core.engine.events",
    "RunResult": "agents_core.engine.events",
    **dict.fromkeys(_RUNNER, "agents_core.engine.runner"),
    "Cost": "agents_core.llm.pricing",
    "calculate_cost": "agents_core.llm.pricing",
    "ProviderInfo": "agents_core.llm.registry",
    "register_provider": "agents_core.llm.registry",
    "ToolInfo": "agents_core.tools.registry",
    "register_tool": "agents_core.tools.registry",
}

__all__ = [
    "AgentsError",
    "BudgetExceeded",
    "BudgetUnenforceable",
    "Cost",
    "DeployError",
    "DeployOptionError",
    "DockerUnavailable",
    "EnvFileError",
    "FileExists",
    "InputError",
    "InvalidStructuredOutput",
    "LoopLimitExceeded",
    "MonthlyBudgetReached",
    "NodeError",
    "NodeTimeoutError",
    "ParseError",
    "PricingFileError",
    "Problem",
    "ProviderError",
    "ProviderInfo",
    "ProviderUnavailable",
    "RunCancelled",
    "RunConflict",
    "RunError",
    "RunEvent",
    "RunNotFound",
    "RunResult",
    "StoreError",
    "ToolError",
    "ToolInfo",
    "ValidationFailed",
    "ValidationReport",
    "WorkflowFileError",
    "WorkspaceError",
    "__version__",
    "aresume_run",
    "arun_workflow",
    "astream_resume",
    "astream_run",
    "calculate_cost",
    "load_workflow",
    "register_provider",
    "register_tool",
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
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
