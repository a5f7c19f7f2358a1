"""A stand-in for Serper's search API (``POST /search`` with ``X-API-KEY``), on 127.0.0.1.

``serper_search`` reads its endpoint from ``SERPER_BASE_URL`` (the full URL);
point it at :attr:`SerperStub.search_url`. Replies are scripted in order
(:meth:`SerperStub.push`); without a script the stub answers with
:attr:`SerperStub.results`. Every request is recorded.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from tests.stubs.gemini import Reply


@dataclass
class SerperRequest:
    path: str
    api_key: str | None
    body: Any


def results_reply(*results: dict[str, str]) -> Reply:
    """A Serper answer with ``organic`` results (``title``, ``link``, ``snippet``)."""
    return Reply(body=json.dumps({"searchParameters": {"type": "search"}, "organic": list(results)}).encode())


def serper_error(status: int, message: str = "Unauthorized.") -> Reply:
    return Reply(status=status, body=json.dumps({"message": message, "statusCode": status}).encode())


@dataclass
class SerperStub:
    results: list[dict[str, str]] = field(
        default_factory=lambda: [
            {"title": "Coffee - Wikipedia", "link": "https://en.wikipedia.org/wiki/Coffee", "snippet": "A drink."},
            {"title": "Coffee and health", "link": "https://example.org/health", "snippet": "Moderate is fine."},
        ]
    )
    requests: list[SerperRequest] = field(default_factory=list)
    _queue: list[Reply] = field(default_factory=list)
    _server: ThreadingHTTPServer | None = None
    _thread: threading.Thread | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def push(self, *replies: Reply) -> SerperStub:
        with self._lock:
            self._queue.extend(replies)
        return self

    @property
    def url(self) -> str:
        assert self._server is not None, "the stub is not started"
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def search_url(self) -> str:
        """The value for ``SERPER_BASE_URL``."""
        return f"{self.url}/search"

    def start(self) -> SerperStub:
        stub = self

        class _Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                try:
                    body = json.loads(raw) if raw else None
                except ValueError:
                    body = None
                with stub._lock:
                    stub.requests.append(SerperRequest(self.path, self.headers.get("X-API-KEY"), body))
                    scripted = stub._queue.pop(0) if stub._queue else None
                if scripted is not None:
                    reply = scripted
                elif self.path.split("?", 1)[0] != "/search":
                    reply = serper_error(404, f"no route {self.path}")
                elif not self.headers.get("X-API-KEY"):
                    reply = serper_error(403, "Unauthorized.")
                else:
                    reply = results_reply(*stub.results)
                self.send_response(reply.status)
                self.send_header("Content-Type", reply.content_type)
                self.send_header("Content-Length", str(len(reply.body)))
                self.end_headers()
                self.wfile.write(reply.body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        class _Server(ThreadingHTTPServer):
            daemon_threads = True

        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name="serper-stub", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> SerperStub:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()
