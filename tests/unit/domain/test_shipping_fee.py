"""The shipping fee of an SO: validated with the SO (≥ 0, fits one QBO line, counted in the order's total), charged
once — on the whole-SO invoice, or on the first partial invoice — and on the next invoice planned when the one
carrying it is deleted (domain/order_invoices.py); and the line it becomes (sync/mapping.py)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from invoicebridge.domain import InvoiceLink, OrderInvoices, RowInput, SalesOrder, ValidationError, new_sales_order
from invoicebridge.domain.connection import QboPreferences, TaxModel
from invoicebridge.domain.money import MAX_LINE_AMOUNT
from invoicebridge.sync.mapping import SHIPPING_ITEM_ID, Refs, ShippingRefs, invoice_payload, payload_total

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
PREFS = QboPreferences(False, False, "USD", None, TaxModel.US, "US", T0, allow_shipping=True)


def order(fee: object = "12.50", rate: object = None, rows: list[RowInput] | None = None) -> SalesOrder:
    """Two rows (3 × 10.00 and 1 × 5.50) and the fee, stored: rows 11 and 12."""
    rows = rows or [RowInput(1, "3", "10.00", None, "4.00"), RowInput(2, "1", "5.50", None, "2.00")]
    made = new_sales_order(1, "SO-1", 1, None, None, T0, None, "USD", rows, fee, rate)
    return replace(made, id=7, rows=tuple(replace(row, id=11 + i) for i, row in enumerate(made.rows)))


def refused(fee: object, rate: object = None, rows: list[RowInput] | None = None) -> dict[str, str]:
    with pytest.raises(ValidationError) as caught:
        order(fee, rate, rows)
    return {p.field: p.message for p in caught.value.problems}


def invoiced(link: InvoiceLink, qbo_id: str = "145") -> InvoiceLink:
    return link.start(f"r{link.number}", T0).succeed(qbo_id, None, "0", T0)


def delivered(so: SalesOrder) -> SalesOrder:
    """Row 11 goes out in three deliveries of 1 (ids 101, 102, 103)."""
    for n in range(3):
        so = so.record_delivery({11: "1"}, T0 + timedelta(days=n + 1))
        so = replace(so, deliveries=(*so.deliveries[:-1], replace(so.deliveries[-1], id=101 + n)))
    return so


# -- validation -------------------------------------------------------------------------------------------------
def test_a_fee_and_its_tax_rate_are_kept_and_none_or_blank_is_no_fee() -> None:
    so = order("12.50", 3)
    assert (so.shipping_fee, so.shipping_tax_rate_id) == (Decimal("12.50"), 3)
    assert order("0").shipping_fee == Decimal(0)  # free shipping is still a fee of 0.00 on the invoice
    assert order(None).shipping_fee is None and order("  ").shipping_fee is None
    assert so.total == Decimal("35.50")  # the rows' total; the fee is charged apart


@pytest.mark.parametrize(
    ("fee", "words"),
    [("-1", "cannot be negative"), ("ten", "not a number"), ("1e3", "plain decimal"), (1.5, "not a float")],
)
def test_a_fee_that_is_not_an_amount_of_at_least_zero_is_refused(fee: object, words: str) -> None:
    assert words in refused(fee)["shipping_fee"]


def test_a_fee_over_one_qbo_line_or_pushing_the_total_over_is_refused() -> None:
    assert "at most" in refused(str(MAX_LINE_AMOUNT + 1))["shipping_fee"]
    rows = [RowInput(1, "1", str(MAX_LINE_AMOUNT - 10), None, "0")]
    problems = refused("20.00", rows=rows)
    assert set(problems) == {"total"} and "with its shipping fee" in problems["total"]
    assert order("10.00", rows=rows).shipping_fee == Decimal("10.00")  # exactly at the limit


def test_a_tax_rate_without_a_fee_and_a_bad_rate_id_are_refused() -> None:
    assert "needs a shipping fee" in refused(None, 3)["shipping_tax_rate_id"]
    assert "id of an existing record" in refused("5", "three")["shipping_tax_rate_id"]


# -- which invoice carries it -----------------------------------------------------------------------------------
def test_the_whole_so_invoice_carries_the_fee() -> None:
    so = order("12.50")
    whole = OrderInvoices(so).plan_whole()
    assert whole.carries_shipping and OrderInvoices(so, (whole,)).part(whole).shipping_fee == Decimal("12.50")
    assert not OrderInvoices(order(None)).plan_whole().carries_shipping


def test_the_first_partial_invoice_carries_the_fee_and_later_ones_do_not() -> None:
    so = delivered(order("12.50", 3))
    first, second = OrderInvoices(so).plan_deliveries([101, 102], combine=False)
    assert (first.carries_shipping, second.carries_shipping) == (True, False)
    invoices = OrderInvoices(so, (invoiced(first), invoiced(second, "146")))
    assert invoices.part(first).shipping_fee == Decimal("12.50") and invoices.part(first).shipping_tax_rate_id == 3
    assert invoices.part(second).shipping_fee is None and invoices.part(second).shipping_tax_rate_id is None
    [third] = invoices.plan_deliveries([103], combine=True)
    assert not third.carries_shipping


def test_deleting_the_invoice_that_carries_the_fee_gives_it_to_the_next_invoice_planned() -> None:
    so = delivered(order("12.50"))
    first, second = OrderInvoices(so).plan_deliveries([101, 102], combine=False)
    gone = invoiced(first).invoice_deleted(T0)
    [next_one] = OrderInvoices(so, (gone, invoiced(second, "146"))).plan_deliveries(None, combine=True)
    assert next_one.carries_shipping and next_one.delivery_ids == (101, 103)


@given(st.lists(st.sampled_from(["plan", "plan", "delete"]), min_size=1, max_size=12))
def test_the_fee_is_never_on_two_live_invoices_and_never_lost(steps: list[str]) -> None:
    """Any sequence of planning one delivery and deleting the oldest live invoice: at most one live invoice carries
    the fee, and once an invoice is planned, exactly one does (deleted with its invoice, the fee waits for the
    next one)."""
    so = replace(order("12.50"), rows=(replace(order().rows[0], quantity=Decimal(50)), order().rows[1]))
    links: tuple[InvoiceLink, ...] = ()
    for n, step in enumerate(steps):
        invoices = OrderInvoices(so, links)
        if step == "plan":
            so = so.record_delivery({11: "1"}, T0 + timedelta(hours=n + 1))
            so = replace(so, deliveries=(*so.deliveries[:-1], replace(so.deliveries[-1], id=200 + n)))
            [planned] = OrderInvoices(so, links).plan_deliveries([200 + n], combine=True)
            links = (*links, invoiced(planned, str(300 + n)))
        elif invoices.live:
            oldest = invoices.live[0]
            links = tuple(link.invoice_deleted(T0) if link is oldest else link for link in links)
        carrying = sum(link.carries_shipping for link in links if link.live)
        assert carrying == 1 if step == "plan" else carrying <= 1


# -- the line it becomes ----------------------------------------------------------------------------------------
def payload(so: SalesOrder, shipping: ShippingRefs | None) -> dict[str, Any]:
    refs = Refs("42", {1: "I1", 2: "I2"}, {0: "NON", 1: "NON"}, None, None, shipping)
    return invoice_payload(so, refs, PREFS, ZoneInfo("UTC"), "ib-1-so-7-g1")


def test_qbos_shipping_line_has_the_fee_and_its_tax_code_only() -> None:
    body = payload(order("12.505"), ShippingRefs(SHIPPING_ITEM_ID, "TAX"))
    line = body["Line"][-1]
    assert line == {
        "DetailType": "SalesItemLineDetail", "Amount": Decimal("12.51"),
        "SalesItemLineDetail": {"ItemRef": {"value": SHIPPING_ITEM_ID}, "TaxCodeRef": {"value": "TAX"}},
    }  # fmt: skip
    assert payload_total(body) == Decimal("35.50") + Decimal("12.51")


def test_the_shipping_item_line_is_one_unit_at_the_fee() -> None:
    line = payload(order("7.00"), ShippingRefs("88", "NON"))["Line"][-1]
    assert line["SalesItemLineDetail"] == {
        "ItemRef": {"value": "88"}, "TaxCodeRef": {"value": "NON"}, "Qty": Decimal(1), "UnitPrice": Decimal("7.00"),
    }  # fmt: skip
    assert (line["Amount"], line["Description"]) == (Decimal("7.00"), "Shipping")


def test_no_fee_no_shipping_line_and_a_fee_without_refs_is_a_bug_not_a_silent_loss() -> None:
    assert len(payload(order(None), None)["Line"]) == 2
    with pytest.raises(ValueError, match="shipping fee"):
        payload(order("1.00"), None)
