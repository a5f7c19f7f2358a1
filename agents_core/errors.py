"""Every error the product raises, and the `Problem` record they carry.

One module holds the whole hierarchy so each face (CLI, workbench, server)
maps errors to exit codes, messages and HTTP statuses in one place::

    AgentsError
    ├── WorkflowFileError          a workflow file cannot be used
    │   ├── ParseError             unreadable, too large, bad YAML/JSON
    │   └── ValidationFailed       readable, but the validator found errors
    ├── RunError                   a run failed          (engine, later issues)
    │   ├── NodeError
    │   ├── ProviderError
    │   ├── ToolError
    │   └── NodeTimeoutError
    ├── DeployError                packaging / Docker    (later issues)
    │   └── DockerUnavailable
    └── WorkspaceError             a path outside the workspace, a name refused
        └── FileExists             saving would overwrite a file (ask first)

A problem is data before it is text (FastAPI's ``[{loc, msg, type}]``):
``Problem`` holds the code, severity, message, hint and the place; faces
render it as ``file:line:col: error CODE: message``, an ace annotation or a
422 body.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

Severity = Literal["error", "warning"]


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

    def __post_init__(self) -> None:
        super().__init__(self.message)

    def __str__(self) -> str:
        return f"{self.message} {self.hint}".strip()


class WorkflowFileError(AgentsError):
    """A workflow file cannot be used as it is."""


class ParseError(WorkflowFileError):
    """The file cannot be read or parsed (size, syntax, encoding)."""


class ValidationFailed(WorkflowFileError):
    """The file parsed, but the validator reported errors (see ``problems``)."""


class RunError(AgentsError):
    """A workflow run failed."""


class NodeError(RunError):
    """A node failed; the message names the node."""


class ProviderError(RunError):
    """An LLM provider is unknown, misconfigured or failed."""


class ToolError(RunError):
    """A tool is unknown or failed."""


class NodeTimeoutError(RunError):
    """A model call took longer than ``config.execution.timeout``."""


class DeployError(AgentsError):
    """Packaging or running a deployment failed."""


class DockerUnavailable(DeployError):
    """No Docker engine is reachable."""


class WorkspaceError(AgentsError):
    """A path leads outside the workspace, or a file name is refused."""


class FileExists(WorkspaceError):
    """Saving would overwrite an existing file; the caller must ask before retrying with overwrite."""
