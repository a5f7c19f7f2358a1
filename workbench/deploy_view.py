"""What the Deploy page needs besides widgets (no Streamlit here): engine status, env choice, the zip, the log tail.

Deploying itself is :func:`agents_core.deploy.deployment.deploy`, the same
function as the CLI's; this module only adapts its inputs (an uploaded or
pasted env file) and outputs (a zip of the build context, the last lines of
the build log) to a page.
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from agents_core.deploy.deployment import EnvChoice, env_from_text
from agents_core.errors import AgentsError

ENV_MODES = ("No variables", "Upload an env file", "Paste variables")


@dataclass(frozen=True)
class EngineStatus:
    """Whether a Docker engine answers, and the sentence the page shows either way."""

    available: bool
    message: str
    client: Any = None


def engine_status() -> EngineStatus:
    """Ask the engine (``DOCKER_HOST`` or the default socket) once, briefly."""
    from agents_core.deploy.docker_engine import connect, engine_address

    try:
        client = connect(timeout=5)
    except AgentsError as exc:
        return EngineStatus(False, f"{exc.message} {exc.hint}".strip())
    return EngineStatus(True, f"Docker engine ready at {engine_address()}.", client)


def env_choice(mode: str, uploaded: bytes | None = None, pasted: str = "") -> EnvChoice:
    """The container's environment from the page's choice; an ``EnvFileError`` naming a bad line."""
    if mode == "Upload an env file":
        if not uploaded:
            return EnvChoice()
        try:
            text = uploaded.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            from agents_core.errors import EnvFileError

            raise EnvFileError(
                f"uploaded env file: not UTF-8 text (byte {exc.start}).", "Upload a text file."
            ) from None
        return env_from_text(text, "uploaded env file")
    if mode == "Paste variables":
        return env_from_text(pasted, "pasted variables") if pasted.strip() else EnvChoice()
    return EnvChoice()


def zip_folder(folder: Path) -> bytes:
    """The folder as a zip (paths relative to it), for ``st.download_button``."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(folder.rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts:
                archive.write(path, path.relative_to(folder).as_posix())
    return buffer.getvalue()


def output_folder(workspace_root: Path, workflow: str) -> Path:
    """Where the page writes a build context: hidden in the workspace, so it is not listed as a workflow."""
    return workspace_root / ".configurable-agents" / "deploy" / Path(workflow).stem


@dataclass
class LogTail:
    """The last ``size`` lines of a build log, for a code block rewritten as lines arrive."""

    size: int = 40
    lines: list[str] = field(default_factory=list)
    count: int = 0

    def add(self, line: str) -> str:
        self.lines.append(line)
        self.count += 1
        del self.lines[: -self.size]
        return self.text()

    def text(self) -> str:
        return "\n".join(self.lines)


def container_label(info: Any, escape: Any = str) -> str:
    """One markdown line per container: name, workflow, status (and health), ports; ``escape`` quotes text."""
    status = info.status + (f", {info.health}" if info.health else "")
    ports = f" · {escape(info.ports)}" if info.ports else ""
    return f"**{escape(info.name)}** · {escape(info.workflow)} · {escape(status)}{ports}"
