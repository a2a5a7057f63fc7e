"""Bulk invoicing through /batch against qbo_sandbox over HTTP: few requests, one SO's refusal never fails the
others, exactly once after unknown outcomes, and a stale mirror never makes a wrong match."""

from __future__ import annotations

import time
from typing import Any

from tests.contract.invoicing.conftest import World, WorldFactory

from invoicebridge.domain import InvoiceState, SalesOrder
from invoicebridge.sync.batch_invoicing import BatchInvoicing
from invoicebridge.sync.mapping import marker


def bulk(world: World, orders: list[SalesOrder]) -> dict[int, Any]:
    """Queue the SOs as the Sell screen's bulk action does (immediate mode: the batch jobs run at once)."""
    world.app.jobs.invoice(world.company_id, [o.id for o in orders if o.id is not None])
    return {o.id: world.app.orderbook.invoice_link(world.company_id, o.id or 0) for o in orders}


def writes(world: World, since: int) -> list[str]:
    return [f"{r['method']} {r['path'].rsplit('/', 1)[-1]}" for r in world.qbo_requests()[since:]]


def invoices_with_marker(world: World, order: SalesOrder) -> list[dict[str, Any]]:
    link = world.app.orderbook.invoice_link(world.company_id, order.id or 0)
    wanted = marker(order, link.request_id or "")
    return [i for i in world.qbo_rows("SELECT * FROM Invoice MAXRESULTS 1000") if i.get("PrivateNote") == wanted]


def catalogue(world: World, customers: int, products: int) -> tuple[list[Any], list[Any]]:
    people = [world.customer(f"Batch Customer {n}", f"batch{n}@example.com") for n in range(customers)]
    goods = [world.product(f"BATCH-{n}", f"Batch product {n}") for n in range(products)]
    return people, goods


def test_forty_sos_take_two_invoice_batches_and_the_missing_customers_and_items_one_batch_each(
    make_world: WorldFactory,
) -> None:
    world = make_world("GB")
    people, goods = catalogue(world, customers=5, products=6)
    orders = [
        world.order(people[n % 5], rows=[(goods[n % 6], "2", "10.00", world.rates[0]),
                                         (goods[(n + 1) % 6], "1", "5.00", world.rates[0])])
        for n in range(40)
    ]  # fmt: skip
    before = len(world.qbo_requests())
    links = bulk(world, orders)
    assert {link.state for link in links.values()} == {InvoiceState.INVOICED}
    sent = writes(world, before)
    # 5 customers and 6 items created in one batch each, 40 invoices in 30 + 10; reads: the mirror's load and the
    # one look-up of what it did not have, before creating
    assert sent.count("POST batch") == 4
    assert not [s for s in sent if s.startswith("POST") and s not in ("POST batch", "POST query")]
    assert len(sent) <= 12, sent
    for order in orders:
        assert len(invoices_with_marker(world, order)) == 1

    warm = [world.order(people[n % 5], rows=[(goods[n % 6], "1", "10.00", world.rates[0])]) for n in range(30)]
    before = len(world.qbo_requests())
    assert {link.state for link in bulk(world, warm).values()} == {InvoiceState.INVOICED}
    assert writes(world, before) == ["POST batch"]  # warm: matching read nothing, 30 invoices in one request


def test_one_sos_refusal_never_fails_the_others(make_world: WorldFactory) -> None:
    world = make_world("US", custom_txn_numbers=True)
    people, goods = catalogue(world, customers=2, products=2)
    orders = [world.order(people[n % 2], rows=[(goods[0], "1", "10.00", world.rates[0])]) for n in range(5)]
    taken = world.qbo_rows("SELECT * FROM Customer MAXRESULTS 1")[0]
    world.qbo_create("Invoice", {
        "CustomerRef": {"value": taken["Id"]}, "DocNumber": orders[2].number,
        "Line": [{"Amount": 1, "DetailType": "SalesItemLineDetail",
                  "SalesItemLineDetail": {"ItemRef": {"value": "1"}}}],
    })  # fmt: skip
    links = bulk(world, orders)
    assert links[orders[2].id].state is InvoiceState.FAILED
    assert orders[2].number in (links[orders[2].id].error_message or "")
    assert [links[o.id].state for o in orders if o is not orders[2]] == [InvoiceState.INVOICED] * 4


