"""A return as a QBO CreditMemo body (sync/credit_memo.py): one line per returned row with the invoice's item,
price and tax code, the returned quantity, the return's date in the company's zone, the memo and marker, and a
DocNumber only with custom numbers — none when it would be too long."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st
from tests.unit.domain.test_order_invoices import order

from invoicebridge.domain.connection import QboPreferences, TaxModel
from invoicebridge.domain.returns import Return
from invoicebridge.qbo import errors as qbo
from invoicebridge.sync.credit_memo import CreditRefs, credit_memo_payload, explain_credit_memo
from invoicebridge.sync.mapping import payload_total

LA = ZoneInfo("America/Los_Angeles")
REFS = CreditRefs("58", {1: "5", 2: "6"}, {11: "TAX", 12: "NON"}, "3")
BACK = datetime(2026, 4, 10, 5, 0, tzinfo=UTC)  # 9 April in Los Angeles


def prefs(custom: bool = False, multicurrency: bool = False, model: TaxModel = TaxModel.US) -> QboPreferences:
    return QboPreferences(custom, multicurrency, "USD", None, model, "US", BACK)


def test_only_the_returned_rows_at_the_returned_quantities() -> None:
    so = order()  # rows 11 (3 × 10.00, product 1) and 12 (1 × 5.50, product 2)
    body = credit_memo_payload(so, Return(7, 1, BACK, {12: Decimal(1)}), REFS, prefs(), LA, "ib-1-so-7-r1")
    [line] = body["Line"]
    assert line["SalesItemLineDetail"] == {"ItemRef": {"value": "6"}, "Qty": Decimal(1), "UnitPrice": Decimal("5.50"),
                                           "TaxCodeRef": {"value": "NON"}}  # fmt: skip
    assert line["Amount"] == Decimal("5.50")
    assert body["CustomerRef"] == {"value": "58"}
    assert body["TxnDate"] == "2026-04-09"
    assert body["CustomerMemo"] == {"value": "Return of SO-1001"}
    assert body["PrivateNote"] == "invoicebridge return 1 of SO-1001 [ib-1-so-7-r1]"
    assert body["TxnTaxDetail"] == {"TxnTaxCodeRef": {"value": "3"}}
    assert "DocNumber" not in body and "CurrencyRef" not in body and "GlobalTaxCalculation" not in body


def test_numbers_currency_and_tax_exclusive_where_the_company_has_them() -> None:
    so = order()
    ret = Return(7, 2, BACK, {11: Decimal("1.5")})
    body = credit_memo_payload(so, ret, REFS, prefs(custom=True, multicurrency=True, model=TaxModel.GLOBAL), LA, "r")
    assert (body["DocNumber"], body["CurrencyRef"], body["GlobalTaxCalculation"]) == (
        "SO-1001-R2", {"value": "USD"}, "TaxExcluded"
    )  # fmt: skip
    assert body["Line"][0]["Amount"] == Decimal("15.00")
    long = order("SO-2026-000000000042")
    assert "DocNumber" not in credit_memo_payload(long, ret, REFS, prefs(custom=True), LA, "r")


@given(st.decimals(min_value=Decimal("0.0001"), max_value=3, places=4), st.decimals(min_value=0, max_value=1, places=4))
def test_the_credit_memo_comes_to_the_returned_quantities_at_the_invoice_prices(a: Decimal, b: Decimal) -> None:
    lines = {11: a} | ({12: b} if b > 0 else {})
    body = credit_memo_payload(order(), Return(7, 1, BACK, lines), REFS, prefs(), LA, "r")
    cents = Decimal("0.01")  # each line rounded half up to cents, as on the invoice
    expected = (a * Decimal("10.00")).quantize(cents, ROUND_HALF_UP) + (b * Decimal("5.50")).quantize(
        cents, ROUND_HALF_UP
    )
    assert payload_total(body) == expected
    assert len(body["Line"]) == len(lines)


@pytest.mark.parametrize(
    ("error", "sentence"),
    [
        (qbo.DuplicateDocNumber("Duplicate Document Number Error", code="6140", detail="DocNumber=SO-1001-R1"),
         "Credit memo number SO-1001-R1 is already used in QuickBooks."),
        (qbo.ServerError("Service unavailable", status=503),
         "QuickBooks did not answer properly and no credit memo was made: try again."),
        (qbo.ObjectNotFound("Object Not Found", code="610", detail="Something you're using … (Item Id=5)"),
         "An item of this return was deleted or made inactive in QuickBooks: make it active there, then retry."),
        (qbo.BusinessValidation("A business validation error has occurred", code="6000", detail="Amount too large"),
         "QuickBooks refused the credit memo: A business validation error has occurred"),
    ],
)  # fmt: skip
def test_failures_are_said_of_the_credit_memo(error: qbo.QboError, sentence: str) -> None:
    assert explain_credit_memo(error, "SO-1001-R1").message == sentence
