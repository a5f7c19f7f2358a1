"""The HTTP face of one workflow: a FastAPI app whose jobs are runs of the run service.

::

    POST /run ─► body checked against the state schema (422) ─► queue full? (429 + Retry-After)
              ─► Idempotency-Key seen? (the same job) ─► service.start: the run row is written
              ─► finished within the sync timeout? 200 with outputs, nodes, cost : 202 + Location
    GET  /status/{job_id}        the job now (queued, running, success, failed, cancelled, interrupted)
    GET  /runs/{job_id}/events   server-sent events from the run's event log (id = seq; Last-Event-ID resumes)
    POST /runs/{job_id}/cancel   cancel (the run keeps its checkpoint)
    GET  /health  /schema  /     liveness; input and output JSON Schemas; service info (OpenAPI at /docs)

The server never reaches past the run service: the service owns each run's
task, status and events. With ``executor=celery`` (``serve --executor celery``,
``AGENTS_EXECUTOR=celery``) ``POST /run`` writes the run row ``queued`` and hands
its id to the broker; Celery workers execute it, and every endpoint reads the
shared store, so any API replica answers for any job (a job another replica
accepted is found by its run id). A broker that is down leaves the run
``queued`` (still 202); the workers' sweeper sends it once the broker is back.
A job is a run, and its id the run's id: the server keeps nothing of its own
(``Idempotency-Key`` s are kept in the run store, per workflow), so API
replicas on one store are interchangeable. On start it picks up the jobs a
dead server left behind (:func:`recover_jobs`). Every
error becomes a JSON body with the HTTP status of its category (one table,
:func:`agents_core.errors.http_status`); none carries a traceback.

This module imports FastAPI at its top, so only code that serves imports it
(the CLI's ``serve`` does so inside the command).
"""

import asyncio
import contextlib
import hashlib
import hmac
import json
import logging
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any

from fastapi import Body, FastAPI, Header, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, create_model
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from agents_core.config.models import Workflow
from agents_core.config.types import TypeRef
from agents_core.deploy.docs_ui import use_offline_docs
from agents_core.deploy.settings import ServerSettings
from agents_core.engine.events import NodeRecord, RunResult
from agents_core.engine.state import input_schema, state_fields
from agents_core.errors import (
    CATEGORY_OUTCOMES,
    AgentsError,
    InputError,
    RunConflict,
    RunNotFound,
    category_of,
    describe_exception,
    http_status,
)
from agents_core.runs.executors.bounded import BoundedExecutor
from agents_core.runs.executors.inprocess import InProcessExecutor
from agents_core.runs.lifecycle import ACTIVE_STATUSES, INTERRUPTED, QUEUED, TERMINAL_STATUSES
from agents_core.runs.service import RunHandle, RunService
from agents_core.runs.store import RunInfo, default_store_target

log = logging.getLogger(__name__)

#: The ``origin`` of the runs a server accepts (a restarted server picks up only these).
SERVER_ORIGIN = "server"
#: How long a repeated request waits for the first one's run row to appear.
_REPLAY_WAIT_SECONDS = 10.0


# -- the request body, from the state schema ------------------------------------------------


#: Integers a run can keep: LangGraph's checkpoint serializer (msgpack) stops at 64 bits, so a larger
#: number would fail the run after it was accepted; it is a 422 here instead.
_Int64 = Annotated[int, Field(ge=-(2**63), le=2**63 - 1)]


def _annotation(declared: TypeRef, name: str) -> Any:
    """A strict pydantic annotation for a state type (objects: every sub-field required, no others)."""
    simple: dict[str, Any] = {"str": str, "int": _Int64, "float": float, "bool": bool, "any": Any}
    if declared.name in simple:
        return simple[declared.name]
    if declared.name == "list":
        return list[_annotation(declared.args[0], name)] if declared.args else list[Any]
    if declared.name == "dict":
        if declared.args:
            return dict[_annotation(declared.args[0], name), _annotation(declared.args[1], name)]  # type: ignore[misc]
        return dict[str, Any]
    if declared.fields is None:
        return dict[str, Any]
    fields = {
        f"f_{i}": (_annotation(sub, f"{name}_{key}"), Field(..., alias=key))
        for i, (key, sub) in enumerate(declared.fields)
    }
    return create_model(_title(name), __config__=ConfigDict(extra="forbid", strict=True), **fields)  # type: ignore[call-overload]


