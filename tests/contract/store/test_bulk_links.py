"""Many invoices queued, claimed and recorded at once (a bulk action's batches; store/bulk_links.py on SQL): every
field and the whole history kept, optimistic locking all or nothing, a constraint's refusal adding nothing, and
the SO's stored status following — on SQLite and PostgreSQL (the in-memory fake has no bulk path: the batch
tests run on SQLite)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

import pytest
from tests.contract.store.conftest import _sql_factory
from tests.contract.store.test_invoice_parts import delivered_twice, partial
from tests.contract.store.test_repositories import make_order, seed

from invoicebridge.domain import (
    Conflict,
    InvoiceLink,
    InvoiceState,
    InvoiceStatus,
    OrderFilter,
    PageRequest,
    new_link,
)
from invoicebridge.sync.ports import UnitOfWork

Factory = Callable[[], UnitOfWork]
T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def uow_factory(request: pytest.FixtureRequest) -> Iterator[Factory]:
    yield from _sql_factory(request.getfixturevalue(f"{request.param}_url"))


def queued_orders(uow_factory: Factory, count: int) -> tuple[int, list[InvoiceLink]]:
    """`count` SOs, each with its whole-SO invoice queued in one bulk add."""
    ids = seed(uow_factory)
    with uow_factory() as uow:
        orders = [uow.sales_orders.add(make_order(ids, f"SO-B{n}")) for n in range(count)]
        uow.commit()
    with uow_factory() as uow:
        uow.invoice_links.lock_orders(ids["company"], [o.id or 0 for o in orders])
        links = uow.invoice_links.add_many(ids["company"], [new_link(o.id or 0).queue(T0) for o in orders])
        uow.commit()
    return ids["company"], links


def stored(uow_factory: Factory, company: int, links: list[InvoiceLink]) -> list[InvoiceLink]:
    with uow_factory() as uow:
        found = uow.invoice_links.of_orders(company, [link.sales_order_id for link in links])
    return [invoice for link in links for invoice in found[link.sales_order_id]]


def listed(uow_factory: Factory, company: int, status: InvoiceStatus) -> list[str]:
    with uow_factory() as uow:
        found = uow.sales_orders.list(company, OrderFilter(invoice_status=status), PageRequest())
    return sorted(o.number for o in found.items)


def test_invoices_claimed_and_recorded_in_bulk_read_back_field_for_field(uow_factory: Factory) -> None:
    company, queued = queued_orders(uow_factory, 3)
    assert stored(uow_factory, company, queued) == queued
    with uow_factory() as uow:
        claimed = uow.invoice_links.save_many(company, [q.start(f"req-{n}", T0) for n, q in enumerate(queued)])
        uow.commit()
    assert stored(uow_factory, company, queued) == claimed
    assert [(c.version, c.state, c.request_id) for c in claimed] == [
        (2, InvoiceState.CREATING, f"req-{n}") for n in range(3)
    ]
    later = T0 + timedelta(minutes=1)
    with uow_factory() as uow:
        uow.invoice_links.lock_orders(company, [c.sales_order_id for c in claimed])
        recorded = uow.invoice_links.save_many(company, [
            claimed[0].succeed("145", "SO-B0", "0", later),
            claimed[1].fail("6140", "Duplicate Document Number Error", "detail", later),
            claimed[2].succeed("146", None, "3", later),
        ])  # fmt: skip
        uow.commit()
    again = stored(uow_factory, company, queued)
    assert again == recorded
    assert [len(link.history) for link in again] == [3, 3, 3]  # queued, creating, then the outcome: none lost
    assert (again[1].error_code, again[1].error_message, again[1].request_id) == (
        "6140", "Duplicate Document Number Error", "req-1",
    )  # fmt: skip
    assert (again[2].qbo_invoice_id, again[2].doc_number, again[2].sync_token) == ("146", None, "3")
    assert listed(uow_factory, company, InvoiceStatus.INVOICED) == ["SO-B0", "SO-B2"]
    assert listed(uow_factory, company, InvoiceStatus.NOT_INVOICED) == ["SO-B1"]


def test_a_bulk_claim_saves_nothing_when_one_invoice_changed_since_it_was_read(uow_factory: Factory) -> None:
    company, queued = queued_orders(uow_factory, 2)
    with uow_factory() as uow:
        read = [link for so_links in uow.invoice_links.of_orders(company, [q.sales_order_id for q in queued]).values()
                for link in so_links]  # fmt: skip
    with uow_factory() as other:  # another worker claims the second one meanwhile
        other.invoice_links.save(company, read[1].start("theirs", T0))
        other.commit()
    with uow_factory() as uow, pytest.raises(Conflict):
        uow.invoice_links.save_many(company, [link.start(f"mine-{n}", T0) for n, link in enumerate(read)])
    first, second = stored(uow_factory, company, queued)
    assert (first.state, first.request_id, first.version) == (InvoiceState.QUEUED, None, 1)  # not half-claimed
    assert (second.state, second.request_id) == (InvoiceState.CREATING, "theirs")


def test_the_transaction_goes_on_after_a_bulk_save_is_refused(uow_factory: Factory) -> None:
    company, queued = queued_orders(uow_factory, 2)
    with uow_factory() as uow:
        read = [link for so_links in uow.invoice_links.of_orders(company, [q.sales_order_id for q in queued]).values()
                for link in so_links]  # fmt: skip
        with uow_factory() as other:
            other.invoice_links.save(company, read[1].start("theirs", T0))
            other.commit()
        with pytest.raises(Conflict):
            uow.invoice_links.save_many(company, [read[0].start("a", T0), read[1].start("b", T0)])
        uow.invoice_links.save_many(company, [read[0].start("a", T0)])  # the one still as read: claimed
        uow.commit()
    first, second = stored(uow_factory, company, queued)
    assert (first.state, first.request_id, first.version) == (InvoiceState.CREATING, "a", 2)
    assert (second.state, second.request_id) == (InvoiceState.CREATING, "theirs")


def test_invoices_added_in_bulk_add_none_when_one_covers_a_delivery_already_invoiced(uow_factory: Factory) -> None:
    ids, order = delivered_twice(uow_factory, "SO-D")
    first, second = (d.id or 0 for d in order.deliveries)
    with uow_factory() as uow:
        uow.invoice_links.add(ids["company"], partial(order, 1, first))
        uow.commit()
    with uow_factory() as uow:
        uow.invoice_links.lock_orders(ids["company"], [order.id or 0])
        with pytest.raises(Conflict):
            uow.invoice_links.add_many(ids["company"], [partial(order, 2, second), partial(order, 3, first, slot=3)])
        uow.commit()  # what the transaction did before stays; the refused call added nothing
    with uow_factory() as uow:
        invoices = uow.invoice_links.of_order(ids["company"], order.id or 0)
    assert [(link.number, link.delivery_ids) for link in invoices.links] == [(1, (first,))]
    assert [d.id for d in invoices.open_deliveries()] == [second]  # the refused call took no delivery
