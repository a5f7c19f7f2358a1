"""``owner_gone``: when a run's owner counts as dead, including a pid reused by another live process."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator

import pytest

from agents_core.runs.lifecycle import STALE_AFTER_SECONDS, Owner, current_owner, owner_gone


@pytest.fixture
def other_live_pid() -> Iterator[int]:
    """The pid of another live process on this host (what a reused pid looks like)."""
    process = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        yield process.pid
    finally:
        process.kill()
        process.wait(10)


def test_a_same_host_owner_whose_pid_lives_on_but_whose_heartbeat_is_stale_is_gone(other_live_pid: int) -> None:
    now = time.time()
    owner = Owner(current_owner().host, other_live_pid, "token-of-a-process-long-gone")
    stale = now - STALE_AFTER_SECONDS - 5
    reason = owner_gone(owner, stale, now)
    assert reason is not None and f"pid {other_live_pid}" in reason and "no heartbeat" in reason
    assert owner_gone(owner, now - 1, now) is None  # a live owner beating on time is left alone
    assert owner_gone(owner, None, now) is None  # not beating yet (just claimed): the pid decides


def test_this_process_is_never_declared_gone_by_its_own_stale_heartbeat() -> None:
    now = time.time()
    assert owner_gone(current_owner(), now - STALE_AFTER_SECONDS * 10, now) is None
    me = current_owner()
    recycled = Owner(me.host, me.pid, "another-token")
    assert "another process" in (owner_gone(recycled, now, now) or "")


def test_other_hosts_go_by_the_heartbeat_alone() -> None:
    now = time.time()
    remote = Owner("another-host.invalid", 1, "t")
    assert owner_gone(remote, now - 1, now) is None
    assert "no heartbeat for" in (owner_gone(remote, now - STALE_AFTER_SECONDS - 1, now) or "")
