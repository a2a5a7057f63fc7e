"""The QBO invoice a duplicate-number refusal (6140) names, read from its Detail (qbo/errors.py), and the sentence
the SO shows (sync/duplicates.py)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from invoicebridge.qbo.errors import DuplicateDocNumber, from_fault, taken_by
from invoicebridge.sync.duplicates import duplicate_sentence

INTUIT = (
    "Duplicate Document Number Error : You must specify a different number. This number has already been used. "
    "DocNumber=SO-1042 is assigned to TxnType=Invoice with TxnId=45823"
)


def fault(*details: str) -> dict[str, object]:
    errors = [{"Message": "Duplicate Document Number Error", "Detail": d, "code": "6140"} for d in details]
    return {"Fault": {"Error": errors, "type": "ValidationFault"}}


@pytest.mark.parametrize(
    ("detail", "found"),
    [
        (INTUIT, ("Invoice", "45823")),
        ("… is assigned to txntype = CreditMemo with txnid = 12", ("CreditMemo", "12")),
        (
            "QuickBooks error 6140 — Duplicate Document Number Error — " + INTUIT + " — field DocNumber",
            ("Invoice", "45823"),
        ),
        ("Duplicate Document Number Error : You must specify a different number.", None),
        ("TxnId=45823", None),  # no type: not the shape QBO writes
        ("", None),
    ],
)
def test_the_detail_names_the_transaction_holding_the_number(detail: str, found: tuple[str, str] | None) -> None:
    assert taken_by(detail) == found


def test_the_error_reads_it_from_whichever_entry_says() -> None:
    error = from_fault(400, fault("no id here", INTUIT), None)
    assert isinstance(error, DuplicateDocNumber)
    assert error.taken_by == ("Invoice", "45823")
    without = from_fault(400, fault("no id here"), None)
    assert isinstance(without, DuplicateDocNumber) and without.taken_by is None


@given(st.text(max_size=300))
def test_any_detail_is_read_without_failing(detail: str) -> None:
    found = taken_by(detail)
    assert found is None or (found[1].isalnum() and found[1] in detail)


def test_the_sentence_names_the_invoice_only_when_qbo_did() -> None:
    plain = "Invoice number SO-1042 is already used in QuickBooks."
    assert duplicate_sentence("SO-1042", None) == plain
    assert duplicate_sentence("SO-1042", ("Invoice", "45823")) == f"{plain} QuickBooks invoice 45823 has this number."
    assert (
        duplicate_sentence("SO-1042", ("CreditMemo", "12"))
        == f"{plain} A QuickBooks CreditMemo (id 12) has this number."
    )
