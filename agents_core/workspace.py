"""The workspace: the one folder whose workflows the workbench shows and edits.

The workbench reads and writes files only inside it (SPEC §14): every read
and write goes through :class:`Workspace`, which checks a user-given name
(relative, no ``..``, no hidden parts, a workflow extension, only letters,
digits, ``_ - .`` and ``/``) and refuses anything that would land outside the
root. Checking a path and then writing to it is a race (a folder can be
swapped for a symbolic link in between), so reads and writes walk the path
one folder at a time through directory file descriptors opened with
``O_NOFOLLOW``: a link that appears after the check makes the save fail; it
is never followed. The folder is ``--workspace``, else ``$AGENTS_WORKSPACE``,
else the current directory.
"""

from __future__ import annotations

import errno
import os
import secrets
import stat
import unicodedata
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path, PurePosixPath, PureWindowsPath

from agents_core.config.validator import WORKFLOW_EXTENSIONS, validate_file
from agents_core.errors import FileExists, WorkspaceError
from agents_core.text import problem_summary

WORKSPACE_ENV = "AGENTS_WORKSPACE"
#: Folders never searched for workflows (environments, caches, test corpora).
SKIPPED_DIRS = {"node_modules", "__pycache__", "site-packages", "mlruns", "tests", "venv", "build", "dist"}
MAX_DEPTH = 3
MAX_NAME_LENGTH = 200
#: Largest file read through the workspace (the loader's own limit for workflow files).
MAX_READ_BYTES = 1024 * 1024
#: Besides letters and digits, the only characters a file name may hold ('/' and '\\' separate folders).
NAME_PUNCTUATION = "_-."
ALLOWED_NAME_TEXT = "letters, digits, '_', '-', '.' and '/' between folders"

_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)
_READ_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0)
_TEMP_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)


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


# --------------------------------------------------------------------------- names


def _describe_character(char: str) -> str:
    """How a refused character is named in a message: ``a space``, ``'?'``, ``U+202E (RIGHT-TO-LEFT OVERRIDE)``."""
    code = f"U+{ord(char):04X}"
    if char == " ":
        return "a space"
    category = unicodedata.category(char)
    name = unicodedata.name(char, "")
    if category == "Cc":
        return f"a control character ({code})"
    if char in "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c":
        return f"a bidirectional control character ({code} {name})"
    if category.startswith("Z"):
        return f"a space-like character ({code} {name})".replace(" )", ")")
    if category in ("Cf", "Co", "Cn", "Cs"):
        return f"an invisible or unassigned character ({code}{' ' + name if name else ''})"
    return f"{char!r} ({code})"


def refused_character(name: str) -> tuple[int, str] | None:
    """The first character of ``name`` a workspace file name may not hold, with its position (from 1)."""
    for position, char in enumerate(name, start=1):
        if char in "/\\" or char in NAME_PUNCTUATION:
            continue
        if unicodedata.category(char)[0] in "LN":
            continue
        return position, char
    return None


