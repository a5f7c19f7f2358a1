"""The Editor page's state machine: open, new, edit, save, save as, confirmations.

State lives in a plain mapping (Streamlit's ``st.session_state`` in the app,
a dict in tests) under one key, so unsaved changes survive reruns and page
switches. Actions return an :class:`Outcome` that the page renders; an action
that would lose work or overwrite a file returns a ``confirm_*`` outcome
instead of doing it.

What counts as unsaved work is a buffer that differs from where it started:
the file as opened or saved, or, for an untitled buffer, the template it was
made from (an untouched template is not "modified"). Such a buffer is
autosaved as a draft in the workspace (:mod:`agents_core.drafts`), and a
fresh session offers the drafts it finds back, so a browser reload loses
nothing.
"""

from __future__ import annotations

import textwrap
import time
from collections.abc import MutableMapping
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Any, Literal

from agents_core.drafts import Draft, Drafts, new_draft_id
from agents_core.errors import FileExists, WorkspaceError
from agents_core.gallery import SKELETON, Template
from agents_core.workspace import Workspace

STATE_KEY = "editor_state"
UNTITLED = "untitled.yaml"
#: The query parameter naming a file for the Editor to open (the Run page's "fix it" link sets it).
OPEN_PARAM = "file"


@dataclass
class EditorState:
    """The open buffer and what it was loaded from."""

    file: str | None = None
    buffer: str = SKELETON
    saved_text: str | None = None
    #: What an untitled buffer started from (its template); it is "modified" once it differs.
    origin: str = SKELETON
    #: Bumped whenever the buffer is replaced from outside the editor widget,
    #: so the page gives the widget a fresh key and it shows the new text.
    version: int = 0
    pending: dict[str, Any] = field(default_factory=dict)
    #: The flow picture of the last buffer that parsed, shown while the text does not.
    last_dot: str | None = None
    #: The id of this buffer's draft on disk, and the text last written there (``None``: no draft).
    draft_id: str = field(default_factory=new_draft_id)
    draft_text: str | None = None
    #: Drafts of earlier sessions found on this session's first run, offered one at a time.
    offers: list[Draft] = field(default_factory=list)
    drafts_checked: bool = False

    @property
    def base(self) -> str:
        """The text this buffer started from: the file as opened or saved, else the template."""
        return self.saved_text if self.saved_text is not None else self.origin

    @property
    def modified(self) -> bool:
        return self.buffer != self.base

    @property
    def display_name(self) -> str:
        return self.file or UNTITLED

    @property
    def marker(self) -> str:
        """What the page shows after the name: modified, saved, or a new buffer never saved."""
        if self.modified:
            return "● modified"
        return "(saved)" if self.file else "(new, not saved yet)"

    def replace_buffer(self, text: str, file: str | None, saved: bool) -> None:
        self.buffer = text
        self.file = file
        self.saved_text = text if saved else None
        self.origin = text
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


def save(state: EditorState, workspace: Workspace, drafts: Drafts | None = None) -> Outcome:
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
    return _write(state, workspace, state.file, overwrite=True, drafts=drafts)


def save_as(
    state: EditorState, workspace: Workspace, name: str, *, overwrite: bool = False, drafts: Drafts | None = None
) -> Outcome:
    name = name.strip()
    if name and not PurePosixPath(name).suffix:
        name += ".yaml"
    return _write(state, workspace, name, overwrite=overwrite, drafts=drafts)


def confirm(state: EditorState, workspace: Workspace, drafts: Drafts | None = None) -> Outcome:
    """Carry out the pending action the user just confirmed."""
    pending, state.pending = state.pending, {}
    action = pending.get("action")
    if action == "save_as":
        return _write(state, workspace, pending["name"], overwrite=True, drafts=drafts)
    if action == "open":
        return open_file(state, workspace, pending["name"], discard=True)
    if action == "new":
        return new_from_template(state, pending["template"], discard=True)
    return Outcome("error", "Nothing to confirm.")


def cancel(state: EditorState) -> Outcome:
    state.pending = {}
    return Outcome("ok", "Cancelled; nothing was changed.")


