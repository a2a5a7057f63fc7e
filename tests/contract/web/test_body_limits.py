"""Body limits (web/limits.py): a body over its limit is answered 413 ``too_large`` in the one error shape, and
what the server reads of it is the limit plus at most one chunk (issue 9, item 8). The served-app cases (a
gigabyte announced, an endless chunked stream over a real socket) are in
tests/contract/invoicing/test_webhook_bodies.py; here the app runs in-process, so the bytes it pulls are counted.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from fastapi.testclient import TestClient

from invoicebridge.web.limits import API_LIMIT, FORM_LIMIT, WEBHOOK_LIMIT, limit_for

CHUNK = 16 * 1024
FORM = "application/x-www-form-urlencoded"


def test_each_kind_of_request_has_its_limit() -> None:
    assert limit_for("/webhooks/qbo", b"application/json") == WEBHOOK_LIMIT == 256 * 1024
    assert limit_for("/login", FORM.encode()) == FORM_LIMIT == 128 * 1024
    assert limit_for("/login", b"Multipart/Form-Data; boundary=x") == FORM_LIMIT
    assert limit_for("/api/companies/1/sales-orders", b"application/json") == API_LIMIT == 16 * 1024 * 1024
    assert limit_for("/api/companies", b"") == API_LIMIT


@pytest.mark.parametrize(
    ("path", "content_type", "limit", "words"),
    [
        ("/api/companies", "application/json", API_LIMIT, "16 MiB"),
        ("/webhooks/qbo", "application/json", WEBHOOK_LIMIT, "256 KiB"),
        ("/login", FORM, FORM_LIMIT, "128 KiB"),
        ("/login", "multipart/form-data; boundary=b", FORM_LIMIT, "128 KiB"),
    ],
)
def test_a_body_one_byte_over_its_limit_is_refused_with_413(
    api: TestClient, path: str, content_type: str, limit: int, words: str
) -> None:
    answer = api.post(path, content=b" " * (limit + 1), headers={"content-type": content_type})

    assert answer.status_code == 413
    message = f"The request body is larger than the {words} accepted here."
    assert answer.json() == {"error": {"code": "too_large", "message": message, "problems": []}}
    assert answer.headers["connection"] == "close"
    assert "content-security-policy" in answer.headers  # SecurityHeaders wraps the refusal too


def test_a_body_at_its_limit_goes_through(api: TestClient) -> None:
    company = json.dumps({"name": "Acme", "home_currency": "USD", "timezone": "America/Chicago"}).encode()

    created = api.post("/api/companies", content=company.ljust(API_LIMIT), headers={"content-type": "application/json"})
    webhook = api.post("/webhooks/qbo", content=b" " * WEBHOOK_LIMIT)

    assert created.status_code == 201, created.text
    assert webhook.status_code == 401  # read whole, and refused for its signature, not its size


def test_a_login_form_of_ordinary_size_is_not_refused(api: TestClient) -> None:
    answer = api.post("/login", data={"email": "owner@example.com", "password": "x" * 1000})

    assert answer.status_code == 401  # read, parsed and judged: the password is wrong
    assert "too_large" not in answer.text


# -- streamed bodies, driven through the ASGI app directly ------------------------------------------------------
def _scope(path: str, content_type: str) -> dict[str, Any]:
    headers = [(b"host", b"testserver"), (b"content-type", content_type.encode()), (b"transfer-encoding", b"chunked")]
    return {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST", "scheme": "http",
        "path": path, "raw_path": path.encode(), "query_string": b"", "root_path": "", "headers": headers,
        "client": ("127.0.0.1", 50000), "server": ("testserver", 80),
    }  # fmt: skip


async def _stream(app: Any, path: str, content_type: str, cap: int) -> tuple[int, bytes, int]:
    """POST an endless chunked body (it ends at ``cap`` only so a broken limit fails instead of hanging).
    Returns the status, the body and how many body bytes the app pulled."""
    pulled, sent = 0, []

    async def receive() -> dict[str, Any]:
        nonlocal pulled
        pulled += CHUNK
        return {"type": "http.request", "body": b"[" * CHUNK, "more_body": pulled < cap}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await app(_scope(path, content_type), receive, send)
    (status,) = [m["status"] for m in sent if m["type"] == "http.response.start"]
    return status, b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body"), pulled


@pytest.mark.parametrize(
    ("path", "content_type", "limit"),
    [
        ("/webhooks/qbo", "application/json", WEBHOOK_LIMIT),  # the endpoint reads the body itself
        ("/api/companies", "application/json", API_LIMIT),  # FastAPI reads it for a body parameter
        ("/login", FORM, FORM_LIMIT),  # FastAPI parses a form
    ],
)
def test_a_streamed_body_is_read_no_further_than_its_limit(
    api: TestClient, path: str, content_type: str, limit: int
) -> None:
    status, body, pulled = asyncio.run(_stream(api.app, path, content_type, cap=8 * limit))

    assert status == 413
    assert json.loads(body)["error"]["code"] == "too_large"
    assert limit < pulled <= limit + CHUNK  # it stopped at the first chunk past the limit
