"""A programmable stand-in for Gemini's REST API (``generateContent``), on 127.0.0.1.

The real ``langchain-google-genai`` client talks to it through ``base_url``.
Replies are scripted in order (:meth:`GeminiStub.push`) or chosen by a
handler from the request; every request is recorded (path, headers, parsed
body). In barrier mode the matching requests are held until ``parties`` of
them are in flight at once, which proves concurrency without timing asserts;
a barrier that is never reached answers HTTP 400 (not retried) after its
timeout, so a serial engine fails the test instead of hanging it.

    stub = GeminiStub().start()
    stub.push(text_reply("hello"), error_reply(429))
    ...
    stub.stop()
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

DEFAULT_USAGE = (11, 7)
_STATUS_NAMES = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    503: "UNAVAILABLE",
    504: "DEADLINE_EXCEEDED",
}


@dataclass
class Reply:
    """One scripted HTTP answer."""

    status: int = 200
    body: bytes = b""
    delay: float = 0.0
    content_type: str = "application/json"
    #: Announce this many bytes in Content-Length but send only ``body``, then hang up (a cut-off reply).
    announced_length: int | None = None


@dataclass
class RecordedRequest:
    """What the client sent."""

    method: str
    path: str
    headers: dict[str, str]
    body: Any
    raw: bytes
    #: ``time.monotonic()`` when the request arrived.
    received_at: float = 0.0

    @property
    def model(self) -> str:
        """The model named in the path (``/v1beta/models/{model}:generateContent``)."""
        tail = self.path.split("?", 1)[0].rsplit("/", 1)[-1]
        return tail.split(":", 1)[0]

    @property
    def text(self) -> str:
        """The whole body as text (for 'does the request contain X' assertions)."""
        return self.raw.decode("utf-8", "replace")

    @property
    def contents(self) -> list[dict[str, Any]]:
        return list((self.body or {}).get("contents") or [])

    @property
    def prompt(self) -> str:
        """The text of the first user message."""
        for part in (self.contents[0].get("parts") or []) if self.contents else []:
            if "text" in part:
                return part["text"]
        return ""

    @property
    def all_text(self) -> str:
        """Every text part of every message, joined (the conversation as the model saw it)."""
        texts = []
        for content in self.contents:
            texts += [part["text"] for part in content.get("parts") or [] if "text" in part]
        return "\n".join(texts)

    @property
    def generation_config(self) -> dict[str, Any]:
        return dict((self.body or {}).get("generationConfig") or {})

    @property
    def function_declarations(self) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        for tool in (self.body or {}).get("tools") or []:
            found += tool.get("functionDeclarations") or tool.get("function_declarations") or []
        return found

    @property
    def function_responses(self) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        for content in self.contents:
            for part in content.get("parts") or []:
                response = part.get("functionResponse") or part.get("function_response")
                if response is not None:
                    found.append(response)
        return found


def _envelope(parts: list[dict[str, Any]], usage: tuple[int, int], model: str) -> dict[str, Any]:
    prompt_tokens, candidate_tokens = usage
    return {
        "candidates": [{"content": {"parts": parts, "role": "model"}, "finishReason": "STOP", "index": 0}],
        "usageMetadata": {
            "promptTokenCount": prompt_tokens,
            "candidatesTokenCount": candidate_tokens,
            "totalTokenCount": prompt_tokens + candidate_tokens,
        },
        "modelVersion": model,
    }


def text_reply(text: str, usage: tuple[int, int] = DEFAULT_USAGE, model: str = "gemini-2.5-flash") -> Reply:
    """A normal answer whose only part is ``text``."""
    return Reply(body=json.dumps(_envelope([{"text": text}], usage, model)).encode())


def json_reply(value: Any, usage: tuple[int, int] = DEFAULT_USAGE) -> Reply:
    """A structured-output answer: ``value`` serialised as the text part."""
    return text_reply(json.dumps(value), usage)


def malformed_reply(text: str = '{"answer": 1, "explanation": ', usage: tuple[int, int] = DEFAULT_USAGE) -> Reply:
    """A well-formed HTTP answer whose text is not valid JSON (for structured nodes)."""
    return text_reply(text, usage)


def function_call_reply(name: str, args: dict[str, Any], usage: tuple[int, int] = DEFAULT_USAGE) -> Reply:
    """The model asks to call tool ``name`` with ``args``."""
    return Reply(body=json.dumps(_envelope([{"functionCall": {"name": name, "args": args}}], usage, "gemini")).encode())


def error_reply(code: int, message: str | None = None, status: str | None = None) -> Reply:
    """An HTTP error with Google's error body."""
    body = {
        "error": {
            "code": code,
            "message": message or f"stub error {code}",
            "status": status or _STATUS_NAMES.get(code, "UNKNOWN"),
        }
    }
    return Reply(status=code, body=json.dumps(body).encode())


def delayed(reply: Reply, seconds: float) -> Reply:
    """``reply``, sent only after ``seconds`` (cut short when the stub stops)."""
    return Reply(
        status=reply.status,
        body=reply.body,
        delay=seconds,
        content_type=reply.content_type,
        announced_length=reply.announced_length,
    )