def _write(
    state: EditorState, workspace: Workspace, name: str, *, overwrite: bool, drafts: Drafts | None = None
) -> Outcome:
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
    if drafts is not None:  # a saved file clears its drafts, this session's and any older one
        drafts.delete(state.draft_id)
        drafts.delete_for_file(state.file)
        state.draft_text = None
        state.offers = [d for d in state.offers if d.file != state.file]
    return Outcome("ok", f"Saved {state.file}.")


# --------------------------------------------------------------------------- drafts


def autosave(state: EditorState, drafts: Drafts) -> Outcome | None:
    """Keep this buffer's draft in step: written while modified, removed once it is not.

    Returns an error outcome only when the draft cannot be written (the page
    shows it; the buffer itself is still in the session).
    """
    try:
        if state.modified:
            if state.buffer != state.draft_text:
                drafts.save(Draft(state.draft_id, state.file, state.buffer, state.base))
                state.draft_text = state.buffer
        elif state.draft_text is not None:
            drafts.delete(state.draft_id)
            state.draft_text = None
    except (WorkspaceError, OSError) as exc:
        message = exc.message if isinstance(exc, WorkspaceError) else str(exc.strerror or exc)
        return Outcome("error", f"The unsaved text could not be kept as a draft: {message}", "Save the file soon.")
    return None


def check_drafts(state: EditorState, drafts: Drafts) -> None:
    """On a session's first run, find the drafts earlier sessions left (a reload, a closed tab)."""
    if state.drafts_checked:
        return
    state.drafts_checked = True
    state.offers = [d for d in drafts.all() if d.id != state.draft_id]


def offer_text(draft: Draft) -> str:
    when = time.strftime("%Y-%m-%d %H:%M", time.localtime(draft.saved_at))
    return f"Unsaved changes to {draft.display_name} from {when} were kept as a draft. Restore them?"


def restore_draft(state: EditorState, drafts: Drafts) -> Outcome:
    """Load the first offered draft into the editor; the current buffer, if modified, stays a draft of its own."""
    if not state.offers:
        return Outcome("error", "No draft to restore.")
    draft = state.offers.pop(0)
    if state.modified and state.draft_text != state.buffer:
        autosave(state, drafts)  # keep what is in the editor now; it is offered next
    if state.modified:
        state.offers.insert(0, Draft(state.draft_id, state.file, state.buffer, state.base))
    state.replace_buffer(draft.buffer, draft.file, saved=False)
    if draft.file is not None:
        state.saved_text = draft.base  # so 'Save' still notices a file changed on disk since
    elif draft.base is not None:
        state.origin = draft.base
    state.draft_id, state.draft_text = draft.id, draft.buffer
    return Outcome("ok", f"Restored the unsaved changes to {draft.display_name}.")


def discard_draft(state: EditorState, drafts: Drafts) -> Outcome:
    """Delete the first offered draft."""
    if not state.offers:
        return Outcome("error", "No draft to discard.")
    draft = state.offers.pop(0)
    drafts.delete(draft.id)
    return Outcome("ok", f"Discarded the draft of {draft.display_name}.")


def open_requested(state: EditorState, workspace: Workspace, name: str | None) -> Outcome | None:
    """Open the file another page asked for (``?file=NAME``); asks first if the buffer has unsaved changes."""
    if not name or (name == state.file and not state.modified):
        return None
    return open_file(state, workspace, name)


#: Widest line of a gutter tooltip, in characters: Ace draws tooltips inside the
#: editor's iframe without wrapping, so a longer line would be cut off at its edge.
TOOLTIP_WIDTH = 60


def fit_annotations(annotations: list[dict[str, Any]], width: int = TOOLTIP_WIDTH) -> list[dict[str, Any]]:
    """The annotations with their text wrapped to ``width`` columns, so a tooltip fits inside the editor."""
    fitted = []
    for annotation in annotations:
        lines = str(annotation.get("text", "")).splitlines() or [""]
        text = "\n".join(
            "\n".join(textwrap.wrap(line, width, break_long_words=True, break_on_hyphens=False)) or line
            for line in lines
        )
        fitted.append({**annotation, "text": text})
    return fitted
