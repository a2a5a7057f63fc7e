"""What the sandbox cannot produce, scripted with httpx.MockTransport: a proxy's 502 page, a 200 without JSON,
a refused connection, the exact request the client sends."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

import httpx
import pytest

from invoicebridge.qbo.auth import StaticTokenSource
from invoicebridge.qbo.client import QboClient, QboConfig
from invoicebridge.qbo.errors import OutcomeUnknown, ServerError

Handler = Callable[[httpx.Request], httpx.Response]


@pytest.fixture
def sleeps() -> list[float]:
    return []


@contextmanager
def client_for(handler: Handler, sleeps: list[float]) -> Iterator[QboClient]:
    with httpx.Client(transport=httpx.MockTransport(handler)) as http:
        config = QboConfig(api_base="https://qbo.example/v3", max_attempts=3)
        yield QboClient(config, "42", StaticTokenSource("tok"), http, sleep=sleeps.append, jitter=lambda: 1.0)


def test_a_proxy_502_page_is_a_server_error_retried_for_reads(sleeps: list[float]) -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(502, text="<html>Bad Gateway</html>")

    with client_for(handler, sleeps) as client, pytest.raises(ServerError) as raised:
        client.read("Invoice", "1")
    assert raised.value.status == 502
    assert len(seen) == 3
    assert sleeps == [0.5, 1.0]


def test_a_200_without_json_is_an_unknown_outcome(sleeps: list[float]) -> None:
    answer = httpx.Response(200, text="oops")
    with client_for(lambda request: answer, sleeps) as client, pytest.raises(OutcomeUnknown):
        client.sparse_update("Customer", "1", "0", {"Notes": "x"})
    assert sleeps == []


def test_a_refused_connection_is_an_unknown_outcome_retried_for_queries(sleeps: list[float]) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    with client_for(handler, sleeps) as client, pytest.raises(OutcomeUnknown):
        client.query("SELECT * FROM Term")
    assert len(sleeps) == 2


def test_a_batch_of_queries_is_retried_without_a_request_id(sleeps: list[float]) -> None:
    answers = iter([httpx.Response(503), httpx.Response(200, json={"BatchItemResponse": [{"bId": "1"}]})])

    with client_for(lambda request: next(answers), sleeps) as client:
        assert client.batch([{"bId": "1", "Query": "SELECT * FROM Term"}]) == [{"bId": "1"}]
    assert sleeps == [0.5]


def test_the_request_carries_what_qbo_expects(sleeps: list[float]) -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"QueryResponse": {}}, headers={"intuit_tid": "tid"})

    with client_for(handler, sleeps) as client:
        client.query("SELECT * FROM Invoice")
    (request,) = seen
    assert request.method == "POST"
    assert str(request.url) == "https://qbo.example/v3/company/42/query?minorversion=75"
    assert request.headers["Content-Type"] == "application/text"
    assert request.headers["Accept"] == "application/json"
    assert request.headers["Authorization"] == "Bearer tok"
    assert request.content == b"SELECT * FROM Invoice"
