"""Observability: runs mirrored into MLflow, redaction of what leaves the process, retention.

``agents_core.observability`` imports nothing heavy: MLflow is imported by the
writer thread when it first writes. Faces turn tracking on per run with
``RunService.start(..., tracking=True)``; :func:`tracking_enabled_in` gives
the default of a toggle from the workflow file.
"""

from agents_core.observability.redact import redact, redact_text
from agents_core.observability.settings import TrackingSettings, resolve_settings, tracking_enabled_in


def _register_prune_hook() -> None:
    """``costs prune`` deletes the MLflow copies of the runs it deletes (MLflow loads only when it prunes)."""
    from agents_core.costs.prune import register_prune_hook

    def forget_in_mlflow(run_ids: list[str], older_than_days: float | None) -> int:
        from agents_core.observability.retention import forget_in_mlflow as forget

        return forget(run_ids, older_than_days)

    register_prune_hook(forget_in_mlflow)


_register_prune_hook()

__all__ = ["TrackingSettings", "prune", "redact", "redact_text", "resolve_settings", "tracking_enabled_in"]


def __getattr__(name: str):  # prune and the tracker load MLflow-facing code only when asked for
    if name == "prune":
        from agents_core.observability.retention import prune

        return prune
    if name == "MlflowTracker":
        from agents_core.observability.tracker import MlflowTracker

        return MlflowTracker
    raise AttributeError(name)