def _title(name: str) -> str:
    return "".join(part[:1].upper() + part[1:] for part in name.replace("-", "_").split("_") if part) or "Value"


def input_model(workflow: Workflow) -> type[BaseModel]:
    """The pydantic model of ``POST /run``'s body: the state's fields, strictly typed, unknown keys refused.

    Fields are aliased (a state field may be called ``schema`` or ``json``); the
    engine checks the inputs again when the run starts, so the two never disagree.
    """
    fields: dict[str, Any] = {}
    for i, (name, spec) in enumerate(state_fields(workflow).items()):
        annotation = _annotation(spec.type, f"{workflow.flow.name}_{name}")
        extra: dict[str, Any] = {"alias": name, "description": spec.description or None}
        if spec.required:
            fields[f"f_{i}"] = (annotation, Field(..., **extra))
        else:
            default = spec.default if spec.has_default else None
            fields[f"f_{i}"] = (annotation, Field(default, **extra))
    config = ConfigDict(extra="forbid", strict=True, populate_by_name=False)
    return create_model(f"{_title(workflow.flow.name)}Input", __config__=config, **fields)  # type: ignore[call-overload]


def output_schema(workflow: Workflow) -> dict[str, Any]:
    """JSON Schema of a run's outputs: the state fields its nodes write."""
    fields = state_fields(workflow)
    written: list[str] = []
    for node in workflow.nodes:
        written += [name for name in node.outputs if name not in written and name in fields]
    return {
        "type": "object",
        "properties": {name: fields[name].type.json_schema() for name in written},
        "additionalProperties": False,
    }


# -- error bodies ---------------------------------------------------------------------------


def error_body(exc: BaseException) -> dict[str, Any]:
    """``{"detail": message, "error": {type, message, hint, category, node}}``: an error as data."""
    message = describe_exception(exc) if isinstance(exc, AgentsError) else "the server failed to handle this request."
    return {
        "detail": message,
        "error": {
            "type": type(exc).__name__ if isinstance(exc, AgentsError) else "InternalError",
            "message": message,
            "hint": getattr(exc, "hint", "") or ("See the server's log." if not isinstance(exc, AgentsError) else ""),
            "category": category_of(exc),
            "node": getattr(exc, "node", None),
        },
    }


def error_response(exc: BaseException, headers: dict[str, str] | None = None) -> JSONResponse:
    if isinstance(exc, InputError):  # the shape of FastAPI's own 422s: [{loc, msg, type}]
        body = {"detail": [{"loc": ["body"], "msg": describe_exception(exc), "type": "invalid_input"}]}
        return JSONResponse(body, status_code=http_status(exc), headers=headers)
    return JSONResponse(error_body(exc), status_code=http_status(exc), headers=headers)


class QueueFull(AgentsError):
    """Every execution slot and queue place is taken (HTTP 429 with Retry-After)."""

    category = "internal"


# -- middleware (pure ASGI, so streaming responses stay untouched) ----------------------------


class ApiKeyMiddleware:
    """With a key configured, every path but ``/health`` needs it (``Authorization: Bearer`` or ``X-API-Key``)."""

    def __init__(self, app: ASGIApp, api_key: str | None, open_paths: tuple[str, ...] = ("/health",)) -> None:
        self.app = app
        self.key = api_key.encode() if api_key else None
        self.open_paths = open_paths

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.key is None or scope["type"] != "http" or scope["path"] in self.open_paths:
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v for k, v in scope["headers"]}
        given = headers.get("x-api-key", b"")
        auth = headers.get("authorization", b"")
        if auth[:7].lower() == b"bearer ":
            given = auth[7:].strip()
        if given and hmac.compare_digest(given, self.key):
            await self.app(scope, receive, send)
            return
        body = {
            "detail": "missing or wrong API key.",
            "error": {
                "type": "Unauthorized",
                "message": "missing or wrong API key.",
                "hint": "Send it as 'Authorization: Bearer KEY' or 'X-API-Key: KEY' (the server's AGENTS_API_KEY).",
                "category": "unauthorized",
                "node": None,
            },
        }
        response = JSONResponse(body, status_code=401, headers={"WWW-Authenticate": "Bearer"})
        await response(scope, receive, send)


