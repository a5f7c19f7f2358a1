"""The JSON Schema (draft 2020-12) of the workflow file, for editors and tests.

Generated from the pydantic models, so descriptions written once in
``models.py`` appear in VS Code's completion popups, the config reference
and here.
"""

from __future__ import annotations

import json
from typing import Any

SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"
SCHEMA_ID = "https://configurable-agents.dev/schema/workflow-1.0.json"


def workflow_json_schema() -> dict[str, Any]:
    """The schema of a workflow file (by alias: `from`, `schema`)."""
    from agents_core.config.models import Workflow

    schema = Workflow.model_json_schema(by_alias=True, mode="validation")
    return {"$schema": SCHEMA_DIALECT, "$id": SCHEMA_ID, **schema}


def workflow_json_schema_text() -> str:
    return json.dumps(workflow_json_schema(), indent=2, ensure_ascii=False) + "\n"
