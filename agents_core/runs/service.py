"""The run service: the one object every face uses to start, follow, cancel and resume runs.

A run has one owner, this service, from claim to terminal status::

    start / resume ─► claim the row (atomic) ─► task on the runs loop ─► run_started … run_finished
                                                  │  every event: seq, appended to run_events, then observers
                                                  └─ watcher: heartbeat every 2 s, cancel requests polled every 0.5 s

Every exit path of the task (success, failure, cancel, an exception in the
engine or the store, a ``BaseException``) writes a terminal status and the
``run_finished`` event in one transaction. ``get``/``list`` (and the service's
start) turn a ``running`` run whose owner is gone into ``interrupted``. Faces
read events with :meth:`RunService.events` (replay from any ``seq``, then
follow live; it works from another process too, by polling the table).

A store that becomes unreachable mid-run (a PostgreSQL restart) ends the run
``failed`` with a ``StoreUnavailable`` reason naming the store; its end is
retried for :data:`FINISH_RETRY_SECONDS`, and a row this process stopped
running without recording its end is reaped as ``interrupted``, never left
``running``.

The store is passed in; :func:`default_service` is the one place that reads
``AGENTS_RUN_STORE`` or the workspace, for the faces.

Where runs execute is the ``executor`` (``inprocess``, the default, or
``celery``; ``$AGENTS_EXECUTOR`` when not given). With ``celery``, ``start``
writes the row ``queued`` and sends its id to the broker; a worker's service
claims it in :meth:`RunService.execute_queued`, and every worker's
:meth:`RunService.sweep` re-queues runs whose owner died (up to
``max_attempts``, counted in the row) and sends again runs left ``queued``.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
import os
import threading
import time
import uuid
import weakref
from collections.abc import AsyncIterator, Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from agents_core.engine.events import RunEvent, RunFinished, RunResult, RunStarted, event_from_dict
from agents_core.errors import RunConflict, RunError, category_of, describe_exception
from agents_core.runs.budgets import check_monthly_budget, monthly_budget
from agents_core.runs.event_batch import EventBatch, QueuedEvent
from agents_core.runs.executors import CELERY, make_executor
from agents_core.runs.executors.inprocess import InProcessExecutor, RunTask, running_loop
from agents_core.runs.lifecycle import (
    ACTIVE_STATUSES,
    CANCEL_POLL_SECONDS,
    CANCELLED,
    FAILED,
    HEARTBEAT_SECONDS,
    INTERRUPTED,
    MAX_ATTEMPTS,
    QUEUED,
    RESUMABLE_STATUSES,
    RUNNING,
    SUCCESS,
    TERMINAL_STATUSES,
    current_owner,
    owner_gone,
)
from agents_core.runs.savers import SharedCheckpointer
from agents_core.runs.store import RunInfo, RunStore, StoredEvent, open_store

log = logging.getLogger(__name__)

#: How long a run's end is retried while the store is unreachable (a PostgreSQL restart, a fail-over).
FINISH_RETRY_SECONDS = 60.0
#: How long an async start reuses the checks of an earlier start of the same workflow (see RunService.astart).
PREPARED_SECONDS = 1.0

#: The runs this process executes now (over all its services): a row owned by this process's token
#: that is not in here was left behind (its end could not be recorded) and is reaped as interrupted.
_PROCESS_RUNS: collections.Counter[str] = collections.Counter()
_PROCESS_RUNS_LOCK = threading.Lock()


def _mark_process_run(run_id: str, delta: int) -> None:
    """Count this process's claims of a run (two concurrent resumes of one run each count until they end)."""
    with _PROCESS_RUNS_LOCK:
        _PROCESS_RUNS[run_id] += delta
        if _PROCESS_RUNS[run_id] <= 0:
            del _PROCESS_RUNS[run_id]


@runtime_checkable
class Observer(Protocol):
    """Hears every event of every run the service owns, in order, from the run's own task."""

    def on_event(self, event: RunEvent) -> None: ...


class _CallableObserver:
    def __init__(self, function: Callable[[RunEvent], None]) -> None:
        self.function = function
        self.name = getattr(function, "__qualname__", repr(function))

    def on_event(self, event: RunEvent) -> None:
        self.function(event)


@dataclass
class _Live:
    """A run this service executes now."""

    run_id: str
    changed: threading.Condition = field(default_factory=threading.Condition)
    task: RunTask | None = None
    finished: bool = False
    #: Its ``run_finished`` once the store has it (so a waiter in this process needs no read).
    ended: RunFinished | None = None
    _waiters: list[tuple[asyncio.AbstractEventLoop, asyncio.Future[RunFinished | None]]] = field(default_factory=list)

    def notify(self) -> None:
        with self.changed:
            self.changed.notify_all()

    def end(self, event: RunFinished | None) -> None:
        """The run is over: ``event`` is its recorded ``run_finished`` (``None``: its end could not be recorded)."""
        with self.changed:
            self.ended, self.finished = event, True
            waiters, self._waiters = self._waiters, []
            self.changed.notify_all()
        here = running_loop()
        for loop, future in waiters:
            if loop is here:  # a waiter on the loop the run ended on (a server's request): no wake-up through the pipe
                future.done() or future.set_result(event)
                continue
            with contextlib.suppress(RuntimeError):  # the waiter's loop is closed: nobody waits any more
                loop.call_soon_threadsafe(lambda f=future: f.done() or f.set_result(event))

    def listen(self) -> asyncio.Future[RunFinished | None] | None:
        """A future of its end on the running loop; ``None`` when it is over already (see :attr:`ended`)."""
        loop = asyncio.get_running_loop()
        with self.changed:
            if self.finished:
                return None
            future: asyncio.Future[RunFinished | None] = loop.create_future()
            self._waiters.append((loop, future))
            return future


