"""Payment status back from QBO (opt-in per company): a bookkeeper records payments in (sandbox) QuickBooks over
its HTTP API, and the SO shows Unpaid, Partly paid or Paid — within seconds by webhook, within one CDC poll when
webhooks are lost. A company that has not opted in pays no metered read for it."""

from __future__ import annotations

import dataclasses
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx
from tests.contract.invoicing.conftest import World, WorldFactory

from invoicebridge.domain import SalesOrder
from invoicebridge.domain.payments import PaymentStatus
from invoicebridge.sync.meter import month_of

WEBHOOK_SECONDS = 5


class Bookkeeper:
    """Someone recording payments in QuickBooks: another app of the sandbox, plain HTTP to the QBO API."""

    def __init__(self, world: World) -> None:
        app = world.control.post("/_sandbox/apps", json={"redirect_uris": ["http://127.0.0.1/none"]}).json()
        tokens = world.control.post(
            "/_sandbox/tokens", json={"client_id": app["client_id"], "realm_id": world.realm_id}
        ).json()
        self.http = httpx.Client(
            base_url=f"{world.sandbox.url}/v3/company/{world.realm_id}", timeout=10,
            headers={"Authorization": f"Bearer {tokens['access_token']}", "Accept": "application/json"},
            params={"minorversion": "75"},
        )  # fmt: skip
        world.clients.append(self.http)
        self.world = world

    def pay(self, invoice_id: str, amount: Decimal) -> dict[str, Any]:
        invoice = self.world.qbo_read("Invoice", invoice_id)
        line = {"Amount": str(amount), "LinkedTxn": [{"TxnId": invoice_id, "TxnType": "Invoice"}]}
        body = {"CustomerRef": invoice["CustomerRef"], "TotalAmt": str(amount), "Line": [line]}
        answer = self.http.post("/payment", json=body)
        assert answer.status_code == 200, answer.text
        return dict(answer.json()["Payment"])

    def delete(self, payment: dict[str, Any]) -> None:
        current = self.world.qbo_read("Payment", payment["Id"])
        answer = self.http.post(
            "/payment", params={"operation": "delete"}, json={"Id": current["Id"], "SyncToken": current["SyncToken"]}
        )
        assert answer.status_code == 200, answer.text

    def invoice(self, amount: str) -> dict[str, Any]:
        """An invoice of the company's own, made in QuickBooks (not one of ours)."""
        customer = self.world.qbo_rows("SELECT * FROM Customer MAXRESULTS 1")[0]
        item = self.world.qbo_rows("SELECT * FROM Item WHERE Type = 'Service' MAXRESULTS 1")[0]
        line = {"Amount": amount, "DetailType": "SalesItemLineDetail",
                "SalesItemLineDetail": {"ItemRef": {"value": item["Id"]}, "Qty": 1, "UnitPrice": amount}}  # fmt: skip
        answer = self.http.post("/invoice", json={"CustomerRef": {"value": customer["Id"]}, "Line": [line]})
        assert answer.status_code == 200, answer.text
        return dict(answer.json()["Invoice"])


def track(world: World, on: bool = True) -> None:
    settings = world.app.connecting.connection(world.company_id)
    assert settings is not None
    world.app.connecting.save_settings(world.company_id, dataclasses.replace(settings.settings, track_payments=on))


def status(world: World, order: SalesOrder) -> PaymentStatus | None:
    return world.app.orderbook.get_sales_order(world.company_id, order.id or 0).order.payment_status


def reads(world: World) -> int:
    """CorePlus (metered) calls the company has made this month."""
    return world.app.meter.usage(month_of(datetime.now(UTC)), [world.company_id]).of(world.company_id).coreplus


def wait_for(world: World, order: SalesOrder, wanted: PaymentStatus | None) -> float:
    started = time.monotonic()
    while status(world, order) is not wanted:
        assert time.monotonic() - started < WEBHOOK_SECONDS, f"not {wanted} within {WEBHOOK_SECONDS} s"
        time.sleep(0.05)
    return time.monotonic() - started


def invoiced(world: World, name: str) -> tuple[SalesOrder, str, Decimal]:
    order = world.order(world.customer(name))
    link = world.invoice(order)
    assert link.qbo_invoice_id is not None
    total = Decimal(str(world.qbo_read("Invoice", link.qbo_invoice_id)["TotalAmt"]))
    return order, link.qbo_invoice_id, total


