"""The trust tests for partial invoices: whatever goes wrong on the way to QBO, each invoice of an SO exists once —
and an uncertain outcome of one invoice of an SO is never settled by another of its invoices, though they share
the SO number, the customer and the date (the marker in PrivateNote carries the invoice's own request id)."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from tests.contract.invoicing.conftest import World, WorldFactory
from tests.contract.invoicing.test_partial_invoicing import deliver, qbo_invoices, sold, two_row_order

from invoicebridge.bootstrap import utc_now
from invoicebridge.domain import InvoiceLink, InvoiceState, SalesOrder
from invoicebridge.sync.gateway import AuditTrail
from invoicebridge.sync.invoice_lookup import Unsure
from invoicebridge.sync.invoicing import Invoicing

FIRST_SHIPMENT = datetime(2026, 3, 5, 17, 0, tzinfo=UTC)
SECOND_SHIPMENT = datetime(2026, 3, 9, 17, 0, tzinfo=UTC)
THIRD_SHIPMENT = datetime(2026, 3, 12, 17, 0, tzinfo=UTC)
FIRST = {"PART-A": (Decimal(1), Decimal("12.50")), "PART-B": (Decimal(3), Decimal("30.00"))}
SECOND = {"PART-A": (Decimal(2), Decimal("25.00"))}
THIRD = {"PART-A": (Decimal(1), Decimal("12.50"))}


def _shipped_twice(world: World, customer: str, number: str) -> tuple[SalesOrder, int, int]:
    """An SO with two deliveries (FIRST's and SECOND's quantities); the SO and the deliveries' ids."""
    order = two_row_order(world, customer, number=number)
    first = deliver(world, order, {0: "1", 1: "3"}, FIRST_SHIPMENT)
    second = deliver(world, order, {0: "2"}, SECOND_SHIPMENT)
    return order, first.id or 0, second.id or 0


def _invoice(world: World, order: SalesOrder, delivery_id: int) -> InvoiceLink:
    [link] = world.app.invoicing.invoice_deliveries(world.company_id, order.id or 0, [delivery_id], True)
    return link


def _injected(world: World, kind: str) -> int:
    """How many requests the sandbox applied `kind` to: proof that the fault really happened."""
    return sum(1 for r in world.qbo_requests() if kind in str(r.get("injected") or "").split(","))


def _marker(order: SalesOrder, link: InvoiceLink) -> str:
    return f"invoicebridge {order.number} [{link.request_id}]"


def _die_mid_create(world: World, order: SalesOrder, number: int, send: bool = True) -> InvoiceLink:
    """A worker claims invoice `number` of the SO and dies before recording anything — after its create reached
    QBO (`send`), or before it sent anything at all."""
    dying = world.app.invoicing
    claimed = dying._claim(world.company_id, order.id or 0, number)
    assert claimed is not None
    link = claimed[0]
    if send:
        dying._create(dying._inputs(world.company_id, order.id or 0, link), link, AuditTrail(), Unsure(False))
    current = world.app.orderbook.invoice_link(world.company_id, order.id or 0, number)
    assert current.state is InvoiceState.CREATING
    return current


def _later(world: World) -> Invoicing:
    """Another worker, after the claim went stale."""
    return Invoicing(world.app.uow, world.app.clients, utc_now, stale_after=timedelta(0))


def test_dropped_response_after_commit_makes_one_partial_invoice(make_world: WorldFactory) -> None:
    world = make_world()
    order, first, second = _shipped_twice(world, "Dropped Part Co", "SO-3001")
    one = _invoice(world, order, first)
    world.inject("drop_after_commit", match="invoice", method="POST")
    two = _invoice(world, order, second)
    assert _injected(world, "drop_after_commit") == 1
    assert (two.number, two.state) == (2, InvoiceState.INVOICED)
    invoices = qbo_invoices(world, order)
    assert [i["Id"] for i in invoices] == [one.qbo_invoice_id, two.qbo_invoice_id]
    assert [sold(world, i) for i in invoices] == [FIRST, SECOND]


