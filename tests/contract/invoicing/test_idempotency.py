"""One invoice per SO whatever happens — each case ends with exactly one invoice in the sandbox."""

from __future__ import annotations

import threading
from datetime import timedelta

from tests.contract.invoicing.conftest import World, WorldFactory

from invoicebridge.bootstrap import utc_now
from invoicebridge.domain import InvoiceState, SalesOrder
from invoicebridge.sync.gateway import AuditTrail
from invoicebridge.sync.invoice_lookup import Unsure
from invoicebridge.sync.invoicing import Invoicing


def _invoices_for(world: World, order: SalesOrder) -> list[dict[str, object]]:
    return [i for i in world.qbo_rows("SELECT * FROM Invoice MAXRESULTS 1000")
            if i.get("CustomerMemo", {}).get("value") == order.number]  # fmt: skip


def test_double_submit(make_world: WorldFactory) -> None:
    world = make_world()
    order = world.order(world.customer("Double Click Co"))
    first, second = world.invoice(order), world.invoice(order)
    assert first.state is second.state is InvoiceState.INVOICED
    assert first.qbo_invoice_id == second.qbo_invoice_id
    assert len(_invoices_for(world, order)) == 1


def test_two_concurrent_workers(make_world: WorldFactory) -> None:
    world = make_world()
    order = world.order(world.customer("Race Co"))
    world.inject("latency", match="invoice", method="POST", seconds=0.3, count=None)  # widen the window
    results: list[object] = []
    workers = [threading.Thread(target=lambda: results.append(world.invoice(order))) for _ in range(4)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert len(results) == 4
    assert len(_invoices_for(world, order)) == 1
    assert world.app.orderbook.invoice_link(world.company_id, order.id).state is InvoiceState.INVOICED


def test_dropped_response_after_commit(make_world: WorldFactory) -> None:
    world = make_world()
    order = world.order(world.customer("Dropped Co"))
    world.inject("drop_after_commit", match="invoice", method="POST")
    link = world.invoice(order)
    assert link.state is InvoiceState.INVOICED
    assert [i["Id"] for i in _invoices_for(world, order)] == [link.qbo_invoice_id]


def test_dropped_response_when_qbo_ignores_the_request_id(make_world: WorldFactory) -> None:
    world = make_world()
    order = world.order(world.customer("Ignored Id Co"))
    world.inject("drop_after_commit", match="invoice", method="POST")
    world.inject("ignore_requestid", match="invoice", method="POST", count=None)
    link = world.invoice(order)
    assert link.state is InvoiceState.INVOICED
    assert [i["Id"] for i in _invoices_for(world, order)] == [link.qbo_invoice_id]  # found by its marker


def test_server_errors_before_commit_are_retried(make_world: WorldFactory) -> None:
    world = make_world()
    order = world.order(world.customer("Flaky Co"))
    world.inject("fail_before_commit", match="invoice", method="POST", count=2, status=503)
    link = world.invoice(order)
    assert link.state is InvoiceState.INVOICED
    assert len(_invoices_for(world, order)) == 1


def test_a_429_storm_is_waited_out(make_world: WorldFactory) -> None:
    world = make_world()
    order = world.order(world.customer("Busy Co"))
    world.inject("throttle", match="invoice", method="POST", count=3)
    link = world.invoice(order)
    assert link.state is InvoiceState.INVOICED
    assert len(_invoices_for(world, order)) == 1
    throttled = [r for r in world.qbo_requests() if r["status"] == 429]
    assert len(throttled) == 3


def test_a_worker_that_died_mid_create_is_resumed_without_a_second_invoice(make_world: WorldFactory) -> None:
    world = make_world()
    order = world.order(world.customer("Crashed Worker Co"))
    assert order.id is not None
    world.inject("drop_after_commit", match="invoice", method="POST")
    world.inject("ignore_requestid", match="invoice", method="POST", count=None)
    # A worker claims the SO and its create reaches QBO; the worker dies before it records anything.
    dying = world.app.invoicing
    claimed = dying._claim(world.company_id, order.id, None)  # stopping between the three steps
    assert claimed is not None
    dying._create(dying._inputs(world.company_id, order.id, claimed[0]), claimed[0], AuditTrail(), Unsure(False))
    assert world.app.orderbook.invoice_link(world.company_id, order.id).state is InvoiceState.CREATING
    assert len(_invoices_for(world, order)) == 1
    # A fresh claim is left alone; a stale one is resumed, finding the invoice by its marker.
    assert world.invoice(order).state is InvoiceState.CREATING
    later = Invoicing(world.app.uow, world.app.clients, utc_now, stale_after=timedelta(0))
    resumed = later.create_invoice(world.company_id, order.id)
    assert resumed.state is InvoiceState.INVOICED
    assert [i["Id"] for i in _invoices_for(world, order)] == [resumed.qbo_invoice_id]


def test_an_uncertain_outcome_stays_uncertain_until_a_look_up_settles_it(make_world: WorldFactory) -> None:
    """The create reached QBO but its answer was lost, and the look-up failed too (503s): the SO must say the
    outcome is unknown — not "no invoice was made" — and the retry must look before creating, even while QBO
    ignores the request id (which would otherwise make a second invoice)."""
    world = make_world()
    order, first = world.uncertain_invoice("Unsure Co")
    assert (first.state, first.error_code) == (InvoiceState.FAILED, "uncertain")
    assert "not yet known whether the invoice was made" in (first.error_message or "")
    assert "no invoice was made" not in (first.error_message or "")
    assert len(_invoices_for(world, order)) == 1  # it was made

    world.inject("ignore_requestid", match="invoice", method="POST", count=None)
    retried = world.invoice(order)
    assert retried.state is InvoiceState.INVOICED
    assert [i["Id"] for i in _invoices_for(world, order)] == [retried.qbo_invoice_id]


def test_any_failure_before_the_look_up_keeps_the_so_uncertain(make_world: WorldFactory) -> None:
    world = make_world()
    order, first = world.uncertain_invoice("Still Unsure Co")
    assert first.error_code == "uncertain"
    world.app.connecting.disconnect(world.company_id)  # the next attempt fails before it can look
    disconnected = world.invoice(order)
    assert (disconnected.state, disconnected.error_code) == (InvoiceState.FAILED, "uncertain")
    assert "connect QuickBooks" in (disconnected.error_message or "")  # and says what to do
    assert disconnected.request_id == first.request_id  # the same request id: QBO would replay, not repeat
    assert len(_invoices_for(world, order)) == 1