def flush(world: World) -> None:
    assert world.control.post("/_sandbox/webhooks/flush", json={"timeout": 10}).status_code == 200


def test_off_by_default_reads_nothing_and_shows_no_status(make_world: WorldFactory) -> None:
    world = make_world("US", serve=True)
    order, invoice_id, total = invoiced(world, "Untracked Co")
    flush(world)
    before = reads(world)
    payment = Bookkeeper(world).pay(invoice_id, total / 2)
    flush(world)  # the Payment and Invoice events reached our app and were handled
    assert reads(world) == before  # not one metered read for a company that did not opt in
    assert status(world, order) is None
    world.app.reconcile.poll(world.company_id)
    cdc = [r for r in world.qbo_requests() if r["operation"] == "cdc"]
    assert cdc and "Payment" not in str(cdc[-1])  # the CDC request asks for nothing more
    assert status(world, order) is None
    assert payment["Id"]


def test_paid_partly_then_fully_shows_within_seconds_by_webhook(make_world: WorldFactory) -> None:
    world = make_world("US", serve=True)
    track(world)
    order, invoice_id, total = invoiced(world, "Paying Co")
    assert status(world, order) is PaymentStatus.UNPAID  # a new invoice: no read needed
    flush(world)
    bookkeeper = Bookkeeper(world)
    before = reads(world)
    first = bookkeeper.pay(invoice_id, Decimal("10.00"))
    wait_for(world, order, PaymentStatus.PARTLY_PAID)
    flush(world)
    per_payment = reads(world) - before
    print(f"metered reads for one payment event (webhook): {per_payment}")
    assert per_payment <= 2  # one query of the payment, one of our invoice — for the whole delivery
    second = bookkeeper.pay(invoice_id, total - Decimal("10.00"))
    wait_for(world, order, PaymentStatus.PAID)
    flush(world)
    before = reads(world)
    bookkeeper.delete(second)
    wait_for(world, order, PaymentStatus.PARTLY_PAID)
    flush(world)
    per_deletion = reads(world) - before
    print(f"metered reads for one payment deleted (webhook): {per_deletion}")
    assert per_deletion == 1  # a deleted payment cannot be read: its invoice's own update event is, once
    bookkeeper.delete(first)
    wait_for(world, order, PaymentStatus.UNPAID)


def test_paid_partly_then_fully_shows_after_one_poll_without_webhooks(make_world: WorldFactory) -> None:
    world = make_world("GB", serve=True, webhooks=False)
    track(world)
    order, invoice_id, total = invoiced(world, "Lost Hooks Ltd")
    world.app.reconcile.poll(world.company_id)
    bookkeeper = Bookkeeper(world)
    payment = bookkeeper.pay(invoice_id, Decimal("5.00"))
    time.sleep(0.3)
    assert status(world, order) is PaymentStatus.UNPAID  # no webhook: nothing yet
    before = reads(world)
    world.app.reconcile.poll(world.company_id)
    assert status(world, order) is PaymentStatus.PARTLY_PAID
    assert reads(world) - before == 1  # the CDC request alone: the invoice came back whole, balance included
    bookkeeper.pay(invoice_id, total - Decimal("5.00"))
    world.app.reconcile.poll(world.company_id)
    assert status(world, order) is PaymentStatus.PAID
    bookkeeper.delete(payment)
    world.app.reconcile.poll(world.company_id)
    assert status(world, order) is PaymentStatus.PARTLY_PAID


def test_an_so_invoiced_delivery_by_delivery_is_paid_when_every_invoice_is(make_world: WorldFactory) -> None:
    world = make_world("US", serve=True)
    track(world)
    order = world.order(world.customer("Two Shipments Co"))  # 2 × 15.00
    assert order.id is not None
    row = order.rows[0].id or 0
    for _ in range(2):
        world.app.orderbook.record_delivery(world.company_id, order.id, {row: "1"}, datetime.now(UTC))
    made = world.app.invoicing.invoice_deliveries(world.company_id, order.id, None, False)
    assert len(made) == 2 and all(link.qbo_invoice_id for link in made)
    assert status(world, order) is PaymentStatus.UNPAID
    bookkeeper = Bookkeeper(world)
    totals = [Decimal(str(world.qbo_read("Invoice", str(link.qbo_invoice_id))["TotalAmt"])) for link in made]
    bookkeeper.pay(str(made[0].qbo_invoice_id), totals[0])  # the first invoice paid in full, the second not at all
    wait_for(world, order, PaymentStatus.PARTLY_PAID)
    bookkeeper.pay(str(made[1].qbo_invoice_id), totals[1])
    wait_for(world, order, PaymentStatus.PAID)


