"""The Editor page's state machine: open, new, edit, save, save as, confirmations.

State lives in a plain mapping (Streamlit's ``st.session_state`` in the app,
a dict in tests) under one key, so unsaved changes survive reruns and page
switches. Actions return an :class:`Outcome` that the page renders; an action
that would lose work or overwrite a file returns a ``confirm_*`` outcome
instead of doing it.
"""

from __future__ import annotations

from collections.abc import MutableMapping
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Any, Literal

from agents_core.errors import FileExists, WorkspaceError
from agents_core.gallery import SKELETON, Template
from agents_core.workspace import Workspace

STATE_KEY = "editor_state"
UNTITLED = "untitled.yaml"


@dataclass
class EditorState:
    """The open buffer and what it was loaded from."""

    file: str | None = None
    buffer: str = SKELETON
    saved_text: str | None = None
    #: Bumped whenever the buffer is replaced from outside the editor widget,
    #: so the page gives the widget a fresh key and it shows the new text.
    version: int = 0
    pending: dict[str, Any] = field(default_factory=dict)
    #: The flow picture of the last buffer that parsed, shown while the text does not.
    last_dot: str | None = None

    @property
    def modified(self) -> bool:
        return self.buffer != (self.saved_text if self.saved_text is not None else "")

    @property
    def display_name(self) -> str:
        return self.file or UNTITLED

    def replace_buffer(self, text: str, file: str | None, saved: bool) -> None:
        self.buffer = text
        self.file = file
        self.saved_text = text if saved else None
        self.version += 1
        self.pending = {}
        self.last_dot = None  # the previous file's picture must not stand in for this one


@dataclass(frozen=True)
class Outcome:
    kind: Literal["ok", "error", "confirm_overwrite", "confirm_discard"]
    message: str = ""
    hint: str = ""


def editor_state(session: MutableMapping[str, Any]) -> EditorState:
    """The editor state in ``session``, created on first use."""
    if STATE_KEY not in session:
        session[STATE_KEY] = EditorState()
    return session[STATE_KEY]


def edit(state: EditorState, text: str | None) -> None:
    """Take the editor widget's latest text (``None`` means the widget has not reported yet)."""
    if text is not None and text != state.buffer:
        state.buffer = text


def open_file(state: EditorState, workspace: Workspace, name: str, *, discard: bool = False) -> Outcome:
    if state.modified and not discard:
        state.pending = {"action": "open", "name": name}
        return Outcome("confirm_discard", f"{state.display_name} has unsaved changes.", "Discard them and open?")
    try:
        text = workspace.read_text(name)
    except WorkspaceError as exc:
        return Outcome("error", exc.message, exc.hint)
    state.replace_buffer(text, name, saved=True)
    return Outcome("ok", f"Opened {name}.")


def new_from_template(state: EditorState, template: Template, *, discard: bool = False) -> Outcome:
    if state.modified and not discard:
        state.pending = {"action": "new", "template": template}
        return Outcome("confirm_discard", f"{state.display_name} has unsaved changes.", "Discard them and start anew?")
    state.replace_buffer(template.text, None, saved=False)
    return Outcome("ok", f"New workflow from '{template.title}'. Save it under a name to keep it.")


def save(state: EditorState, workspace: Workspace) -> Outcome:
    """Save to the open file; a file never saved goes through save-as."""
    if state.file is None:
        return Outcome("error", "This workflow has no file yet.", "Use 'Save as' and give it a name.")
    try:
        on_disk = workspace.read_text(state.file) if workspace.exists(state.file) else None
    except WorkspaceError:
        on_disk = None
    if on_disk is not None and on_disk != state.saved_text and on_disk != state.buffer:
        state.pending = {"action": "save_as", "name": state.file}
        return Outcome(
            "confirm_overwrite",
            f"{state.file} was changed on disk since it was opened.",
            "Overwrite it with the editor's text, or cancel and save under another name.",
        )
    return _write(state, workspace, state.file, overwrite=True)


def save_as(state: EditorState, workspace: Workspace, name: str, *, overwrite: bool = False) -> Outcome:
    name = name.strip()
    if name and not PurePosixPath(name).suffix:
        name += ".yaml"
    return _write(state, workspace, name, overwrite=overwrite)


def confirm(state: EditorState, workspace: Workspace) -> Outcome:
    """Carry out the pending action the user just confirmed."""
    pending, state.pending = state.pending, {}
    action = pending.get("action")
    if action == "save_as":
        return _write(state, workspace, pending["name"], overwrite=True)
    if action == "open":
        return open_file(state, workspace, pending["name"], discard=True)
    if action == "new":
        return new_from_template(state, pending["template"], discard=True)
    return Outcome("error", "Nothing to confirm.")


def cancel(state: EditorState) -> Outcome:
    state.pending = {}
    return Outcome("ok", "Cancelled; nothing was changed.")


def _write(state: EditorState, workspace: Workspace, name: str, *, overwrite: bool) -> Outcome:
    try:
        state.buffer.encode("utf-8")
    except UnicodeEncodeError as exc:  # a lone surrogate pasted or handed in: no file can hold it
        line = state.buffer.count("\n", 0, exc.start) + 1
        return Outcome("error", f"line {line} holds a character that is not valid Unicode.", "Delete or retype it.")
    try:
        path = workspace.write_text(name, state.buffer, overwrite=overwrite)
    except FileExists as exc:
        state.pending = {"action": "save_as", "name": name}
        return Outcome("confirm_overwrite", exc.message, exc.hint)
    except WorkspaceError as exc:
        return Outcome("error", exc.message, exc.hint)
    except OSError as exc:
        return Outcome("error", f"{name!r} could not be written ({exc.strerror}).", "Check the folder's permissions.")
    state.file = workspace.relative(path)
    state.saved_text = state.buffer
    return Outcome("ok", f"Saved {state.file}.")