def test_an_answer_lost_after_commit_is_looked_up_before_anything_is_sent_again(make_world: WorldFactory) -> None:
    world = make_world("GB")
    people, goods = catalogue(world, customers=3, products=3)
    warmup = [world.order(people[n], rows=[(goods[n], "1", "10.00", world.rates[0])]) for n in range(3)]
    bulk(world, warmup)
    orders = [world.order(people[n % 3], rows=[(goods[n % 3], "1", "10.00", world.rates[0])]) for n in range(12)]
    world.inject("ignore_requestid", match="batch", method="POST", count=5)  # QBO would make the batch twice
    world.inject("drop_after_commit", match="batch", method="POST", count=1)
    links = bulk(world, orders)
    assert {link.state for link in links.values()} == {InvoiceState.INVOICED}
    for order in orders:
        assert len(invoices_with_marker(world, order)) == 1, order.number


def test_a_batch_that_failed_before_commit_is_sent_again_and_makes_each_invoice_once(make_world: WorldFactory) -> None:
    world = make_world("GB")
    people, goods = catalogue(world, customers=2, products=2)
    bulk(world, [world.order(people[0], rows=[(goods[0], "1", "10.00", world.rates[0])])])
    orders = [world.order(people[n % 2], rows=[(goods[n % 2], "1", "10.00", world.rates[0])]) for n in range(8)]
    world.inject("fail_before_commit", match="batch", method="POST", count=1, status=503)
    links = bulk(world, orders)
    assert {link.state for link in links.values()} == {InvoiceState.INVOICED}
    assert all(len(invoices_with_marker(world, order)) == 1 for order in orders)


def test_a_customer_made_inactive_behind_the_mirror_is_read_again_and_not_used(make_world: WorldFactory) -> None:
    world = make_world("US")
    amy = world.qbo_rows("SELECT * FROM Customer WHERE DisplayName = 'Amy\\'s Bird Sanctuary'")[0]
    ours = world.customer("Bird Friends", "birds@intuit.com")  # matched to Amy by e-mail
    first = world.invoice(world.order(ours))
    assert world.qbo_read("Invoice", first.qbo_invoice_id)["CustomerRef"]["value"] == amy["Id"]
    backend = world.sandbox.sandbox.backend  # behind our back: no webhook, no poll
    backend.update(world.realm_id, "Customer", {"Id": amy["Id"], "SyncToken": amy["SyncToken"], "sparse": True,
                                                "Active": False})  # fmt: skip
    links = bulk(world, [world.order(ours)])
    (link,) = links.values()
    assert link.state is InvoiceState.INVOICED
    used = world.qbo_read("Invoice", link.qbo_invoice_id)["CustomerRef"]["value"]
    assert used != amy["Id"]
    assert world.qbo_read("Customer", used)["DisplayName"] == "Bird Friends"


def test_a_customer_added_in_qbo_behind_the_mirror_is_matched_not_created_twice(make_world: WorldFactory) -> None:
    world = make_world("GB")
    people, goods = catalogue(world, customers=1, products=1)
    bulk(world, [world.order(people[0], rows=[(goods[0], "1", "10.00", world.rates[0])])])  # the mirror is loaded
    late = world.qbo_create("Customer", {"DisplayName": "Late Arrival Ltd"})
    item = world.qbo_create("Item", {"Name": "Late gadget", "Sku": "LATE-1", "Type": "Service",
                                     "IncomeAccountRef": {"value": "1"}})  # fmt: skip
    customers, items = world.qbo_count("Customer"), world.qbo_count("Item")
    order = world.order(world.customer("Late Arrival Ltd"), rows=[(world.product("LATE-1", "Ours"), "1", "3.00",
                                                                    world.rates[0])])  # fmt: skip
    (link,) = bulk(world, [order]).values()
    invoice = world.qbo_read("Invoice", link.qbo_invoice_id)
    assert invoice["CustomerRef"]["value"] == late["Id"]
    assert invoice["Line"][0]["SalesItemLineDetail"]["ItemRef"]["value"] == item["Id"]
    assert (world.qbo_count("Customer"), world.qbo_count("Item")) == (customers, items)


