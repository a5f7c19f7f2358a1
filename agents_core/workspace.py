"""The workspace: the one folder whose workflows the workbench shows and edits.

The workbench reads and writes files only inside it (SPEC §14): every read
and write goes through :class:`Workspace`, which resolves a user-given name
and refuses anything that would land outside the root (``..``, absolute
paths, symlinks that lead out) or that is not a workflow file. The folder is
``--workspace``, else ``$AGENTS_WORKSPACE``, else the current directory.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath, PureWindowsPath

from agents_core.config.validator import WORKFLOW_EXTENSIONS, validate_file
from agents_core.errors import FileExists, WorkspaceError
from agents_core.text import problem_summary

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
        """``ok``, or ``1 error, 2 warnings`` (the wording every face shares)."""
        return problem_summary(self.errors, self.warnings)


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


MAX_NAME_LENGTH = 200


class Workspace:
    """Reads and writes workflow files strictly inside one folder."""

    def __init__(self, root: str | os.PathLike[str] | None = None) -> None:
        self.root = resolve_workspace(root)

    def resolve(self, name: str) -> Path:
        """The absolute path of ``name`` inside the workspace, or a :class:`WorkspaceError` saying why not."""
        shown = repr(name)
        if not isinstance(name, str) or not name.strip():
            raise WorkspaceError("the file name is empty.", "Type a name such as my_flow.yaml.")
        if "\x00" in name or len(name) > MAX_NAME_LENGTH:
            raise WorkspaceError(
                f"the file name {shown} is not usable.", "Use a short name of letters, digits, '_', '-'."
            )
        if PurePosixPath(name).is_absolute() or PureWindowsPath(name).is_absolute() or PureWindowsPath(name).drive:
            raise WorkspaceError(
                f"{shown} is an absolute path; files are saved inside the workspace only.",
                "Give a name relative to the workspace, e.g. flows/my_flow.yaml.",
            )
        parts = PurePosixPath(name.replace("\\", "/")).parts
        if ".." in parts:
            raise WorkspaceError(
                f"{shown} leads outside the workspace ('..' is not allowed).",
                "Give a name inside the workspace, e.g. my_flow.yaml.",
            )
        if any(part.startswith(".") for part in parts):
            raise WorkspaceError(f"{shown} names a hidden file or folder.", "Use a name that does not start with '.'.")
        if PurePosixPath(parts[-1]).suffix.lower() not in WORKFLOW_EXTENSIONS:
            raise WorkspaceError(
                f"{shown} is not a workflow file name.",
                f"End the name with {', '.join(WORKFLOW_EXTENSIONS)}.",
            )
        path = (self.root / Path(*parts)).resolve()
        if not path.is_relative_to(self.root):
            raise WorkspaceError(
                f"{shown} leads outside the workspace (through a symbolic link).",
                "Save the file somewhere inside the workspace folder.",
            )
        return path

    def relative(self, path: Path) -> str:
        return path.resolve().relative_to(self.root).as_posix()

    def read_text(self, name: str) -> str:
        path = self.resolve(name)
        if not path.is_file():
            raise WorkspaceError(f"{name!r} does not exist in the workspace.", "Pick a file from the list.")
        from agents_core.config.loader import read_source
        from agents_core.errors import ParseError

        try:
            return read_source(path)
        except ParseError as exc:
            raise WorkspaceError(exc.message, exc.hint) from None

    def exists(self, name: str) -> bool:
        return self.resolve(name).exists()

    def write_text(self, name: str, text: str, *, overwrite: bool = False) -> Path:
        """Write atomically (temp file + rename); an existing file is replaced only with ``overwrite``."""
        path = self.resolve(name)
        if path.exists() and not overwrite:
            raise FileExists(
                f"{name!r} already exists in the workspace.",
                "Confirm to overwrite it, or choose another name.",
            )
        if path.exists() and not path.is_file():
            raise WorkspaceError(f"{name!r} is a folder, not a file.", "Choose another name.")
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        try:
            with os.fdopen(handle, "w", encoding="utf-8", newline="") as stream:
                stream.write(text)
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
        return path

    def workflows(self) -> list[str]:
        return [self.relative(path) for path in list_workflows(self.root)]