def _name_parts(name: object) -> tuple[str, ...]:
    """The folder and file parts of a user-given name, or a :class:`WorkspaceError` saying what is wrong."""
    if not isinstance(name, str) or not name.strip():
        raise WorkspaceError("the file name is empty.", "Type a name such as my_flow.yaml.")
    shown = repr(name)
    if len(name) > MAX_NAME_LENGTH:
        raise WorkspaceError(
            f"the file name {shown[:40]}... is not usable: it is {len(name)} characters long "
            f"(at most {MAX_NAME_LENGTH}).",
            "Use a shorter name.",
        )
    if "\x00" in name:
        raise WorkspaceError(
            f"the file name {shown} is not usable: it contains a control character (U+0000) "
            f"at position {name.index(chr(0)) + 1}.",
            f"Use only {ALLOWED_NAME_TEXT}.",
        )
    if PurePosixPath(name).is_absolute() or PureWindowsPath(name).is_absolute() or PureWindowsPath(name).drive:
        raise WorkspaceError(
            f"{shown} is an absolute path; files are saved inside the workspace only.",
            "Give a name relative to the workspace, e.g. flows/my_flow.yaml.",
        )
    parts = tuple(part for part in name.replace("\\", "/").split("/") if part not in ("", "."))
    if ".." in parts:
        raise WorkspaceError(
            f"{shown} leads outside the workspace ('..' is not allowed).",
            "Give a name inside the workspace, e.g. my_flow.yaml.",
        )
    refused = refused_character(name)
    if refused is not None:
        position, char = refused
        raise WorkspaceError(
            f"the file name {shown} is not usable: it contains {_describe_character(char)} at position {position}.",
            f"Use only {ALLOWED_NAME_TEXT}, e.g. my_flow.yaml.",
        )
    if not parts:
        raise WorkspaceError(
            f"{shown} names the workspace folder itself, not a file.", "Type a name such as my_flow.yaml."
        )
    if any(part.startswith(".") for part in parts):
        raise WorkspaceError(f"{shown} names a hidden file or folder.", "Use a name that does not start with '.'.")
    if PurePosixPath(parts[-1]).suffix.lower() not in WORKFLOW_EXTENSIONS:
        raise WorkspaceError(
            f"{shown} is not a workflow file name.",
            f"End the name with {', '.join(WORKFLOW_EXTENSIONS)}.",
        )
    return parts


# --------------------------------------------------------------------------- no-follow file access


@contextmanager
def open_folder(root: Path, folders: Sequence[str], *, create: bool = False) -> Iterator[int]:
    """A descriptor of ``root/folders...``, opened one part at a time without following any link.

    A part that is (or has just become) a symbolic link fails with ``ELOOP``
    or ``ENOTDIR`` instead of being followed, so nothing opened here can lie
    outside ``root``.
    """
    fd = os.open(root, _DIR_FLAGS)
    try:
        for part in folders:
            if create:
                with suppress(FileExistsError):
                    os.mkdir(part, 0o777, dir_fd=fd)
            child = os.open(part, _DIR_FLAGS, dir_fd=fd)
            os.close(fd)
            fd = child
        yield fd
    finally:
        os.close(fd)


def _swapped(name: str) -> WorkspaceError:
    return WorkspaceError(
        f"{name!r} could not be reached without following a symbolic link (a folder on its way was replaced "
        "by a link, or is not a folder); nothing was written.",
        "Check the folders on the way and try again.",
    )


def write_bytes_at(root: Path, parts: Sequence[str], data: bytes, *, overwrite: bool, shown: str) -> None:
    """Write ``data`` to ``root/parts`` atomically, creating folders, never following a link.

    The text goes to a fresh ``O_EXCL`` temporary file in the target folder
    (opened by descriptor), then is linked (no overwrite: fails if the name
    exists) or renamed (overwrite) onto the name, both relative to that same
    descriptor. A folder swapped for a link at any moment is never entered.
    """
    *folders, leaf = parts
    try:
        with open_folder(root, folders, create=True) as folder:
            try:
                existing = os.stat(leaf, dir_fd=folder, follow_symlinks=False)
            except FileNotFoundError:
                existing = None
            if existing is not None and stat.S_ISDIR(existing.st_mode):
                raise WorkspaceError(f"{shown!r} is a folder, not a file.", "Choose another name.")
            if existing is not None and not overwrite:
                raise FileExists(
                    f"{shown!r} already exists in the workspace.",
                    "Confirm to overwrite it, or choose another name.",
                )
            temporary = f".{leaf}.{secrets.token_hex(6)}.tmp"
            handle = os.open(temporary, _TEMP_FLAGS, 0o666, dir_fd=folder)
            try:
                with os.fdopen(handle, "wb") as stream:
                    stream.write(data)
                if overwrite:
                    os.replace(temporary, leaf, src_dir_fd=folder, dst_dir_fd=folder)
                else:
                    try:
                        os.link(temporary, leaf, src_dir_fd=folder, dst_dir_fd=folder, follow_symlinks=False)
                    except FileExistsError:
                        raise FileExists(
                            f"{shown!r} already exists in the workspace.",
                            "Confirm to overwrite it, or choose another name.",
                        ) from None
                    except OSError as exc:  # a file system without hard links: replace (checked just above)
                        if exc.errno not in (errno.EPERM, errno.EOPNOTSUPP, errno.EMLINK):
                            raise
                        os.replace(temporary, leaf, src_dir_fd=folder, dst_dir_fd=folder)
            finally:
                with suppress(FileNotFoundError):
                    os.unlink(temporary, dir_fd=folder)
    except OSError as exc:
        if exc.errno in (errno.ELOOP, errno.ENOTDIR):
            raise _swapped(shown) from None
        if exc.errno == errno.EISDIR:
            raise WorkspaceError(f"{shown!r} is a folder, not a file.", "Choose another name.") from None
        if exc.errno == errno.ENOENT:
            raise WorkspaceError(
                f"a folder on the way to {shown!r} disappeared while saving; nothing was written.",
                "Try again.",
            ) from None
        raise


