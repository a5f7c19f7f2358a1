"""What a run tells the world while it runs, and what it leaves behind.

One event stream, many consumers (SPEC §2a): the CLI's progress lines, the
Run page's live rows, the server's job status and MLflow tracking all read
these same events; the runner knows none of them.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

RunStatus = Literal["success", "failed"]


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
        }


@dataclass(frozen=True)
class RunErrorInfo:
    """Why a run failed: the node (if any), the kind of error, and a message with its fix."""

    node: str | None
    type: str
    message: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


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

    def to_dict(self) -> dict[str, Any]:
        """The ``run --json`` object."""
        return {
            "run_id": self.run_id,
            "status": self.status,
            "outputs": self.outputs,
            "state": self.state,
            "nodes": [n.summary() for n in self.nodes],
            "error": self.error.to_dict() if self.error else None,
        }


@dataclass(frozen=True)
class RunStarted:
    run_id: str
    workflow_name: str
    inputs: dict[str, Any]
    resumed: bool = False
    notices: tuple[str, ...] = ()
    kind: str = "run_started"


@dataclass(frozen=True)
class NodeStarted:
    run_id: str
    node: str
    provider: str
    model: str
    kind: str = "node_started"


@dataclass(frozen=True)
class NodeFinished:
    run_id: str
    record: NodeRecord
    kind: str = "node_finished"


@dataclass(frozen=True)
class NodeFailed:
    run_id: str
    record: NodeRecord
    error: RunErrorInfo
    kind: str = "node_failed"


@dataclass(frozen=True)
class RunFinished:
    run_id: str
    result: RunResult
    kind: str = "run_finished"


RunEvent = RunStarted | NodeStarted | NodeFinished | NodeFailed | RunFinished