def test_dropped_response_while_qbo_ignores_the_request_id_is_found_by_its_marker(make_world: WorldFactory) -> None:
    world = make_world()
    order, first, second = _shipped_twice(world, "Ignored Part Co", "SO-3101")
    one = _invoice(world, order, first)
    world.inject("drop_after_commit", match="invoice", method="POST")
    world.inject("ignore_requestid", match="invoice", method="POST", count=None)
    two = _invoice(world, order, second)
    assert _injected(world, "drop_after_commit") == 1
    assert (two.number, two.state) == (2, InvoiceState.INVOICED)
    invoices = qbo_invoices(world, order)
    assert [i["Id"] for i in invoices] == [one.qbo_invoice_id, two.qbo_invoice_id]
    assert [sold(world, i) for i in invoices] == [FIRST, SECOND]
    assert [i["PrivateNote"] for i in invoices] == [_marker(order, one), _marker(order, two)]
    assert one.request_id != two.request_id


def test_a_worker_that_died_mid_create_of_a_partial_invoice_is_resumed_without_a_second_one(
    make_world: WorldFactory,
) -> None:
    world = make_world()
    order, first, second = _shipped_twice(world, "Crashed Part Co", "SO-3201")
    one = _invoice(world, order, first)
    [planned] = world.app.invoicing.plan_deliveries(world.company_id, order.id or 0, [second], True)
    world.inject("drop_after_commit", match="invoice", method="POST")
    world.inject("ignore_requestid", match="invoice", method="POST", count=None)
    left = _die_mid_create(world, order, planned.number)
    assert len(qbo_invoices(world, order)) == 2  # its create went through

    # A fresh claim is left alone; a stale one is resumed, finding the invoice by its own marker.
    assert world.app.invoicing.create_invoice(world.company_id, order.id or 0, planned.number).state is (
        InvoiceState.CREATING
    )
    resumed = _later(world).create_invoice(world.company_id, order.id or 0, planned.number)
    assert (resumed.number, resumed.state, resumed.request_id) == (2, InvoiceState.INVOICED, left.request_id)
    invoices = qbo_invoices(world, order)
    assert [i["Id"] for i in invoices] == [one.qbo_invoice_id, resumed.qbo_invoice_id]
    assert [sold(world, i) for i in invoices] == [FIRST, SECOND]
    assert _later(world).create_invoice(world.company_id, order.id or 0, planned.number) == resumed  # settled