class _LoopWatch:
    """Heartbeats and cancel requests of the runs a service executes on one loop, polled by one task.

    Why one task for all: a task per run, cancelled at the run's end, cost every run a task,
    a timer and a ``CancelledError`` whose traceback is garbage only the cycle collector
    frees. The task ends when the loop has no run left, and starts again with the next.
    """

    def __init__(self, service: RunService) -> None:
        self.service = service
        self.runs: dict[str, list[Any]] = {}  # run id -> [its main task, when it last beat]
        self.task: asyncio.Task[None] | None = None

    def add(self, run_id: str, main: asyncio.Task[Any] | None) -> None:
        self.runs[run_id] = [main, time.monotonic()]
        if self.task is None:
            self.task = asyncio.get_running_loop().create_task(self._poll(), name="configurable-agents-watch")

    def remove(self, run_id: str) -> None:
        self.runs.pop(run_id, None)

    async def _poll(self) -> None:
        try:
            while self.runs:
                await asyncio.sleep(CANCEL_POLL_SECONDS)
                for run_id, entry in list(self.runs.items()):
                    if run_id in self.runs:  # not ended meanwhile
                        self._check(run_id, entry)
        finally:
            self.task = None  # no await since the last look at self.runs: a run added now starts a new task

    def _check(self, run_id: str, entry: list[Any]) -> None:
        store, (main, last_beat) = self.service.store, entry
        try:
            if store.cancel_requested(run_id):
                self.runs.pop(run_id, None)
                if main is not None:
                    main.cancel()
                return
            if time.monotonic() - last_beat >= HEARTBEAT_SECONDS:
                store.heartbeat(run_id, self.service.owner)
                entry[1] = time.monotonic()
        except Exception as exc:  # a store hiccup must not end the run
            log.warning("run %s: heartbeat failed: %s", run_id, describe_exception(exc))


@dataclass(frozen=True)
class RunHandle:
    """A started (or resumed) run: follow its events, wait for its result, or cancel it."""

    service: RunService
    run_id: str
    #: When its row was written (UNIX seconds), for a run this handle started; else ``None``.
    created_at: float | None = field(default=None, compare=False)

    def events(self, after_seq: int = 0) -> Iterator[RunEvent]:
        return self.service.events(self.run_id, after_seq)

    def follow(self, after_seq: int = 0, *, cancel_on_interrupt: bool = False) -> Iterator[RunEvent]:
        """Like :meth:`events`; with ``cancel_on_interrupt`` a Ctrl+C while waiting cancels the run first."""
        try:
            yield from self.service.events(self.run_id, after_seq)
        except KeyboardInterrupt:
            if cancel_on_interrupt:
                self.service.cancel(self.run_id)
                with contextlib.suppress(TimeoutError, KeyboardInterrupt):
                    self.service.wait(self.run_id, timeout=10)
            raise

    def wait(self, timeout: float | None = None) -> RunResult:
        return self.service.wait(self.run_id, timeout)

    async def await_result(self, timeout: float | None = None) -> RunResult:
        return await self.service.await_run(self.run_id, timeout)

    def cancel(self) -> None:
        self.service.cancel(self.run_id)

    def info(self) -> RunInfo:
        return self.service.get(self.run_id)


