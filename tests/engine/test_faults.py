"""Which errors are transient, with the real exception types of the HTTP clients the providers use."""

from __future__ import annotations

import json

import httpx
import pytest
from aiohttp import ClientPayloadError
from aiohttp.http_exceptions import ContentLengthError

from agents_core.engine.faults import describe_transient, status_in_chain
from agents_core.engine.node import InvalidStructuredOutput, is_transient


def _raised(make):  # the error as a client raises it, with its traceback and wrapped causes
    try:
        make()
    except Exception as exc:
        return exc
    raise AssertionError("nothing was raised")


def _read_json(response: httpx.Response) -> None:
    response.json()


def test_a_cut_off_body_is_transient_and_its_parser_code_is_not_an_http_status() -> None:
    def cut_off() -> None:
        try:
            raise ContentLengthError("Not enough data to satisfy content length header.")
        except ContentLengthError as inner:
            raise ClientPayloadError(f"Response payload is not completed: {inner!r}") from inner

    error = _raised(cut_off)
    assert describe_transient(error) == "the provider's reply was cut off mid-body"
    assert status_in_chain(error) is None


def test_httpx_incomplete_body_is_cut_off_but_a_dropped_connection_is_not() -> None:
    body = httpx.RemoteProtocolError("peer closed connection without sending complete message body")
    dropped = httpx.RemoteProtocolError("Server disconnected without sending a response.")
    assert describe_transient(body) == "the provider's reply was cut off mid-body"
    assert describe_transient(dropped) == "the connection to the provider failed (RemoteProtocolError)"


@pytest.mark.parametrize(
    ("status", "words"),
    [(502, "HTTP 502 with a body that is not JSON"), (200, "the provider's reply (HTTP 200) was not valid JSON")],
)
def test_a_body_that_is_not_json_names_the_status_of_the_response_being_read(status: int, words: str) -> None:
    response = httpx.Response(status, headers={"content-type": "application/json"}, content=b"<html>Bad</html>")
    error = _raised(lambda: _read_json(response))
    assert isinstance(error, json.JSONDecodeError)
    assert describe_transient(error) == words


@pytest.mark.parametrize(("status", "transient"), [(429, True), (503, True), (400, False), (401, False), (404, False)])
def test_http_statuses(status: int, transient: bool) -> None:
    response = httpx.Response(status, request=httpx.Request("POST", "http://127.0.0.1/"))
    error = _raised(response.raise_for_status)
    assert is_transient(error) is transient
    assert status_in_chain(error) == status


def test_other_errors_are_not_transient_and_invalid_output_is() -> None:
    assert not is_transient(ValueError("bad request built by us"))
    assert is_transient(InvalidStructuredOutput("the reply did not match"))
    assert describe_transient(TimeoutError()) == "the provider did not answer in time"
    assert describe_transient(ConnectionRefusedError()) == "the connection to the provider failed"
