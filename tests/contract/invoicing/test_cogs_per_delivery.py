"""Accounting with inventory and partial invoicing. With `cogs_per_delivery`: one COGS journal entry per invoiced
delivery — dated that delivery (in the company's zone), Σ its quantity × unit cost, debit COGS / credit inventory
asset — exactly once. With the default rule: the SO's one entry, once it is fully delivered and every part of it
is invoiced, and none before."""

from __future__ import annotations

import dataclasses
import re
import threading
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from tests.contract.invoicing.conftest import World, WorldFactory, default_settings, money
from tests.contract.invoicing.test_partial_invoicing import deliver, two_row_order

from invoicebridge.domain import InvoiceLink, InvoiceState, SalesOrder
from invoicebridge.domain.records import CogsState

# Los Angeles (the US world's zone): 05:00 UTC on 3 April is still 2 April there.
FIRST_SHIPMENT = datetime(2026, 4, 3, 5, 0, tzinfo=UTC)
SECOND_SHIPMENT = datetime(2026, 4, 10, 18, 0, tzinfo=UTC)
# A: 4 at cost 7.50, B: 3 at cost 3.333. Delivery 1 takes 1 A and 3 B (7.50 + 9.999 = 17.499 → 17.50), delivery
# 2 the other 3 A (22.50); the whole SO 30.00 + 9.999 = 39.999 → 40.00.
FIRST_COST, SECOND_COST, WHOLE_COST = Decimal("17.50"), Decimal("22.50"), Decimal("40.00")
DELIVERY = re.compile(r"invoicebridge COGS (?P<so>.+) delivery (?P<n>[0-9]+) \[(?P<rid>[^\]]+)\]")


def _per_delivery(world: World) -> None:
    settings = dataclasses.replace(default_settings(world, inventory=True), cogs_per_delivery=True)
    world.app.connecting.save_settings(world.company_id, settings)


def _entries(world: World, order: SalesOrder) -> list[dict[str, Any]]:
    """The SO's COGS journal entries in QBO (either rule), oldest first."""
    rows = world.qbo_rows("SELECT * FROM JournalEntry MAXRESULTS 1000")
    ours = [je for je in rows if str(je.get("PrivateNote", "")).startswith(f"invoicebridge COGS {order.number} ")]
    return sorted(ours, key=lambda je: int(je["Id"]))


def _by_delivery(world: World, order: SalesOrder) -> dict[int, dict[str, Any]]:
    """Delivery number → its entry; fails on an entry that is not a delivery's, or on two for one delivery."""
    found: dict[int, dict[str, Any]] = {}
    for entry in _entries(world, order):
        parsed = DELIVERY.fullmatch(entry["PrivateNote"])
        assert parsed is not None and parsed["so"] == order.number, entry["PrivateNote"]
        number = int(parsed["n"])
        assert number not in found, f"two entries for delivery {number}"
        found[number] = entry
    return found


def _postings(entry: dict[str, Any]) -> set[tuple[str, str, Decimal]]:
    return {(line["JournalEntryLineDetail"]["PostingType"], line["JournalEntryLineDetail"]["AccountRef"]["value"],
             money(line["Amount"])) for line in entry["Line"]}  # fmt: skip


def _expected(world: World, amount: Decimal) -> set[tuple[str, str, Decimal]]:
    connection = world.app.connecting.connection(world.company_id)
    assert connection is not None
    settings = connection.settings
    assert settings.cogs_account_id and settings.inventory_asset_account_id
    return {("Debit", settings.cogs_account_id, amount), ("Credit", settings.inventory_asset_account_id, amount)}


def _shipped_twice(world: World, customer: str, number: str) -> tuple[SalesOrder, int, int]:
    order = two_row_order(world, customer, number=number)
    first = deliver(world, order, {0: "1", 1: "3"}, FIRST_SHIPMENT)
    second = deliver(world, order, {0: "3"}, SECOND_SHIPMENT)
    return order, first.id or 0, second.id or 0


def _invoice(world: World, order: SalesOrder, delivery_id: int) -> InvoiceLink:
    [link] = world.app.invoicing.invoice_deliveries(world.company_id, order.id or 0, [delivery_id], True)
    assert link.state is InvoiceState.INVOICED, link
    return link


def _post(world: World, order: SalesOrder) -> None:
    """What recording a delivery, the sweeper or a retry does: the SO's COGS job."""
    world.app.jobs.cogs(world.company_id, order.id or 0)


