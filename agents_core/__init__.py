"""Configurable Agents: LLM agent workflows written in YAML.

The public API, importable without loading any LLM library::

    from agents_core import load_workflow, validate_workflow

    report = validate_workflow("examples/article_writer.yaml")
    for problem in report.problems:
        print(problem.describe())
"""

from __future__ import annotations

from agents_core.config.validator import ValidationReport, validate_file, validate_text, validate_workflow
from agents_core.errors import AgentsError, Problem, ValidationFailed
from agents_core.workflow import load_workflow

__all__ = [
    "AgentsError",
    "Problem",
    "ValidationFailed",
    "ValidationReport",
    "load_workflow",
    "validate_file",
    "validate_text",
    "validate_workflow",
]
__version__ = "0.1.0"
