"""``load_workflow``: a validated workflow model, or an error listing every problem."""

from __future__ import annotations

import os
from typing import Any

from agents_core.config.models import Workflow
from agents_core.config.validator import validate_workflow
from agents_core.errors import ValidationFailed


def load_workflow(source: str | os.PathLike[str] | dict[str, Any]) -> Workflow:
    """Read and validate a workflow; raise :class:`ValidationFailed` carrying all problems.

    Warnings do not stop loading; they stay available through
    :func:`validate_workflow`.
    """
    report = validate_workflow(source)
    if report.workflow is None:
        errors = report.errors
        first = errors[0].describe() if errors else "the workflow is invalid."
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        raise ValidationFailed(
            f"{report.file or 'workflow'}: {first}{more}",
            "Run `configurable-agents validate FILE` to see every problem.",
            errors,
        )
    return report.workflow