def test_an_uncertain_invoice_2_is_never_taken_for_invoice_1(make_world: WorldFactory) -> None:
    """Both invoices of the SO are made the same day for the same customer with the same memo: only the request id
    in the marker tells them apart. A look-up that took invoice 1 for invoice 2 would leave delivery 2 uninvoiced
    while the SO reads fully invoiced."""
    world = make_world()
    order, first, second = _shipped_twice(world, "Twin Invoices Co", "SO-3301")
    one = _invoice(world, order, first)
    [planned] = world.app.invoicing.plan_deliveries(world.company_id, order.id or 0, [second], True)
    _die_mid_create(world, order, planned.number, send=False)  # died before its create was sent
    world.inject("ignore_requestid", match="invoice", method="POST", count=None)

    two = _later(world).create_invoice(world.company_id, order.id or 0, planned.number)  # looks first
    assert two.state is InvoiceState.INVOICED
    assert two.qbo_invoice_id != one.qbo_invoice_id
    invoices = qbo_invoices(world, order)
    assert [i["Id"] for i in invoices] == [one.qbo_invoice_id, two.qbo_invoice_id]
    assert [sold(world, i) for i in invoices] == [FIRST, SECOND]
    assert {i["TxnDate"] for i in invoices} == {"2026-02-28"}  # the same day: the look-up sees both

    # Invoice 3: its create reached QBO, its answer was lost, and the look-up failed too: uncertain.
    third = deliver(world, order, {0: "1"}, THIRD_SHIPMENT)
    world.control.delete(f"/_sandbox/companies/{world.realm_id}/faults")
    world.inject("drop_after_commit", match="invoice", method="POST")
    world.inject("fail_before_commit", match="from invoice where", count=world.app.settings.qbo_max_attempts)
    [uncertain] = world.app.invoicing.invoice_deliveries(world.company_id, order.id or 0, [third.id or 0], True)
    assert (uncertain.number, uncertain.state, uncertain.error_code) == (3, InvoiceState.FAILED, "uncertain")
    assert len(qbo_invoices(world, order)) == 3  # it was made
    world.control.delete(f"/_sandbox/companies/{world.realm_id}/faults")
    world.inject("ignore_requestid", match="invoice", method="POST", count=None)
    three = world.app.invoicing.create_invoice(world.company_id, order.id or 0, 3)
    assert three.state is InvoiceState.INVOICED
    assert three.request_id == uncertain.request_id
    invoices = qbo_invoices(world, order)
    assert [i["Id"] for i in invoices] == [one.qbo_invoice_id, two.qbo_invoice_id, three.qbo_invoice_id]
    assert [sold(world, i) for i in invoices] == [FIRST, SECOND, THIRD]
    assert [i["PrivateNote"] for i in invoices] == [_marker(order, link) for link in (one, two, three)]


def test_the_sweeper_resumes_a_dead_workers_partial_invoice(make_world: WorldFactory) -> None:
    world = make_world(claim_stale_seconds=1)
    order, first, second = _shipped_twice(world, "Swept Part Co", "SO-3401")
    one = _invoice(world, order, first)
    [planned] = world.app.invoicing.plan_deliveries(world.company_id, order.id or 0, [second], True)
    world.inject("drop_after_commit", match="invoice", method="POST")
    world.inject("ignore_requestid", match="invoice", method="POST", count=None)
    _die_mid_create(world, order, planned.number)
    assert world.app.jobs.sweep() == 0  # a fresh claim may still be working
    time.sleep(1.1)
    assert world.app.jobs.sweep() == 1
    link = world.app.orderbook.invoice_link(world.company_id, order.id or 0, planned.number)
    assert link.state is InvoiceState.INVOICED
    assert [i["Id"] for i in qbo_invoices(world, order)] == [one.qbo_invoice_id, link.qbo_invoice_id]
    assert world.app.jobs.sweep() == 0


def test_a_partial_invoice_planned_by_a_request_that_died_is_still_made(make_world: WorldFactory) -> None:
    """`invoice_deliveries` stores its invoices first, then makes them one by one. A web process killed in between
    (or a request for many deliveries cut off half-way) leaves invoices that hold their deliveries — nothing else
    may invoice them — and that nobody is creating: the sweeper must make them, as it does lost `queued` ones."""
    world = make_world(claim_stale_seconds=1)
    order, first, second = _shipped_twice(world, "Cut Off Co", "SO-3501")
    planned = world.app.invoicing.plan_deliveries(world.company_id, order.id or 0, [first, second], False)
    assert [link.state for link in planned] == [InvoiceState.QUEUED, InvoiceState.QUEUED]  # stored as waiting
    time.sleep(1.1)
    swept = [world.app.jobs.sweep() for _ in range(2)]
    links = world.app.orderbook.invoices(world.company_id, order.id or 0).links
    states: list[Any] = [(link.number, link.state) for link in links]
    assert states == [(1, InvoiceState.INVOICED), (2, InvoiceState.INVOICED)], (swept, states)
    invoices = qbo_invoices(world, order)
    assert [i["Id"] for i in invoices] == [link.qbo_invoice_id for link in links]
    assert [sold(world, i) for i in invoices] == [FIRST, SECOND]