def read_bytes_at(root: Path, parts: Sequence[str], *, shown: str, limit: int = MAX_READ_BYTES) -> bytes:
    """The bytes of the regular file ``root/parts``, read without following a link or opening a FIFO."""
    *folders, leaf = parts
    missing = WorkspaceError(f"{shown!r} does not exist in the workspace.", "Pick a file from the list.")
    try:
        with open_folder(root, folders) as folder:
            handle = os.open(leaf, _READ_FLAGS, dir_fd=folder)
            with os.fdopen(handle, "rb") as stream:
                info = os.fstat(stream.fileno())
                if not stat.S_ISREG(info.st_mode):
                    raise WorkspaceError(f"{shown!r} is not a regular file.", "Pick a workflow file from the list.")
                data = stream.read(limit + 1)
    except FileNotFoundError:
        raise missing from None
    except OSError as exc:
        if exc.errno in (errno.ELOOP, errno.ENOTDIR):
            raise WorkspaceError(
                f"{shown!r} could not be read without following a symbolic link.", "Pick a file from the list."
            ) from None
        if exc.errno == errno.EISDIR:
            raise WorkspaceError(f"{shown!r} is a folder, not a file.", "Pick a file from the list.") from None
        raise WorkspaceError(f"{shown!r} cannot be read ({exc.strerror}).", "Check its permissions.") from None
    if len(data) > limit:
        raise WorkspaceError(
            f"{shown!r} is larger than {limit // 1024} KiB.",
            "Workflow files are small; split the file or remove embedded data.",
        )
    return data


# --------------------------------------------------------------------------- listing


@dataclass(frozen=True)
class Skipped:
    """A file the listing left out, and why (shown to the user, never read)."""

    path: str  # relative to the workspace, with '/'
    reason: str


@dataclass
class Listing:
    """Workflow files found under a workspace, and the ``*.yaml``-looking entries skipped."""

    found: list[Path]
    skipped: list[Skipped]


def _looks_like_workflow(path: Path) -> bool:
    """Whether the first bytes of a regular file mention ``schema_version``; FIFOs and links are never opened."""
    try:
        handle = os.open(path, _READ_FLAGS)
    except OSError:
        return False
    with os.fdopen(handle, "rb") as stream:
        try:
            if not stat.S_ISREG(os.fstat(stream.fileno()).st_mode):
                return False
            head = stream.read(4096)
        except OSError:
            return False
    return b"schema_version" in head


def _skip_reason(root: Path, path: Path) -> str | None:
    """Why ``path`` (a name with a workflow extension) is not listed, or ``None`` when it may be read."""
    relative = path.relative_to(root).as_posix()
    try:
        _name_parts(relative)
    except WorkspaceError as exc:
        return exc.message
    try:
        info = path.lstat()
    except OSError as exc:
        return f"it cannot be examined ({exc.strerror})."
    if stat.S_ISLNK(info.st_mode):
        try:
            target = Path(os.path.realpath(path, strict=True))
        except (OSError, RuntimeError):
            return "it is a symbolic link that leads nowhere (or in a loop)."
        if not target.is_relative_to(root):
            return "it is a symbolic link to a file outside the workspace; it was not read."
        try:
            info = target.stat()
        except OSError as exc:
            return f"it cannot be examined ({exc.strerror})."
    if not stat.S_ISREG(info.st_mode):
        return "it is not a regular file (a pipe, socket or device); it was not opened."
    return None


