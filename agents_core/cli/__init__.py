"""The ``configurable-agents`` command: a thin face over the library.

Each command parses its arguments, calls one library function, renders the
result; exit codes are decided in ``cli.output`` and nowhere else:
0 ok, 1 a workflow run failed, 2 bad usage or an invalid workflow.
Heavy libraries (LangChain, MLflow, Streamlit) are never imported on the
``--help``, ``validate`` and ``schema`` paths, so they start fast.
"""

from __future__ import annotations

import os

from agents_core.cli import (  # noqa: F401  (each registers its command)
    costs,
    deploy,
    estimate,
    migrate,
    run,
    runs,
    schema,
    serve,
    ui,
    validate,
    worker,
)
from agents_core.cli.app import app
from agents_core.cli.output import plain_warnings

__all__ = ["app", "main"]


def main() -> None:
    """Entry point of the console script."""
    # pydantic's plugin discovery scans every installed package's metadata (~30 ms a start);
    # the CLI uses no pydantic plugins.
    os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")
    plain_warnings()
    app()


if __name__ == "__main__":
    main()