def test_opting_in_later_reads_the_invoices_made_before_once(make_world: WorldFactory) -> None:
    world = make_world("US", webhooks=False)
    paid, paid_id, paid_total = invoiced(world, "Paid Before Co")
    open_order, _, _ = invoiced(world, "Open Before Co")
    Bookkeeper(world).pay(paid_id, paid_total)
    world.app.jobs.poll_all()  # this slot's poll: the next is a minute away at the soonest
    with world.app.uow() as uow:  # they were made long ago: no CDC round will bring them again
        connection = uow.connections.get(world.company_id)
        assert connection is not None
        uow.connections.save(dataclasses.replace(connection, cdc_checked_at=datetime.now(UTC) + timedelta(minutes=3)))
        uow.commit()
    track(world)
    assert status(world, paid) is PaymentStatus.UNPAID  # not read yet: no payment known
    world.control.delete(f"/_sandbox/companies/{world.realm_id}/requests")  # (saving the settings checks accounts)
    world.app.jobs.poll_all()  # opting in brought the company's poll forward: the next tick reads them
    assert status(world, paid) is PaymentStatus.PAID
    assert status(world, open_order) is PaymentStatus.UNPAID
    queries = [r for r in world.qbo_requests() if r["operation"] == "query"]
    assert len(queries) == 1  # both invoices in one query
    world.app.reconcile.poll(world.company_id)
    assert len([r for r in world.qbo_requests() if r["operation"] == "query"]) == 1  # read once


def test_turning_it_off_forgets_the_statuses(make_world: WorldFactory) -> None:
    world = make_world("US", serve=True)
    track(world)
    order, invoice_id, total = invoiced(world, "Forgotten Co")
    Bookkeeper(world).pay(invoice_id, total)
    wait_for(world, order, PaymentStatus.PAID)
    track(world, on=False)
    assert status(world, order) is None
    api = world.api()
    listed = api.get(f"/api/companies/{world.company_id}/sales-orders", params={"payment_status": "paid"})
    assert listed.status_code == 200 and listed.json()["items"] == []


def test_the_api_filters_on_it_and_settings_switch_it(make_world: WorldFactory) -> None:
    world = make_world("US", serve=True)
    api = world.api()
    base = f"/api/companies/{world.company_id}"
    current = api.get(f"{base}/qbo").json()["settings"]
    assert current["track_payments"] is False
    body = {k: current[k] for k in ("revenue_account_id", "tax_mapping", "mode")} | {"track_payments": True}
    saved = api.put(f"{base}/qbo/settings", json=body)
    assert saved.status_code == 200, saved.text
    assert saved.json()["settings"]["track_payments"] is True
    paid, paid_id, total = invoiced(world, "Paid Api Co")
    unpaid, _, _ = invoiced(world, "Unpaid Api Co")
    Bookkeeper(world).pay(paid_id, total)
    wait_for(world, paid, PaymentStatus.PAID)

    def listed(value: str) -> list[int]:
        answer = api.get(f"{base}/sales-orders", params={"payment_status": value})
        assert answer.status_code == 200, answer.text
        return [item["id"] for item in answer.json()["items"]]

    assert listed("paid") == [paid.id] and listed("unpaid") == [unpaid.id] and listed("partly_paid") == []
    one = api.get(f"{base}/sales-orders/{paid.id}").json()
    assert (one["payment_status"], one["payment_status_text"]) == ("paid", "Paid")
    refused = api.get(f"{base}/sales-orders", params={"payment_status": "settled"})
    assert refused.status_code == 422


def test_payments_of_invoices_not_ours_read_only_the_payment(make_world: WorldFactory) -> None:
    world = make_world("US", serve=True)
    track(world)
    order, _, _ = invoiced(world, "Bystander Co")
    bookkeeper = Bookkeeper(world)
    theirs = bookkeeper.invoice("40")
    flush(world)
    before = reads(world)
    bookkeeper.pay(theirs["Id"], Decimal("40"))
    flush(world)
    assert reads(world) - before == 1  # the payment, to learn it pays nothing of ours; their invoice is not read
    assert status(world, order) is PaymentStatus.UNPAID
