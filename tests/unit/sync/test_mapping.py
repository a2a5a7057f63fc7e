"""The SO → invoice mapping is a pure function; these properties hold for any valid SO."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from invoicebridge.domain import Address, OrderRow, SalesOrder
from invoicebridge.domain.connection import QboPreferences, TaxModel
from invoicebridge.sync.mapping import CENT, Refs, invoice_payload, marker, payload_total

ZONES = [ZoneInfo(z) for z in ("America/Los_Angeles", "Europe/London", "Australia/Sydney", "UTC")]
quantities = st.decimals(min_value=Decimal("0.001"), max_value=Decimal("10000"), places=3)
unit_prices = st.decimals(min_value=Decimal("0"), max_value=Decimal("100000"), places=4)
addresses = st.builds(Address, line1=st.sampled_from(["", "1 Main St"]), city=st.sampled_from(["", "Reno"]))


@st.composite
def orders(draw: st.DrawFn) -> SalesOrder:
    count = draw(st.integers(1, 12))
    rows = tuple(
        OrderRow(
            i + 1,
            draw(st.integers(1, 5)),
            draw(quantities),
            draw(unit_prices),
            draw(st.sampled_from([1, 2])),
            Decimal(0),
        )
        for i in range(count)
    )
    created = datetime(2026, 1, 1, tzinfo=UTC) + timedelta(minutes=draw(st.integers(0, 525_600)))
    deadline = draw(st.none() | st.dates(date(2026, 1, 1), date(2027, 12, 31)))
    number = draw(st.from_regex(r"SO-[0-9]{1,8}", fullmatch=True))
    currency = draw(st.sampled_from(["USD", "EUR", "GBP"]))
    return SalesOrder(1, 1, number, 1, draw(addresses), draw(addresses), created, deadline, currency, rows)


@st.composite
def preferences(draw: st.DrawFn) -> QboPreferences:
    return QboPreferences(draw(st.booleans()), draw(st.booleans()), "USD", draw(st.none() | st.just("3")),
                          draw(st.sampled_from(list(TaxModel))), "US", datetime(2026, 1, 1, tzinfo=UTC))  # fmt: skip


def refs_for(order: SalesOrder, prefs: QboPreferences) -> Refs:
    codes = {i: ("TAX" if prefs.tax_model is TaxModel.US else "7") for i in range(len(order.rows))}
    items = {row.variant_id: f"item-{row.variant_id}" for row in order.rows}
    return Refs("42", items, codes, "5" if prefs.tax_model is TaxModel.US else None, "3")


@settings(max_examples=300)
@given(orders(), preferences(), st.sampled_from(ZONES))
def test_totals_lines_memo_and_numbering(order: SalesOrder, prefs: QboPreferences, zone: ZoneInfo) -> None:
    body = invoice_payload(order, refs_for(order, prefs), prefs, zone, "ib-1-so-1-g1")
    lines = body["Line"]
    assert len(lines) == len(order.rows)  # every row becomes a line
    assert body["CustomerMemo"] == {"value": order.number}  # the memo always carries the SO number
    assert ("DocNumber" in body) is prefs.custom_txn_numbers
    assert body.get("DocNumber", order.number) == order.number
    for line, row in zip(lines, order.rows, strict=True):
        detail = line["SalesItemLineDetail"]
        assert (detail["Qty"], detail["UnitPrice"]) == (row.quantity, row.unit_price)
        assert line["Amount"] == (row.quantity * row.unit_price).quantize(CENT, ROUND_HALF_UP)  # cents
        assert isinstance(line["Amount"], Decimal)
    # The invoice's total equals the SO's, up to rounding each line to the cent.
    assert abs(payload_total(body) - order.total) <= Decimal("0.005") * len(order.rows)
    assert body["TxnDate"] == order.created_at.astimezone(zone).date().isoformat()
    assert ("CurrencyRef" in body) is prefs.multicurrency
    assert (body.get("GlobalTaxCalculation") == "TaxExcluded") is (prefs.tax_model is TaxModel.GLOBAL)
    assert body["PrivateNote"] == marker(order, "ib-1-so-1-g1")
