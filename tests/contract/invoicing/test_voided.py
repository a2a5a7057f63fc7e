"""Invoices voided in QBO, against qbo_sandbox over HTTP: the SO reads `Invoice voided (QBO)` with its link to the
voided invoice — within seconds by webhook, within one CDC poll without — and can be invoiced again as a new
invoice that takes the next DocNumber ("SO-0001-2": the voided invoice keeps its number in QBO). A voided partial
invoice reopens only its deliveries. A notification is a hint: QBO must show the invoice voided."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from typing import Any

import httpx
from tests.contract.invoicing.conftest import World, WorldFactory, money
from tests.contract.invoicing.test_partial_invoicing import deliver, qbo_invoices, two_row_order

from invoicebridge.domain import InvoiceState, InvoiceStatus, SalesOrder
from invoicebridge.domain.records import CogsState

SHIPPED = datetime(2026, 3, 5, 17, 0, tzinfo=UTC)


def _void_over_api(world: World, invoice_id: str) -> dict[str, Any]:
    """Void through QBO's API (`POST …/invoice?operation=void`), as another app or a bookkeeper's tool would."""
    tokens = world.control.post(
        "/_sandbox/tokens", json={"client_id": world.app.settings.qbo_client_id, "realm_id": world.realm_id}
    ).json()
    current = world.qbo_read("Invoice", invoice_id)
    answer = httpx.post(
        f"{world.sandbox.url}/v3/company/{world.realm_id}/invoice",
        params={"operation": "void", "minorversion": "75"},
        json={"Id": invoice_id, "SyncToken": current["SyncToken"]},
        headers={"Authorization": f"Bearer {tokens['access_token']}", "Accept": "application/json"},
    )
    assert answer.status_code == 200, answer.text
    voided: dict[str, Any] = answer.json()["Invoice"]
    return voided


def _void_in_qbo_ui(world: World, invoice_id: str) -> None:
    """What a bookkeeper does: open the invoice in (sandbox) QBO and press Void."""
    form = {"txnId": invoice_id, "realmId": world.realm_id}
    answer = world.control.post("/app/invoice/void", data=form, follow_redirects=False)
    assert answer.status_code == 303, answer.text


def _status(world: World, order: SalesOrder) -> InvoiceStatus:
    return world.app.orderbook.get_sales_order(world.company_id, order.id or 0).invoices.status


def _voided_event(world: World, event_id: str, invoice_id: str) -> bytes:
    event = {"specversion": "1.0", "id": event_id, "type": "qbo.invoice.voided.v1", "source": "intuit",
             "time": "2026-11-02T10:00:00Z", "intuitentityid": invoice_id,
             "intuitaccountid": world.realm_id}  # fmt: skip
    return json.dumps([event]).encode()


def test_voided_in_qbo_reads_voided_with_its_link_within_seconds_by_webhook(make_world: WorldFactory) -> None:
    world = make_world("US", serve=True, custom_txn_numbers=True)
    order = world.order(world.customer("Void Hook Co"))
    link = world.invoice(order)
    assert (link.state, link.doc_number) == (InvoiceState.INVOICED, order.number)
    started = time.monotonic()
    _void_in_qbo_ui(world, str(link.qbo_invoice_id))
    while _status(world, order) is not InvoiceStatus.VOIDED:
        assert time.monotonic() - started < 5, "the SO did not read voided within 5 seconds"
        time.sleep(0.05)
    view = world.app.orderbook.get_sales_order(world.company_id, order.id or 0)
    assert view.invoices.status_text == "Invoice voided (QBO)"
    assert (view.link.state, view.link.qbo_invoice_id, view.link.status_text) == (
        InvoiceState.VOIDED, link.qbo_invoice_id, "Invoice voided (QBO)",
    )  # fmt: skip
    url = world.app.invoice_url(world.company_id, view.link.qbo_invoice_id)
    assert url is not None and httpx.get(url).status_code == 200  # the link still opens the (voided) invoice
    body = world.api().get(f"/api/companies/{world.company_id}/sales-orders/{order.id}").json()
    assert (body["invoice_status"], body["invoice_status_text"]) == ("voided", "Invoice voided (QBO)")
    assert (body["invoice"]["state"], body["invoice"]["qbo_invoice_id"]) == ("voided", link.qbo_invoice_id)


def test_invoicing_a_voided_so_again_makes_a_new_invoice_with_the_next_doc_number(make_world: WorldFactory) -> None:
    world = make_world("US", custom_txn_numbers=True)
    order = world.order(world.customer("Void Again Co"))
    first = world.invoice(order)
    _void_over_api(world, str(first.qbo_invoice_id))
    assert world.app.reconcile.apply_webhook(_voided_event(world, "v-1", str(first.qbo_invoice_id))) == 1
    assert _status(world, order) is InvoiceStatus.VOIDED
    again = world.invoice(order)  # the Sell screen's and the card's button: *invoice all* again
    assert (again.state, again.number, again.doc_number) == (InvoiceState.INVOICED, 2, f"{order.number}-2")
    assert again.request_id != first.request_id and again.qbo_invoice_id != first.qbo_invoice_id
    in_qbo = {i["Id"]: i for i in qbo_invoices(world, order)}
    assert in_qbo[str(first.qbo_invoice_id)]["DocNumber"] == order.number  # still there, voided, with its number
    assert str(in_qbo[str(first.qbo_invoice_id)]["PrivateNote"]).startswith("Voided")
    assert in_qbo[str(again.qbo_invoice_id)]["DocNumber"] == f"{order.number}-2"
    assert money(in_qbo[str(again.qbo_invoice_id)]["TotalAmt"]) > 0
    view = world.app.orderbook.get_sales_order(world.company_id, order.id or 0)
    assert (view.invoices.status, view.link.qbo_invoice_id) == (InvoiceStatus.INVOICED, again.qbo_invoice_id)
    assert world.invoice(order).qbo_invoice_id == again.qbo_invoice_id  # idempotent as ever: no third invoice


def test_voided_in_qbo_is_caught_by_one_cdc_poll_with_webhooks_off(make_world: WorldFactory) -> None:
    world = make_world("GB", serve=True, webhooks=False)
    order = world.order(world.customer("Quiet Void Ltd"))
    link = world.invoice(order)
    _void_over_api(world, str(link.qbo_invoice_id))
    time.sleep(0.3)
    assert _status(world, order) is InvoiceStatus.INVOICED  # no webhook: nothing happened yet
    world.app.jobs.poll_all()  # the periodic task
    assert _status(world, order) is InvoiceStatus.VOIDED
    world.app.jobs.poll_all()  # idempotent: a second round changes nothing
    invoices = world.app.orderbook.get_sales_order(world.company_id, order.id or 0).invoices
    assert [event.state for event in invoices.links[0].history].count(InvoiceState.VOIDED) == 1


def test_a_void_notification_is_checked_with_quickbooks_first(make_world: WorldFactory) -> None:
    """A forged or stale notice for an invoice QBO does not show voided opens nothing — else the next click would
    make a second invoice for the same goods."""
    world = make_world("US")
    order = world.order(world.customer("Not Voided Co"))
    link = world.invoice(order)
    assert world.app.reconcile.apply_webhook(_voided_event(world, "forged-v", str(link.qbo_invoice_id))) == 0
    assert _status(world, order) is InvoiceStatus.INVOICED
    assert world.invoice(order).qbo_invoice_id == link.qbo_invoice_id
    assert len(qbo_invoices(world, order)) == 1


def test_voiding_one_delivery_s_invoice_opens_only_that_delivery(make_world: WorldFactory) -> None:
    world = make_world("US", custom_txn_numbers=True)
    order = two_row_order(world, "Partly Void Co")
    first = deliver(world, order, {0: "4"}, SHIPPED)
    second = deliver(world, order, {1: "3"}, SHIPPED)
    one, two = world.app.invoicing.invoice_deliveries(world.company_id, order.id or 0, None, combine=False)
    assert (one.doc_number, two.doc_number) == (order.number, f"{order.number}-2")
    _void_over_api(world, str(two.qbo_invoice_id))
    assert world.app.reconcile.apply_webhook(_voided_event(world, "v-part", str(two.qbo_invoice_id))) == 1
    invoices = world.app.orderbook.get_sales_order(world.company_id, order.id or 0).invoices
    assert [d.id for d in invoices.open_deliveries()] == [second.id]  # the first stays invoiced
    assert invoices.status is InvoiceStatus.PARTLY_INVOICED
    assert invoices.invoice_of(first.id or 0) is not None and invoices.invoice_of(second.id or 0) is None
    assert invoices.links[1].state is InvoiceState.VOIDED
    (again,) = world.app.invoicing.invoice_deliveries(world.company_id, order.id or 0, [second.id or 0], True)
    assert (again.state, again.number, again.doc_number) == (InvoiceState.INVOICED, 3, f"{order.number}-3")
    assert _status(world, order) is InvoiceStatus.INVOICED


def test_a_voided_invoice_deleted_afterwards_becomes_deleted_and_frees_its_number(make_world: WorldFactory) -> None:
    world = make_world("US", custom_txn_numbers=True)
    order = world.order(world.customer("Void Then Delete Co"))
    link = world.invoice(order)
    _void_over_api(world, str(link.qbo_invoice_id))
    assert world.app.reconcile.poll(world.company_id) == 1  # one CDC round
    assert _status(world, order) is InvoiceStatus.VOIDED
    world.qbo_delete("Invoice", str(link.qbo_invoice_id))
    assert world.app.reconcile.poll(world.company_id) == 1  # the next round sees its tombstone
    assert _status(world, order) is InvoiceStatus.NOT_INVOICED
    again = world.invoice(order)
    assert (again.number, again.doc_number) == (2, order.number)  # the number was freed with the invoice


def test_a_void_leaves_the_posted_cogs_entry_and_invoicing_again_posts_no_second(make_world: WorldFactory) -> None:
    """Voiding an invoice does not send the goods back: as for a deletion, the SO's one COGS entry stays."""
    world = make_world("US", inventory=True)
    order = world.order(world.customer("Void Cogs Co"))
    delivered = world.app.orderbook.record_delivery(
        world.company_id, order.id or 0, {row.id or 0: row.quantity for row in order.rows}, SHIPPED
    )
    link = world.invoice(delivered)
    _void_over_api(world, str(link.qbo_invoice_id))
    world.app.jobs.poll_all()
    assert _status(world, order) is InvoiceStatus.VOIDED
    world.invoice(order)
    world.app.jobs.cogs(world.company_id, order.id or 0)
    with world.app.uow() as uow:
        posted = [e for e in uow.cogs.of_order(world.company_id, order.id or 0) if e.state is CogsState.POSTED]
    assert len(posted) == 1
    marker = f"invoicebridge COGS {order.number} ["
    journal = world.qbo_rows("SELECT * FROM JournalEntry MAXRESULTS 1000")
    assert len([je for je in journal if str(je.get("PrivateNote", "")).startswith(marker)]) == 1
