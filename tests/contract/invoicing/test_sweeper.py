"""The sweeper: claims left `creating` by a worker that died, and SOs whose last failure was uncertain, are
invoiced again by the periodic job — looked up first, so never twice — with nobody clicking."""

from __future__ import annotations

import time
from datetime import timedelta

from tests.contract.invoicing.conftest import World, WorldFactory

from invoicebridge.domain import InvoiceState, SalesOrder
from invoicebridge.domain.records import CogsState
from invoicebridge.sync.gateway import AuditTrail
from invoicebridge.sync.invoice_lookup import Unsure


def _invoices_for(world: World, order: SalesOrder) -> list[dict[str, object]]:
    return [i for i in world.qbo_rows("SELECT * FROM Invoice MAXRESULTS 1000")
            if i.get("CustomerMemo", {}).get("value") == order.number]  # fmt: skip


def sweep(world: World) -> int:
    """The periodic sweep task, run now (immediate mode: the invoice jobs it queues run before it returns)."""
    return world.app.jobs.sweep()


def _die_mid_create(world: World, order: SalesOrder) -> None:
    """A worker claims the SO, its create reaches QBO, and it dies before recording anything."""
    invoicing = world.app.invoicing
    claimed = invoicing._claim(world.company_id, order.id or 0, None)
    assert claimed is not None
    inputs = invoicing._inputs(world.company_id, order.id or 0, claimed[0])
    invoicing._create(inputs, claimed[0], AuditTrail(), Unsure(False))


def test_a_claim_left_by_a_dead_worker_is_resumed_by_the_sweeper(make_world: WorldFactory) -> None:
    world = make_world(claim_stale_seconds=1)
    order, untouched = world.order(world.customer("Dead Worker Co")), world.order(world.customer("Other Co"))
    world.inject("drop_after_commit", match="invoice", method="POST")
    world.inject("ignore_requestid", match="invoice", method="POST", count=None)
    _die_mid_create(world, order)
    assert sweep(world) == 0  # a fresh claim may still be working: left alone
    time.sleep(1.1)
    assert sweep(world) == 1  # immediate mode in tests: the queued invoice job ran right away
    link = world.app.orderbook.invoice_link(world.company_id, order.id or 0)
    assert link.state is InvoiceState.INVOICED
    assert [i["Id"] for i in _invoices_for(world, order)] == [link.qbo_invoice_id]
    assert world.app.orderbook.invoice_link(world.company_id, untouched.id or 0).state is InvoiceState.NOT_INVOICED
    assert sweep(world) == 0


def test_an_uncertain_failure_is_settled_by_the_sweeper(make_world: WorldFactory) -> None:
    world = make_world()
    order, first = world.uncertain_invoice("Unsure Sweep Co")
    world.inject("ignore_requestid", match="invoice", method="POST", count=None)
    assert first.error_code == "uncertain"
    assert sweep(world) == 0  # retried after a pause, not in a tight loop
    world.app.invoicing.retry_uncertain_after = timedelta(0)
    assert sweep(world) == 1
    link = world.app.orderbook.invoice_link(world.company_id, order.id or 0)
    assert link.state is InvoiceState.INVOICED
    assert [i["Id"] for i in _invoices_for(world, order)] == [link.qbo_invoice_id]


def test_the_sweeper_leaves_certain_failures_and_disconnected_companies_alone(make_world: WorldFactory) -> None:
    world = make_world(claim_stale_seconds=1)
    refused = world.order(world.customer("Refused Co", currency="EUR"), currency="EUR")  # no multicurrency here
    failed = world.invoice(refused)
    assert (failed.state, failed.error_code) == (InvoiceState.FAILED, "currency")
    world.app.invoicing.retry_uncertain_after = timedelta(0)
    assert sweep(world) == 0  # a definite failure waits for a person
    order = world.order(world.customer("Disconnected Co"))
    world.inject("drop_after_commit", match="invoice", method="POST")
    _die_mid_create(world, order)
    world.app.connecting.disconnect(world.company_id)
    time.sleep(1.1)
    assert sweep(world) == 0
    assert world.app.orderbook.invoice_link(world.company_id, order.id or 0).state is InvoiceState.CREATING


