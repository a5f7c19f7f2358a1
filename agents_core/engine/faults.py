"""Which provider failures are transient, and what happened, in words a user can act on.

SPEC §5: 429, 5xx, timeouts and connection errors are retried; other errors
fail at once. The clients do not make this easy. Their errors wrap one
another (``__cause__``/``__context__``), and some faults reach us without
any HTTP status at all:

- a reply cut off mid-body surfaces from aiohttp as ``ClientPayloadError``
  wrapping ``ContentLengthError``, whose ``code`` of 400 is the status
  aiohttp's *server* side would answer with, not what the provider sent;
- a gateway's HTML error page labelled ``application/json`` (a 502 from a
  proxy) makes the Google SDK's ``response.json()`` raise
  ``JSONDecodeError`` before it ever builds its ``ServerError``, so the 502
  is lost, and a 200 with a garbled body fails the same way.

A ``JSONDecodeError`` raised while the model was being called is therefore a
fault of the provider's reply, not of the request. The HTTP status of such a
reply is recovered from the response object the client was reading, found
in the frames of the error's traceback (a duck-typed look, so it works for
aiohttp, httpx and requests alike).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator

TRANSIENT_STATUS = {408, 409, 425, 429, 500, 502, 503, 504}

#: Errors raised when a reply's body stops before its end (aiohttp, httpx, http.client, urllib3, requests).
_CUT_OFF_NAMES = {
    "ClientPayloadError",
    "ContentLengthError",
    "TransferEncodingError",
    "IncompleteRead",
    "IncompleteReadError",
    "ChunkedEncodingError",
}
#: Protocol errors that are a cut-off body when their text says so, else a dropped connection (httpx, urllib3).
_PROTOCOL_NAMES = {"RemoteProtocolError", "ProtocolError", "ReadError"}
#: Parts of error class names that mean the connection failed or the provider is overloaded.
_CONNECTION_NAMES = ("Timeout", "ConnectError", "Connection", "Disconnected", "ServiceUnavailable", "RateLimit")
#: Modules whose errors carry a ``code`` that is not an HTTP status the provider sent.
_NOT_A_STATUS_MODULES = ("aiohttp.http_exceptions",)


def chain(error: BaseException) -> Iterator[BaseException]:
    """An error and the errors it wraps, outermost first (clients wrap SDK errors)."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def status_of(error: BaseException) -> int | None:
    """The HTTP status the provider answered with, as the error carries it (None when it does not)."""
    if type(error).__module__.startswith(_NOT_A_STATUS_MODULES):
        return None
    for attribute in ("status_code", "code", "status"):
        value = getattr(error, attribute, None)
        if _is_status(value):
            return value
    response = getattr(error, "response", None)
    value = getattr(response, "status_code", None)
    return value if _is_status(value) else None


def status_in_chain(error: BaseException) -> int | None:
    """The HTTP status of an error or of the errors it wraps."""
    return next((status for e in chain(error) if (status := status_of(e)) is not None), None)


def _is_status(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 100 <= value <= 599


def _response_status(error: BaseException) -> int | None:
    """The status of the HTTP response the client was reading when ``error`` was raised."""
    tb = error.__traceback__
    while tb is not None:
        for value in tb.tb_frame.f_locals.values():
            if not hasattr(value, "headers"):
                continue
            for attribute in ("status_code", "status"):
                status = getattr(value, attribute, None)
                if _is_status(status):
                    return status  # type: ignore[return-value]
        tb = tb.tb_next
    return None


def _not_json(error: json.JSONDecodeError) -> str:
    status = _response_status(error)
    if status is None or status == 200:
        where = "" if status is None else f" (HTTP {status})"
        return f"the provider's reply{where} was not valid JSON"
    return f"HTTP {status} with a body that is not JSON"


def _mentions_body(error: BaseException) -> bool:
    text = str(error).lower()
    return "body" in text or "incomplete" in text


def describe_transient(error: BaseException) -> str | None:
    """What went wrong, when ``error`` is worth retrying; ``None`` when retrying would not help."""
    for current in chain(error):
        name = type(current).__name__
        if name in _CUT_OFF_NAMES or (name in _PROTOCOL_NAMES and _mentions_body(current)):
            return "the provider's reply was cut off mid-body"
        if name in _PROTOCOL_NAMES:
            return f"the connection to the provider failed ({name})"
        if isinstance(current, json.JSONDecodeError):
            return _not_json(current)
        if isinstance(current, TimeoutError | asyncio.TimeoutError):
            return "the provider did not answer in time"
        if isinstance(current, ConnectionError):
            return "the connection to the provider failed"
        status = status_of(current)
        if status is not None:
            return f"HTTP {status}" if status in TRANSIENT_STATUS else None
        if any(part in name for part in _CONNECTION_NAMES):
            return f"the connection to the provider failed ({name})"
    return None
