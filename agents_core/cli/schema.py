"""``configurable-agents schema``: the JSON Schema of the file format, for editors."""

from __future__ import annotations

import sys

from agents_core.cli.app import app


@app.command()
def schema() -> None:
    """Print the JSON Schema (draft 2020-12) of the workflow file format."""
    from agents_core.config.schema import workflow_json_schema_text

    sys.stdout.write(workflow_json_schema_text())
