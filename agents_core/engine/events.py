"""What a run tells the world while it runs, and what it leaves behind.

One event stream, many consumers (SPEC §2a): the CLI's progress lines, the
Run page's live rows, the server's job status and MLflow tracking all read
these same events; the runner knows none of them.

Every event carries ``run_id``, ``seq`` (1, 2, 3 … per run with no gaps,
continuing across resumes; given by the run service as it records the
event), ``at`` (UTC) and ``kind``, and round-trips through
:meth:`to_dict` / :func:`event_from_dict`, which is how the run service's
event log stores them.
"""

from __future__ import annotations

import copy
import functools
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime
from typing import Any, Literal

RunStatus = Literal["success", "failed", "cancelled", "interrupted"]


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class NodeRecord:
    """What one node execution cost and produced."""

    id: str
    status: Literal["running", "success", "failed"] = "running"
    duration_ms: float = 0.0
    input_tokens: int = 0
    output_tokens: int = 0
    retries: int = 0
    provider: str = ""
    model: str = ""
    prompt: str = ""
    response: str = ""
    outputs: dict[str, Any] = field(default_factory=dict)
    error: str | None = None
    #: USD of this node's model calls (``None``: tokens on a model no price source knows).
    cost_usd: float | None = None
    #: Who priced it: "genai-prices 0.2.3", "pricing.yaml 2026-11-01", "local" or "unpriced".
    price_source: str | None = None
    #: Time spent waiting for a shared model (the one local model) before calls could start; part of duration_ms.
    queue_ms: float = 0.0

    def summary(self) -> dict[str, Any]:
        """The public fields (``--json`` output, server responses)."""
        return {
            "id": self.id,
            "status": self.status,
            "duration_ms": round(self.duration_ms, 1),
            "input_tokens": self.input_tokens,
            "output_tokens": self.output_tokens,
            "retries": self.retries,
            "provider": self.provider,
            "model": self.model,
            "cost_usd": self.cost_usd,
            "price_source": self.price_source,
        }

    def to_dict(self) -> dict[str, Any]:
        """The record as plain data; its outputs copied, so the dict may change without touching the record.

        Not ``dataclasses.asdict``: that deep-copies every string too, and a run turns
        each record into a dict several times (its event, its row, its answer).
        """
        data = dict(vars(self))
        data["outputs"] = _copied(self.outputs)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> NodeRecord:
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})


def _copied(value: Any) -> Any:
    """A copy of plain data: new dicts, lists and sets all the way down; anything else (strings,
    numbers, tuples of them) is immutable or kept as it is. ``copy.deepcopy`` cost three times as much,
    keeping a memo a model's reply has no use for."""
    if isinstance(value, dict):
        return {key: _copied(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_copied(item) for item in value]
    if isinstance(value, set):
        return {_copied(item) for item in value}
    if isinstance(value, tuple | str | int | float | bool | type(None)):
        return value
    return copy.deepcopy(value)


def total_cost(nodes: Any) -> float | None:
    """The USD of node records (objects or dicts): ``None`` when a node that used tokens is unpriced."""
    total = 0.0
    for node in nodes:
        data = node if isinstance(node, dict) else vars(node)
        cost = data.get("cost_usd")
        if cost is None:
            if data.get("input_tokens") or data.get("output_tokens"):
                return None
            continue
        total += float(cost)
    return total


@dataclass(frozen=True)
class RunErrorInfo:
    """Why a run failed: the node (if any), the kind of error, a message, its fix and its category."""

    node: str | None
    type: str
    message: str
    hint: str = ""
    category: str = "run_failed"

    def to_dict(self) -> dict[str, Any]:
        return dict(vars(self))  # flat, immutable values: no deep copy needed

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RunErrorInfo:
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})


@dataclass
class RunResult:
    """The outcome of a run (or of a resumed run)."""

    run_id: str
    workflow_name: str
    status: RunStatus
    state: dict[str, Any]
    outputs: dict[str, Any]
    nodes: list[NodeRecord]
    error: RunErrorInfo | None = None
    notices: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.status == "success"

    @property
    def total_input_tokens(self) -> int:
        return sum(n.input_tokens for n in self.nodes)

    @property
    def total_output_tokens(self) -> int:
        return sum(n.output_tokens for n in self.nodes)

    @property
    def duration_ms(self) -> float:
        return sum(n.duration_ms for n in self.nodes)

    @property
    def cost_usd(self) -> float | None:
        """USD of every node's calls; ``None`` when a node that used tokens is unpriced (never a silent 0)."""
        return total_cost(self.nodes)

    def to_dict(self) -> dict[str, Any]:
        """The ``run --json`` object."""
        return {
            "run_id": self.run_id,
            "status": self.status,
            "outputs": self.outputs,
            "state": self.state,
            "nodes": [n.summary() for n in self.nodes],
            "cost_usd": self.cost_usd,
            "error": self.error.to_dict() if self.error else None,
        }

    def to_data(self) -> dict[str, Any]:
        """Everything, for the event log (node records in full); :meth:`from_data` reads it back."""
        return {
            "run_id": self.run_id,
            "workflow_name": self.workflow_name,
            "status": self.status,
            "state": self.state,
            "outputs": self.outputs,
            "nodes": [n.to_dict() for n in self.nodes],
            "error": self.error.to_dict() if self.error else None,
            "notices": list(self.notices),
        }

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> RunResult:
        return cls(
            run_id=data["run_id"],
            workflow_name=data["workflow_name"],
            status=data["status"],
            state=data.get("state") or {},
            outputs=data.get("outputs") or {},
            nodes=[NodeRecord.from_dict(n) for n in data.get("nodes") or []],
            error=RunErrorInfo.from_dict(data["error"]) if data.get("error") else None,
            notices=list(data.get("notices") or []),
        )


