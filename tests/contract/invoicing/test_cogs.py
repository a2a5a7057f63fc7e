"""Accounting with inventory: one COGS journal entry per SO (debit COGS, credit inventory asset, Σ qty × unit
cost, dated the delivery date) once it is both delivered and invoiced — in either order — exactly once."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from decimal import Decimal

from tests.contract.invoicing.conftest import World, WorldFactory, money

from invoicebridge.domain import InvoiceState, SalesOrder
from invoicebridge.domain.records import CogsState


def _entries(world: World, order: SalesOrder) -> list[dict[str, object]]:
    return [je for je in world.qbo_rows("SELECT * FROM JournalEntry MAXRESULTS 1000")
            if str(je.get("PrivateNote", "")).startswith(f"invoicebridge COGS {order.number} [")]  # fmt: skip


def _deliver_all(world: World, order: SalesOrder, when: datetime) -> SalesOrder:
    assert order.id is not None
    rows = {row.id: row.quantity for row in order.rows if row.id is not None}
    return world.app.orderbook.record_delivery(world.company_id, order.id, rows, when)


def _two_row_order(world: World) -> SalesOrder:
    a = world.product("COG-A", "Costed A", price="20.00", cost="7.50")
    b = world.product("COG-B", "Costed B", price="9.99", cost="3.333")
    return world.order(world.customer("Cogs Co"), rows=[(a, "4", "20.00", world.rates[0]),
                                                        (b, "3", "9.99", world.rates[1])])  # fmt: skip


def test_delivered_first_then_invoiced_posts_one_entry(make_world: WorldFactory) -> None:
    world = make_world("US", inventory=True)
    order = _deliver_all(world, _two_row_order(world), datetime(2026, 4, 2, 20, 0, tzinfo=UTC))
    assert _entries(world, order) == []
    assert world.invoice(order).state is InvoiceState.INVOICED
    [entry] = _entries(world, order)
    lines = entry["Line"]
    assert isinstance(lines, list)
    settings = world.app.connecting.connection(world.company_id).settings
    postings = {(line["JournalEntryLineDetail"]["PostingType"], line["JournalEntryLineDetail"]["AccountRef"]["value"],
                 money(line["Amount"])) for line in lines}  # fmt: skip
    amount = Decimal("40.00")  # 4 × 7.50 + 3 × 3.333 = 39.999 → 40.00
    assert postings == {("Debit", settings.cogs_account_id, amount),
                        ("Credit", settings.inventory_asset_account_id, amount)}  # fmt: skip
    assert entry["TxnDate"] == "2026-04-02"  # the delivery date in the company's zone (Los Angeles)


def test_invoiced_first_then_delivered_posts_when_delivered(make_world: WorldFactory) -> None:
    world = make_world("GB", inventory=True)
    order = _two_row_order(world)
    assert world.invoice(order).state is InvoiceState.INVOICED
    assert _entries(world, order) == []  # not delivered yet
    order = _deliver_all(world, order, datetime(2026, 4, 3, 9, 0, tzinfo=UTC))
    world.app.jobs.cogs(world.company_id, order.id or 0)  # what recording the delivery queues
    assert len(_entries(world, order)) == 1


def test_exactly_once_under_retries_and_concurrency(make_world: WorldFactory) -> None:
    world = make_world("US", inventory=True)
    order = _two_row_order(world)
    world.invoice(order)
    order = _deliver_all(world, order, datetime(2026, 4, 3, 9, 0, tzinfo=UTC))
    world.inject("drop_after_commit", match="journalentry", method="POST")
    first = world.app.cogs.post_if_due(world.company_id, order.id or 0)  # dropped, then replayed by request id
    assert first is not None and first.state is CogsState.POSTED
    threads = [threading.Thread(target=world.app.cogs.post_if_due, args=(world.company_id, order.id)) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    world.app.jobs.cogs(world.company_id, order.id or 0)
    assert len(_entries(world, order)) == 1


def test_plain_accounting_posts_nothing(make_world: WorldFactory) -> None:
    world = make_world("US", inventory=False)
    order = _deliver_all(world, _two_row_order(world), datetime(2026, 4, 2, 20, 0, tzinfo=UTC))
    world.invoice(order)
    assert _entries(world, order) == []


def test_an_unanswered_entry_is_found_by_its_marker_when_qbo_ignores_the_request_id(make_world: WorldFactory) -> None:
    world = make_world("US", inventory=True)
    order = _deliver_all(world, _two_row_order(world), datetime(2026, 4, 2, 20, 0, tzinfo=UTC))
    world.inject("drop_after_commit", match="journalentry", method="POST")
    world.inject("ignore_requestid", match="journalentry", method="POST", count=None)
    assert world.invoice(order).state is InvoiceState.INVOICED
    assert len(_entries(world, order)) == 1
    assert world.app.cogs.post_if_due(world.company_id, order.id or 0) is None  # posted: nothing more
    assert len(_entries(world, order)) == 1


def test_an_entry_left_posting_by_a_dead_worker_is_looked_up_before_posting_again(make_world: WorldFactory) -> None:
    world = make_world("US", inventory=True)
    order = _two_row_order(world)
    assert world.invoice(order).state is InvoiceState.INVOICED  # not delivered yet: no entry is due
    order = _deliver_all(world, order, datetime(2026, 4, 2, 20, 0, tzinfo=UTC))
    world.inject("ignore_requestid", match="journalentry", method="POST", count=None)
    world.inject("drop_after_commit", match="journalentry", method="POST", count=2)
    world.inject("fail_before_commit", match="query", count=100)  # and the look-up fails: left `posting`
    left = world.app.cogs.post_if_due(world.company_id, order.id or 0)
    assert left is not None and left.state is CogsState.POSTING
    assert len(_entries(world, order)) == 1  # made once, its answer lost twice, not looked up yet
    world.control.delete(f"/_sandbox/companies/{world.realm_id}/faults")
    posted = world.app.cogs.post_if_due(world.company_id, order.id or 0)
    assert posted is not None and posted.state is CogsState.POSTED
    assert len(_entries(world, order)) == 1
