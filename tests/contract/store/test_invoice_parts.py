"""Partial invoicing in the store: the constraints that keep a delivery (and a DocNumber slot) on one live invoice,
the SO's stored invoice status, and deliveries round-tripping — the fake, SQLite and PostgreSQL alike."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from tests.contract.store.test_repositories import make_order, seed

from invoicebridge.domain import (
    Conflict,
    InvoiceLink,
    InvoiceScope,
    InvoiceState,
    InvoiceStatus,
    OrderFilter,
    PageRequest,
    SalesOrder,
    new_link,
)
from invoicebridge.sync.ports import UnitOfWork

Factory = Callable[[], UnitOfWork]
T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


def delivered_twice(uow_factory: Factory, number: str = "SO-P") -> tuple[dict[str, int], SalesOrder]:
    """An SO of 3 with two deliveries (1, then 2), stored."""
    ids = seed(uow_factory)
    with uow_factory() as uow:
        order = uow.sales_orders.add(make_order(ids, number, qty="3"))
        uow.commit()
    row = order.rows[0].id or 0
    for quantity, at in (("1", T0), ("2", T0 + timedelta(days=1))):
        with uow_factory() as uow:
            current = uow.sales_orders.get(ids["company"], order.id or 0)
            uow.sales_orders.update(current.record_delivery({row: quantity}, at))
            uow.commit()
    with uow_factory() as uow:
        return ids, uow.sales_orders.get(ids["company"], order.id or 0)


def partial(order: SalesOrder, number: int, *deliveries: int, slot: int | None = None) -> InvoiceLink:
    return new_link(order.id or 0, number, InvoiceScope.DELIVERIES, deliveries, slot or number)


def add_and_commit(uow: UnitOfWork, company_id: int, link: InvoiceLink) -> None:
    """SQL refuses at the insert, the fake at the latest on commit: either way, Conflict."""
    uow.invoice_links.add(company_id, link)
    uow.commit()


def test_deliveries_round_trip_numbered_with_their_quantities_and_times(uow_factory: Factory) -> None:
    _, order = delivered_twice(uow_factory)
    assert [(d.number, d.delivered_at) for d in order.deliveries] == [(1, T0), (2, T0 + timedelta(days=1))]
    row = order.rows[0].id
    assert [dict(d.quantities) for d in order.deliveries] == [{row: Decimal(1)}, {row: Decimal(2)}]
    assert all(d.id for d in order.deliveries)
    assert order.rows[0].delivered_quantity == Decimal(3)


def test_a_delivery_is_on_one_live_invoice_only(uow_factory: Factory) -> None:
    ids, order = delivered_twice(uow_factory)
    first, second = (d.id or 0 for d in order.deliveries)
    with uow_factory() as uow:
        uow.invoice_links.add(ids["company"], partial(order, 1, first))
        uow.commit()
    with uow_factory() as uow, pytest.raises(Conflict):
        add_and_commit(uow, ids["company"], partial(order, 2, first, second, slot=2))


def test_two_concurrent_invoices_of_one_delivery_one_commits(uow_factory: Factory) -> None:
    ids, order = delivered_twice(uow_factory)
    first = order.deliveries[0].id or 0
    with uow_factory() as one, uow_factory() as two:
        one.invoice_links.add(ids["company"], partial(order, 1, first))
        one.commit()
        with pytest.raises(Conflict):
            add_and_commit(two, ids["company"], partial(order, 2, first, slot=2))
    with uow_factory() as uow:
        assert [link.number for link in uow.invoice_links.of_order(ids["company"], order.id or 0).links] == [1]


def test_a_docnumber_slot_has_one_live_invoice_and_a_deleted_one_frees_it(uow_factory: Factory) -> None:
    ids, order = delivered_twice(uow_factory)
    first, second = (d.id or 0 for d in order.deliveries)
    with uow_factory() as uow:
        link = uow.invoice_links.add(ids["company"], partial(order, 1, first))
        uow.commit()
    with uow_factory() as uow, pytest.raises(Conflict):
        add_and_commit(uow, ids["company"], partial(order, 2, second, slot=1))
    with uow_factory() as uow:
        made = uow.invoice_links.save(ids["company"], link.start("r1", T0))
        made = uow.invoice_links.save(ids["company"], made.succeed("145", "SO-P", "0", T0))
        uow.invoice_links.save(ids["company"], made.invoice_deleted(T0))
        uow.commit()
    with uow_factory() as uow:  # slot 1 and delivery 1 are free again
        uow.invoice_links.add(ids["company"], partial(order, 2, first, second, slot=1))
        uow.commit()
    with uow_factory() as uow:
        invoices = uow.invoice_links.of_order(ids["company"], order.id or 0)
    assert [(link.number, link.state, link.delivery_ids) for link in invoices.links] == [
        (1, InvoiceState.DELETED, (first,)),
        (2, InvoiceState.NOT_INVOICED, (first, second)),
    ]


def test_the_stored_invoice_status_follows_the_invoices_and_lists_filter_on_it(uow_factory: Factory) -> None:
    ids, order = delivered_twice(uow_factory)
    first, second = (d.id or 0 for d in order.deliveries)
    company = ids["company"]

    def listed(status: InvoiceStatus) -> list[str]:
        with uow_factory() as uow:
            found = uow.sales_orders.list(company, OrderFilter(invoice_status=status), PageRequest())
        return [o.number for o in found.items]

    def invoice(number: int, delivery: int, qbo_id: str) -> None:
        with uow_factory() as uow:
            link = uow.invoice_links.add(company, partial(order, number, delivery).start(f"r{number}", T0))
            uow.invoice_links.save(company, link.succeed(qbo_id, None, "0", T0))
            uow.commit()

    assert listed(InvoiceStatus.NOT_INVOICED) == ["SO-P"]
    invoice(1, first, "145")
    assert listed(InvoiceStatus.PARTLY_INVOICED) == ["SO-P"]
    invoice(2, second, "146")
    assert listed(InvoiceStatus.INVOICED) == ["SO-P"]
    with uow_factory() as uow:
        deleted = uow.invoice_links.find_by_qbo_invoice(company, "146")
        assert deleted is not None and deleted.number == 2
        uow.invoice_links.save(company, deleted.invoice_deleted(T0))
        uow.commit()
    assert listed(InvoiceStatus.PARTLY_INVOICED) == ["SO-P"]
    with uow_factory() as uow:
        invoices = uow.invoice_links.of_order(company, order.id or 0)
        again = uow.invoice_links.find_by_qbo_invoice(company, "146")
    assert [d.id for d in invoices.open_deliveries()] == [second]
    assert again is not None and again.state is InvoiceState.DELETED  # a repeated notice finds it, still deleted


def test_many_orders_and_customer_names_in_one_read_scoped_by_company(uow_factory: Factory) -> None:
    ids = seed(uow_factory)
    with uow_factory() as uow:
        first = uow.sales_orders.add(make_order(ids, "SO-M1"))
        second = uow.sales_orders.add(make_order(ids, "SO-M2"))
        uow.commit()
    wanted = [second.id or 0, 999_999, first.id or 0, second.id or 0]
    with uow_factory() as uow:
        assert [o.number for o in uow.sales_orders.get_many(ids["company"], wanted)] == ["SO-M2", "SO-M1"]
        assert uow.sales_orders.get_many(ids["other"], wanted) == []
        assert uow.customers.names(ids["company"], [ids["customer"], 999_999]) == {ids["customer"]: "Ada"}
        assert uow.customers.names(ids["other"], [ids["customer"]]) == {}


def test_search_finds_a_piece_of_the_number_or_the_customers_name_in_any_case(uow_factory: Factory) -> None:
    ids = seed(uow_factory)
    with uow_factory() as uow:
        uow.sales_orders.add(make_order(ids, "SO-100_%"))
        uow.sales_orders.add(make_order(ids, "SO-2000"))
        uow.commit()

    def found(term: str) -> list[str]:
        with uow_factory() as uow:
            page = uow.sales_orders.list(ids["company"], OrderFilter(search=term), PageRequest())
        return [o.number for o in page.items]

    assert found("so-20") == ["SO-2000"]
    assert found("_%") == ["SO-100_%"]  # wildcards are searched for, not obeyed
    assert found("ADA") == ["SO-100_%", "SO-2000"]  # the customer's name
    assert found("nobody") == []
