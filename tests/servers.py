"""Real PostgreSQL and Redis servers for the tests, started on free 127.0.0.1 ports and stopped after.

``postgres_server()`` and ``redis_server()`` are context managers giving a
:class:`Server` (its URL, and ``stop()``/``start()`` for tests that restart it);
tests/conftest.py turns them into session fixtures. Without the binaries they
raise :class:`ServerUnavailable`: the fixtures skip then, except under
``CI=true``, where a missing server is a failure (``make test`` installs them
as root: Debian's ``postgresql`` and ``redis-server``).

PostgreSQL's ``initdb`` refuses to run as root, so as root the cluster is made
and run by the ``postgres`` user (``runuser``), in a folder that user owns.
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

PG_BIN_GLOB = "/usr/lib/postgresql/*/bin"


class ServerUnavailable(RuntimeError):
    """The server's binaries are not installed here (the message says which and how to get them)."""


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_for_port(port: int, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return
        time.sleep(0.05)
    raise RuntimeError(f"nothing answered on 127.0.0.1:{port} after {timeout:g} s")


@dataclass
class Server:
    """A running server: ``url`` to connect, ``stop()``/``start()`` to take it down and bring it back."""

    url: str
    port: int
    _start: list[str] = field(repr=False)
    _stop: Callable[[], None] = field(repr=False)

    def start(self) -> None:
        subprocess.run(self._start, check=True, capture_output=True, timeout=60)
        _wait_for_port(self.port)

    def stop(self) -> None:
        """Stop the server and return once it is down."""
        self._stop()


def _pg_bin() -> Path:
    found = sorted(glob.glob(PG_BIN_GLOB))
    if not found or not (Path(found[-1]) / "initdb").exists():
        raise ServerUnavailable(
            "PostgreSQL is not installed (no /usr/lib/postgresql/*/bin/initdb); "
            "install it with: apt-get install postgresql (make test does this as root)."
        )
    return Path(found[-1])


@contextlib.contextmanager
def postgres_server() -> Iterator[Server]:
    """A throw-away PostgreSQL cluster (trust auth, fsync off) with database ``agents``; removed after."""
    bin_dir = _pg_bin()
    as_root = os.geteuid() == 0
    if as_root and shutil.which("runuser") is None:
        raise ServerUnavailable("running as root needs runuser to start PostgreSQL as the postgres user.")
    user = "postgres" if as_root else os.environ.get("USER") or "postgres"
    prefix = ["runuser", "-u", "postgres", "--"] if as_root else []
    root = Path(tempfile.mkdtemp(prefix="agents-pg-"))
    data, sockets = root / "data", root / "sock"
    sockets.mkdir()
    if as_root:
        shutil.chown(root, "postgres")
        shutil.chown(sockets, "postgres")
    port = free_port()
    pg_ctl = [*prefix, str(bin_dir / "pg_ctl"), "-D", str(data), "-l", str(root / "log"), "-w"]
    options = f"-p {port} -k {sockets} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200"
    server = Server(
        f"postgresql+psycopg://{user}@127.0.0.1:{port}/agents",
        port,
        [*pg_ctl, "-o", options, "start"],
        lambda: subprocess.run([*pg_ctl, "-m", "fast", "stop"], check=False, capture_output=True, timeout=60),
    )
    try:
        subprocess.run(
            [*prefix, str(bin_dir / "initdb"), "-D", str(data), "-A", "trust", "--no-sync", "-U", user],
            check=True,
            capture_output=True,
            timeout=120,
        )
        server.start()
        subprocess.run(
            [*prefix, str(bin_dir / "createdb"), "-h", "127.0.0.1", "-p", str(port), "-U", user, "agents"],
            check=True,
            capture_output=True,
            timeout=60,
        )
        yield server
    finally:
        server.stop()
        shutil.rmtree(root, ignore_errors=True)


@contextlib.contextmanager
def redis_server() -> Iterator[Server]:
    """A Redis on a free port with persistence off; shut down and removed after."""
    binary = shutil.which("redis-server")
    if binary is None:
        raise ServerUnavailable("redis-server is not installed; install it with: apt-get install redis-server.")
    root = Path(tempfile.mkdtemp(prefix="agents-redis-"))
    port = free_port()
    pidfile = root / "redis.pid"
    start = [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
    start += ["--daemonize", "yes", "--pidfile", str(pidfile), "--dir", str(root), "--logfile", str(root / "log")]

    def stop() -> None:
        """SIGTERM to the pid in its pidfile (Redis removes the file as it exits), then wait for it to go."""
        with contextlib.suppress(OSError, ValueError):
            pid = int(pidfile.read_text().strip())
            os.kill(pid, signal.SIGTERM)
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline:
                os.kill(pid, 0)  # raises once the process is gone
                time.sleep(0.05)

    server = Server(f"redis://127.0.0.1:{port}/0", port, start, stop)
    try:
        server.start()
        yield server
    finally:
        server.stop()
        shutil.rmtree(root, ignore_errors=True)


def _admin(server: Server, sql: str) -> None:
    import psycopg

    url = server.url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(url, autocommit=True, connect_timeout=10) as connection:
        connection.execute(sql)


def create_database(server: Server, name: str) -> str:
    """A new empty database on ``server``; its ``postgresql+psycopg://`` URL."""
    _admin(server, f'CREATE DATABASE "{name}"')
    return server.url.rsplit("/", 1)[0] + "/" + name


def drop_database(server: Server, name: str) -> None:
    """Drop it, closing whatever connections a test left open."""
    with contextlib.suppress(Exception):  # the server was stopped by the test: it goes with the session
        _admin(server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