def test_two_deliveries_invoiced_separately_post_one_entry_each_dated_its_delivery(make_world: WorldFactory) -> None:
    world = make_world("US", inventory=True)
    _per_delivery(world)
    order, first, second = _shipped_twice(world, "Per Delivery Co", "SO-4001")
    _post(world, order)
    assert _entries(world, order) == []  # delivered, not invoiced: nothing yet

    _invoice(world, order, first)
    [one] = _entries(world, order)
    assert DELIVERY.fullmatch(one["PrivateNote"]) is not None
    assert int(DELIVERY.fullmatch(one["PrivateNote"])["n"]) == 1  # type: ignore[index]
    assert one["TxnDate"] == "2026-04-02"  # delivery 1's date in Los Angeles, not in UTC
    assert _postings(one) == _expected(world, FIRST_COST)

    _invoice(world, order, second)
    entries = _by_delivery(world, order)
    assert sorted(entries) == [1, 2]
    assert entries[1] == one  # untouched
    assert entries[2]["TxnDate"] == "2026-04-10"
    assert _postings(entries[2]) == _expected(world, SECOND_COST)
    assert sum(money(e["Line"][0]["Amount"]) for e in entries.values()) == WHOLE_COST
    rids = {DELIVERY.fullmatch(e["PrivateNote"])["rid"] for e in entries.values()}  # type: ignore[index]
    assert len(rids) == 2  # each entry its own request id

    stored = world.app.uow
    with stored() as uow:
        kept = {e.delivery_number: e for e in uow.cogs.of_order(world.company_id, order.id or 0)}
    assert set(kept) == {1, 2}
    assert [(kept[n].state, kept[n].amount, kept[n].journal_entry_id) for n in (1, 2)] == [
        (CogsState.POSTED, FIRST_COST, entries[1]["Id"]), (CogsState.POSTED, SECOND_COST, entries[2]["Id"])
    ]  # fmt: skip