@functools.cache
def _field_names(cls: type) -> tuple[str, ...]:
    """A dataclass's field names, looked up once per class (``dataclasses.fields`` builds them per call)."""
    return tuple(f.name for f in fields(cls))


@dataclass(frozen=True)
class _Event:
    """The fields every event has; ``seq`` and ``at`` are set when the run service records it.

    Both are keyword-only, so each event's own fields keep their positions.
    """

    seq: int = field(default=0, kw_only=True)
    at: datetime = field(default_factory=utc_now, kw_only=True)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready data; :func:`event_from_dict` makes the same event from it."""
        data: dict[str, Any] = {}
        for name in _field_names(type(self)):
            value = getattr(self, name)
            if isinstance(value, NodeRecord | RunErrorInfo):
                value = value.to_dict()
            elif isinstance(value, RunResult):
                value = value.to_data()
            elif isinstance(value, datetime):
                value = value.isoformat()
            elif isinstance(value, tuple):
                value = list(value)
            data[name] = value
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Any:
        return event_from_dict(data)

    def stamped(self, seq: int, at: datetime | None = None) -> Any:
        """The same event with its place in the run's log.

        A copy of its fields with two changed, not ``dataclasses.replace`` (which checks and
        passes every field through ``__init__`` again): every event of every run is stamped.
        """
        event = object.__new__(type(self))
        event.__dict__.update(self.__dict__, seq=seq, at=at or utc_now())
        return event


@dataclass(frozen=True)
class RunStarted(_Event):
    run_id: str
    workflow_name: str
    inputs: dict[str, Any]
    resumed: bool = False
    notices: tuple[str, ...] = ()
    kind: str = "run_started"


@dataclass(frozen=True)
class NodeStarted(_Event):
    run_id: str
    node: str
    provider: str
    model: str
    kind: str = "node_started"


@dataclass(frozen=True)
class NodeRetried(_Event):
    """A node's model call failed transiently and is tried again after ``delay`` seconds."""

    run_id: str
    node: str
    attempt: int
    reason: str
    delay: float
    kind: str = "node_retried"


@dataclass(frozen=True)
class NodeFinished(_Event):
    run_id: str
    record: NodeRecord
    kind: str = "node_finished"


@dataclass(frozen=True)
class NodeFailed(_Event):
    run_id: str
    record: NodeRecord
    error: RunErrorInfo
    kind: str = "node_failed"


@dataclass(frozen=True)
class RunFinished(_Event):
    run_id: str
    result: RunResult
    kind: str = "run_finished"


RunEvent = RunStarted | NodeStarted | NodeRetried | NodeFinished | NodeFailed | RunFinished

EVENT_TYPES: dict[str, type[Any]] = {
    cls.__dataclass_fields__["kind"].default: cls
    for cls in (RunStarted, NodeStarted, NodeRetried, NodeFinished, NodeFailed, RunFinished)
}


def event_from_dict(data: dict[str, Any]) -> RunEvent:
    """The event :meth:`to_dict` described (unknown keys are ignored, so old logs stay readable)."""
    kind = data.get("kind")
    cls = EVENT_TYPES.get(kind)  # type: ignore[arg-type]
    if cls is None:
        raise ValueError(f"unknown event kind {kind!r}; known kinds: {', '.join(EVENT_TYPES)}.")
    known = {f.name for f in fields(cls)}
    values = {k: v for k, v in data.items() if k in known}
    if "record" in values:
        values["record"] = NodeRecord.from_dict(values["record"])
    if "error" in values and isinstance(values["error"], dict):
        values["error"] = RunErrorInfo.from_dict(values["error"])
    if "result" in values:
        values["result"] = RunResult.from_data(values["result"])
    if "notices" in values:
        values["notices"] = tuple(values["notices"])
    if isinstance(values.get("at"), str):
        values["at"] = datetime.fromisoformat(values["at"])
    return cls(**values)