def cut_off_reply(text: str = "never arrives whole") -> Reply:
    """A 200 whose body stops half-way: Content-Length promises the whole body, the stub hangs up early."""
    whole = text_reply(text).body
    return Reply(body=whole[: len(whole) // 2], announced_length=len(whole))


def html_error_reply(code: int = 502) -> Reply:
    """A gateway's HTML error page, mislabelled ``application/json`` (as proxies and load balancers do)."""
    page = f"<html><head><title>{code} Bad Gateway</title></head><body><h1>{code} Bad Gateway</h1></body></html>"
    return Reply(status=code, body=page.encode())


def broken_json_reply() -> Reply:
    """A 200 whose body is not JSON at all (a truncated or garbled envelope)."""
    return Reply(body=b'{"candidates": [{"content": {"parts": [{"text": "hal')


Handler = Callable[[RecordedRequest], "Reply | None"]


@dataclass
class _Barrier:
    parties: int
    timeout: float
    match: Callable[[RecordedRequest], bool]
    barrier: threading.Barrier = field(init=False)

    def __post_init__(self) -> None:
        self.barrier = threading.Barrier(self.parties, timeout=self.timeout)


class GeminiStub:
    """The stub server; ``url`` is the ``api_base`` to give the workflow."""

    def __init__(self) -> None:
        self.requests: list[RecordedRequest] = []
        self.barrier_failures: list[str] = []
        self.max_in_flight = 0
        self.handler: Handler | None = None
        self.default: Reply | None = None
        self._queue: list[Reply] = []
        self._barrier: _Barrier | None = None
        self._in_flight = 0
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- scripting ------------------------------------------------------------------
    def push(self, *replies: Reply) -> GeminiStub:
        """Answer the next requests with ``replies``, in order."""
        with self._lock:
            self._queue.extend(replies)
        return self

    @property
    def pending(self) -> int:
        """Scripted replies not used yet."""
        with self._lock:
            return len(self._queue)

    def set_barrier(
        self, parties: int, timeout: float = 5.0, match: Callable[[RecordedRequest], bool] | None = None
    ) -> None:
        """Hold each request ``match`` accepts until ``parties`` of them are in flight together."""
        self._barrier = _Barrier(parties, timeout, match or (lambda _request: True))

    # -- lifecycle --------------------------------------------------------------------
    @property
    def url(self) -> str:
        assert self._server is not None, "the stub is not started"
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> GeminiStub:
        stub = self

        class _Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                stub._serve(self)

            def do_GET(self) -> None:
                stub._serve(self)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        class _Server(ThreadingHTTPServer):
            daemon_threads = True
            block_on_close = False

            def handle_error(self, request: Any, client_address: Any) -> None:
                pass  # a client that gave up (timeouts) is expected, not an error

        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name="gemini-stub", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        if self._barrier is not None:
            self._barrier.barrier.abort()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> GeminiStub:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    # -- serving ------------------------------------------------------------------------
    def _serve(self, http: BaseHTTPRequestHandler) -> None:
        length = int(http.headers.get("Content-Length") or 0)
        raw = http.rfile.read(length) if length else b""
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = None
        headers = {k.lower(): v for k, v in http.headers.items()}
        request = RecordedRequest(http.command, http.path, headers, body, raw, time.monotonic())
        with self._lock:
            self.requests.append(request)
            number = len(self.requests)
            self._in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self._in_flight)
        try:
            reply = self._hold(request) or self._choose(request, number)
            if reply.delay:
                self._stopping.wait(reply.delay)
            self._send(http, reply)
        finally:
            with self._lock:
                self._in_flight -= 1

    def _hold(self, request: RecordedRequest) -> Reply | None:
        """Wait at the barrier; an answer only when the barrier failed."""
        gate = self._barrier
        if gate is None or not gate.match(request):
            return None
        try:
            gate.barrier.wait()
        except threading.BrokenBarrierError:
            message = (
                f"gemini stub barrier: fewer than {gate.parties} requests were in flight together "
                f"within {gate.timeout:g} s (the requests did not run concurrently)."
            )
            with self._lock:
                self.barrier_failures.append(request.path)
            return error_reply(400, message)
        return None

    def _choose(self, request: RecordedRequest, number: int) -> Reply:
        if self.handler is not None:
            chosen = self.handler(request)
            if chosen is not None:
                return chosen
        with self._lock:
            if self._queue:
                return self._queue.pop(0)
        if self.default is not None:
            return self.default
        return error_reply(400, f"gemini stub: no scripted reply left for request #{number} ({request.path}).")

    @staticmethod
    def _send(http: BaseHTTPRequestHandler, reply: Reply) -> None:
        try:
            http.send_response(reply.status)
            http.send_header("Content-Type", reply.content_type)
            length = reply.announced_length if reply.announced_length is not None else len(reply.body)
            http.send_header("Content-Length", str(length))
            if reply.announced_length is not None:
                http.send_header("Connection", "close")
                http.close_connection = True
            http.end_headers()
            http.wfile.write(reply.body)
            http.wfile.flush()
        except OSError:
            pass  # the client hung up (it timed out)


@contextlib.contextmanager
def serving_gemini(monkeypatch: Any, delay: float) -> Iterator[GeminiStub]:
    """A started stub answering "ok" after ``delay`` s, with the environment its subprocesses need.

    Proxies are cleared (the stub is on 127.0.0.1), a key is set and the SDK's own base-URL
    variable is removed, so every process started from the test reaches this stub.
    """
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setenv("GOOGLE_API_KEY", "stub-key")
    monkeypatch.delenv("GOOGLE_GEMINI_BASE_URL", raising=False)
    server = GeminiStub().start()
    server.default = delayed(text_reply("ok"), delay)
    try:
        yield server
    finally:
        server.stop()
