"""CSRF: a state-changing request made with a session cookie needs the session's CSRF token; without it (or with
a wrong one) it is refused with 403 and changes nothing. API-token requests need none."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from tests.access_support import log_in, token_headers
from tests.contract.web.conftest import Book
from tests.contract.web.test_access_matrix import PUBLIC, call, routes, snapshot
from tests.contract.web.test_errors import assert_error_shape


def browser(book: Book, email: str = "admin@a.example") -> TestClient:
    client = TestClient(book.web, raise_server_exceptions=False)
    log_in(client, email)
    return client


@pytest.mark.parametrize("sent", [None, "", "wrong-token", "A" * 5000])
def test_every_state_changing_request_without_the_token_is_refused(book: Book, sent: str | None) -> None:
    client = browser(book)
    del client.headers["X-CSRF-Token"]
    if sent is not None:
        client.headers["X-CSRF-Token"] = sent
    changing = [(m, p) for m, p in routes(book.web) if m not in ("GET", "HEAD") and (m, p) not in PUBLIC]
    assert len(changing) > 15
    before = snapshot(book.app)
    for method, path in changing:
        answer = call(client, book, method, path, book.a)
        assert answer.status_code == 403, (method, path, answer.text)
        if path.startswith("/c/"):  # a screen answers with a page saying so
            assert "CSRF token" in answer.text, (method, path)
            continue
        assert_error_shape(answer.json(), "forbidden")
        assert "CSRF" in answer.json()["error"]["message"]
    assert snapshot(book.app) == before


def test_a_cross_site_text_plain_invoice_post_changes_nothing(book: Book) -> None:
    """What a page of another site can make the user's browser send: a simple POST with the cookie, no header."""
    client = browser(book)
    del client.headers["X-CSRF-Token"]
    before = snapshot(book.app)
    answer = client.post(
        f"/api/companies/{book.a}/sales-orders/{book.ids['order_id']}/invoice",
        content=b"anything", headers={"Content-Type": "text/plain", "Origin": "https://evil.example"},
    )  # fmt: skip
    assert answer.status_code == 403
    assert snapshot(book.app) == before
    link = book.app.orderbook.invoice_link(book.a, int(book.ids["order_id"]))
    assert link.status_text == "Not invoiced"


def test_a_form_post_carries_the_token_as_a_field(book: Book) -> None:
    client = browser(book)
    token = client.headers.pop("X-CSRF-Token")
    refused = client.post("/logout", data={"csrf_token": "forged"}, follow_redirects=False)
    assert refused.status_code == 403
    assert client.get("/api/me").status_code == 200  # still logged in
    done = client.post("/logout", data={"csrf_token": token}, follow_redirects=False)
    assert (done.status_code, done.headers["location"]) == (303, "/login")


def test_the_token_of_one_session_does_not_work_for_another(book: Book) -> None:
    first, second = browser(book), browser(book, "member@a.example")
    first.headers["X-CSRF-Token"] = second.headers["X-CSRF-Token"]
    answer = first.post(f"/api/companies/{book.a}/customers", json={"display_name": "Borrowed token"})
    assert answer.status_code == 403


def test_api_token_requests_need_no_csrf_token(book: Book) -> None:
    client = TestClient(book.web, raise_server_exceptions=False, headers=token_headers(book.app, book.a, "member"))
    made = client.post(f"/api/companies/{book.a}/customers", json={"display_name": "Made by a program"})
    assert made.status_code == 201, made.text


def test_with_the_token_a_session_request_goes_through(book: Book) -> None:
    client = browser(book)
    made = client.post(f"/api/companies/{book.a}/customers", json={"display_name": "Made in the browser"})
    assert made.status_code == 201, made.text
