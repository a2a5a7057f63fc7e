"""No secret leaks: the whole flow — log in, make an API token, invoice, preview, audit, a token refresh, errors,
a webhook, disconnect — with every logger at DEBUG, then the logs, the audit trail, every answer and page, and
every table of the database are searched for the access and refresh tokens (every generation), the app's client
secret, the webhook verifier token, the password, the session cookie, the API token and the server's keys."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import threading

import httpx
import pytest
import sqlalchemy as sa
from tests.access_support import PASSWORD
from tests.contract.invoicing.conftest import World, WorldFactory

from invoicebridge.web.auth import SESSION_COOKIE


def secrets_of(world: World) -> dict[str, str]:
    settings = world.app.settings
    tokens = world.app.vault.load(world.company_id)
    assert tokens is not None
    return {
        "access token": tokens.access_token,
        "refresh token": tokens.refresh_token,
        "client secret": settings.qbo_client_secret.get_secret_value(),
        "verifier token": settings.qbo_webhook_verifier_token.get_secret_value(),
        "token key": settings.fernet_keys()[0],
        "secret key": settings.secret_key_bytes().decode(),
        "password": PASSWORD,
    }


def signed(world: World, body: bytes) -> dict[str, str]:
    token = world.app.settings.qbo_webhook_verifier_token.get_secret_value()
    return {"intuit-signature": base64.b64encode(hmac.new(token.encode(), body, hashlib.sha256).digest()).decode()}


def test_no_secret_reaches_logs_audit_answers_pages_or_the_database(
    make_world: WorldFactory, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)  # every logger, ours and the libraries'
    world = make_world("US", serve=True)
    found = secrets_of(world)
    browser = world.browser()
    found["session cookie"] = browser.cookies[SESSION_COOKIE]
    api = f"/api/companies/{world.company_id}"
    made = browser.post(f"{api}/api-tokens", json={"name": "scan", "role": "admin"})
    found["API token"] = made.json()["token"]
    program = httpx.Client(base_url=world.url, headers={"Authorization": f"Bearer {found['API token']}"}, timeout=60)
    order = world.order(world.customer("Secretive Co", "secret@co.example"))

    answers = [made.text.replace(found["API token"], "")]  # the one answer that must show it, shown once
    answers += [program.get(f"{api}/sales-orders/{order.id}/invoice/preview").text]
    world.control.post("/_sandbox/clock/advance", json={"seconds": 3700})  # the access token expires: refresh
    invoiced = program.post(f"{api}/sales-orders/{order.id}/invoice")
    answers += [invoiced.text, program.get(f"{api}/sales-orders/{order.id}/audit").text]
    found["access token, refreshed"] = secrets_of(world)["access token"]
    found["refresh token, rotated"] = secrets_of(world)["refresh token"]
    answers += [program.get(f"{api}/qbo").text, program.get(f"{api}/qbo/choices").text]
    answers += [program.get("/api/openapi.json").text, browser.get("/").text, browser.get("/api/docs").text]
    answers += [program.get(f"{api}/sales-orders/999999").text, program.post(f"{api}/customers", json={}).text]
    answers += [httpx.get(f"{world.url}/api/me", headers={"Authorization": "Bearer ib_wrong"}).text]
    answers += [httpx.post(f"{world.url}/login", data={"email": "admin@books.example", "password": "wrong " * 3}).text]
    body = json.dumps([{"specversion": "1.0", "id": "scan-1", "type": "qbo.invoice.deleted.v1", "source": "x",
                        "time": "2026-11-02T10:00:00Z", "intuitentityid": invoiced.json()["qbo_invoice_id"],
                        "intuitaccountid": world.realm_id}]).encode()  # fmt: skip
    answers += [httpx.post(f"{world.url}/webhooks/qbo", content=body, headers=signed(world, body)).text]
    answers += [httpx.post(f"{world.url}/webhooks/qbo", content=body, headers={"intuit-signature": "x"}).text]
    answers += [program.delete(f"{api}/qbo").text]
    program.close()

    places = {"logs": product_logs(caplog), "answers and pages": "\n".join(answers), "database": dump(world)}
    assert len(caplog.records) > 20  # the logs really were captured
    leaks = [(what, where) for what, secret in found.items() for where, text in places.items() if secret in text]
    assert leaks == []


def product_logs(caplog: pytest.LogCaptureFixture) -> str:
    """Every captured record but the HTTP library's records of this test's own clients (they run in this thread;
    the app serves in its own): those show the session cookie the test received, which is the test's business."""
    test_thread = threading.get_ident()
    own = [r for r in caplog.records if not (r.name.startswith(("httpx", "httpcore")) and r.thread == test_thread)]
    return "\n".join(caplog.handler.format(record) for record in own)


def dump(world: World) -> str:
    """Every row of every table (the audit trail included), as text."""
    engine = world.app.engine
    with engine.connect() as connection:
        names = sa.inspect(engine).get_table_names()
        return "\n".join(str(row) for name in names for row in connection.execute(sa.text(f'SELECT * FROM "{name}"')))
