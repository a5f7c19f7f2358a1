"""Who runs a run, and whether they are still there.

A run row names its owner: the host, the pid and a token made once per
process. While the run goes on, the owner refreshes a heartbeat every
:data:`HEARTBEAT_SECONDS`. Another process decides the owner is gone by host
and pid when it shares the host (the pid is dead or a zombie, or it is this
very pid under another token: a recycled pid), and by a heartbeat older than
:data:`STALE_AFTER_SECONDS` on any host (on this host that catches a pid
reused by another live process).
"""

from __future__ import annotations

import os
import socket
import time
import uuid
from dataclasses import dataclass

#: Statuses of a run; the last four are terminal.
QUEUED, RUNNING = "queued", "running"
SUCCESS, FAILED, CANCELLED, INTERRUPTED = "success", "failed", "cancelled", "interrupted"
ACTIVE_STATUSES = (QUEUED, RUNNING)
TERMINAL_STATUSES = (SUCCESS, FAILED, CANCELLED, INTERRUPTED)
RESUMABLE_STATUSES = (FAILED, CANCELLED, INTERRUPTED)

HEARTBEAT_SECONDS = 2.0
CANCEL_POLL_SECONDS = 0.5
STALE_AFTER_SECONDS = 30.0
#: How many times a worker run is claimed before an owner's death fails it instead of re-queuing it.
MAX_ATTEMPTS = int(os.environ.get("AGENTS_MAX_ATTEMPTS", "3"))

_PROCESS_TOKEN = uuid.uuid4().hex[:16]


@dataclass(frozen=True)
class Owner:
    """The process that runs a run."""

    host: str
    pid: int
    token: str

    def describe(self) -> str:
        return f"pid {self.pid} on {self.host}"


def current_owner() -> Owner:
    """This process as an owner (the token is made once per process)."""
    return Owner(socket.gethostname(), os.getpid(), _PROCESS_TOKEN)


def _pid_alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a killed child not yet reaped by its parent is a zombie: gone for our purpose
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as handle:
            return handle.read().rsplit(")", 1)[-1].split()[0] not in ("Z", "X")
    except OSError:
        return True


def owner_gone(owner: Owner | None, heartbeat_at: float | None, now: float | None = None) -> str | None:
    """Why ``owner`` is gone (a sentence), or ``None`` while it may still be running the run."""
    now = time.time() if now is None else now
    if owner is None:
        if heartbeat_at is None or now - heartbeat_at > STALE_AFTER_SECONDS:
            return "the run has no owner and no recent heartbeat"
        return None
    me = current_owner()
    if owner.host == me.host:
        if owner.pid == me.pid and owner.token != me.token:
            return f"its owner (pid {owner.pid}) ended; this pid now belongs to another process"
        if owner.pid != me.pid and not _pid_alive(owner.pid):
            return f"its owner (pid {owner.pid} on {owner.host}) is no longer running"
        if owner.pid != me.pid and heartbeat_at is not None and now - heartbeat_at > STALE_AFTER_SECONDS:
            # the pid is alive, but an owner beats every HEARTBEAT_SECONDS: the pid was reused by another process
            return f"its owner ({owner.describe()}) sent no heartbeat for {now - heartbeat_at:.0f} s"
        return None
    if heartbeat_at is None or now - heartbeat_at > STALE_AFTER_SECONDS:
        age = "no heartbeat" if heartbeat_at is None else f"no heartbeat for {now - heartbeat_at:.0f} s"
        return f"its owner ({owner.describe()}) sent {age}"
    return None
