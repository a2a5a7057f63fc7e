"""Which sentence a refused reference (QBO 610 / 2500) gets: QBO's own detail names every kind of reference, so
only what follows it says an account was meant."""

from __future__ import annotations

from invoicebridge.qbo import errors as qbo
from invoicebridge.sync.explain import explain

GENERIC = (
    "Object Not Found : Something you're trying to use has been made inactive. Check the fields with accounts, "
    "customers, items, vendors or employees."
)


def test_qbos_generic_inactive_detail_is_not_taken_for_an_account() -> None:
    said = explain(qbo.ObjectNotFound("Object Not Found", code="610", detail=GENERIC), "SO-1")
    assert said.message.startswith("The customer or an item of this invoice was deleted or made inactive")
    assert said.code == "610"


def test_a_detail_naming_an_account_still_points_to_the_connection_settings() -> None:
    said = explain(qbo.ObjectNotFound("Object Not Found", code="610", detail=GENERIC + " (Account Id=79)"), "SO-1")
    assert "account chosen in the QuickBooks settings" in said.message


def test_an_invalid_customer_reference_points_to_the_customer_or_item() -> None:
    refused = qbo.InvalidReference("Invalid Reference Id", code="2500", detail="Invalid Reference Id : Customer 58")
    assert "customer or an item" in explain(refused, "SO-1").message
