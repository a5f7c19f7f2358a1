"""The workspace: the one folder whose workflows the workbench shows and edits.

The workbench reads and writes files only inside it (SPEC §14). The folder
is ``--workspace``, else ``$AGENTS_WORKSPACE``, else the current directory.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from agents_core.config.validator import WORKFLOW_EXTENSIONS, validate_file
from agents_core.errors import WorkspaceError

WORKSPACE_ENV = "AGENTS_WORKSPACE"
#: Folders never searched for workflows (environments, caches, test corpora).
SKIPPED_DIRS = {"node_modules", "__pycache__", "site-packages", "mlruns", "tests", "venv", "build", "dist"}
MAX_DEPTH = 3


def resolve_workspace(path: str | os.PathLike[str] | None = None) -> Path:
    """The workspace folder as an absolute path; a clear error if it is not a folder."""
    chosen = path or os.environ.get(WORKSPACE_ENV) or os.getcwd()
    root = Path(chosen).expanduser().resolve()
    if not root.is_dir():
        raise WorkspaceError(
            f"the workspace {str(chosen)!r} is not a folder.",
            f"Pass an existing folder with --workspace or ${WORKSPACE_ENV}.",
        )
    return root


def _is_workflow_candidate(path: Path) -> bool:
    if path.name.endswith(".schema.json") or path.suffix.lower() not in WORKFLOW_EXTENSIONS:
        return False
    try:
        with path.open("r", encoding="utf-8", errors="replace") as handle:
            head = handle.read(4096)
    except OSError:
        return False
    return "schema_version" in head


def list_workflows(root: Path) -> list[Path]:
    """Workflow files under ``root`` (a few levels deep), sorted by relative path."""
    found: list[Path] = []
    for folder, dirs, files in os.walk(root):
        depth = len(Path(folder).relative_to(root).parts)
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d not in SKIPPED_DIRS and depth < MAX_DEPTH)
        for name in files:
            candidate = Path(folder) / name
            if _is_workflow_candidate(candidate):
                found.append(candidate)
    return sorted(found, key=lambda p: p.relative_to(root).as_posix())


@dataclass(frozen=True)
class WorkflowStatus:
    """One workflow as the Home page lists it."""

    path: str  # relative to the workspace, with '/'
    name: str
    description: str
    errors: int
    warnings: int

    @property
    def label(self) -> str:
        """``ok``, ``2 errors``, ``1 warning``, or ``1 error, 2 warnings``."""
        if not self.errors and not self.warnings:
            return "ok"
        parts = []
        if self.errors:
            parts.append(f"{self.errors} error{'s' * (self.errors != 1)}")
        if self.warnings:
            parts.append(f"{self.warnings} warning{'s' * (self.warnings != 1)}")
        return ", ".join(parts)


def workflow_status(root: Path, path: Path) -> WorkflowStatus:
    report = validate_file(path)
    data = report.document.data if report.document is not None else None
    flow = data.get("flow") if isinstance(data, dict) else None
    flow = flow if isinstance(flow, dict) else {}
    return WorkflowStatus(
        path=path.relative_to(root).as_posix(),
        name=str(flow.get("name") or path.stem),
        description=str(flow.get("description") or ""),
        errors=len(report.errors),
        warnings=len(report.warnings),
    )