def test_posting_again_makes_no_more_entries(make_world: WorldFactory) -> None:
    world = make_world("US", inventory=True)
    _per_delivery(world)
    order, first, second = _shipped_twice(world, "Again Co", "SO-4101")
    world.inject("drop_after_commit", match="journalentry", method="POST")  # the first entry's answer is lost
    _invoice(world, order, first)
    _invoice(world, order, second)
    assert sorted(_by_delivery(world, order)) == [1, 2]

    assert world.app.cogs.post_if_due(world.company_id, order.id or 0) is None  # nothing is due any more
    assert world.app.cogs.post_if_due(world.company_id, order.id or 0) is None
    world.inject("latency", match="journalentry", method="POST", seconds=0.3, count=None)
    threads = [threading.Thread(target=_post, args=(world, order)) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert world.app.jobs.sweep() == 0
    assert sorted(_by_delivery(world, order)) == [1, 2]

    # Invoice 2 deleted in QBO and its delivery invoiced again: delivery 2's goods went out once, so one entry.
    two = world.app.orderbook.invoice_link(world.company_id, order.id or 0, 2)
    world.qbo_delete("Invoice", two.qbo_invoice_id or "")
    world.app.reconcile.invoice_deleted(world.realm_id, two.qbo_invoice_id or "")
    assert _invoice(world, order, second).number == 3
    _post(world, order)
    entries = _by_delivery(world, order)
    assert sorted(entries) == [1, 2]
    assert [_postings(entries[n]) for n in (1, 2)] == [_expected(world, FIRST_COST), _expected(world, SECOND_COST)]


def test_concurrent_first_postings_make_one_entry_per_delivery(make_world: WorldFactory) -> None:
    world = make_world("US", inventory=True)
    _per_delivery(world)
    order, first, second = _shipped_twice(world, "Race Cogs Co", "SO-4201")
    world.inject("fail_before_commit", match="journalentry", method="POST", count=100)  # the entries wait
    _invoice(world, order, first)
    _invoice(world, order, second)
    assert _entries(world, order) == []
    world.control.delete(f"/_sandbox/companies/{world.realm_id}/faults")
    world.inject("latency", match="journalentry", method="POST", seconds=0.3, count=None)  # widen the window
    errors: list[BaseException] = []

    def post() -> None:
        try:
            world.app.cogs.post_if_due(world.company_id, order.id or 0)
        except BaseException as error:  # collected, then reported by the assertion below
            errors.append(error)

    threads = [threading.Thread(target=post) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    _post(world, order)  # and once more after them
    entries = _by_delivery(world, order)
    assert sorted(entries) == [1, 2]
    assert [_postings(entries[n]) for n in (1, 2)] == [_expected(world, FIRST_COST), _expected(world, SECOND_COST)]
    assert world.app.cogs.post_if_due(world.company_id, order.id or 0) is None
    assert errors == [], errors


def test_concurrent_postings_make_one_entry_even_when_qbo_ignores_the_request_id(make_world: WorldFactory) -> None:
    """The request id is not trusted alone (sync/cogs.py): an entry another worker is posting right now must not be
    created a second time — as an invoice being created by a live worker is left alone."""
    world = make_world("US", inventory=True)
    _per_delivery(world)
    order, first, _ = _shipped_twice(world, "Ignored Cogs Co", "SO-4251")
    world.inject("fail_before_commit", match="journalentry", method="POST", count=100)  # the entry waits
    _invoice(world, order, first)
    assert _entries(world, order) == []
    world.control.delete(f"/_sandbox/companies/{world.realm_id}/faults")
    world.inject("ignore_requestid", match="journalentry", method="POST", count=None)
    world.inject("latency", match="journalentry", method="POST", seconds=0.3, count=None)
    threads = [
        threading.Thread(target=lambda: _swallow(world.app.cogs.post_if_due, world.company_id, order.id or 0))
        for _ in range(3)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    _post(world, order)
    entries = _entries(world, order)
    assert len(entries) == 1, [e["PrivateNote"] for e in entries]
    assert _postings(entries[0]) == _expected(world, FIRST_COST)


def _swallow(call: Any, *args: Any) -> None:
    try:
        call(*args)
    except Exception:  # what this test counts is the entries in QBO
        return


def test_the_default_rule_posts_one_entry_once_every_delivery_is_invoiced(make_world: WorldFactory) -> None:
    world = make_world("US", inventory=True)  # COGS per SO
    order = two_row_order(world, "Per Order Co", number="SO-4301")
    first = deliver(world, order, {0: "1", 1: "3"}, FIRST_SHIPMENT)
    _invoice(world, order, first.id or 0)
    assert _entries(world, order) == []  # partly delivered, partly invoiced
    second = deliver(world, order, {0: "3"}, SECOND_SHIPMENT)
    _post(world, order)
    assert _entries(world, order) == []  # fully delivered, still partly invoiced
    _invoice(world, order, second.id or 0)
    [entry] = _entries(world, order)
    assert entry["PrivateNote"].startswith("invoicebridge COGS SO-4301 [")  # the SO's entry, not a delivery's
    assert _postings(entry) == _expected(world, WHOLE_COST)
    assert entry["TxnDate"] == "2026-04-10"  # the SO's delivery date: its last delivery, in Los Angeles
    assert world.app.cogs.post_if_due(world.company_id, order.id or 0) is None
    _post(world, order)
    assert world.app.jobs.sweep() == 0
    assert len(_entries(world, order)) == 1


def test_per_delivery_with_invoice_all_posts_each_delivery_once(make_world: WorldFactory) -> None:
    world = make_world("US", inventory=True)
    _per_delivery(world)
    order = two_row_order(world, "Whole Then Shipped Co", number="SO-4401")
    assert world.app.invoicing.create_invoice(world.company_id, order.id or 0).state is InvoiceState.INVOICED
    assert _entries(world, order) == []  # nothing went out yet
    deliver(world, order, {0: "1", 1: "3"}, FIRST_SHIPMENT)
    _post(world, order)
    assert sorted(_by_delivery(world, order)) == [1]
    deliver(world, order, {0: "3"}, SECOND_SHIPMENT)
    _post(world, order)
    _post(world, order)
    entries = _by_delivery(world, order)
    assert sorted(entries) == [1, 2]
    assert [(entries[n]["TxnDate"], _postings(entries[n])) for n in (1, 2)] == [
        ("2026-04-02", _expected(world, FIRST_COST)), ("2026-04-10", _expected(world, SECOND_COST))
    ]  # fmt: skip


@pytest.mark.parametrize("per_delivery_first", [False, True])
def test_after_the_rule_changes_the_sweeper_does_not_requeue_what_will_never_post(
    make_world: WorldFactory, per_delivery_first: bool
) -> None:
    """The two rules never both post for one SO. An SO posted under one rule is then never due under the other —
    so the sweeper must not queue a COGS job for it every minute, forever."""
    world = make_world("US", inventory=True)
    if per_delivery_first:
        _per_delivery(world)
    order, first, second = _shipped_twice(world, "Rule Change Co", "SO-4501")
    _invoice(world, order, first)
    _invoice(world, order, second)
    posted = _entries(world, order)
    assert len(posted) == (2 if per_delivery_first else 1)
    assert world.app.jobs.sweep() == 0

    if per_delivery_first:
        world.app.connecting.save_settings(world.company_id, default_settings(world, inventory=True))
    else:
        _per_delivery(world)
    assert world.app.cogs.post_if_due(world.company_id, order.id or 0) is None  # never both
    assert _entries(world, order) == posted
    assert [world.app.jobs.sweep() for _ in range(2)] == [0, 0]
