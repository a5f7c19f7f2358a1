"""Every error the product raises, the `Problem` record they carry, and what each means to a face.

One module holds the whole hierarchy so each face (CLI, workbench, server)
maps errors to exit codes, messages and HTTP statuses in one place::

    AgentsError                        category (exit code, HTTP status)
    ├── WorkflowFileError              invalid_workflow (2, 422)
    │   ├── ParseError                 unreadable, too large, bad YAML/JSON
    │   └── ValidationFailed           readable, but the validator found errors
    ├── InputError                     invalid_input (2, 422): run inputs that do not fit the state
    ├── InvalidStructuredOutput        run_failed (1, 500): a reply off the output schema (retried)
    ├── RunError                       run_failed (1, 500): a run failed or cannot be used
    │   ├── NodeError                  a node failed; ``node`` and ``record`` say which and how far
    │   ├── ProviderError              configuration (2, 500): a provider unknown, keyless or refusing
    │   │   └── ProviderUnavailable    provider_unavailable (1, 502): transient faults outlived the retries
    │   ├── ToolError                  configuration (2, 500): a tool unknown or failing
    │   ├── NodeTimeoutError           a model call outlived config.execution.timeout
    │   ├── LoopLimitExceeded          a loop went past max_loop_iterations
    │   ├── BudgetExceeded             budget_exceeded (1, 402): a model call could cross max_cost_usd;
    │   │   │                          the run stopped before it (resume with a higher budget)
    │   │   └── MonthlyBudgetReached   the workflow's month-to-date spend reached monthly_budget_usd
    │   ├── BudgetUnenforceable        configuration (2, 500): a budget on a model no price source knows
    │   ├── RunNotFound                not_found (2, 404): no run with that id in the store
    │   ├── RunConflict                conflict (2, 409): finished already, or owned by a live process
    │   ├── StoreError                 configuration (2, 500): the run store's URL is unusable
    │   └── RunCancelled               cancelled (130, 409): cancelled on request
    ├── PricingFileError               configuration (2, 500): pricing.yaml unreadable or of the wrong shape
    ├── WorkspaceError                 workspace (2, 403): a path outside the workspace, a name refused
    │   └── FileExists                 conflict (2, 409): saving would overwrite a file (ask first)
    └── DeployError                    internal (1, 500): building or running a deployment failed
        ├── DockerUnavailable          configuration (2, 500): no Docker engine reachable
        ├── EnvFileError               invalid_input (2, 422): an env file line that is not KEY=value
        └── DeployOptionError          invalid_input (2, 422): a bad port, timeout, scale or output
                                       folder (also an InputError)

Anything else (a bug, a broken store) is ``internal`` (1, 500). A face asks
:func:`exit_code` / :func:`http_status` (or :func:`category_of`); it never
parses a message to learn the kind of failure or the node.

A problem is data before it is text (FastAPI's ``[{loc, msg, type}]``):
``Problem`` holds the code, severity, message, hint and the place; faces
render it as ``file:line:col: error CODE: message``, an ace annotation or a
422 body.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, ClassVar, Literal, NamedTuple

Severity = Literal["error", "warning"]

Category = Literal[
    "invalid_workflow",
    "invalid_input",
    "configuration",
    "run_failed",
    "provider_unavailable",
    "budget_exceeded",
    "not_found",
    "conflict",
    "cancelled",
    "workspace",
    "internal",
]


class Outcome(NamedTuple):
    """What a category means to a face: the CLI's exit code and the server's HTTP status."""

    exit_code: int
    http_status: int


#: The one table of category -> (CLI exit code, HTTP status). SPEC §11: 0 ok, 1 workflow failed, 2 bad usage.
CATEGORY_OUTCOMES: dict[str, Outcome] = {
    "invalid_workflow": Outcome(2, 422),
    "invalid_input": Outcome(2, 422),
    "configuration": Outcome(2, 500),
    "run_failed": Outcome(1, 500),
    "provider_unavailable": Outcome(1, 502),
    "budget_exceeded": Outcome(1, 402),
    "not_found": Outcome(2, 404),
    "conflict": Outcome(2, 409),
    "cancelled": Outcome(130, 409),
    "workspace": Outcome(2, 403),
    "internal": Outcome(1, 500),
}


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a workflow file, with the place it is wrong at.

    ``path`` is the dotted location in the document (``nodes[1].prompt``);
    ``line`` and ``column`` are 1-based source positions of the offending
    node (for a placeholder inside a prompt: of the placeholder itself).
    """

    code: str
    severity: Severity
    message: str
    hint: str = ""
    path: str = ""
    file: str | None = None
    line: int = 1
    column: int = 1

    @property
    def is_error(self) -> bool:
        return self.severity == "error"

    def location(self) -> str:
        """``path (line L, col C)`` as used at the start of a sentence."""
        where = f"line {self.line}, col {self.column}"
        return f"{self.path} ({where})" if self.path else where

    def describe(self) -> str:
        """The full sentence: where, what is wrong, what to do."""
        text = f"{self.location()}: {self.message}"
        return f"{text} {self.hint}" if self.hint else text

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("file")
        return data


@dataclass
class AgentsError(Exception):
    """Base of every error the product raises on purpose."""

    message: str
    hint: str = ""
    problems: list[Problem] = field(default_factory=list)

    category: ClassVar[str] = "internal"

    def __post_init__(self) -> None:
        super().__init__(self.message)

    def __str__(self) -> str:
        return f"{self.message} {self.hint}".strip()

    __hash__ = Exception.__hash__  # exceptions are kept in sets (tracebacks, retry state)