class RunService:
    """Start, resume, follow, cancel and list runs kept in one store.

    ``observers`` (objects with ``on_event(event)``, or plain callables) hear every
    event in order from the run's task; one that raises is logged once and ignored.
    ``executor`` is where :meth:`start` sends runs: ``"inprocess"``, ``"celery"``,
    an executor object, or ``None`` for ``$AGENTS_EXECUTOR``. Runs this process
    executes itself (its own, or a worker's claimed ones) always run in-process.
    ``max_attempts`` bounds how often a worker run whose owner died is re-queued.
    ``origin`` names the face the service works for on the rows it writes (``"server"``).
    """

    def __init__(
        self,
        store: RunStore | str | os.PathLike[str],
        *,
        observers: Iterable[Observer | Callable[[RunEvent], None]] = (),
        executor: Any = None,
        max_attempts: int = MAX_ATTEMPTS,
        tracking: bool = False,
        tracking_uri: str | None = None,
        workspace: str | os.PathLike[str] | None = None,
        origin: str | None = None,
    ) -> None:
        self.store = open_store(store)
        self.origin = origin  # written on the rows of the runs it starts (RunInfo.origin), e.g. "server"
        self.tracking = tracking  # every run mirrored to MLflow (a server with MLFLOW_TRACKING_URI)
        self.tracking_uri = tracking_uri
        self.workspace = Path(workspace) if workspace else _workspace_of(self.store)
        self._tracker: Any = None
        self.observers: list[Any] = [o if hasattr(o, "on_event") else _CallableObserver(o) for o in observers]
        self.executor = make_executor(executor)
        self._local = self.executor if hasattr(self.executor, "submit") else InProcessExecutor()
        self._remote = self.executor if hasattr(self.executor, "send") else None
        self.max_attempts = max_attempts
        self.owner = current_owner()
        self._live: dict[str, _Live] = {}
        self._lock = threading.Lock()
        self._observer_failed: set[int] = set()
        self._batches: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, EventBatch] = weakref.WeakKeyDictionary()
        self._watches: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _LoopWatch] = weakref.WeakKeyDictionary()
        # per loop, the workflows whose models its runs share already, as (workflow, its prepared run, when):
        # their starts run inline (astart)
        self._warm_starts: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[tuple[Any, ...], Any]] = (
            weakref.WeakKeyDictionary()
        )
        # one checkpointer connection for the runs executing on the runs loop, not one per run
        self._savers = SharedCheckpointer(lambda: self.store.checkpointer())
        self.reap()

    async def arelease_loop(self) -> None:
        """Let go of what this service keeps open on the running loop (its checkpointer connection):
        for a face whose own loop executed runs and is about to end (a server's shutdown)."""
        await self._savers.aclose_here()
        with self._lock:
            self._batches.pop(asyncio.get_running_loop(), None)

    def add_observer(self, observer: Observer | Callable[[RunEvent], None]) -> None:
        """Hear every event of the runs started from now on."""
        self.observers.append(observer if hasattr(observer, "on_event") else _CallableObserver(observer))

    # -- tracking ---------------------------------------------------------------------------
    @property
    def tracker(self) -> Any:
        """The MLflow tracking observer, attached on first use (MLflow itself is imported only when writing)."""
        with self._lock:
            if self._tracker is None:
                from agents_core.observability.tracker import MlflowTracker

                self._tracker = MlflowTracker(self.workspace, tracking_uri=self.tracking_uri)
                self.observers.append(self._tracker)
            return self._tracker

    def _track(self, run_id: str, prepared: Any, tracking: bool | None) -> None:
        """Mirror the run into MLflow when asked (``tracking``), when the service tracks all, or the file says so."""
        from agents_core.observability.settings import tracking_enabled_in

        wanted = tracking if tracking is not None else (self.tracking or tracking_enabled_in(prepared.workflow))
        if not wanted:
            return
        try:
            self.tracker.track(run_id, prepared)
        except Exception as exc:  # the run is claimed already: it must start, tracked or not
            log.warning("run %s goes on untracked: MLflow tracking could not be set up: %s", run_id, exc)

    def flush_tracking(self, timeout: float | None = 30.0) -> bool:
        """Wait until the MLflow mirror of every ended run is written; False on timeout."""
        if self._tracker is None:
            return True
        ended = set()
        for run_id in self._tracker.open_runs():
            with contextlib.suppress(Exception):
                if self.store.get(run_id).status in TERMINAL_STATUSES:
                    ended.add(run_id)
        return self._tracker.flush(timeout, runs=ended)

    # -- starting ---------------------------------------------------------------------------
    def start(
        self,
        workflow: Any,
        inputs: Mapping[str, Any] | None = None,
        *,
        provider: str | None = None,
        model: str | None = None,
        run_id: str | None = None,
        inputs_as_text: bool = False,
        fallback_to_local: bool = True,
        max_cost_usd: float | None = None,
        tracking: bool | None = None,
    ) -> RunHandle:
        """Check and start a run; it goes on in the service's task whether or not anyone reads it.

        ``tracking`` mirrors it into MLflow (``True``), or not (``False``); ``None``
        follows the service and the workflow's ``config.observability.mlflow.enabled``.
        Raises before the run exists: ``ValidationFailed``, ``InputError``,
        ``ProviderError``, ``BudgetUnenforceable`` (a budget on an unpriced model),
        ``MonthlyBudgetReached``, and ``RunConflict`` for a ``run_id`` already used.
        ``max_cost_usd`` is this run's budget (over ``config.execution.max_cost_usd``).
        """
        prepared = self._prepare_new(workflow, inputs, provider, model, inputs_as_text, fallback_to_local, max_cost_usd)
        check_monthly_budget(self.store, prepared.workflow)
        return self._start_prepared(prepared, run_id, tracking)

    def _prepare_new(
        self,
        workflow: Any,
        inputs: Mapping[str, Any] | None,
        provider: str | None = None,
        model: str | None = None,
        inputs_as_text: bool = False,
        fallback_to_local: bool = True,
        max_cost_usd: float | None = None,
    ) -> Any:
        from agents_core.engine.runner import prepare_run

        return prepare_run(
            workflow,
            inputs,
            provider=provider,
            model=model,
            inputs_as_text=inputs_as_text,
            fallback_to_local=fallback_to_local,
            max_cost_usd=max_cost_usd,
            build_models=self._remote is None,  # a worker builds them; here they are only checked
            # runs here share their models with the other runs of the loop they execute on
            models_loop=self._models_loop(),
        )

    def _start_prepared(self, prepared: Any, run_id: str | None, tracking: bool | None) -> RunHandle:
        """Write the checked run's row and start it (here, or by sending it to the workers)."""
        run_id = run_id or uuid.uuid4().hex[:12]
        row = (run_id, prepared.name, prepared.file, prepared.text, prepared.inputs, prepared.overrides, QUEUED)
        # a run id that is taken already is a RunConflict from the store
        if self._remote is not None:  # a worker claims it; a failed send leaves it queued for the sweeper
            self.store.insert(*row, executor=self.executor.name, origin=self.origin)
            self._send(run_id)
            return RunHandle(self, run_id)
        _mark_process_run(run_id, +1)  # ours from before the row exists: born claimed by this process
        try:
            created = self.store.insert(*row, executor=self.executor.name, owner=self.owner, origin=self.origin)
        except BaseException:
            _mark_process_run(run_id, -1)
            raise
        self._track(run_id, prepared, tracking)
        return replace(self._launch(run_id, prepared, resumed=False, fresh=True), created_at=created)

    def _models_loop(self) -> asyncio.AbstractEventLoop | None:
        """The loop this service's next run executes on, if it says (runs there share their models)."""
        target = getattr(self._local, "target_loop", None)
        return target() if self._remote is None and target is not None else None

    async def astart(self, workflow: Any, inputs: Mapping[str, Any] | None = None, **options: Any) -> RunHandle:
        """:meth:`start` for async code.

        The first start of a workflow object on a loop runs in a thread: its checks build the models
        that loop's runs then share. Later starts of it run inline, as nothing in them waits any more
        but the run row's insert: the hop to a thread and back cost a server more than the start itself
        (the two threads handing the GIL to each other). They reuse the first start's checks of the
        workflow, its models and prices, and check only their inputs; those checks are made afresh
        once they are :data:`PREPARED_SECONDS` old (a changed pricing.yaml or key is seen that soon).
        A workflow given as a file or a dict, one with a monthly budget (a query of the month's spend)
        and runs for workers always start in a thread.
        """
        from agents_core.engine.runner import prepare_again

        key = self._inline_start_key(workflow, options)
        if key is None:
            return await asyncio.to_thread(self.start, workflow, inputs, **options)
        warm = self._warm_starts.setdefault(asyncio.get_running_loop(), {})
        held = warm.get(key)
        run_id, tracking = options.get("run_id"), options.get("tracking")
        checks = {k: v for k, v in options.items() if k not in ("run_id", "tracking", "inputs_as_text")}
        if held is not None and held[0] is workflow:
            if time.monotonic() - held[2] < PREPARED_SECONDS:
                prepared = prepare_again(held[1], inputs, inputs_as_text=options.get("inputs_as_text", False))
            else:  # the models are built: checking it all again blocks nothing
                prepared = self._prepare_new(
                    workflow, inputs, inputs_as_text=options.get("inputs_as_text", False), **checks
                )
                warm[key] = (workflow, prepared, time.monotonic())
            return self._start_prepared(prepared, run_id, tracking)
        prepared = await asyncio.to_thread(
            self._prepare_new, workflow, inputs, inputs_as_text=options.get("inputs_as_text", False), **checks
        )
        warm[key] = (workflow, prepared, time.monotonic())  # the workflow is held, so its id names no other
        return self._start_prepared(prepared, run_id, tracking)

    def _inline_start_key(self, workflow: Any, options: Mapping[str, Any]) -> tuple[Any, ...] | None:
        """What decides the models of a start (see :meth:`astart`), or None for a start never made inline."""
        from agents_core.config.models import Workflow

        if self._remote is not None or not isinstance(workflow, Workflow) or monthly_budget(workflow) is not None:
            return None
        return (
            id(workflow),
            options.get("provider"),
            options.get("model"),
            options.get("fallback_to_local", True),
            options.get("max_cost_usd"),
        )

    def resume(self, run_id: str, *, max_cost_usd: float | None = None, tracking: bool | None = None) -> RunHandle:
        """Continue a failed, cancelled or interrupted run from its last checkpoint.

        Refused (``RunConflict``) when the run succeeded or a live owner runs it;
        of two resumes at once exactly one wins. A run with no checkpoint raises
        (``RunError``) before any event, and its row keeps its status.
        ``max_cost_usd`` raises (or sets) the budget for this execution, e.g. after
        ``BudgetExceeded``; the spend of the nodes finished before counts against it.
        """
        from agents_core.engine.runner import prepare_resume

        info = self.get(run_id)  # RunNotFound; a dead owner's run becomes interrupted here
        if info.status == SUCCESS:
            raise RunConflict(f"run {run_id!r} already finished successfully.", "Start a new run instead.")
        if info.status in ACTIVE_STATUSES:
            owner = info.owner.describe() if info.owner else "an unknown owner"
            raise RunConflict(
                f"run {run_id!r} is {info.status} under {owner}; it cannot be resumed while it runs.",
                f"Wait for it, or cancel it first: configurable-agents runs cancel {run_id}",
            )
        if not self.store.has_checkpoint(run_id):
            raise RunError(
                f"run {run_id!r} has no checkpoint to resume from (it stopped before its first step).",
                "Start a new run instead.",
            )
        prepared = prepare_resume(
            run_id, info.workflow_text, info.workflow_file, info.workflow_name, info.overrides, max_cost_usd
        )
        check_monthly_budget(self.store, prepared.workflow)
        if not self._claim(run_id, RESUMABLE_STATUSES):
            now = self.store.get(run_id)
            owner = now.owner.describe() if now.owner else "another process"
            raise RunConflict(
                f"run {run_id!r} was just claimed by {owner} (status {now.status}).",
                "Only one resume runs; follow that one instead.",
            )
        self._track(run_id, prepared, tracking)
        return self._launch(run_id, prepared, resumed=True)

    def restart(self, run_id: str, *, tracking: bool | None = None) -> RunHandle:
        """Execute an ended, unsuccessful run again under the same id: from its last checkpoint
        when it has one (as :meth:`resume`), else from the start with the inputs it was given.

        What a server does with the jobs a dead process left: the client holds the run id,
        so the run keeps it, and its log goes on after the events it has. Refused like
        :meth:`resume` for a run that succeeded or that a live owner runs.
        """
        from agents_core.engine.runner import prepare_queued

        info = self.get(run_id)
        if info.status == SUCCESS or info.status in ACTIVE_STATUSES or self.store.has_checkpoint(run_id):
            return self.resume(run_id, tracking=tracking)
        args = (run_id, info.workflow_text, info.workflow_file, info.workflow_name)
        prepared = prepare_queued(*args, info.inputs, info.overrides)
        check_monthly_budget(self.store, prepared.workflow)
        if not self._claim(run_id, RESUMABLE_STATUSES):
            raise RunConflict(f"run {run_id!r} was just claimed by another owner.", "Follow that one instead.")
        self._track(run_id, prepared, tracking)
        return self._launch(run_id, prepared, resumed=False)

    async def aresume(self, run_id: str, **options: Any) -> RunHandle:
        return await asyncio.to_thread(self.resume, run_id, **options)

    def _claim(self, run_id: str, statuses: tuple[str, ...]) -> bool:
        """Claim the row for this process; the run counts as this process's from just before the claim."""
        _mark_process_run(run_id, +1)
        try:
            if self.store.claim(run_id, self.owner, statuses):
                return True
        except BaseException:
            _mark_process_run(run_id, -1)
            raise
        _mark_process_run(run_id, -1)
        return False

    def _launch(self, run_id: str, prepared: Any, resumed: bool, fresh: bool = False) -> RunHandle:
        live = _Live(run_id)
        with self._lock:
            self._live[run_id] = live
        live.task = self._local.submit(run_id, lambda: self._own(live, prepared, resumed, fresh))
        return RunHandle(self, run_id)

    # -- runs on workers ----------------------------------------------------------------------
    def _send(self, run_id: str) -> bool:
        """Hand the run id to the broker; on failure the run stays ``queued`` (a sweeper sends it again)."""
        if self._remote is None:
            return False
        try:
            self._remote.send(run_id)
        except Exception as exc:
            log.warning(
                "run %s stays queued: the broker did not take it (%s: %s); a worker's sweeper sends it again.",
                run_id,
                type(exc).__name__,
                describe_exception(exc),
            )
            return False
        with contextlib.suppress(Exception):  # only a hint for the sweeper; a failure means one more send
            self.store.mark_sent(run_id)
        return True

    def execute_queued(self, run_id: str, *, wait: bool = True) -> str:
        """A worker's job: claim a queued run and run it here (from its checkpoint if it has one).

        Safe to call for any delivery of the run's id, however often: a run that a
        live owner runs, or that is over, is left alone. A run whose owner died is
        re-queued first (counting an attempt), then claimed here. Returns what
        happened: ``"ran"``, ``"owned"`` (a live owner has it), ``"over"``, ``"taken"``
        (another worker claimed it first), ``"missing"`` or ``"failed"`` (it could not start).
        """
        from agents_core.engine.runner import prepare_queued, prepare_resume
        from agents_core.errors import RunNotFound

        try:
            info = self.get(run_id)  # a dead owner's run is re-queued here
        except RunNotFound:
            return "missing"
        if info.status == RUNNING:
            return "owned"
        if info.status != QUEUED or info.executor != CELERY:  # over, or a run its own process starts now
            return "over"
        if not self._claim(run_id, (QUEUED,)):
            return "taken"
        try:
            resumed = self.store.has_checkpoint(run_id)
            args = (run_id, info.workflow_text, info.workflow_file, info.workflow_name)
            if resumed:
                prepared = prepare_resume(*args, info.overrides)
            else:
                prepared = prepare_queued(*args, info.inputs, info.overrides)
        except Exception as exc:  # the saved workflow, its inputs or a provider key: fail it with the reason
            from agents_core.engine.runner import error_info

            result = RunResult(run_id, info.workflow_name, FAILED, {}, {}, [], error_info(exc))
            self._finish(_Live(run_id), result, self.store.last_seq(run_id) + 1)
            return "failed"
        # a worker's run is heard by this service's observers and tracked as an in-process run would be:
        # the worker's service tracks like the server's (MLFLOW_TRACKING_URI), else the file decides
        self._track(run_id, prepared, None)
        self._launch(run_id, prepared, resumed)
        live = self._live.get(run_id)  # gone already when the run was that quick
        if wait and live is not None and live.task is not None:
            live.task.join()
        return "ran"

    def sweep(self, *, resend_after: float = 30.0) -> dict[str, list[str]]:
        """One pass of a worker's sweeper (cheap, idempotent, safe in many processes at once).

        Runs whose owner is gone are re-queued (or failed at ``max_attempts``), and
        ``queued`` worker runs never sent, or sent more than ``resend_after`` s ago,
        are sent again. The ids touched, by what was done.
        """
        reaped = self.reap()
        resent: list[str] = []
        if self._remote is not None:
            now = time.time()
            for info in self.store.list(status=QUEUED, limit=None):
                due = info.sent_at is None or now - info.sent_at > resend_after
                if info.executor == CELERY and due and self._send(info.run_id):
                    resent.append(info.run_id)
        return {"reaped": reaped, "resent": resent}

    # -- the run's task ---------------------------------------------------------------------
    async def _own(self, live: _Live, prepared: Any, resumed: bool, fresh: bool = False) -> None:
        """The run from ``run_started`` to its terminal status; nothing escapes without writing one."""
        from agents_core.engine.runner import error_info, execute

        run_id = live.run_id
        seq = [0 if fresh else self.store.last_seq(run_id)]  # a row born ours has an empty log
        result: RunResult | None = None
        main = asyncio.current_task()
        watch = self._loop_watch()
        watch.add(run_id, main)
        escaping: BaseException | None = None

        batch = self._event_batch()
        stamped_seq = [seq[0]]  # the last seq given out; seq[0] is the last one in the log
        refused: list[BaseException] = []

        def written(stamped: RunEvent) -> None:
            seq[0] = stamped.seq
            self._observe(stamped)
            live.notify()

        def lost(error: BaseException) -> None:
            stamped_seq[0] = seq[0]  # the refused events never were: the next one follows the last written
            refused.append(error)

        def emit(event: RunEvent) -> None:
            if refused:  # the store refused an earlier event of this run: the run ends with that reason
                raise refused[-1]
            stamped = event.stamped(stamped_seq[0] + 1)
            stamped_seq[0] = stamped.seq
            batch.add(run_id, stamped, written, lost)

        try:
            emit(RunStarted(run_id, prepared.name, prepared.public_initial(), resumed, tuple(prepared.notices)))
            async with self._savers.use() as saver:
                result = await execute(prepared, run_id, saver, emit)
            if refused:
                raise refused[-1]
        except BaseException as exc:  # the engine, the store, a cancel outside a node, KeyboardInterrupt …
            cancelled = isinstance(exc, asyncio.CancelledError | KeyboardInterrupt)
            if isinstance(exc, asyncio.CancelledError) and main is not None:
                main.uncancel()
            elif not isinstance(exc, Exception):
                escaping = exc
            if not isinstance(exc, asyncio.CancelledError):
                log.error("run %s stopped by %s: %s", run_id, type(exc).__name__, describe_exception(exc))
            info = error_info(exc)
            store = self.store.unavailable(exc)
            if store is not None and not cancelled:
                info = type(info)(
                    None,
                    "StoreUnavailable",
                    f"run {run_id!r} lost its run store ({store}) mid-run: {describe_exception(exc)}",
                    f"The last finished node's checkpoint is kept. Once the database answers again, "
                    f"resume it with: configurable-agents run --resume {run_id}",
                    "run_failed",
                )
            if cancelled:
                info = type(info)(
                    None,
                    "RunCancelled",
                    f"run {run_id!r} was cancelled; the state of its last finished node is kept.",
                    f"Resume it with: configurable-agents run --resume {run_id}",
                    "cancelled",
                )
            result = RunResult(
                run_id, prepared.name, CANCELLED if cancelled else FAILED, {}, {}, [], info, list(prepared.notices)
            )
        finally:
            watch.remove(run_id)
            result = result or RunResult(run_id, prepared.name, FAILED, {}, {}, [], None)
            # the run's events still queued go in the transaction of its terminal status
            self._finish(live, result, seq[0] + 1, batch.take(run_id))
        if escaping is not None:
            raise escaping

    def _finish(self, live: _Live, result: RunResult, seq: int, pending: Sequence[QueuedEvent] = ()) -> None:
        """The run's queued events, terminal status and ``run_finished`` in one transaction, then the observers.

        ``seq`` is the seq after the last event in the log. Should the store refuse the
        queued events (not an outage: e.g. a full disk), they are dropped and the run
        ends ``failed`` with that reason right after what the log has.
        """
        pending = list(pending)
        deadline, pause = time.monotonic() + FINISH_RETRY_SECONDS, 0.2
        recorded = False
        while True:
            event = RunFinished(live.run_id, result).stamped(pending[-1].event.seq + 1 if pending else seq)
            error = result.error.to_dict() if result.error else None
            data = event.to_dict()  # its result's node records are the row's, turned into dicts once
            try:
                self.store.finish(
                    live.run_id,
                    result.status,
                    error,
                    result.outputs,
                    data["result"]["nodes"],
                    None,
                    (event.seq, event.kind, data["at"], data),
                    events=[item.row()[1:] for item in pending],
                    finished_at=event.at.timestamp(),
                )
                recorded = True
                break
            except Exception as exc:
                store = self.store.unavailable(exc)
                if store is not None and time.monotonic() < deadline:  # a database restart: wait for it
                    log.warning("run %s: %s is unreachable; retrying to record its end.", live.run_id, store)
                    time.sleep(pause)
                    pause = min(pause * 2, 5.0)
                    continue
                if pending and store is None:  # its last events were refused: end it failed, with the reason
                    from agents_core.engine.runner import error_info

                    log.error("run %s: its last events were refused: %s", live.run_id, describe_exception(exc))
                    notices = list(result.notices)
                    result = RunResult(live.run_id, result.workflow_name, FAILED, {}, {}, [], error_info(exc), notices)
                    pending = []
                    continue
                # the row is found interrupted by the next reap (see _reap_one), never left running
                log.error("run %s: could not record its end: %s", live.run_id, describe_exception(exc))
                break
        for item in pending:
            item.written(item.event)
        self._observe(event)
        live.end(event if recorded else None)  # an end the store lacks is only what a reader finds there
        with self._lock:
            self._live.pop(live.run_id, None)
        _mark_process_run(live.run_id, -1)

    def _loop_watch(self) -> _LoopWatch:
        """The running loop's watch of this service's runs (heartbeats, cancel requests)."""
        loop = asyncio.get_running_loop()
        with self._lock:
            watch = self._watches.get(loop)
            if watch is None:
                watch = self._watches[loop] = _LoopWatch(self)
        return watch

    def _event_batch(self) -> EventBatch:
        """The running loop's batch of events for this service's store (see :mod:`agents_core.runs.event_batch`)."""
        loop = asyncio.get_running_loop()
        with self._lock:
            batch = self._batches.get(loop)
            if batch is None:
                batch = self._batches[loop] = EventBatch(self.store, loop)
        return batch

    def _observe(self, event: RunEvent) -> None:
        for observer in self.observers:
            try:
                observer.on_event(event)
            except Exception as exc:
                if id(observer) not in self._observer_failed:
                    self._observer_failed.add(id(observer))
                    log.warning(
                        "observer %s failed on %s (%s: %s); the run goes on and further failures are not logged.",
                        getattr(observer, "name", type(observer).__name__),
                        event.kind,
                        type(exc).__name__,
                        describe_exception(exc),
                    )

    # -- reading ----------------------------------------------------------------------------
    def get(self, run_id: str) -> RunInfo:
        """The run (status, timestamps, owner, node records, outputs, error); ``RunNotFound`` if unknown."""
        info = self.store.get(run_id)
        if info.status in ACTIVE_STATUSES and self._reap_one(info):
            info = self.store.get(run_id)
        return info

    def list(
        self,
        status: str | Iterable[str] | None = None,
        workflow: str | None = None,
        since: float | None = None,
        limit: int | None = 50,
    ) -> list[RunInfo]:
        """Runs, newest first, filtered by status, workflow name and start time (UNIX seconds)."""
        runs = self.store.list(status=status, workflow=workflow, since=since, limit=limit)
        if any(info.status in ACTIVE_STATUSES and self._reap_one(info) for info in list(runs)):
            runs = self.store.list(status=status, workflow=workflow, since=since, limit=limit)
        return runs

    def count(self, status: str | Iterable[str]) -> int:
        """How many runs of the store have ``status``, every workflow and process (a cluster's queue length)."""
        return self.store.count(status)

    def spend(self, workflow: str | None = None, since: float | None = None, until: float | None = None) -> float:
        """USD spent by runs created in ``[since, until)`` (UNIX seconds), of one workflow or all; unpriced add nothing."""
        return self.store.spend(workflow=workflow, since=since, until=until)

    def reap(self) -> list[str]:
        """Mark every active run whose owner is gone ``interrupted``; the ids changed."""
        return [info.run_id for info in self.store.list(status=ACTIVE_STATUSES, limit=None) if self._reap_one(info)]

    def _reap_one(self, info: RunInfo) -> bool:
        if info.status == QUEUED and info.executor == CELERY:
            return False  # no owner yet by design: it waits for a worker (the sweeper sends it again)
        reason = owner_gone(info.owner, info.heartbeat_at)
        mine = info.owner is not None and info.owner.token == self.owner.token
        if reason is None and mine and info.run_id not in _PROCESS_RUNS:
            reason = "this process stopped running it without recording its end (its store was unreachable)"
        if reason is None:
            return False
        if info.executor == CELERY:
            return self._requeue(info, reason)

        sentence = f"run {info.run_id!r} was interrupted: {reason}."
        final = _interrupted_ending(info, INTERRUPTED, sentence)
        changed = self.store.interrupt(info.run_id, info.owner.token if info.owner else None, reason, final)
        if changed:
            log.warning("%s", sentence)
        return changed

    def _requeue(self, info: RunInfo, reason: str) -> bool:
        """A worker run whose owner died: interrupted, and back to ``queued`` (or ``failed`` at the limit)."""

        attempt = f"attempt {info.attempts} of {self.max_attempts}"
        if info.attempts < self.max_attempts:
            sentence = f"run {info.run_id!r} was interrupted on {attempt} ({reason}); it was queued again."
        else:
            sentence = (
                f"run {info.run_id!r} was interrupted on {attempt} ({reason}); no attempts are left, so it failed."
            )
        final = _interrupted_ending(info, FAILED, sentence)
        status = self.store.requeue(
            info.run_id, info.owner.token if info.owner else None, sentence, self.max_attempts, final
        )
        if status is None:
            return False
        log.warning("%s", sentence)
        if status == QUEUED:
            self._send(info.run_id)
        return True

    def _next_batch(self, run_id: str, after_seq: int) -> tuple[list[StoredEvent], bool]:
        """The logged events after ``after_seq``, and whether more may follow.

        The status is read before the events: a run that ended in between still has
        its ``run_finished`` in this batch (both are written in one transaction).
        """
        active = self.get(run_id).status in ACTIVE_STATUSES
        return self.store.events(run_id, after_seq), active

    def events(self, run_id: str, after_seq: int = 0, *, poll: float = 0.25, follow: bool = True) -> Iterator[RunEvent]:
        """The run's events after ``after_seq``: the log first, then live ones until the run ends.

        Stops after the event that ends the run (the row's status and ``run_finished``
        are written together). Another process's run is followed by polling every ``poll`` s.
        With ``follow=False`` only the events logged so far are given, without waiting
        (a page that redraws on a timer reads this way).
        """
        last = after_seq
        while True:
            rows, active = self._next_batch(run_id, last)
            for row in rows:
                last = row.seq
                yield event_from_dict(row.data)
            if not active or not follow:
                return
            if not rows:
                live = self._live.get(run_id)
                if live is not None:
                    with live.changed:
                        if self.store.last_seq(run_id) == last and not live.finished:
                            live.changed.wait(poll)
                else:
                    time.sleep(poll)

    async def aevents(self, run_id: str, after_seq: int = 0, *, poll: float = 0.25) -> AsyncIterator[RunEvent]:
        """:meth:`events` for async code (polls the log; 20 ms for runs of this process)."""
        last = after_seq
        while True:
            rows, active = self._next_batch(run_id, last)
            for row in rows:
                last = row.seq
                yield event_from_dict(row.data)
            if not active:
                return
            if not rows:
                await asyncio.sleep(0.02 if run_id in self._live else poll)

    def result(self, run_id: str) -> RunResult | None:
        """The result of the run's last execution (from its last ``run_finished``), or ``None`` while active."""
        event = self._finished_event(run_id)
        return event.result if event is not None else None

    def _finished_event(self, run_id: str) -> RunFinished | None:
        """The run's last ``run_finished`` in the store, or ``None`` while it is active."""
        info = self.get(run_id)
        if info.status not in TERMINAL_STATUSES:
            return None
        rows = self.store.events(run_id, max(info.last_seq - 1, 0))
        finished = [row for row in rows if row.kind == "run_finished"]
        if finished:
            event = event_from_dict(finished[-1].data)
            assert isinstance(event, RunFinished)
            return event
        return None

    def _end_through_outages(self, run_id: str, last_try: bool) -> RunFinished | None:
        """:meth:`_finished_event`, but ``None`` (not yet) while the store is unreachable, until the last try."""
        try:
            return self._finished_event(run_id)
        except Exception as exc:
            if last_try or self.store.unavailable(exc) is None:
                raise
            return None

    def wait(self, run_id: str, timeout: float | None = None, *, poll: float = 0.25) -> RunResult:
        """Block until the run ends; its result. ``TimeoutError`` after ``timeout`` seconds.

        A run this process executes is heard when it ends (no read); any other is read from the store.
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            live = self._live.get(run_id)
            if live is not None:
                with live.changed:
                    live.changed.wait_for(lambda live=live: live.finished, poll)
                if live.ended is not None:
                    return live.ended.result
                if not live.finished:  # still running here: nothing to read yet
                    if deadline is not None and time.monotonic() >= deadline:
                        raise TimeoutError(f"run {run_id!r} is still running after {timeout:g} s.")
                    continue
            event = self._end_through_outages(run_id, deadline is not None and time.monotonic() >= deadline)
            if event is not None:
                return event.result
            if deadline is not None and time.monotonic() >= deadline:
                raise TimeoutError(f"run {run_id!r} is still {self.get(run_id).status} after {timeout:g} s.")
            if live is None:
                time.sleep(poll)

    async def await_run(self, run_id: str, timeout: float | None = None) -> RunResult:
        """:meth:`wait` for async code."""
        return (await self.await_end(run_id, timeout)).result

    async def await_end(self, run_id: str, timeout: float | None = None, *, poll: float = 0.25) -> RunFinished:
        """The run's ``run_finished`` event (its result and when it ended), once it ends.

        A run this process executes wakes the waiter when its end is recorded (no polling,
        no read); a run executing elsewhere (a worker's) is looked for in the store every
        ``poll`` s. ``TimeoutError`` after ``timeout`` seconds.
        """
        loop = asyncio.get_running_loop()
        deadline = None if timeout is None else loop.time() + timeout
        while True:
            live = self._live.get(run_id)
            future = live.listen() if live is not None else None
            if future is not None:
                left = None if deadline is None else max(deadline - loop.time(), 0.0)
                with contextlib.suppress(TimeoutError):
                    ended = await asyncio.wait_for(future, left)
                    if ended is not None:
                        return ended
            elif live is not None and live.ended is not None:
                return live.ended
            last = deadline is not None and loop.time() >= deadline
            event = await asyncio.to_thread(self._end_through_outages, run_id, last)
            if event is not None:
                return event
            if deadline is not None and loop.time() >= deadline:
                status = (await asyncio.to_thread(self.get, run_id)).status
                raise TimeoutError(f"run {run_id!r} is still {status} after {timeout:g} s.")
            if future is None:
                await asyncio.sleep(poll if deadline is None else min(poll, max(deadline - loop.time(), 0.0)))

    def fail(self, run_id: str, message: str, hint: str = "") -> RunInfo:
        """Give up on a run that stopped without success and will not be tried again: it becomes ``failed``.

        For a face with a retry budget (the server resumes a job whose server died
        at most N times, then fails it with the reason). The status, the error and a
        ``run_finished`` event are written together; an active run is refused
        (``RunConflict``) and a run that succeeded is left as it is.
        """
        from agents_core.engine.events import RunErrorInfo

        info = self.get(run_id)
        if info.status in ACTIVE_STATUSES:
            raise RunConflict(f"run {run_id!r} is {info.status}; it cannot be given up while it runs.", "Cancel it.")
        if info.status == SUCCESS:
            return info
        error = RunErrorInfo(None, "RunGaveUp", message, hint, "run_failed")
        result = RunResult(run_id, info.workflow_name, FAILED, {}, {}, info.node_records, error)
        event = RunFinished(run_id, result).stamped(self.store.last_seq(run_id) + 1)
        self.store.finish(
            run_id,
            FAILED,
            error.to_dict(),
            {},
            info.nodes,
            message,
            (event.seq, event.kind, event.at.isoformat(), event.to_dict()),
        )
        self._observe(event)
        return self.get(run_id)

    # -- cancelling -------------------------------------------------------------------------
    def cancel(self, run_id: str) -> RunInfo:
        """Cancel a queued or running run, here or in another process (its owner polls within 0.5 s).

        The in-flight model call is cancelled, the status becomes ``cancelled``
        and the checkpoint before that node stays, so the run can be resumed.
        A run that has ended already is left as it is.
        """
        info = self.get(run_id)
        if info.status not in ACTIVE_STATUSES:
            return info
        if info.status == QUEUED and info.executor == CELERY and self._cancel_queued(info):
            return self.get(run_id)
        self.store.request_cancel(run_id)
        live = self._live.get(run_id)
        if live is not None and live.task is not None:
            live.task.cancel()
        return self.get(run_id)

    def _cancel_queued(self, info: RunInfo) -> bool:
        """A run no worker has claimed yet: cancelled at once (a later delivery finds it over)."""
        from agents_core.engine.events import RunErrorInfo

        error = RunErrorInfo(
            None,
            "RunCancelled",
            f"run {info.run_id!r} was cancelled before a worker started it.",
            "Start it again when you need it.",
            "cancelled",
        )
        return self.store.cancel_queued(info.run_id, _finished_row(info, CANCELLED, error))

    def shutdown(self, timeout: float = 10.0) -> None:
        """Cancel this service's runs and wait for their terminal status (for a face that exits)."""
        with self._lock:
            live = list(self._live.values())
        for run in live:
            self.cancel(run.run_id)
        for run in live:
            if run.task is not None:
                run.task.join(timeout)


def _finished_row(info: RunInfo, status: str, error: Any) -> Callable[[int], tuple[str, str, dict[str, Any]]]:
    """The ``run_finished`` row (kind, at, data) of a run ended from outside its task, for the store to write at ``seq``."""

    def final(seq: int) -> tuple[str, str, dict[str, Any]]:
        result = RunResult(info.run_id, info.workflow_name, status, {}, {}, [], error)  # type: ignore[arg-type]
        event = RunFinished(info.run_id, result).stamped(seq)
        return event.kind, event.at.isoformat(), event.to_dict()

    return final


def _interrupted_ending(info: RunInfo, status: str, sentence: str) -> Callable[[int], tuple[str, str, dict[str, Any]]]:
    """The ``run_finished`` row of a run whose owner died (``interrupted``, or ``failed`` out of attempts)."""
    from agents_core.engine.events import RunErrorInfo

    hint = f"Resume it with: configurable-agents run --resume {info.run_id}"
    return _finished_row(info, status, RunErrorInfo(None, "RunInterrupted", sentence, hint, "run_failed"))


def category(error: BaseException) -> str:
    """Re-exported for faces that only import the service."""
    return category_of(error)


def _workspace_of(store: RunStore) -> Path:
    """The workspace a store belongs to (``<ws>/.configurable-agents/runs.sqlite``), else the store's folder."""
    path = getattr(store, "path", None)
    if path is None:
        return Path(os.environ.get("AGENTS_WORKSPACE") or os.getcwd())
    parent = Path(path).parent
    return parent.parent if parent.name == ".configurable-agents" else parent


_DEFAULTS: dict[Path | str, RunService] = {}
_DEFAULTS_LOCK = threading.Lock()


def default_service(
    workspace: str | os.PathLike[str] | None = None, *, store_path: str | os.PathLike[str] | None = None
) -> RunService:
    """The process's service for a workspace's store.

    The store is ``store_path`` (a path or a URL), else ``AGENTS_RUN_STORE``, else
    ``DATABASE_URL`` (PostgreSQL), else ``<workspace>/.configurable-agents/runs.sqlite``.
    One service per store and process, so every face of the process sees the same live runs.
    """
    from agents_core.runs.store import default_store_target, is_url

    target: Path | str
    if store_path:
        target = str(store_path) if is_url(str(store_path)) else Path(store_path)
    else:
        target = default_store_target(workspace)
    key = target if isinstance(target, str) else target.resolve()
    with _DEFAULTS_LOCK:
        service = _DEFAULTS.get(key)
        if service is None:
            service = _DEFAULTS[key] = RunService(target)
        return service
