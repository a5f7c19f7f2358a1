"""Unsaved editor buffers kept on disk, so a reload or a closed tab loses nothing (SPEC §14).

The Editor autosaves its buffer while it differs from what it was loaded
from; a fresh session finds the drafts and offers them back (Restore /
Discard); saving a file removes its drafts. Drafts live in the workspace's
hidden folder ``<workspace>/.configurable-agents/drafts/``, one JSON file per
editor session, named by a random id, and are written and read through the
same no-follow, descriptor-relative gate as workflow files, so a link planted
there cannot send them elsewhere.
"""

from __future__ import annotations

import json
import os
import re
import time
import uuid
from contextlib import suppress
from dataclasses import asdict, dataclass, field

from agents_core.errors import WorkspaceError
from agents_core.workspace import Workspace, open_folder, read_bytes_at, write_bytes_at

#: The drafts folder, relative to the workspace root.
DRAFTS_FOLDER = (".configurable-agents", "drafts")
#: A draft holds at most an editor buffer (1 MiB) plus its origin, as JSON.
MAX_DRAFT_BYTES = 4 * 1024 * 1024
_DRAFT_NAME = re.compile(r"^([0-9a-f]{32})\.json$")


def new_draft_id() -> str:
    return uuid.uuid4().hex


@dataclass(frozen=True)
class Draft:
    """One unsaved buffer: what it is a version of (``file``, or ``None`` for an untitled one) and its text."""

    id: str
    file: str | None
    buffer: str
    #: The text the buffer started from: the file as opened or last saved, or the template.
    base: str | None
    saved_at: float = field(default_factory=time.time)

    @property
    def display_name(self) -> str:
        return self.file or "untitled.yaml"


class Drafts:
    """The drafts of one workspace."""

    def __init__(self, workspace: Workspace) -> None:
        self.root = workspace.root

    def save(self, draft: Draft) -> None:
        if not _DRAFT_NAME.match(f"{draft.id}.json"):
            raise ValueError(f"not a draft id: {draft.id!r}")
        # ASCII JSON: a buffer holding a lone surrogate (pasted or loaded) is still kept, as an escape.
        data = json.dumps(asdict(draft)).encode("ascii")
        write_bytes_at(self.root, (*DRAFTS_FOLDER, f"{draft.id}.json"), data, overwrite=True, shown="draft")

    def all(self) -> list[Draft]:
        """Every readable draft, newest first; unreadable or foreign files in the folder are ignored."""
        try:
            with open_folder(self.root, DRAFTS_FOLDER) as folder:
                names = os.listdir(folder)
        except OSError:
            return []
        drafts = []
        for name in names:
            if not _DRAFT_NAME.match(name):
                continue
            try:
                raw = json.loads(read_bytes_at(self.root, (*DRAFTS_FOLDER, name), shown=name, limit=MAX_DRAFT_BYTES))
                draft = Draft(
                    id=name[:-5],
                    file=raw["file"] if isinstance(raw.get("file"), str) else None,
                    buffer=str(raw["buffer"]),
                    base=raw["base"] if isinstance(raw.get("base"), str) else None,
                    saved_at=float(raw.get("saved_at", 0.0)),
                )
            except (WorkspaceError, ValueError, KeyError, TypeError, AttributeError):
                continue
            drafts.append(draft)
        return sorted(drafts, key=lambda d: d.saved_at, reverse=True)

    def delete(self, draft_id: str) -> None:
        if not _DRAFT_NAME.match(f"{draft_id}.json"):
            return
        with suppress(OSError), open_folder(self.root, DRAFTS_FOLDER) as folder:
            os.unlink(f"{draft_id}.json", dir_fd=folder)

    def delete_for_file(self, file: str) -> None:
        """Remove every draft of ``file`` (it was just saved, so they are out of date)."""
        for draft in self.all():
            if draft.file == file:
                self.delete(draft.id)
