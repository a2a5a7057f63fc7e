"""The rules of partial invoicing (domain/order_invoices.py): what may be invoiced next, what each invoice carries,
its DocNumber, and the SO's status."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from invoicebridge.domain import (
    InvalidTransition,
    InvoiceLink,
    InvoiceScope,
    InvoiceState,
    InvoiceStatus,
    OrderInvoices,
    RowInput,
    SalesOrder,
    ValidationError,
    new_sales_order,
)
from invoicebridge.domain.order_invoices import MAX_DELIVERIES_PER_REQUEST, doc_number, status_without_rows

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


def order(number: str = "SO-1001") -> SalesOrder:
    """Two rows (3 × 10.00 and 1 × 5.50), stored: rows 11 and 12."""
    rows = [RowInput(1, "3", "10.00", None, "4.00"), RowInput(2, "1", "5.50", None, "2.00")]
    made = new_sales_order(1, number, 1, None, None, T0, None, "USD", rows)
    stored_rows = tuple(replace(row, id=11 + i) for i, row in enumerate(made.rows))
    return replace(made, id=7, rows=stored_rows)


def deliver(so: SalesOrder, *quantities: dict[int, str]) -> SalesOrder:
    """Record deliveries and give them ids 101, 102, … as the store would."""
    for i, quantity in enumerate(quantities):
        so = so.record_delivery(quantity, T0 + timedelta(days=i + 1))
        so = replace(so, deliveries=(*so.deliveries[:-1], replace(so.deliveries[-1], id=101 + len(so.deliveries) - 1)))
    return so


def invoiced(link: InvoiceLink, qbo_id: str = "145") -> InvoiceLink:
    return link.start(f"r{link.number}", T0).succeed(qbo_id, None, "0", T0)


def test_nothing_invoiced_reads_not_invoiced_and_the_next_invoice_is_number_one() -> None:
    invoices = OrderInvoices(order())
    assert (invoices.status, invoices.status_text, invoices.invoiced_amount) == (
        InvoiceStatus.NOT_INVOICED, "Not invoiced", Decimal(0),
    )  # fmt: skip
    assert (invoices.current.number, invoices.current.state, invoices.scope) == (1, InvoiceState.NOT_INVOICED, None)


def test_invoice_all_covers_every_row_at_its_ordered_quantity() -> None:
    so = deliver(order(), {11: "1"})
    whole = OrderInvoices(so).plan_whole()
    assert (whole.scope, whole.number, whole.slot, whole.delivery_ids) == (InvoiceScope.WHOLE, 1, 1, ())
    invoices = OrderInvoices(so, (invoiced(whole),))
    assert invoices.part(whole) == so  # undelivered quantities too: the seed's rule
    assert (invoices.status, invoices.invoiced_amount, invoices.open_deliveries()) == (
        InvoiceStatus.INVOICED, Decimal("35.50"), (),
    )  # fmt: skip


def test_a_partial_invoice_carries_only_the_delivered_quantities_of_the_rows_it_touches() -> None:
    so = deliver(order(), {11: "1"}, {11: "1", 12: "1"})
    (link,) = OrderInvoices(so).plan_deliveries([101], combine=True)
    part = OrderInvoices(so, (link,)).part(link)
    assert [(row.id, row.quantity, row.unit_price) for row in part.rows] == [(11, Decimal(1), Decimal("10.0000"))]
    (both,) = OrderInvoices(so).plan_deliveries([101, 102], combine=True)
    summed = OrderInvoices(so, (both,)).part(both)
    assert [(row.id, row.quantity) for row in summed.rows] == [(11, Decimal(2)), (12, Decimal(1))]
    assert (summed.number, summed.created_at, summed.currency) == (so.number, so.created_at, so.currency)


def test_separate_invoices_get_consecutive_numbers_and_the_lowest_free_slots() -> None:
    so = deliver(order(), {11: "1"}, {11: "1"}, {11: "1"})
    links = OrderInvoices(so).plan_deliveries(None, combine=False)
    assert [(link.number, link.slot, link.delivery_ids) for link in links] == [
        (1, 1, (101,)), (2, 2, (102,)), (3, 3, (103,)),
    ]  # fmt: skip
    invoices = OrderInvoices(so, tuple(links))
    assert [invoices.doc_number(link) for link in links] == ["SO-1001", "SO-1001-2", "SO-1001-3"]


def test_partly_invoiced_says_how_much_and_invoiced_once_everything_is() -> None:
    so = deliver(order(), {11: "2"}, {11: "1", 12: "1"})
    first, second = OrderInvoices(so).plan_deliveries(None, combine=False)
    partly = OrderInvoices(so, (invoiced(first), second))
    assert partly.status is InvoiceStatus.PARTLY_INVOICED
    assert partly.status_text == "Partly invoiced (0 of 2 rows, 20.00 of 35.50 USD)"
    assert partly.invoiced_amount == Decimal("20.00")
    done = OrderInvoices(so, (invoiced(first), invoiced(second, "146")))
    assert (done.status, done.rows_invoiced, done.status_text) == (InvoiceStatus.INVOICED, 2, "Invoice created (QBO)")


def test_an_invoice_not_made_yet_counts_for_nothing_but_holds_its_deliveries() -> None:
    so = deliver(order(), {11: "1"})
    (link,) = OrderInvoices(so).plan_deliveries([101], combine=True)
    failed = link.start("r1", T0).fail("6140", "Invoice number SO-1001 is already used", "", T0)
    invoices = OrderInvoices(so, (failed,))
    assert invoices.status is InvoiceStatus.NOT_INVOICED
    assert invoices.open_deliveries() == ()
    with pytest.raises(ValidationError, match="Delivery 1 is already invoiced \\(invoice 1, Invoice failed\\)"):
        invoices.plan_deliveries([101], combine=True)


def test_invoice_all_is_refused_once_any_part_is_on_an_invoice() -> None:
    so = deliver(order(), {11: "1"})
    (link,) = OrderInvoices(so).plan_deliveries(None, combine=True)
    with pytest.raises(InvalidTransition, match="can no longer be invoiced as a whole"):
        OrderInvoices(so, (link,)).plan_whole()


def test_a_partial_invoice_is_refused_while_the_whole_so_is_on_an_invoice() -> None:
    so = deliver(order(), {11: "1"})
    whole = OrderInvoices(so).plan_whole()
    with pytest.raises(InvalidTransition, match="invoiced as a whole"):
        OrderInvoices(so, (whole,)).plan_deliveries(None, combine=True)
    with pytest.raises(InvalidTransition, match="already has an invoice"):
        OrderInvoices(so, (whole,)).plan_whole()


def test_what_has_not_shipped_cannot_be_invoiced_partly() -> None:
    with pytest.raises(InvalidTransition, match="Nothing of SO-1001 is delivered yet"):
        OrderInvoices(order()).plan_deliveries(None, combine=True)
    so = deliver(order(), {11: "1"})
    (link,) = OrderInvoices(so).plan_deliveries(None, combine=True)
    with pytest.raises(InvalidTransition, match="Every delivery of SO-1001 is already invoiced"):
        OrderInvoices(so, (link,)).plan_deliveries(None, combine=True)


@pytest.mark.parametrize(
    ("chosen", "message"),
    [
        ([], "Choose at least one delivery"),
        ([999], "SO-1001 has no delivery 999"),
        ([101, 999], "SO-1001 has no delivery 999"),
        (list(range(1, MAX_DELIVERIES_PER_REQUEST + 2)), f"at most {MAX_DELIVERIES_PER_REQUEST} deliveries"),
    ],
)
def test_unknown_or_missing_deliveries_are_refused_with_the_reason(chosen: list[int], message: str) -> None:
    so = deliver(order(), {11: "1"})
    with pytest.raises(ValidationError, match=message):
        OrderInvoices(so).plan_deliveries(chosen, combine=True)


def test_a_delivery_named_twice_is_invoiced_once() -> None:
    so = deliver(order(), {11: "1"})
    (link,) = OrderInvoices(so).plan_deliveries([101, 101], combine=True)
    assert link.delivery_ids == (101,)


def test_a_deleted_invoice_gives_its_deliveries_and_its_number_slot_back() -> None:
    so = deliver(order(), {11: "1"}, {11: "1"})
    first, second = OrderInvoices(so).plan_deliveries(None, combine=False)
    gone = invoiced(second, "146").invoice_deleted(T0)
    invoices = OrderInvoices(so, (invoiced(first), gone))
    assert [d.id for d in invoices.open_deliveries()] == [102]
    assert invoices.status is InvoiceStatus.PARTLY_INVOICED
    (again,) = invoices.plan_deliveries(None, combine=True)
    assert (again.number, again.slot, again.delivery_ids) == (3, 2, (102,))  # a new invoice, the freed -2
    assert invoices.invoice_of(102) is None and invoices.invoice_of(101) == invoiced(first)


def test_an_so_whose_whole_invoice_was_deleted_may_be_invoiced_either_way() -> None:
    so = deliver(order(), {11: "1"})
    whole = invoiced(OrderInvoices(so).plan_whole()).invoice_deleted(T0)
    invoices = OrderInvoices(so, (whole,))
    assert (invoices.status, invoices.scope, invoices.current.number) == (InvoiceStatus.NOT_INVOICED, None, 2)
    assert invoices.plan_whole().number == 2
    assert invoices.plan_deliveries(None, combine=True)[0].number == 2


@given(st.text(alphabet="SO-0123456789ABC", min_size=1, max_size=21), st.integers(min_value=1, max_value=10_000))
def test_doc_numbers_stay_within_qbo_s_21_characters_and_keep_their_suffix(number: str, slot: int) -> None:
    made = doc_number(number, slot)
    assert len(made) <= 21
    assert made == number if slot == 1 else made.endswith(f"-{slot}")


def test_a_long_so_number_is_shortened_from_its_end_to_make_room_for_the_suffix() -> None:
    assert doc_number("SO-AAAAAAAAAAAAAAAAAA", 2) == "SO-AAAAAAAAAAAAAAAA-2"
    assert doc_number("SO-1001", 12) == "SO-1001-12"


def _whole_in(state: InvoiceState) -> list[InvoiceLink]:
    """The SO's whole invoice as it is in `state` (with a deleted earlier one before it)."""
    first = invoiced(OrderInvoices(order()).plan_whole(), "1").invoice_deleted(T0)
    second = OrderInvoices(order(), (first,)).plan_whole()
    moves = {
        InvoiceState.NOT_INVOICED: lambda link: link,
        InvoiceState.QUEUED: lambda link: link.queue(T0),
        InvoiceState.CREATING: lambda link: link.start("r2", T0),
        InvoiceState.FAILED: lambda link: link.start("r2", T0).fail("6140", "taken", "", T0),
        InvoiceState.INVOICED: invoiced,
        InvoiceState.DELETED: lambda link: invoiced(link).invoice_deleted(T0),
        InvoiceState.VOIDED: lambda link: invoiced(link).invoice_voided(T0),
    }
    return [first, moves[state](second)]


@pytest.mark.parametrize("state", list(InvoiceState))
def test_the_status_of_an_so_invoiced_whole_follows_from_its_invoices_alone(state: InvoiceState) -> None:
    links = _whole_in(state)
    invoices = OrderInvoices(order(), tuple(links))
    assert status_without_rows(links) == (invoices.scope, invoices.status)


def test_partial_invoices_need_the_rows_to_tell_the_status() -> None:
    so = deliver(order(), {11: "1"}, {12: "1"})
    (one, two) = OrderInvoices(so).plan_deliveries([101, 102], combine=False)
    assert status_without_rows([invoiced(one), two]) is None