def scan_workflows(root: Path) -> Listing:
    """Workflow files under ``root`` (a few levels deep), and the entries skipped with their reason.

    Folders are walked without following links (so link loops cannot hang
    it); a ``*.yaml`` entry that is a link leading out of the workspace, a
    broken or looping link, or not a regular file is skipped without being
    opened, and noted.
    """
    root = Path(os.path.abspath(root))
    found: list[Path] = []
    skipped: list[Skipped] = []
    for folder, dirs, files in os.walk(root, followlinks=False):
        depth = len(Path(folder).relative_to(root).parts)
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d not in SKIPPED_DIRS and depth < MAX_DEPTH)
        for name in sorted(files):
            candidate = Path(folder) / name
            if name.endswith(".schema.json") or candidate.suffix.lower() not in WORKFLOW_EXTENSIONS:
                continue
            if name.startswith("."):
                continue
            reason = _skip_reason(root, candidate)
            if reason is not None:
                skipped.append(Skipped(candidate.relative_to(root).as_posix(), reason))
            elif _looks_like_workflow(Path(os.path.realpath(candidate))):  # a link here leads inside (checked)
                found.append(candidate)
    found.sort(key=lambda p: p.relative_to(root).as_posix())
    return Listing(found, skipped)


def list_workflows(root: Path) -> list[Path]:
    """Workflow files under ``root`` (a few levels deep), sorted by relative path."""
    return scan_workflows(root).found


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


# --------------------------------------------------------------------------- the gate


class Workspace:
    """Reads and writes workflow files strictly inside one folder."""

    def __init__(self, root: str | os.PathLike[str] | None = None) -> None:
        self.root = resolve_workspace(root)

    def resolve(self, name: str) -> Path:
        """The absolute path of ``name`` inside the workspace, or a :class:`WorkspaceError` saying why not."""
        parts = _name_parts(name)
        try:
            path = (self.root / Path(*parts)).resolve()
        except (OSError, RuntimeError):  # a link loop on the way
            raise _swapped(name) from None
        if not path.is_relative_to(self.root):
            raise WorkspaceError(
                f"{name!r} leads outside the workspace (through a symbolic link).",
                "Save the file somewhere inside the workspace folder.",
            )
        return path

    def _parts(self, name: str) -> tuple[str, ...]:
        """The parts of ``name`` with links inside the workspace resolved (checked by :meth:`resolve`)."""
        return self.resolve(name).relative_to(self.root).parts

    def relative(self, path: Path) -> str:
        return path.resolve().relative_to(self.root).as_posix()

    def read_text(self, name: str) -> str:
        data = read_bytes_at(self.root, self._parts(name), shown=name)
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise WorkspaceError(f"{name!r} is not UTF-8 text (byte {exc.start}).", "Save the file as UTF-8.") from None

    def exists(self, name: str) -> bool:
        return self.resolve(name).exists()

    def write_text(self, name: str, text: str, *, overwrite: bool = False) -> Path:
        """Write atomically (temp file + rename) without following links; an existing file is replaced only with ``overwrite``."""
        parts = self._parts(name)
        write_bytes_at(self.root, parts, text.encode("utf-8"), overwrite=overwrite, shown=name)
        return self.root.joinpath(*parts)

    def scan(self) -> Listing:
        """The workflow files of the workspace and the entries skipped (see :func:`scan_workflows`)."""
        return scan_workflows(self.root)

    def workflows(self) -> list[str]:
        return [path.relative_to(self.root).as_posix() for path in list_workflows(self.root)]
