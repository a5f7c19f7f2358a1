"""Where a run's task executes: in this process (:mod:`.inprocess`) or on a Celery worker (:mod:`.celery`).

The run service asks one question of the setting: run here, or hand the run's
id to a broker. ``AGENTS_EXECUTOR`` (``inprocess`` by default, or ``celery``)
or the service's ``executor`` argument chooses; :func:`make_executor` is the
one place that turns the name into an executor. Celery is imported only when
it is chosen.
"""

from __future__ import annotations

import os
from typing import Any

from agents_core.errors import InputError

INPROCESS, CELERY = "inprocess", "celery"
EXECUTOR_ENV = "AGENTS_EXECUTOR"
EXECUTORS = (INPROCESS, CELERY)
#: The Celery queue runs are sent to and workers read by default.
DEFAULT_QUEUE = "configurable-agents"


def executor_name_from_env() -> str:
    """``$AGENTS_EXECUTOR`` (lower-cased), ``inprocess`` when unset."""
    return (os.environ.get(EXECUTOR_ENV) or INPROCESS).strip().lower()


def make_executor(choice: Any = None) -> Any:
    """An executor from a name (``inprocess``, ``celery``), an executor as it is, or ``$AGENTS_EXECUTOR``."""
    if choice is not None and not isinstance(choice, str):
        return choice
    name = (choice or executor_name_from_env()).strip().lower()
    if name == INPROCESS:
        from agents_core.runs.executors.inprocess import InProcessExecutor

        return InProcessExecutor()
    if name == CELERY:
        from agents_core.runs.executors.celery import CeleryExecutor

        return CeleryExecutor()
    raise InputError(
        f"{EXECUTOR_ENV}={name!r} is not an executor; known executors: {', '.join(EXECUTORS)}.",
        f"Set {EXECUTOR_ENV} to one of: {', '.join(EXECUTORS)}.",
    )
