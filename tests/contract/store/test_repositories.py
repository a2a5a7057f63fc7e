"""Repository contract: the fake, SQLite and PostgreSQL behave the same."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from invoicebridge.domain import (
    Address,
    Conflict,
    DeliveryStatus,
    InvoiceState,
    NotFound,
    OrderFilter,
    PageRequest,
    RowInput,
    SalesOrder,
    new_company,
    new_customer,
    new_link,
    new_product,
    new_sales_order,
    new_tax_rate,
)
from invoicebridge.sync.ports import UnitOfWork

Factory = Callable[[], UnitOfWork]
T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


def seed(uow_factory: Factory) -> dict[str, int]:
    with uow_factory() as uow:
        company = uow.companies.add(new_company("Acme", "USD", "America/New_York"))
        other = uow.companies.add(new_company("Other", "EUR", "Europe/Berlin"))
        assert company.id and other.id
        address = Address("1 Main St", city="Springfield", country="US")
        customer = uow.customers.add(new_customer(company.id, "Ada", "ada@example.com", address, None, "USD"))
        product = uow.products.add(new_product(company.id, "SKU-1", "Widget", "10.00", "4.00"))
        rate = uow.tax_rates.add(new_tax_rate(company.id, "Sales tax", "8.25"))
        uow.commit()
    assert customer.id and product.id and rate.id
    return {"company": company.id, "other": other.id, "customer": customer.id, "product": product.id, "rate": rate.id}


def make_order(ids: dict[str, int], number: str, created: datetime = T0, qty: str = "2") -> SalesOrder:
    row = RowInput(ids["product"], qty, "10.00", ids["rate"], "4.00")
    return new_sales_order(ids["company"], number, ids["customer"], None, None, created, None, "USD", [row])


def test_added_customer_reads_back_with_its_addresses(uow_factory: Factory) -> None:
    ids = seed(uow_factory)
    with uow_factory() as uow:
        customer = uow.customers.get(ids["company"], ids["customer"])
    assert customer.display_name == "Ada"
    assert customer.billing_address.city == "Springfield"
    assert customer.shipping_address == Address()


def test_another_company_never_sees_the_first_companys_records(uow_factory: Factory) -> None:
    ids = seed(uow_factory)
    with uow_factory() as uow:
        uow.sales_orders.add(make_order(ids, "SO-1"))
        uow.commit()
    with uow_factory() as uow:
        with pytest.raises(NotFound):
            uow.customers.get(ids["other"], ids["customer"])
        assert uow.products.get_by_sku(ids["other"], "SKU-1") is None
        assert uow.sales_orders.get_by_number(ids["other"], "SO-1") is None
        assert uow.sales_orders.list(ids["other"], OrderFilter(), PageRequest()).items == ()


def test_duplicate_so_number_in_one_company_is_a_conflict(uow_factory: Factory) -> None:
    ids = seed(uow_factory)
    with uow_factory() as uow:
        uow.sales_orders.add(make_order(ids, "SO-1"))
        uow.commit()
    with uow_factory() as uow, pytest.raises(Conflict, match="SO-1"):
        uow.sales_orders.add(make_order(ids, "SO-1"))


def test_duplicate_sku_in_one_company_is_a_conflict_but_fine_in_another(uow_factory: Factory) -> None:
    ids = seed(uow_factory)
    with uow_factory() as uow:
        with pytest.raises(Conflict, match="SKU-1"):
            uow.products.add(new_product(ids["company"], "SKU-1", "Other widget", "1", "0"))
        uow.rollback()
        uow.products.add(new_product(ids["other"], "SKU-1", "Widget", "1", "0"))
        uow.commit()
    with uow_factory() as uow:
        assert uow.products.get_by_sku(ids["other"], "SKU-1") is not None


def test_amounts_round_trip_as_exact_decimals(uow_factory: Factory) -> None:
    ids = seed(uow_factory)
    with uow_factory() as uow:
        row = RowInput(ids["product"], "0.1", "0.2", None, "0.0001")
        order = new_sales_order(ids["company"], "SO-D", ids["customer"], None, None, T0, None, "USD", [row])
        stored = uow.sales_orders.add(order)
        uow.commit()
    with uow_factory() as uow:
        loaded = uow.sales_orders.get(ids["company"], stored.id or 0)
    assert loaded.rows[0].quantity == Decimal("0.1")
    assert loaded.rows[0].unit_cost == Decimal("0.0001")
    assert loaded.total == Decimal("0.02")
    assert isinstance(loaded.total, Decimal)


def test_times_round_trip_timezone_aware_and_equal(uow_factory: Factory) -> None:
    ids = seed(uow_factory)
    created = datetime(2026, 5, 1, 23, 30, tzinfo=timezone(timedelta(hours=-7)))
    with uow_factory() as uow:
        order = uow.sales_orders.add(make_order(ids, "SO-T", created))
        uow.commit()
    with uow_factory() as uow:
        loaded = uow.sales_orders.get(ids["company"], order.id or 0)
    assert loaded.created_at.tzinfo is not None
    assert loaded.created_at == created


def test_rows_and_deliveries_round_trip(uow_factory: Factory) -> None:
    ids = seed(uow_factory)
    with uow_factory() as uow:
        order = uow.sales_orders.add(make_order(ids, "SO-R", qty="3"))
        uow.commit()
    row_id = order.rows[0].id
    assert row_id is not None
    with uow_factory() as uow:
        uow.sales_orders.update(order.record_delivery({row_id: "1"}, T0))
        uow.commit()
    with uow_factory() as uow:
        loaded = uow.sales_orders.get(ids["company"], order.id or 0)
    assert loaded.rows[0].delivered_quantity == Decimal(1)
    assert loaded.delivery_status is DeliveryStatus.PARTIALLY_DELIVERED


def test_leaving_without_commit_discards_the_changes(uow_factory: Factory) -> None:
    ids = seed(uow_factory)
    with uow_factory() as uow:
        uow.sales_orders.add(make_order(ids, "SO-X"))
    with uow_factory() as uow:
        assert uow.sales_orders.get_by_number(ids["company"], "SO-X") is None


def test_keyset_pages_do_not_repeat_or_skip_while_rows_are_inserted(uow_factory: Factory) -> None:
    ids = seed(uow_factory)
    with uow_factory() as uow:
        for n in range(5):
            uow.sales_orders.add(make_order(ids, f"SO-{n}"))
        uow.commit()
    seen: list[str] = []
    after = None
    while True:
        with uow_factory() as uow:
            page = uow.sales_orders.list(ids["company"], OrderFilter(), PageRequest(limit=2, after=after))
            if len(seen) == 2:  # someone adds an order between page 1 and page 2
                uow.sales_orders.add(make_order(ids, "SO-new"))
                uow.commit()
        seen.extend(o.number for o in page.items)
        if page.next_after is None:
            break
        after = page.next_after
    assert seen == ["SO-0", "SO-1", "SO-2", "SO-3", "SO-4", "SO-new"]


def test_filters_by_delivery_status_customer_and_date_range(uow_factory: Factory) -> None:
    ids = seed(uow_factory)
    with uow_factory() as uow:
        early = uow.sales_orders.add(make_order(ids, "SO-E", T0))
        late = uow.sales_orders.add(make_order(ids, "SO-L", T0 + timedelta(days=10)))
        uow.sales_orders.update(late.record_delivery({late.rows[0].id or 0: "2"}, T0))
        uow.commit()

    def numbers(filters: OrderFilter) -> list[str]:
        with uow_factory() as uow:
            return [o.number for o in uow.sales_orders.list(ids["company"], filters, PageRequest()).items]

    assert numbers(OrderFilter(delivery_status=DeliveryStatus.DELIVERED)) == ["SO-L"]
    assert numbers(OrderFilter(delivery_status=DeliveryStatus.NOT_SHIPPED)) == ["SO-E"]
    assert numbers(OrderFilter(customer_id=ids["customer"])) == ["SO-E", "SO-L"]
    assert numbers(OrderFilter(customer_id=ids["customer"] + 999)) == []
    assert numbers(OrderFilter(created_from=T0 + timedelta(days=1))) == ["SO-L"]
    assert numbers(OrderFilter(created_to=T0 + timedelta(days=10))) == ["SO-E"]  # the end is exclusive
    assert early.id is not None


def test_invoice_links_filter_and_keep_their_history(uow_factory: Factory) -> None:
    ids = seed(uow_factory)
    with uow_factory() as uow:
        first = uow.sales_orders.add(make_order(ids, "SO-A"))
        uow.sales_orders.add(make_order(ids, "SO-B"))
        uow.commit()
    assert first.id is not None
    with uow_factory() as uow:
        link = uow.invoice_links.of_order(ids["company"], first.id).current
        assert (link.state, link.number) == (InvoiceState.NOT_INVOICED, 1)
        link = uow.invoice_links.add(ids["company"], link.start("ib-1", T0))
        link = link.succeed("145", "SO-A", "0", T0 + timedelta(seconds=1))
        uow.invoice_links.save(ids["company"], link)
        uow.commit()
    with uow_factory() as uow:
        loaded = uow.invoice_links.get(ids["company"], first.id, 1)
        invoiced = uow.sales_orders.list(
            ids["company"], OrderFilter(invoice_state=InvoiceState.INVOICED), PageRequest()
        )
        not_invoiced = uow.sales_orders.list(
            ids["company"], OrderFilter(invoice_state=InvoiceState.NOT_INVOICED), PageRequest()
        )
    assert loaded.qbo_invoice_id == "145"
    assert [e.state for e in loaded.history] == [InvoiceState.CREATING, InvoiceState.INVOICED]
    assert [o.number for o in invoiced.items] == ["SO-A"]
    assert [o.number for o in not_invoiced.items] == ["SO-B"]


def test_invoice_link_of_another_companys_order_cannot_be_added_or_saved(uow_factory: Factory) -> None:
    ids = seed(uow_factory)
    with uow_factory() as uow:
        order = uow.sales_orders.add(make_order(ids, "SO-A"))
        assert order.id
        link = uow.invoice_links.add(ids["company"], new_link(order.id))
        uow.commit()
    with uow_factory() as uow:
        with pytest.raises(NotFound):
            uow.invoice_links.add(ids["other"], new_link(order.id, number=2))
        with pytest.raises((NotFound, Conflict)):  # no such invoice in that company
            uow.invoice_links.save(ids["other"], link.start("ib-1", T0))
        with pytest.raises(NotFound):
            uow.invoice_links.lock_order(ids["other"], order.id)
        with pytest.raises(NotFound):
            uow.invoice_links.get(ids["other"], order.id, 1)


def test_delivery_deadline_round_trips_as_a_date(uow_factory: Factory) -> None:
    ids = seed(uow_factory)
    row = RowInput(ids["product"], "1", "1", None, "0")
    order = new_sales_order(ids["company"], "SO-DL", ids["customer"], None, None, T0, date(2026, 4, 1), "USD", [row])
    with uow_factory() as uow:
        stored = uow.sales_orders.add(order)
        uow.commit()
    with uow_factory() as uow:
        assert uow.sales_orders.get(ids["company"], stored.id or 0).delivery_deadline == date(2026, 4, 1)
