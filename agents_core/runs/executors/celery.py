"""Runs on Celery workers, with Redis as the broker: the message is only a run id; the store is the truth.

::

    API  start ─► row `queued` (executor=celery) ─► send run id (bounded timeout; a failure leaves it queued)
    worker task(run id) ─► RunService.execute_queued: claim the row atomically ─► run here (resume if checkpointed)
    worker sweeper (every few s) ─► dead owner: re-queue (attempts counted in the row) or `failed` at the limit
                                 └► `queued` and not sent (or sent long ago): send again

Delivery is at least once (``task_acks_late``, ``task_reject_on_worker_lost``,
prefetch 1), and a duplicate is harmless: a task whose run is owned by a live
owner, or already over, does nothing. So the broker's visibility timeout can
stay short, and a lost message (Redis restarted empty, publish failed) is sent
again by the sweeper: an accepted run is never lost.

Module attribute :data:`app` is the Celery app for ``celery -A
agents_core.runs.executors.celery worker``; ``configurable-agents worker`` starts
the same worker. Importing this module imports Celery: only the ``celery``
executor and the worker do.
"""

from __future__ import annotations

import logging
import os
import threading
from typing import Any

from celery import Celery, signals

from agents_core.errors import InputError
from agents_core.runs.executors import DEFAULT_QUEUE

log = logging.getLogger(__name__)

BROKER_ENV = "CELERY_BROKER_URL"
TASK_NAME = "configurable_agents.execute_run"
#: Seconds a publish may take (connection retries included) before the run is left ``queued`` for the sweeper.
PUBLISH_TIMEOUT = float(os.environ.get("AGENTS_PUBLISH_TIMEOUT", "1"))
#: Seconds before Redis hands an unacknowledged message to another worker (short is safe: see above).
VISIBILITY_TIMEOUT = float(os.environ.get("AGENTS_VISIBILITY_TIMEOUT", "60"))
#: Seconds between two sweeps of a worker.
SWEEP_SECONDS = float(os.environ.get("AGENTS_SWEEP_SECONDS", "2"))
#: Seconds after which a ``queued`` run that was sent is sent again (its message may be lost).
RESEND_AFTER_SECONDS = float(os.environ.get("AGENTS_RESEND_AFTER", "30"))


def broker_url_from_env() -> str:
    """``$CELERY_BROKER_URL``; a clear error when it is missing."""
    url = os.environ.get(BROKER_ENV, "").strip()
    if not url:
        raise InputError(
            f"the celery executor needs a broker, and {BROKER_ENV} is not set.",
            f"Set {BROKER_ENV}=redis://HOST:6379/0 (or use AGENTS_EXECUTOR=inprocess).",
        )
    return url


def make_app(broker_url: str | None = None) -> Celery:
    """A Celery app on ``broker_url`` (default ``$CELERY_BROKER_URL``) with the redelivery-safe settings."""
    url = broker_url or os.environ.get(BROKER_ENV) or "redis://127.0.0.1:6379/0"
    app = Celery("configurable_agents", broker=url, set_as_current=False)
    app.conf.update(
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        task_ignore_result=True,
        task_default_queue=DEFAULT_QUEUE,
        task_serializer="json",
        accept_content=["json"],
        broker_connection_retry_on_startup=True,
        broker_connection_timeout=PUBLISH_TIMEOUT,
        broker_transport_options={
            "visibility_timeout": VISIBILITY_TIMEOUT,
            "socket_timeout": PUBLISH_TIMEOUT,
            "socket_connect_timeout": PUBLISH_TIMEOUT,
            # kombu retries a refused connection for up to broker_connection_timeout: quickly, not every 2 s
            "interval_start": 0,
            "interval_step": 0.2,
            "interval_max": 0.5,
        },
        worker_hijack_root_logger=False,
        worker_send_task_events=False,
        worker_enable_remote_control=False,
        enable_utc=True,
    )
    app.task(name=TASK_NAME, bind=True, acks_late=True, ignore_result=True)(_execute_run)
    return app


class CeleryExecutor:
    """Hands run ids to Celery workers; the run service writes the row first, so a failed send loses nothing."""

    name = "celery"

    def __init__(self, broker_url: str | None = None, *, app: Celery | None = None, queue: str = DEFAULT_QUEUE) -> None:
        self.app = app or make_app(broker_url or broker_url_from_env())
        self.queue = queue

    @property
    def broker_url(self) -> str:
        return str(self.app.conf.broker_url)

    def send(self, run_id: str) -> None:
        """Publish the run id once, within :data:`PUBLISH_TIMEOUT` s; raises when the broker cannot take it."""
        self.app.send_task(TASK_NAME, args=[run_id], queue=self.queue, retry=False)


# -- the worker side -------------------------------------------------------------------------
_SERVICES: dict[int, Any] = {}
_SERVICES_LOCK = threading.Lock()


def worker_service(app: Celery) -> Any:
    """This worker process's run service, re-sending through ``app``.

    Its store is the one ``default_service`` opens: ``$AGENTS_RUN_STORE`` (a path or a URL),
    else ``$DATABASE_URL``, else the workspace's file.
    """
    from agents_core.runs.service import RunService
    from agents_core.runs.store import default_store_target

    with _SERVICES_LOCK:
        service = _SERVICES.get(id(app))
        if service is None:
            # a worker tracks as the server does: every run into MLFLOW_TRACKING_URI when it is set
            uri = os.environ.get("MLFLOW_TRACKING_URI") or None
            service = _SERVICES[id(app)] = RunService(
                default_store_target(), executor=CeleryExecutor(app=app), tracking=bool(uri), tracking_uri=uri
            )
        return service


def _execute_run(task: Any, run_id: str) -> str:
    """The Celery task: run ``run_id`` here unless someone else owns it or it is over (then do nothing)."""
    outcome = worker_service(task.app).execute_queued(run_id)
    log.info("run %s: %s", run_id, outcome)
    return outcome


class Sweeper:
    """A daemon thread that calls :meth:`RunService.sweep` every :data:`SWEEP_SECONDS` (cheap and idempotent)."""

    def __init__(self, app: Celery, interval: float = SWEEP_SECONDS) -> None:
        self.app = app
        self.interval = interval
        self._stop = threading.Event()
        self.thread = threading.Thread(target=self._loop, name="configurable-agents-sweeper", daemon=True)

    def start(self) -> Sweeper:
        self.thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                worker_service(self.app).sweep(resend_after=RESEND_AFTER_SECONDS)
            except Exception as exc:  # a store or broker hiccup: the next sweep tries again
                log.warning("sweep failed: %s: %s", type(exc).__name__, exc)


_SWEEPERS: dict[int, Sweeper] = {}


@signals.worker_ready.connect(weak=False)
def _start_sweeper(sender: Any = None, **_: Any) -> None:
    app = getattr(sender, "app", None)
    if app is None or TASK_NAME not in app.tasks:
        return
    if id(app) not in _SWEEPERS:
        _SWEEPERS[id(app)] = Sweeper(app).start()
        print(f"configurable-agents worker ready (pid {os.getpid()}); sweeping every {SWEEP_SECONDS:g} s", flush=True)


@signals.worker_shutdown.connect(weak=False)
def _stop_sweeper(sender: Any = None, **_: Any) -> None:
    for sweeper in _SWEEPERS.values():
        sweeper.stop()


#: The app for ``celery -A agents_core.runs.executors.celery worker`` (broker from ``$CELERY_BROKER_URL``).
app = make_app()
