"""Voiding an invoice over real HTTP, as QBO does it: the invoice stays with its number, zeroed, its PrivateNote
prefixed "Voided"; a webhook announces it (CloudEvents `qbo.invoice.voided.v1`, legacy operation `Void`) and CDC
shows it among the invoices changed. From the API (`POST …/invoice?operation=void`) and from the web UI's Void
button."""

from __future__ import annotations

import json
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import httpx
import pytest
from tests.contract.sandbox.conftest import Qbo, connect
from tests.contract.sandbox.serving_support import create_invoice, invoice_body
from tests.webhook_receiver import Receiver, running_receiver


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with running_receiver() as state:
        yield state


def _hooked(control: httpx.Client, receiver: Receiver, webhook_format: str = "cloudevents") -> Qbo:
    qbo = connect(control)
    assert control.post("/_sandbox/webhooks/flush", json={"timeout": 10}).status_code == 200
    answer = control.patch(f"/_sandbox/apps/{qbo.app['client_id']}",
                           json={"webhook_url": receiver.url, "webhook_format": webhook_format})  # fmt: skip
    assert answer.status_code == 200, answer.text
    return qbo


def _bodies(control: httpx.Client, receiver: Receiver) -> list[Any]:
    assert control.post("/_sandbox/webhooks/flush", json={"timeout": 10}).status_code == 200
    return [json.loads(received.body) for received in receiver.received()]


def test_voiding_over_the_api_keeps_the_invoice_zeroed_and_prefixes_its_private_note(control: httpx.Client) -> None:
    qbo = connect(control)
    made = create_invoice(qbo, {**invoice_body(qbo, amount=80), "PrivateNote": "invoicebridge SO-1 [ib-1-so-1-g1]"})
    answer = qbo.post("invoice", json={"Id": made["Id"], "SyncToken": made["SyncToken"]}, operation="void")
    assert answer.status_code == 200, answer.text
    voided = answer.json()["Invoice"]
    # Intuit's reference: "Voided" is prepended to existing text; our look-up marker stays readable after it.
    assert voided["PrivateNote"] == "Voided - invoicebridge SO-1 [ib-1-so-1-g1]"
    assert (Decimal(str(voided["TotalAmt"])), Decimal(str(voided["Balance"]))) == (0, 0)
    assert voided["DocNumber"] == made["DocNumber"] and voided["SyncToken"] == str(int(made["SyncToken"]) + 1)
    assert qbo.get(f"invoice/{made['Id']}").json()["Invoice"] == voided


def test_voiding_in_the_web_ui_notifies_voided_and_cdc_shows_the_invoice_voided(
    control: httpx.Client, receiver: Receiver
) -> None:
    qbo = _hooked(control, receiver)
    since = control.post("/_sandbox/clock/advance", json={"seconds": 0}).json()["now"]
    invoice = create_invoice(qbo, invoice_body(qbo))
    page = control.get("/app/invoice", params={"realmId": qbo.realm_id, "txnId": invoice["Id"]})
    assert 'action="/app/invoice/void"' in page.text
    voided = control.post("/app/invoice/void", data={"realmId": qbo.realm_id, "txnId": invoice["Id"]})
    assert voided.status_code == 303
    assert voided.headers["location"] == f"/app/invoice?realmId={qbo.realm_id}&txnId={invoice['Id']}"
    events = [event for body in _bodies(control, receiver) for event in body]
    assert [(e["type"], e["intuitentityid"]) for e in events] == [
        ("qbo.invoice.created.v1", invoice["Id"]), ("qbo.invoice.voided.v1", invoice["Id"]),
    ]  # fmt: skip
    cdc = qbo.get("cdc", entities="Invoice", changedSince=since)
    (changed,) = cdc.json()["CDCResponse"][0]["QueryResponse"][0]["Invoice"]
    assert (changed["Id"], changed["PrivateNote"], Decimal(str(changed["TotalAmt"]))) == (invoice["Id"], "Voided", 0)
    again = control.get("/app/invoice", params={"realmId": qbo.realm_id, "txnId": invoice["Id"]})
    assert 'action="/app/invoice/void"' not in again.text  # voided once: no second Void button
    assert "Voided" in again.text


def test_a_void_reaches_a_legacy_app_as_operation_void(control: httpx.Client, receiver: Receiver) -> None:
    qbo = _hooked(control, receiver, "legacy")
    invoice = create_invoice(qbo, invoice_body(qbo))
    assert qbo.post("invoice", json={"Id": invoice["Id"], "SyncToken": "0"}, operation="void").status_code == 200
    entities = [entity for body in _bodies(control, receiver) for notification in body["eventNotifications"]
                for entity in notification["dataChangeEvent"]["entities"]]  # fmt: skip
    assert [(e["name"], e["id"], e["operation"]) for e in entities] == [
        ("Invoice", invoice["Id"], "Create"), ("Invoice", invoice["Id"], "Void"),
    ]  # fmt: skip


def test_the_web_ui_shows_why_quickbooks_refused_a_void(control: httpx.Client) -> None:
    qbo = connect(control)
    answer = control.post("/app/invoice/void", data={"realmId": qbo.realm_id, "txnId": "999999"})
    assert answer.status_code == 404
    assert "There is no Invoice with Id 999999" in answer.text
