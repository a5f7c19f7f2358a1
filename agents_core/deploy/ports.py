"""Whether the server can bind its address, asked before anything starts.

uvicorn finds a taken port only after the app's start-up (job recovery, the
run service) and then prints a raw ``[Errno 98]`` and exits 3. Binding a test
socket first (with ``SO_REUSEADDR``, as uvicorn does, so a port in TIME_WAIT
is not refused) turns that into one clear :class:`InputError` naming the
option or variable the user set, before "Serving …" is printed.
"""

from __future__ import annotations

import errno
import socket

from agents_core.errors import InputError


def check_bindable(host: str, port: int, *, port_name: str = "--port", host_name: str = "--host") -> None:
    """Raise :class:`InputError` (exit 2) unless a TCP server could listen on ``host``:``port`` now.

    ``port_name``/``host_name`` are what the user typed (``--port`` on the
    CLI, ``PORT`` in a container's environment). Port 0 (any free port) always binds.
    """
    if port == 0:
        return
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        raise InputError(
            f"{_said(host_name, host)}: not an address this machine can bind ({exc.strerror}).",
            f"Pass an address of this machine to {host_name}, e.g. 127.0.0.1 or 0.0.0.0.",
        ) from None
    family, kind, proto, _name, address = infos[0]
    probe = socket.socket(family, kind, proto)
    try:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        probe.bind(address)
    except OSError as exc:
        raise _bind_error(exc, host, port, port_name, host_name) from None
    finally:
        probe.close()


def _bind_error(exc: OSError, host: str, port: int, port_name: str, host_name: str) -> InputError:
    if exc.errno == errno.EADDRINUSE:
        return InputError(
            f"{_said(port_name, port)}: the port is already in use on {host} (another server is listening there).",
            f"Stop the other server or pick a free port, e.g. {_said(port_name, _free_port_hint(port))}.",
        )
    if exc.errno == errno.EACCES:
        return InputError(
            f"{_said(port_name, port)}: this user may not listen on ports below 1024.",
            f"Pick a port of 1024 or more, e.g. {_said(port_name, 8000)}.",
        )
    if exc.errno == errno.EADDRNOTAVAIL:
        return InputError(
            f"{_said(host_name, host)}: not an address of this machine.",
            f"Pass an address of this machine to {host_name}, e.g. 127.0.0.1 or 0.0.0.0.",
        )
    return InputError(
        f"cannot listen on {host}:{port} ({exc.strerror or exc}).",
        f"Check {host_name} and {port_name}.",
    )


def _said(name: str, value: object) -> str:
    """How the user wrote the setting: ``--port 8000`` for an option, ``PORT=8000`` for a variable."""
    return f"{name} {value}" if name.startswith("-") else f"{name}={value}"


def _free_port_hint(taken: int) -> int:
    """A nearby port to suggest (the next one up; the user checks it, we only hint)."""
    return taken + 1 if taken < 65535 else 8000