class BodyLimitMiddleware:
    """Refuse a request body longer than ``limit`` bytes with 413, whether or not it announced its length."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v for k, v in scope["headers"]}
        announced = headers.get("content-length")
        if announced is not None and announced.isdigit():
            if int(announced) > self.limit:
                await self._refuse(scope, receive, send)
            else:  # the HTTP parser hands on no more than the announced length: nothing to count
                await self.app(scope, receive, send)
            return
        if announced is None and b"chunked" not in headers.get("transfer-encoding", b""):
            await self.app(scope, receive, send)
            return
        chunks: list[bytes] = []
        size = 0
        while True:  # read it all first (at most limit + one chunk), then hand it on
            message = await receive()
            if message["type"] != "http.request":
                break
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.limit:
                await self._refuse(scope, receive, send)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": b"".join(chunks), "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        message = f"the request body is larger than this server's limit of {self.limit} bytes."
        body = {
            "detail": message,
            "error": {
                "type": "PayloadTooLarge",
                "message": message,
                "hint": "Send a smaller body (MAX_BODY_BYTES sets the limit).",
                "category": "invalid_input",
                "node": None,
            },
        }
        await JSONResponse(body, status_code=413, headers={"Connection": "close"})(scope, receive, send)


# -- the app --------------------------------------------------------------------------------


def request_hash(body: Any) -> str:
    """A stable digest of a request body (keys sorted), to tell a repeated request from a different one."""
    text = json.dumps(body, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


class JobServer:
    """What the endpoints share: the workflow, the service and the admission count.

    A job is a run of the service, and its ``job_id`` is the run's id; the server
    keeps nothing of its own, so any replica on the same store answers for any
    job. ``Idempotency-Key`` s live in the store too (per workflow, see
    :meth:`~agents_core.runs.store.RunStore.reserve_key`).
    """

    def __init__(self, workflow: Workflow, service: RunService, settings: ServerSettings) -> None:
        self.workflow = workflow
        self.service = service
        self.settings = settings
        self._admitting = 0

    # -- admission ----------------------------------------------------------------------------
    def load(self) -> int:
        """What the limit counts: runs executing here, waiting and being started; with workers (Celery),
        the runs in the shared store that no worker has taken yet (every API replica counts the same rows),
        plus those this replica is starting now."""
        executor = self.service.executor
        if isinstance(executor, BoundedExecutor):
            return executor.executing + executor.queued + self._admitting
        if self.remote:
            return self.service.count(QUEUED) + self._admitting
        return len(self.service.list(status=ACTIVE_STATUSES, limit=None)) + self._admitting

    def capacity(self) -> int:
        """``max_concurrent + max_queue`` here; with workers ``max_queue``: they bound what executes themselves."""
        if self.remote:
            return self.settings.max_queue
        return self.settings.max_concurrent + self.settings.max_queue

    def busy(self) -> QueueFull:
        """The 429 of a full queue, in the words of where it is full."""
        hint = f"Retry after {self.settings.retry_after} s."
        if self.remote:
            return QueueFull(f"the cluster is busy: {self.settings.max_queue} runs wait for a worker already.", hint)
        return QueueFull(
            f"the server is busy: {self.settings.max_concurrent} runs execute and "
            f"{self.settings.max_queue} wait already.",
            hint,
        )

    @property
    def remote(self) -> bool:
        """Whether runs execute on workers (the Celery executor), not in this process."""
        return hasattr(self.service.executor, "send")

    # -- jobs ---------------------------------------------------------------------------------
    def job(self, job_id: str) -> RunInfo:
        """The run of a job of this workflow (in a shared store, other workflows' runs are not its jobs)."""
        try:
            info = self.service.get(job_id)
        except RunNotFound:
            info = None
        if info is None or info.workflow_name != self.workflow.flow.name:
            raise RunNotFound(f"no job with id {job_id!r} on this server.", "Use the job_id that POST /run returned.")
        return info

    def status_of(self, run_id: str, stored: str) -> str:
        executor = self.service.executor
        if stored == "running" and isinstance(executor, BoundedExecutor) and executor.waiting(run_id):
            return "queued"
        return stored

    def describe(self, info: RunInfo, result: RunResult | None = None) -> dict[str, Any]:
        """The job as the API shows it: status, outputs or error, node records, tokens and cost.

        ``result`` is the finished run's result when the caller has it (a sync ``POST /run``),
        which saves reading it back; the row ``info`` still gives the times and attempts.
        """
        body: dict[str, Any] = {"job_id": info.run_id}
        if result is None and info.status in TERMINAL_STATUSES:
            result = self.service.result(info.run_id)
        if result is not None:
            body.update(result.to_dict())
            body.pop("state", None)
            nodes = body["nodes"]
            status = result.status
        else:
            rows = self.service.store.events(info.run_id)  # a live run's node records so far, from its log
            records = [row.data["record"] for row in rows if row.kind in ("node_finished", "node_failed")]
            nodes = [NodeRecord.from_dict(record).summary() for record in records]
            body.update({"run_id": info.run_id, "outputs": {}, "nodes": nodes, "error": info.error_info})
            status = self.status_of(info.run_id, info.status)
        body["status"] = status
        body["workflow"] = info.workflow_name
        body["input_tokens"] = info.input_tokens or sum(n.get("input_tokens", 0) for n in nodes)
        body["output_tokens"] = info.output_tokens or sum(n.get("output_tokens", 0) for n in nodes)
        body.setdefault("cost_usd", info.cost_usd)
        body.update(
            {
                "created_at": info.created_at,
                "started_at": info.started_at,
                "finished_at": info.finished_at if status in TERMINAL_STATUSES else None,
                "attempts": max(info.attempts, 1),
                "status_url": f"/status/{info.run_id}",
                "events_url": f"/runs/{info.run_id}/events",
            }
        )
        return body

    def response_for(self, body: dict[str, Any], finished: bool, replayed: bool = False) -> JSONResponse:
        """200 (or the error's status) for a finished job, 202 with ``Location`` for one still going."""
        headers = {"Location": body["status_url"]}
        if replayed:
            headers["Idempotent-Replayed"] = "true"
        if not finished or body["status"] not in TERMINAL_STATUSES:
            return JSONResponse(body, status_code=202, headers=headers)
        if body["status"] == "success":
            return JSONResponse(body, status_code=200, headers=headers)
        category = (body.get("error") or {}).get("category") or "run_failed"
        outcome = CATEGORY_OUTCOMES.get(category, CATEGORY_OUTCOMES["run_failed"])
        return JSONResponse(body, status_code=outcome.http_status, headers=headers)

    async def submit(self, inputs: dict[str, Any], key: str | None) -> JSONResponse:
        """Accept a run (or find the job of a repeated request) and answer within the sync timeout."""
        store, scope = self.service.store, self.workflow.flow.name
        digest = request_hash(inputs) if key is not None else None
        if key is not None:
            existing = await asyncio.to_thread(store.find_key, scope, key)
            if existing is not None:
                return await self.replay(*existing, digest)
        load = await asyncio.to_thread(self.load) if self.remote else self.load()  # remote: a query
        if load >= self.capacity():
            raise self.busy()
        job_id = uuid.uuid4().hex[:12]
        if key is not None:
            existing = await asyncio.to_thread(store.reserve_key, scope, key, job_id, digest)
            if existing is not None:  # another request (on any replica) bound the key first
                return await self.replay(*existing, digest)
        self._admitting += 1
        try:
            handle = await self.service.astart(self.workflow, inputs, run_id=job_id)
        except BaseException:
            if key is not None:
                await asyncio.to_thread(store.forget_key, scope, key, job_id)
            raise
        finally:
            self._admitting -= 1
        return await self.answer(job_id, started=handle)

    async def answer(self, job_id: str, replayed: bool = False, started: RunHandle | None = None) -> JSONResponse:
        """The job's response once it ends or the sync timeout passes.

        For a run this request ``started``, the row is what its end wrote, known here
        already from its ``run_finished``: it is not read back.
        """
        timeout = self.settings.sync_timeout
        ended: Any = None
        if timeout > 0:
            with contextlib.suppress(TimeoutError):  # a run of this process is heard at its end; a worker's, polled
                ended = await self.service.await_end(job_id, timeout, poll=0.2)
        finished = ended is not None
        if ended is not None and started is not None and started.created_at is not None:
            return self.response_for(self.describe(_ended_row(started, ended), ended.result), True, replayed)
        result = ended.result if ended is not None else None
        info = await asyncio.to_thread(self.service.get, job_id)
        body = await asyncio.to_thread(self.describe, info, result) if result is None else self.describe(info, result)
        return self.response_for(body, finished, replayed)

    async def replay(self, run_id: str, first_hash: str | None, digest: str | None) -> JSONResponse:
        if first_hash is not None and digest is not None and first_hash != digest:
            raise RunConflict(
                f"this Idempotency-Key was used for another request body (job {run_id}).",
                "Send a new Idempotency-Key for a new request.",
            )
        deadline = time.monotonic() + _REPLAY_WAIT_SECONDS
        while True:  # the first request may still be writing its run row
            try:
                await asyncio.to_thread(self.service.get, run_id)
                break
            except RunNotFound:
                if time.monotonic() > deadline:
                    raise
                await asyncio.sleep(0.05)
        return await self.answer(run_id, replayed=True)


def _ended_row(handle: RunHandle, ended: Any) -> RunInfo:
    """The row of a run this process started and ended, as its end wrote it (see ``RunService._finish``):
    born claimed at ``created_at`` (one attempt), ended at the ``run_finished`` event's time."""
    result: RunResult = ended.result
    finished_at = ended.at.timestamp()
    error = result.error.to_dict() if result.error else None
    return RunInfo(
        run_id=handle.run_id,
        workflow_name=result.workflow_name,
        workflow_file=None,
        workflow_text="",
        inputs={},
        overrides={},
        status=result.status,
        error=error["message"] if error else None,
        created_at=handle.created_at or finished_at,
        updated_at=finished_at,
        started_at=handle.created_at,
        finished_at=finished_at,
        error_info=error,
        outputs=result.outputs,
        cost_usd=result.cost_usd,  # the totals the end wrote (run_totals of the same records)
        input_tokens=result.total_input_tokens,
        output_tokens=result.total_output_tokens,
        attempts=1,
    )


def recover_jobs(server: JobServer) -> list[str]:
    """Pick up the jobs a dead server left: resume from the checkpoint, or start again; at most N attempts.

    The service turned every run whose owner died into ``interrupted`` when it
    was made. Each such run this workflow's server accepted (``origin`` "server")
    is executed again under its own id (:meth:`RunService.restart`): from its
    checkpoint, or from its inputs when it died before its first one. Once it has
    been executed ``max_attempts`` times it is ``failed`` with the reason.
    Returns the ids of the jobs picked up.
    """
    service = server.service
    picked: list[str] = []
    for info in service.list(status=INTERRUPTED, workflow=server.workflow.flow.name, limit=None):
        if info.origin != SERVER_ORIGIN:
            continue  # a CLI or workbench run of the same workflow is its user's to resume
        reason = info.reason or info.error or "its server stopped"
        attempts = max(info.attempts, 1)
        if attempts >= server.settings.max_attempts:
            service.fail(
                info.run_id,
                f"job {info.run_id} was given up after {attempts} attempts; the last one stopped because {reason}.",
                "Submit it again; if it keeps stopping its server, look at the server's log for why.",
            )
            continue
        try:
            service.restart(info.run_id)
            picked.append(info.run_id)
        except Exception as exc:  # e.g. a key that is gone now: the job ends, with the reason
            log.error("job %s could not be picked up again: %s", info.run_id, describe_exception(exc))
            service.fail(info.run_id, f"job {info.run_id} could not be resumed: {describe_exception(exc)}")
    if picked:
        log.warning("picked up %d job(s) left by a stopped server: %s", len(picked), ", ".join(picked))
    return picked


def _load_workflow(workflow: Any) -> Workflow:
    if isinstance(workflow, Workflow):
        return workflow
    from agents_core.workflow import load_workflow

    return load_workflow(workflow)


def make_service(settings: ServerSettings) -> RunService:
    """The server's run service: its store (``run_store``, else ``AGENTS_RUN_STORE``, ``DATABASE_URL``, the
    workspace's file) and its executor (a :class:`BoundedExecutor` of ``max_concurrent`` slots, or Celery)."""
    store = settings.run_store or default_store_target()
    # a server with MLFLOW_TRACKING_URI tracks every run it executes (workers track theirs the same way)
    tracking = {"tracking": bool(settings.mlflow_tracking_uri), "tracking_uri": settings.mlflow_tracking_uri}
    if settings.executor == "celery":
        from agents_core.runs.executors.celery import CeleryExecutor

        return RunService(store, executor=CeleryExecutor(settings.broker_url), origin=SERVER_ORIGIN, **tracking)
    return RunService(store, executor=BoundedExecutor(settings.max_concurrent), origin=SERVER_ORIGIN, **tracking)


def create_app(workflow: Any, service: RunService | None = None, settings: ServerSettings | None = None) -> FastAPI:
    """The server of one workflow (a path, text, dict or ``Workflow``); jobs are runs of ``service``.

    Without a service, one is made on ``settings.run_store`` (else
    ``$AGENTS_RUN_STORE``, ``$DATABASE_URL`` or the workspace's store) with a
    :class:`BoundedExecutor` of ``settings.max_concurrent`` slots, or, with
    ``settings.executor == "celery"``, the Celery executor (runs go to workers). An invalid
    workflow raises ``ValidationFailed`` here, before anything serves.
    """
    settings = settings or ServerSettings()
    loaded = _load_workflow(workflow)
    if service is None:
        service = make_service(settings)
    if getattr(service, "origin", SERVER_ORIGIN) is None:
        service.origin = SERVER_ORIGIN  # its runs from here on are jobs a restarted server picks up
    server = JobServer(loaded, service, settings)
    Input = input_model(loaded)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        executor = service.executor
        bound = isinstance(executor, InProcessExecutor) and executor.loop is None
        if bound:  # runs execute on the loop that serves their requests (see InProcessExecutor.bind)
            executor.bind(asyncio.get_running_loop())
        if not server.remote:  # with workers, their sweeper re-queues the runs of dead owners
            await asyncio.to_thread(recover_jobs, server)
        try:
            yield
        finally:
            if bound:
                executor.bind(None)
                await service.arelease_loop()

    flow = loaded.flow
    app = FastAPI(
        title=f"{flow.name} (Configurable Agents)",
        description=(flow.description or f"Runs the workflow {flow.name}.")
        + "\n\nPOST /run answers 200 with the outputs when the run finishes within the sync timeout, "
        "else 202 with a job_id to poll at /status/{job_id} or follow at /runs/{job_id}/events.",
        version=str(flow.version or "1.0"),
        lifespan=lifespan,
    )
    app.state.server = server
    use_offline_docs(app)  # /docs and /redoc without a CDN (a container may have no internet)

    async def on_agents_error(request: Request, exc: Exception) -> JSONResponse:
        if isinstance(exc, QueueFull):
            response = JSONResponse(error_body(exc), status_code=429)
            response.headers["Retry-After"] = str(settings.retry_after)
            return response
        return error_response(exc)

    async def on_any_error(request: Request, exc: Exception) -> JSONResponse:
        log.error("%s %s failed: %s: %s", request.method, request.url.path, type(exc).__name__, exc, exc_info=exc)
        return JSONResponse(error_body(exc), status_code=500)

    app.add_exception_handler(AgentsError, on_agents_error)
    app.add_exception_handler(Exception, on_any_error)

    errors = {
        401: {"description": "Missing or wrong API key."},
        404: {"description": "No such job."},
        413: {"description": "Body too large."},
        422: {"description": "The body does not fit the workflow's state schema."},
        429: {"description": "Queue full; retry after the Retry-After header's seconds."},
    }

    async def run(
        body: Annotated[Input, Body()],  # type: ignore[valid-type]
        idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key", max_length=200)] = None,
    ) -> JSONResponse:
        """Start a run; 200 with its outputs if it finishes within the sync timeout, else 202 with a job_id."""
        inputs = body.model_dump(by_alias=True, exclude_unset=True)  # type: ignore[attr-defined]
        return await server.submit(inputs, idempotency_key)

    app.add_api_route(
        "/run",
        run,
        methods=["POST"],
        summary="Run the workflow",
        responses={200: {"description": "Finished within the sync timeout."}, 202: {"description": "Accepted."}}
        | errors,
    )

    @app.get("/status/{job_id}", summary="A job's status, outputs or error, node records and cost", responses=errors)
    async def status(job_id: str) -> JSONResponse:
        info = await asyncio.to_thread(server.job, job_id)
        return JSONResponse(await asyncio.to_thread(server.describe, info))

    @app.get("/runs/{job_id}/events", summary="The job's events as server-sent events", responses=errors)
    async def events(
        job_id: str,
        last_event_id: Annotated[str | None, Header(alias="Last-Event-ID", max_length=20)] = None,
        after: int | None = None,
    ) -> Any:
        """Every event of the job's run after ``Last-Event-ID`` (or ``?after=``), then live ones until it ends."""
        from sse_starlette.sse import EventSourceResponse

        await asyncio.to_thread(server.job, job_id)
        start = after if after is not None else 0
        if last_event_id is not None and last_event_id.strip().isdigit():
            start = int(last_event_id.strip())

        async def stream() -> AsyncIterator[dict[str, Any]]:
            async for event in service.aevents(job_id, max(start, 0)):
                data = event.to_dict()
                yield {"id": str(event.seq), "event": event.kind, "data": json.dumps(data, default=str)}

        return EventSourceResponse(stream(), ping=15)

    @app.post("/runs/{job_id}/cancel", summary="Cancel a queued or running job", responses=errors)
    async def cancel(job_id: str) -> JSONResponse:
        before = await asyncio.to_thread(server.job, job_id)
        await asyncio.to_thread(service.cancel, job_id)
        body = await asyncio.to_thread(server.describe, await asyncio.to_thread(service.get, job_id))
        body["cancel_requested"] = before.status in ACTIVE_STATUSES
        return JSONResponse(body)

    @app.get("/health", summary="Liveness (no key needed)")
    async def health() -> dict[str, Any]:
        return {"status": "ok", "workflow": flow.name}

    @app.get("/schema", summary="JSON Schemas of the run's input (POST /run body) and output", responses=errors)
    async def schema() -> dict[str, Any]:
        return {"workflow": flow.name, "input": input_schema(loaded), "output": output_schema(loaded)}

    @app.get("/", summary="Service info", responses=errors)
    async def info() -> dict[str, Any]:
        return {
            "service": "configurable-agents",
            "workflow": flow.name,
            "description": flow.description,
            "version": flow.version,
            "auth": bool(settings.api_key),
            "sync_timeout": settings.sync_timeout,
            "max_concurrent": settings.max_concurrent,
            "max_queue": settings.max_queue,
            "executor": settings.executor,
            "load": server.load(),
            "endpoints": {
                "run": "POST /run",
                "status": "GET /status/{job_id}",
                "events": "GET /runs/{job_id}/events",
                "cancel": "POST /runs/{job_id}/cancel",
                "schema": "GET /schema",
                "health": "GET /health",
                "docs": "/docs",
            },
        }

    app.add_middleware(BodyLimitMiddleware, limit=settings.max_body_bytes)
    app.add_middleware(ApiKeyMiddleware, api_key=settings.api_key)
    return app


__all__ = ["JobServer", "create_app", "input_model", "output_schema", "recover_jobs"]
