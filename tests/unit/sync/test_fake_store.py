"""The in-memory store behaves like a database where the contract tests cannot show it: overlapping units of
work, sequences, commit and rollback."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.fakes import InMemoryUnitOfWork, in_memory_uow_factory

from invoicebridge.domain import (
    Conflict,
    OrderFilter,
    PageRequest,
    RowInput,
    SalesOrder,
    new_company,
    new_customer,
    new_link,
    new_product,
    new_sales_order,
)

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
Factory = Callable[[], InMemoryUnitOfWork]


@pytest.fixture
def factory() -> Factory:
    return in_memory_uow_factory()


@pytest.fixture
def company(factory: Factory) -> int:
    with factory() as uow:
        company = uow.companies.add(new_company("Acme", "USD", "UTC"))
        uow.commit()
    assert company.id
    return company.id


def so(company: int, number: str) -> SalesOrder:
    return new_sales_order(company, number, 1, None, None, T0, None, "USD", [RowInput(1, "1", "1", None, "0")])


def numbers(factory: Factory, company: int) -> list[str]:
    with factory() as uow:
        return [o.number for o in uow.sales_orders.list(company, OrderFilter(), PageRequest(limit=500)).items]


def test_rollback_discards_only_what_was_written_since_the_last_commit(factory: Factory, company: int) -> None:
    with factory() as uow:
        uow.sales_orders.add(so(company, "SO-1"))
        uow.commit()
        uow.sales_orders.add(so(company, "SO-2"))
        uow.rollback()
        assert uow.sales_orders.get_by_number(company, "SO-2") is None
        uow.sales_orders.add(so(company, "SO-3"))
        uow.commit()
    assert numbers(factory, company) == ["SO-1", "SO-3"]


def test_leaving_the_block_with_an_error_discards_uncommitted_writes(factory: Factory, company: int) -> None:
    def add_then_fail() -> None:
        with factory() as uow:
            uow.sales_orders.add(so(company, "SO-1"))
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        add_then_fail()
    assert numbers(factory, company) == []


def test_two_overlapping_units_of_work_both_keep_their_changes(factory: Factory, company: int) -> None:
    with factory() as first, factory() as second:
        first.sales_orders.add(so(company, "SO-A"))
        second.products.add(new_product(company, "SKU-B", "B", "1", "0"))
        second.commit()
        first.commit()
    assert numbers(factory, company) == ["SO-A"]
    with factory() as uow:
        assert uow.products.get_by_sku(company, "SKU-B") is not None


def test_overlapping_units_of_work_never_hand_out_the_same_id(factory: Factory, company: int) -> None:
    with factory() as first, factory() as second:
        a = first.customers.add(new_customer(company, "A", None, None, None, "USD"))
        b = second.customers.add(new_customer(company, "B", None, None, None, "USD"))
        first.commit()
        second.commit()
    assert a.id != b.id
    with factory() as uow:
        assert [c.display_name for c in uow.customers.list(company, PageRequest()).items] == ["A", "B"]


def test_an_id_is_not_handed_out_again_after_a_rollback(factory: Factory, company: int) -> None:
    with factory() as uow:
        dropped = uow.sales_orders.add(so(company, "SO-1"))
        uow.rollback()
        kept = uow.sales_orders.add(so(company, "SO-1"))
        uow.commit()
    assert kept.id != dropped.id


def test_the_same_so_number_committed_by_another_unit_first_is_a_conflict(factory: Factory, company: int) -> None:
    with factory() as first, factory() as second:
        first.sales_orders.add(so(company, "SO-1"))
        first.commit()
        with pytest.raises(Conflict, match="SO-1"):
            second.sales_orders.add(so(company, "SO-1"))


def test_the_same_sku_committed_by_another_unit_in_between_fails_the_commit(factory: Factory, company: int) -> None:
    with factory() as first, factory() as second:
        first.products.add(new_product(company, "SKU-1", "One", "1", "0"))
        second.products.add(new_product(company, "SKU-1", "Also one", "1", "0"))
        first.commit()
        with pytest.raises(Conflict, match="SKU-1"):
            second.commit()
    with factory() as uow:
        assert [p.name for p in uow.products.list(company, PageRequest()).items] == ["One"]


def test_two_first_links_for_one_order_conflict_like_the_unique_constraint(factory: Factory, company: int) -> None:
    with factory() as uow:
        order = uow.sales_orders.add(so(company, "SO-1"))
        uow.commit()
    assert order.id
    with factory() as first, factory() as second:
        first.invoice_links.add(company, new_link(order.id).start("r1", T0))
        second.invoice_links.add(company, new_link(order.id).start("r2", T0))
        first.commit()
        with pytest.raises(Conflict, match="being invoiced already"):
            second.commit()
    with factory() as uow:
        assert uow.invoice_links.get(company, order.id, 1).request_id == "r1"


def test_two_claims_of_one_link_conflict_like_the_versioned_row(factory: Factory, company: int) -> None:
    with factory() as uow:
        order = uow.sales_orders.add(so(company, "SO-2"))
        assert order.id
        uow.invoice_links.add(company, new_link(order.id))
        uow.commit()
    with factory() as first, factory() as second:
        first.invoice_links.save(company, first.invoice_links.get(company, order.id, 1).start("r1", T0))
        second.invoice_links.save(company, second.invoice_links.get(company, order.id, 1).start("r2", T0))
        first.commit()
        with pytest.raises(Conflict, match="same time"):
            second.commit()
    with factory() as uow:
        assert uow.invoice_links.get(company, order.id, 1).request_id == "r1"


def test_an_added_order_gets_new_row_ids_and_an_update_keeps_its_own(factory: Factory, company: int) -> None:
    with factory() as uow:
        first = uow.sales_orders.add(so(company, "SO-1"))
        copied = uow.sales_orders.add(SalesOrder(**{**first.__dict__, "number": "SO-2"}))
        assert copied.rows[0].id != first.rows[0].id
        updated = uow.sales_orders.update(first.record_delivery({first.rows[0].id or 0: "1"}, T0))
        uow.commit()
    assert updated.rows[0].id == first.rows[0].id


@settings(max_examples=30, deadline=None)
@given(st.integers(min_value=0, max_value=12), st.integers(min_value=1, max_value=5))
def test_paging_through_every_page_lists_each_order_once_in_id_order(count: int, limit: int) -> None:
    factory = in_memory_uow_factory()
    with factory() as uow:
        company = uow.companies.add(new_company("Acme", "USD", "UTC")).id or 0
        added = [uow.sales_orders.add(so(company, f"SO-{n}")).id for n in range(count)]
        uow.commit()
    seen: list[int | None] = []
    after = None
    while True:
        with factory() as uow:
            page = uow.sales_orders.list(company, OrderFilter(), PageRequest(limit=limit, after=after))
        assert len(page.items) <= limit
        seen.extend(o.id for o in page.items)
        if page.next_after is None:
            break
        after = page.next_after
    assert seen == added
