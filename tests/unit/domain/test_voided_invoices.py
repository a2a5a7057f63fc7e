"""Invoices voided in QBO (domain/order_invoices.py): a voided invoice gives its part of the SO back but keeps its
link and its DocNumber slot; the SO reads `Invoice voided (QBO)` while nothing live follows it."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from invoicebridge.domain import (
    InvoiceLink,
    InvoiceScope,
    InvoiceState,
    InvoiceStatus,
    OrderInvoices,
    RowInput,
    SalesOrder,
    new_sales_order,
)
from invoicebridge.domain.order_invoices import status_without_rows

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


def order() -> SalesOrder:
    """SO-1001: 3 × 10.00 (row 11) and 1 × 5.50 (row 12), delivered in two deliveries (ids 101 and 102)."""
    rows = [RowInput(1, "3", "10.00", None, "4.00"), RowInput(2, "1", "5.50", None, "2.00")]
    made = new_sales_order(1, "SO-1001", 1, None, None, T0, None, "USD", rows)
    so = replace(made, id=7, rows=tuple(replace(row, id=11 + i) for i, row in enumerate(made.rows)))
    for i, quantities in enumerate(({11: "3"}, {12: "1"})):
        so = so.record_delivery(quantities, T0 + timedelta(days=i + 1))
        so = replace(so, deliveries=(*so.deliveries[:-1], replace(so.deliveries[-1], id=101 + i)))
    return so


def invoiced(link: InvoiceLink, qbo_id: str) -> InvoiceLink:
    return link.start(f"r{link.number}", T0).succeed(qbo_id, None, "0", T0)


def voided_whole() -> OrderInvoices:
    first = invoiced(OrderInvoices(order()).plan_whole(), "145").invoice_voided(T0)
    return OrderInvoices(order(), (first,))


def test_an_so_whose_invoice_was_voided_reads_voided_and_shows_that_invoice_with_its_link() -> None:
    invoices = voided_whole()
    assert (invoices.status, invoices.status_text) == (InvoiceStatus.VOIDED, "Invoice voided (QBO)")
    assert (invoices.current.state, invoices.current.qbo_invoice_id) == (InvoiceState.VOIDED, "145")
    assert (invoices.invoiced_amount, invoices.scope, invoices.live) == (Decimal(0), None, ())
    assert status_without_rows(invoices.links) == (None, InvoiceStatus.VOIDED)  # what the store writes for lists


def test_invoicing_a_voided_so_again_is_a_new_invoice_with_the_next_number_and_the_next_doc_number() -> None:
    invoices = voided_whole()
    again = invoices.plan_whole()
    assert (again.number, again.slot, again.scope, again.state) == (2, 2, InvoiceScope.WHOLE, InvoiceState.NOT_INVOICED)
    assert invoices.doc_number(again) == "SO-1001-2"  # "SO-1001" stays on the voided invoice in QBO


def test_once_invoiced_again_the_so_reads_invoiced_and_shows_the_new_invoice() -> None:
    invoices = voided_whole()
    again = invoiced(invoices.plan_whole(), "146")
    now = OrderInvoices(order(), (*invoices.links, again))
    assert (now.status, now.status_text, now.current.qbo_invoice_id) == (
        InvoiceStatus.INVOICED, "Invoice created (QBO)", "146",
    )  # fmt: skip
    assert now.invoiced_amount == Decimal("35.50")


def test_while_the_new_invoice_is_not_made_yet_the_so_shows_that_one_not_the_voided_one() -> None:
    invoices = voided_whole()
    failed = invoices.plan_whole().start("r2", T0).fail("6140", "Invoice number SO-1001-2 is already used", "", T0)
    now = OrderInvoices(order(), (*invoices.links, failed))
    assert (now.status, now.current.state, now.current.number) == (InvoiceStatus.NOT_INVOICED, InvoiceState.FAILED, 2)


def test_a_voided_invoice_deleted_afterwards_frees_its_number_and_the_so_reads_not_invoiced() -> None:
    invoices = voided_whole()
    gone = OrderInvoices(order(), (invoices.links[0].invoice_deleted(T0),))
    assert (gone.status, gone.status_text) == (InvoiceStatus.NOT_INVOICED, "Not invoiced")
    assert gone.plan_whole().slot == 1


def test_a_voided_invoice_followed_by_a_deleted_one_no_longer_decides_the_status() -> None:
    invoices = voided_whole()
    deleted = invoiced(invoices.plan_whole(), "146").invoice_deleted(T0)
    now = OrderInvoices(order(), (*invoices.links, deleted))
    assert now.status is InvoiceStatus.NOT_INVOICED
    assert status_without_rows(now.links) == (None, InvoiceStatus.NOT_INVOICED)


def _one_each() -> tuple[InvoiceLink, InvoiceLink]:
    first, second = OrderInvoices(order()).plan_deliveries([101, 102], combine=False)
    return invoiced(first, "145"), invoiced(second, "146")


def test_voiding_one_delivery_s_invoice_opens_only_that_delivery() -> None:
    first, second = _one_each()
    invoices = OrderInvoices(order(), (first, second.invoice_voided(T0)))
    assert [d.id for d in invoices.open_deliveries()] == [102]
    assert invoices.status is InvoiceStatus.PARTLY_INVOICED
    assert invoices.status_text == "Partly invoiced (1 of 2 rows, 30.00 of 35.50 USD)"
    assert invoices.invoice_of(101) == first and invoices.invoice_of(102) is None
    (again,) = invoices.plan_deliveries([102], combine=True)
    assert (again.number, again.slot, invoices.doc_number(again)) == (3, 3, "SO-1001-3")  # 1 live, 2 voided


def test_voiding_the_first_delivery_s_invoice_keeps_its_slot_taken() -> None:
    first, second = _one_each()
    invoices = OrderInvoices(order(), (first.invoice_voided(T0), second))
    (again,) = invoices.plan_deliveries(None, combine=True)
    assert (again.delivery_ids, again.slot) == ((101,), 3)


def test_when_every_partial_invoice_was_voided_the_so_reads_voided() -> None:
    first, second = _one_each()
    invoices = OrderInvoices(order(), (first.invoice_voided(T0), second.invoice_voided(T0)))
    assert (invoices.status, invoices.scope, invoices.current.qbo_invoice_id) == (InvoiceStatus.VOIDED, None, "146")
    assert [d.id for d in invoices.open_deliveries()] == [101, 102]
    assert invoices.plan_whole().slot == 3  # it may even be invoiced whole now, as a new invoice
