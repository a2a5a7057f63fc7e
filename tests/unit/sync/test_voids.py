"""How an invoice read from QBO is recognised as voided (sync/voids.py): QBO has no status field for it — the
invoice is zeroed and its PrivateNote starts with "Voided" (Intuit's Invoice reference, "Void an invoice")."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from invoicebridge.sync.voids import is_voided

OURS = "invoicebridge SO-1001 [ib-1-so-7-g1]"


def invoice(**fields: Any) -> dict[str, Any]:
    return {"Id": "145", "DocNumber": "SO-1001", "TotalAmt": Decimal("32.59"), "Balance": Decimal("32.59"),
            "PrivateNote": OURS, **fields}  # fmt: skip


@pytest.mark.parametrize(
    "voided",
    [
        invoice(TotalAmt=Decimal(0), Balance=Decimal(0), PrivateNote=f"Voided - {OURS}"),  # ours, voided
        invoice(TotalAmt=0, Balance=0, PrivateNote="Voided"),  # no note before: "Voided" alone
        {"Id": "145", "TotalAmt": "0.00", "PrivateNote": "Voided"},  # no Balance in the answer: TotalAmt decides
    ],
)
def test_a_zeroed_invoice_noted_voided_reads_as_voided(voided: dict[str, Any]) -> None:
    assert is_voided(voided)


@pytest.mark.parametrize(
    "live",
    [
        invoice(),  # an ordinary invoice
        invoice(TotalAmt=Decimal(0), Balance=Decimal(0)),  # a zero invoice that nobody voided
        invoice(PrivateNote=f"Voided - {OURS}"),  # a note saying so does not zero an invoice
        invoice(TotalAmt=Decimal(0), Balance=Decimal("5.00"), PrivateNote="Voided"),  # still owes money
        invoice(TotalAmt=Decimal(0), Balance=Decimal(0), PrivateNote="Not voided"),  # "Voided" must come first
        {"domain": "QBO", "status": "Deleted", "Id": "145", "PrivateNote": "Voided", "TotalAmt": 0},  # a tombstone
        invoice(TotalAmt=None, PrivateNote="Voided"),  # no amount: cannot tell
        invoice(TotalAmt=False, PrivateNote="Voided"),  # not an amount
        invoice(TotalAmt="n/a", PrivateNote="Voided"),
    ],
)
def test_anything_else_does_not(live: dict[str, Any]) -> None:
    assert not is_voided(live)