def test_a_queued_job_lost_with_its_worker_is_queued_again(make_world: WorldFactory) -> None:
    """The SO was marked queued and its job taken by a worker that was killed before it claimed the SO."""
    world = make_world(claim_stale_seconds=1)
    order = world.order(world.customer("Lost Job Co"))
    assert world.app.invoicing.queue(world.company_id, [order.id or 0]) == [(order.id, 1)]  # the job itself is lost
    link = world.app.orderbook.invoice_link(world.company_id, order.id or 0)
    assert (link.state, link.status_text) == (InvoiceState.QUEUED, "Invoice queued…")
    # Nothing to put back (it is queued already), but its company has no batch job waiting: the sweep queues one
    # at once (immediate mode: it runs before the sweep returns) instead of waiting for the SO to look stale.
    assert sweep(world) == 0
    assert world.app.orderbook.invoice_link(world.company_id, order.id or 0).state is InvoiceState.INVOICED
    assert len(_invoices_for(world, order)) == 1


def test_the_sweeper_queues_one_batch_job_per_company_with_queued_invoices(make_world: WorldFactory) -> None:
    world = make_world(jobs_immediate=False)  # a real queue and no worker: jobs wait
    huey = world.app.jobs.huey
    orders = [world.order(world.customer(f"Lost Batch {n}")) for n in range(3)]
    world.app.invoicing.queue(world.company_id, [o.id or 0 for o in orders])  # marked, and the batch job lost
    assert huey.pending_count() == 0
    sweep(world)
    sweep(world)
    assert [task.name for task in huey.pending()] == ["drain"]  # one, not one per sweep
    while (task := huey.dequeue()) is not None:
        huey.execute(task)
    assert {world.app.orderbook.invoice_link(world.company_id, o.id or 0).state for o in orders} == {
        InvoiceState.INVOICED
    }


def test_bulk_invoicing_marks_every_so_queued_before_its_job_is_enqueued(make_world: WorldFactory) -> None:
    world = make_world(jobs_immediate=False)  # a real (SQLite) queue, and no worker: the jobs wait
    orders = [world.order(world.customer(f"Waiting {n}")) for n in range(3)]
    world.app.jobs.invoice(world.company_id, [o.id or 0 for o in orders])
    states = {world.app.orderbook.invoice_link(world.company_id, o.id or 0).state for o in orders}
    assert states == {InvoiceState.QUEUED}
    assert [task.name for task in world.app.jobs.huey.pending()] == ["drain"]  # one batch job for the 3


def test_a_dead_workers_claim_is_queued_again_once_not_at_every_sweep(make_world: WorldFactory) -> None:
    world = make_world(claim_stale_seconds=1, jobs_immediate=False)  # a real queue and no worker: jobs wait
    huey = world.app.jobs.huey
    huey.flush()
    order = world.order(world.customer("Slow Queue Co"))
    world.inject("drop_after_commit", match="invoice", method="POST")
    _die_mid_create(world, order)
    time.sleep(1.1)
    assert sweep(world) == 1
    link = world.app.orderbook.invoice_link(world.company_id, order.id or 0)
    assert (link.state, link.error_code) == (InvoiceState.QUEUED, "uncertain")
    assert sweep(world) == 0  # its job waits in the queue: not enqueued again
    assert huey.pending_count() == 1
    while (task := huey.dequeue()) is not None:  # the worker gets to it: looks first, finds it
        huey.execute(task)
    link = world.app.orderbook.invoice_link(world.company_id, order.id or 0)
    assert link.state is InvoiceState.INVOICED
    assert [i["Id"] for i in _invoices_for(world, order)] == [link.qbo_invoice_id]


def test_a_cogs_entry_whose_job_was_lost_is_posted_by_the_sweeper(make_world: WorldFactory) -> None:
    world = make_world(inventory=True)
    world.app.invoicing.after_invoiced = None  # the COGS job that follows the invoice is lost with its worker
    order = world.order(world.customer("Lost Cogs Co"))
    world.app.orderbook.record_delivery(world.company_id, order.id or 0, {r.id or 0: r.quantity for r in order.rows})
    assert world.invoice(order).state is InvoiceState.INVOICED
    with world.app.uow() as uow:
        assert uow.cogs.get(world.company_id, order.id or 0).state is CogsState.NONE
    assert sweep(world) == 1
    with world.app.uow() as uow:
        assert uow.cogs.get(world.company_id, order.id or 0).state is CogsState.POSTED
    assert sweep(world) == 0


def test_a_plain_company_is_never_swept_for_cogs(make_world: WorldFactory) -> None:
    world = make_world(inventory=False)
    order = world.order(world.customer("Plain Co"))
    world.app.orderbook.record_delivery(world.company_id, order.id or 0, {r.id or 0: r.quantity for r in order.rows})
    world.invoice(order)
    assert sweep(world) == 0