class WorkflowFileError(AgentsError):
    """A workflow file cannot be used as it is."""

    category: ClassVar[str] = "invalid_workflow"


class ParseError(WorkflowFileError):
    """The file cannot be read or parsed (size, syntax, encoding)."""


class ValidationFailed(WorkflowFileError):
    """The file parsed, but the validator reported errors (see ``problems``)."""


class InputError(AgentsError):
    """Run inputs that do not fit the workflow's state (unknown, missing, wrong type, not storable)."""

    category: ClassVar[str] = "invalid_input"


class InvalidStructuredOutput(AgentsError):
    """The model's reply did not match the node's output schema (retried with feedback; ``hint`` holds the reply)."""

    category: ClassVar[str] = "run_failed"


@dataclass
class RunError(AgentsError):
    """A workflow run failed, or a run cannot be used as asked.

    ``node`` names the node that failed (``None`` for the run as a whole) and
    ``record`` is that node's ``NodeRecord`` as far as it got; both are data,
    so no face re-reads them out of the message.
    """

    node: str | None = None
    record: Any = None

    category: ClassVar[str] = "run_failed"

    __hash__ = Exception.__hash__


class NodeError(RunError):
    """A node failed; ``node`` names it and ``record`` holds what it did before failing."""


class ProviderError(RunError):
    """An LLM provider is unknown, misconfigured or failed."""

    category: ClassVar[str] = "configuration"


class ProviderUnavailable(ProviderError):
    """The provider kept failing with faults worth retrying (429, 5xx, cut-off replies) until retries ran out.

    Not the user's configuration: the same request may work later, so a face
    reports it as a failed run (exit 1) and the server as a bad gateway (502).
    """

    category: ClassVar[str] = "provider_unavailable"


class ToolError(RunError):
    """A tool is unknown or failed."""

    category: ClassVar[str] = "configuration"


class NodeTimeoutError(RunError):
    """A model call took longer than ``config.execution.timeout``."""


class LoopLimitExceeded(RunError):
    """A loop went back more often than ``config.execution.max_loop_iterations`` allows."""


class BudgetExceeded(RunError):
    """A model call could cross ``config.execution.max_cost_usd``; the run stopped before making it.

    A failed run (exit 1, HTTP 402 Payment Required) that resumes with a higher
    budget (``run --resume ID --max-cost-usd X``); ``node`` names the node.
    """

    category: ClassVar[str] = "budget_exceeded"


class MonthlyBudgetReached(BudgetExceeded):
    """The workflow's month-to-date spend reached ``config.execution.monthly_budget_usd``; the run was refused."""


class BudgetUnenforceable(RunError):
    """A budget is set but a node's model has no known price, so the budget could not be kept."""

    category: ClassVar[str] = "configuration"


class RunNotFound(RunError):
    """No run with that id is in the store."""

    category: ClassVar[str] = "not_found"


class RunConflict(RunError):
    """The run cannot be started or resumed now: it succeeded already, or a live owner runs it."""

    category: ClassVar[str] = "conflict"


class StoreError(RunError):
    """The run store cannot be opened as given (an unsupported ``DATABASE_URL`` / ``AGENTS_RUN_STORE``)."""

    category: ClassVar[str] = "configuration"


class RunCancelled(RunError):
    """The run was cancelled on request (it can be resumed)."""

    category: ClassVar[str] = "cancelled"


class PricingFileError(AgentsError):
    """``pricing.yaml`` cannot be used: unreadable, bad YAML, or a value of the wrong shape (``problems`` say where)."""

    category: ClassVar[str] = "configuration"


class WorkspaceError(AgentsError):
    """A path leads outside the workspace, or a file name is refused."""

    category: ClassVar[str] = "workspace"


class FileExists(WorkspaceError):
    """Saving would overwrite an existing file; the caller must ask before retrying with overwrite."""

    category: ClassVar[str] = "conflict"


class DeployError(AgentsError):
    """Packaging, building or running a deployment failed (a build step, the engine refusing a request)."""


class DockerUnavailable(DeployError):
    """No Docker engine is reachable (none installed, not running, or ``DOCKER_HOST`` pointing nowhere)."""

    category: ClassVar[str] = "configuration"


class EnvFileError(DeployError):
    """An env file that is missing, unreadable, or has a line that is not ``KEY=value`` (the message names it)."""

    category: ClassVar[str] = "invalid_input"


class DeployOptionError(DeployError, InputError):
    """A deployment option out of range (port, timeout, scale) or an output folder that is not ours: bad usage."""

    category: ClassVar[str] = "invalid_input"


def category_of(error: BaseException) -> str:
    """The category of any exception: its class's for ours, ``internal`` for everything else."""
    if isinstance(error, KeyboardInterrupt):
        return "cancelled"
    return getattr(error, "category", "internal") if isinstance(error, AgentsError) else "internal"


def exit_code(error: BaseException) -> int:
    """The CLI exit code for an error, from the one table."""
    return CATEGORY_OUTCOMES[category_of(error)].exit_code


def http_status(error: BaseException) -> int:
    """The HTTP status the server answers an error with, from the one table."""
    return CATEGORY_OUTCOMES[category_of(error)].http_status


def describe_exception(error: BaseException) -> str:
    """An error's message without its type name: faces print ``{type}: {message}``, so it is never doubled."""
    if isinstance(error, AgentsError):
        return error.message
    return str(error) or type(error).__name__
