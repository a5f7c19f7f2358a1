"""Env files (``KEY=value`` per line) read and checked before a container ever sees them.

A deployment's secrets (API keys) reach the container at run time, from an env
file, and are never written into the image. Docker's own ``--env-file`` parser
accepts almost anything and silently passes a mistyped line on; this one
refuses a bad line with its number, so a broken file is found at deploy time,
not as a missing key inside a running container.

Accepted, as Docker and docker compose read them: blank lines, ``# comments``,
an optional ``export`` prefix, values in single or double quotes.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from agents_core.errors import EnvFileError

__all__ = ["EnvFileError", "parse_env_text", "read_env_file"]

#: Names Docker and POSIX shells accept for an environment variable.
KEY_PATTERN = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")

#: The largest env file read (an env file is a few lines; anything this big is the wrong file).
MAX_ENV_FILE_BYTES = 1_048_576


def _unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        return value[1:-1]
    return value


def parse_env_text(text: str, *, source: str = "env file") -> dict[str, str]:
    """``{KEY: value}`` from the text of an env file; an :class:`EnvFileError` naming the first bad line."""
    values: dict[str, str] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("export "):
            line = line[len("export ") :].lstrip()
        key, sep, value = line.partition("=")
        key = key.strip()
        shown = raw if len(raw) <= 60 else raw[:57] + "..."
        if not sep:
            raise EnvFileError(
                f"{source}, line {number}: {shown!r} is not KEY=value.",
                "Write one variable per line as KEY=value; comments start with #.",
            )
        if not KEY_PATTERN.fullmatch(key):
            raise EnvFileError(
                f"{source}, line {number}: {key!r} is not a valid variable name.",
                "A name has letters, digits and underscores and does not start with a digit.",
            )
        if "\x00" in value:
            raise EnvFileError(f"{source}, line {number}: the value of {key} holds a NUL character.", "Remove it.")
        values[key] = _unquote(value.strip())
    return values


def read_env_file(path: str | os.PathLike[str]) -> dict[str, str]:
    """Read and check an env file; an :class:`EnvFileError` when it is missing, too big, not text or malformed."""
    file = Path(path)
    try:
        if file.stat().st_size > MAX_ENV_FILE_BYTES:
            raise EnvFileError(f"{file}: larger than 1 MiB, not an env file.", "Pass the file of KEY=value lines.")
        data = file.read_bytes()
    except FileNotFoundError:
        raise EnvFileError(f"{file}: no such env file.", "Check the path, or deploy with --no-env-file.") from None
    except IsADirectoryError:
        raise EnvFileError(f"{file}: is a folder, not an env file.", "Pass the file of KEY=value lines.") from None
    except OSError as exc:
        raise EnvFileError(f"{file}: cannot be read ({exc.strerror}).", "Check its permissions.") from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise EnvFileError(f"{file}: not UTF-8 text (byte {exc.start}).", "Save it as UTF-8 text.") from None
    return parse_env_text(text, source=str(file))