def test_an_item_name_taken_by_another_sku_fails_only_its_so(make_world: WorldFactory) -> None:
    world = make_world("GB")
    world.qbo_create("Item", {"Name": "Taken name", "Sku": "THEIRS-1", "Type": "Service",
                              "IncomeAccountRef": {"value": "1"}})  # fmt: skip
    clash = world.product("OURS-1", "Taken name")
    fine = world.product("OURS-2", "Free name")
    customer = world.customer("Name Clash Ltd")
    bad = world.order(customer, rows=[(clash, "1", "10.00", world.rates[0])])
    good = world.order(customer, rows=[(fine, "1", "10.00", world.rates[0])])
    links = bulk(world, [bad, good])
    assert links[bad.id].state is InvoiceState.FAILED
    assert links[good.id].state is InvoiceState.INVOICED
    assert world.qbo_rows("SELECT * FROM Item WHERE Sku = 'THEIRS-1'")[0]["Name"] == "Taken name"  # never overwritten


class _SlowBatches(BatchInvoicing):
    """A worker that, between claiming and sending, waits past the claims' stale_after (as it may wait for the
    limiter), while the sweeper takes its claims over and another batch job makes the invoices."""

    def __init__(self, world: World, late: SalesOrder) -> None:
        super().__init__(world.app.invoicing)
        self.world, self.late = world, late

    def _work(self, batch: Any) -> None:
        time.sleep(1.2)  # claim_stale_seconds=1: the claims look abandoned now
        # One more SO queued meanwhile: the other batch differs from this one (QBO would not replay this one).
        self.world.app.invoicing.queue(self.world.company_id, [self.late.id or 0])
        assert self.world.app.jobs.sweep() >= 1  # requeued; immediate mode: its batch job runs now and invoices
        super()._work(batch)


def test_a_claim_taken_over_while_its_worker_waited_is_never_sent_by_that_worker(make_world: WorldFactory) -> None:
    world = make_world("GB", claim_stale_seconds=1)
    people, goods = catalogue(world, customers=2, products=2)
    orders = [world.order(people[n % 2], rows=[(goods[n % 2], "1", "10.00", world.rates[0])]) for n in range(4)]
    late = world.order(people[0], rows=[(goods[1], "2", "10.00", world.rates[0])])
    world.app.invoicing.queue(world.company_id, [o.id or 0 for o in orders])
    slow = _SlowBatches(world, late)
    assert slow.drain(world.company_id).claimed == 4
    for order in [*orders, late]:
        link = world.app.orderbook.invoice_link(world.company_id, order.id or 0)
        assert link.state is InvoiceState.INVOICED
        assert [i["Id"] for i in invoices_with_marker(world, order)] == [link.qbo_invoice_id]  # one, and it is ours


def test_the_single_path_leaves_a_claim_taken_over_while_it_waited(make_world: WorldFactory) -> None:
    world = make_world("GB", claim_stale_seconds=1)
    order = world.order(world.customer("Slow Click Ltd"))
    invoicing = world.app.invoicing
    real_inputs = invoicing._inputs

    def slow_inputs(*args: Any) -> Any:
        time.sleep(1.2)
        assert world.app.jobs.sweep() == 1  # the sweeper takes the click's claim over and makes the invoice
        return real_inputs(*args)

    invoicing._inputs = slow_inputs  # type: ignore[method-assign]
    try:
        link = invoicing.create_invoice(world.company_id, order.id or 0)
    finally:
        del invoicing._inputs
    assert link.state is InvoiceState.INVOICED
    assert [i["Id"] for i in invoices_with_marker(world, order)] == [link.qbo_invoice_id]
