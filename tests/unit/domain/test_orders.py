"""Delivery status, totals and the invoice link state machine."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from invoicebridge.domain import (
    DeliveryStatus,
    InvalidTransition,
    InvoiceState,
    RowInput,
    SalesOrder,
    new_link,
    new_sales_order,
    request_id_for,
)

NOW = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


def two_row_order() -> SalesOrder:
    rows = [RowInput(1, "2", "10.00", None, "4"), RowInput(2, "1", "5.50", None, "1")]
    so = new_sales_order(1, "SO-1", 1, None, None, NOW, None, "USD", rows)
    return replace(so, id=1, rows=tuple(replace(r, id=10 + n) for n, r in enumerate(so.rows)))


def test_new_order_is_not_shipped() -> None:
    assert two_row_order().delivery_status is DeliveryStatus.NOT_SHIPPED


def test_some_rows_delivered_makes_the_order_partially_delivered() -> None:
    so = two_row_order().record_delivery({10: "1"}, NOW)
    assert so.delivery_status is DeliveryStatus.PARTIALLY_DELIVERED
    assert so.delivered_at is None


def test_every_row_delivered_in_full_makes_the_order_delivered_and_dates_it() -> None:
    so = two_row_order().record_delivery({10: "1"}, NOW).record_delivery({10: "1", 11: "1"}, NOW)
    assert so.delivery_status is DeliveryStatus.DELIVERED
    assert so.delivered_at == NOW


def test_total_is_sum_of_quantity_times_price() -> None:
    assert two_row_order().total == Decimal("25.50")


def test_link_goes_from_not_invoiced_through_creating_to_invoiced() -> None:
    link = new_link(1)
    assert link.status_text == "Not invoiced"
    link = link.start("ib-1-so-1-g1", NOW)
    assert link.status_text == "Creating invoice…"
    link = link.succeed("145", "SO-1", "0", NOW)
    assert (link.state, link.status_text, link.qbo_invoice_id) == (
        InvoiceState.INVOICED,
        "Invoice created (QBO)",
        "145",
    )
    assert [e.state for e in link.history] == [InvoiceState.CREATING, InvoiceState.INVOICED]


def test_failed_link_keeps_the_reason_and_can_be_retried() -> None:
    link = new_link(1).start("r", NOW).fail("6140", "Invoice number SO-1 is already used", "detail", NOW)
    assert (link.state, link.error_code, link.status_text) == (InvoiceState.FAILED, "6140", "Invoice failed")
    retried = link.start("r", NOW)
    assert retried.state is InvoiceState.CREATING
    assert retried.error_code is None
    assert retried.number == link.number


def test_deleting_the_invoice_in_qbo_ends_that_invoice_and_frees_its_part() -> None:
    link = new_link(1).start("r", NOW).succeed("145", None, "0", NOW).invoice_deleted(NOW)
    assert (link.state, link.live, link.number) == (InvoiceState.DELETED, False, 1)
    assert link.qbo_invoice_id == "145"
    assert "deleted" in link.history[-1].note


@pytest.mark.parametrize(
    ("prepare", "step"),
    [
        (lambda link: link, lambda link: link.succeed("1", None, "0", NOW)),
        (lambda link: link, lambda link: link.fail("1", "m", "d", NOW)),
        (lambda link: link, lambda link: link.invoice_deleted(NOW)),
        (lambda link: link.start("r", NOW), lambda link: link.start("r", NOW)),
        (lambda link: link.start("r", NOW), lambda link: link.invoice_deleted(NOW)),
        (lambda link: link.start("r", NOW).succeed("1", None, "0", NOW), lambda link: link.start("r", NOW)),
        (lambda link: link.start("r", NOW).succeed("1", None, "0", NOW), lambda link: link.fail("1", "m", "d", NOW)),
    ],
)
def test_illegal_transitions_are_refused(prepare: object, step: object) -> None:
    link = prepare(new_link(1))  # type: ignore[operator]
    with pytest.raises(InvalidTransition):
        step(link)  # type: ignore[operator]


def test_request_id_is_fixed_per_order_and_generation() -> None:
    assert request_id_for(3, 42, 1) == request_id_for(3, 42, 1)
    assert request_id_for(3, 42, 1) != request_id_for(3, 42, 2)
    assert len(request_id_for(10**9, 10**12, 10**4)) <= 50
