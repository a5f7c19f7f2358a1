"""Is a remote tracking server there at all? Asked with one socket connect before MLflow is.

MLflow retries an unreachable ``http(s)`` server for ~247 s per call and its
trace exporter holds the process ~250 s at exit, so an answerless server
would stall tracking and the process's exit. One TCP connect (1 s timeout)
tells first; a failure is remembered for :data:`RETRY_AFTER_SECONDS` so
later runs do not probe again at once.
"""

from __future__ import annotations

import socket
import threading
import time
from urllib.parse import urlparse

CONNECT_TIMEOUT_SECONDS = 1.0
RETRY_AFTER_SECONDS = 30.0

_down: dict[str, float] = {}
_lock = threading.Lock()


def unreachable(uri: str) -> str | None:
    """Why an ``http(s)`` tracking URI cannot be reached, or ``None`` when it answers (or is not remote)."""
    parsed = urlparse(uri)
    if parsed.scheme not in ("http", "https"):
        return None
    host = parsed.hostname or "localhost"
    port = parsed.port or (443 if parsed.scheme == "https" else 80)
    key = f"{host}:{port}"
    with _lock:
        since = _down.get(key)
        if since is not None and time.monotonic() - since < RETRY_AFTER_SECONDS:
            return f"{host}:{port} did not answer a moment ago"
    try:
        with socket.create_connection((host, port), timeout=CONNECT_TIMEOUT_SECONDS):
            pass
    except OSError as exc:
        with _lock:
            _down[key] = time.monotonic()
        return f"{host}:{port} does not answer ({exc.strerror or type(exc).__name__})"
    with _lock:
        _down.pop(key, None)
    return None
