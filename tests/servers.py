"""Real servers for tests, on free 127.0.0.1 ports, started and stopped by fixtures.

Each helper is a context manager that yields what a client needs (a URL) and
leaves nothing running. Under ``CI=true`` a missing binary is an error, not a
skip: ``make test`` installs the packages when it runs as root.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _need(binary: str, package: str) -> str:
    path = shutil.which(binary) or (f"/usr/bin/{binary}" if os.path.exists(f"/usr/bin/{binary}") else None)
    if path is None:
        message = f"{binary} is not installed (Debian package {package}; `make test` installs it as root)."
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)
    return path


@dataclass
class RedisServer:
    """A redis-server on 127.0.0.1:``port`` without persistence; :meth:`stop` and :meth:`start` again at will."""

    port: int
    folder: Path
    binary: str

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    @property
    def pidfile(self) -> Path:
        return self.folder / "redis.pid"

    def start(self, timeout: float = 10.0) -> RedisServer:
        subprocess.run(
            [
                self.binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--daemonize",
                "yes",
                "--pidfile",
                str(self.pidfile),
                "--dir",
                str(self.folder),
                "--logfile",
                str(self.folder / "redis.log"),
            ],
            check=True,
            timeout=timeout,
        )
        deadline = time.monotonic() + timeout
        while not self.ping():
            if time.monotonic() > deadline:
                raise RuntimeError(f"redis-server on port {self.port} did not answer within {timeout:g} s")
            time.sleep(0.02)
        return self

    def ping(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as sock:
                sock.sendall(b"PING\r\n")
                return sock.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the server (SIGTERM) and wait until its port is closed."""
        try:
            pid = int(self.pidfile.read_text().strip())
        except (OSError, ValueError):
            return
        try:
            os.kill(pid, 15)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + timeout
        while self.ping() or _alive(pid):
            if time.monotonic() > deadline:
                os.kill(pid, 9)
                break
            time.sleep(0.02)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


@contextmanager
def redis_server() -> Iterator[RedisServer]:
    """A fresh redis-server (``redis-server --port P --bind 127.0.0.1 --save '' --daemonize yes``), stopped after."""
    binary = _need("redis-server", "redis-server")
    with tempfile.TemporaryDirectory(prefix="redis-") as folder:
        server = RedisServer(free_port(), Path(folder), binary).start()
        try:
            yield server
        finally:
            server.stop()
