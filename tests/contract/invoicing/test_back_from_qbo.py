"""Deleting the invoice in QBO sets its SO back to `Not invoiced`: within seconds by webhook (the sandbox's
signed notification reaches our web app over HTTP), and within one CDC poll when webhooks are off."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time

import httpx
from tests.contract.invoicing.conftest import World, WorldFactory

from invoicebridge.domain import InvoiceState
from invoicebridge.qbo.webhooks import parse_notifications


def _delete_in_qbo_ui(world: World, invoice_id: str) -> None:
    """What a bookkeeper does: open the invoice in (sandbox) QBO and press Delete."""
    form = {"txnId": invoice_id, "realmId": world.realm_id}
    answer = world.control.post("/app/invoice/delete", data=form, follow_redirects=False)
    assert answer.status_code in (200, 303), answer.text


def _state(world: World, order_id: int) -> InvoiceState:
    return world.app.orderbook.invoice_link(world.company_id, order_id).state


def test_deleted_in_qbo_is_not_invoiced_within_seconds_by_webhook(make_world: WorldFactory) -> None:
    world = make_world("US", serve=True)
    order = world.order(world.customer("Webhook Co"))
    assert order.id is not None
    link = world.invoice(order)
    assert link.state is InvoiceState.INVOICED
    started = time.monotonic()
    _delete_in_qbo_ui(world, str(link.qbo_invoice_id))
    while _state(world, order.id) is not InvoiceState.NOT_INVOICED:
        assert time.monotonic() - started < 5, "the SO was not set back within 5 seconds"
        time.sleep(0.05)
    elapsed = time.monotonic() - started
    assert elapsed < 5
    again = world.invoice(order)  # and it can be invoiced again: a new invoice, with the next number
    assert again.state is InvoiceState.INVOICED
    assert again.qbo_invoice_id != link.qbo_invoice_id
    assert again.number == 2


def test_a_forged_webhook_is_refused(make_world: WorldFactory) -> None:
    world = make_world("US", serve=True)
    answer = httpx.post(f"{world.url}/webhooks/qbo", content=b"[]", headers={"intuit-signature": "forged"})
    assert answer.status_code == 401
    assert answer.json()["error"]["code"] == "bad_signature"


def test_a_signed_but_unreadable_webhook_is_refused(make_world: WorldFactory) -> None:
    world = make_world("US", serve=True)
    body = b'{"not": "a notification"}'
    token = world.app.settings.qbo_webhook_verifier_token.get_secret_value()
    signature = base64.b64encode(hmac.new(token.encode(), body, hashlib.sha256).digest()).decode()
    answer = httpx.post(f"{world.url}/webhooks/qbo", content=body, headers={"intuit-signature": signature})
    assert answer.status_code == 400
    assert answer.json()["error"]["code"] == "bad_payload"


def test_deleted_in_qbo_is_caught_by_one_cdc_poll_with_webhooks_off(make_world: WorldFactory) -> None:
    world = make_world("GB", serve=True, webhooks=False)
    order = world.order(world.customer("Lost Webhook Ltd"))
    assert order.id is not None
    link = world.invoice(order)
    _delete_in_qbo_ui(world, str(link.qbo_invoice_id))
    time.sleep(0.3)
    assert _state(world, order.id) is InvoiceState.INVOICED  # no webhook: nothing happened yet
    world.app.jobs.poll_all()  # the periodic task (every minute by default)
    assert _state(world, order.id) is InvoiceState.NOT_INVOICED
    world.app.jobs.poll_all()  # idempotent: a second round changes nothing
    assert _state(world, order.id) is InvoiceState.NOT_INVOICED


def test_legacy_format_and_duplicate_deliveries(make_world: WorldFactory) -> None:
    world = make_world("AU", serve=True, webhook_format="legacy")
    put = world.control.put(f"/_sandbox/companies/{world.realm_id}/webhooks", json={"duplicate": True})
    assert put.status_code == 200
    orders = [world.order(world.customer(f"Legacy {n} Pty")) for n in range(2)]
    links = [world.invoice(order) for order in orders]
    for link in links:
        _delete_in_qbo_ui(world, str(link.qbo_invoice_id))
    started = time.monotonic()
    while any(_state(world, order.id or 0) is not InvoiceState.NOT_INVOICED for order in orders):
        assert time.monotonic() - started < 5, "not set back within 5 seconds"
        time.sleep(0.05)
    world.control.post("/_sandbox/webhooks/flush", json={"timeout": 10})
    deliveries = world.control.get("/_sandbox/webhooks/deliveries").json()["deliveries"]
    ours = [d for d in deliveries if d["client_id"] == world.app.settings.qbo_client_id]
    assert any(d["duplicate"] for d in ours)  # delivered twice, handled once
    assert all(d["status"] == "delivered" for d in ours)
    assert all('"eventNotifications"' in d["body"] for d in ours)


def _event(world: World, event_id: str, invoice_id: str, verb: str = "deleted") -> dict[str, str]:
    return {
        "specversion": "1.0", "id": event_id, "type": f"qbo.invoice.{verb}.v1", "source": "intuit",
        "time": "2026-11-02T10:00:00Z", "intuitentityid": invoice_id, "intuitaccountid": world.realm_id,
    }  # fmt: skip


def test_a_delivery_repeating_a_seen_event_still_handles_its_other_events(make_world: WorldFactory) -> None:
    world = make_world("US")
    first, second = world.order(world.customer("Seen Co")), world.order(world.customer("Unseen Co"))
    one, two = world.invoice(first), world.invoice(second)
    for link in (one, two):
        world.qbo_delete("Invoice", str(link.qbo_invoice_id))
    reconcile = world.app.reconcile
    assert reconcile.apply_changes(parse_notifications(json.dumps([_event(world, "e-1", one.qbo_invoice_id)]).encode()))
    repeated = json.dumps([_event(world, "e-1", one.qbo_invoice_id), _event(world, "e-1", one.qbo_invoice_id),
                           _event(world, "e-2", two.qbo_invoice_id)]).encode()  # fmt: skip
    assert reconcile.apply_webhook(repeated) == 1
    assert _state(world, second.id or 0) is InvoiceState.NOT_INVOICED


def test_a_delete_notification_is_checked_with_quickbooks_first(make_world: WorldFactory) -> None:
    """A forged or stale notification for an invoice that still exists sets nothing back — else the next click
    would make a second invoice."""
    world = make_world("US")
    order = world.order(world.customer("Still Invoiced Co"))
    link = world.invoice(order)
    body = json.dumps([_event(world, "forged-1", str(link.qbo_invoice_id))]).encode()
    assert world.app.reconcile.apply_webhook(body) == 0
    assert _state(world, order.id or 0) is InvoiceState.INVOICED
    assert world.invoice(order).qbo_invoice_id == link.qbo_invoice_id
    assert world.qbo_count("Invoice") == 1
