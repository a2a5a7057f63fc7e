"""Payment status back from QBO (opt-in per company): whether an SO's invoices are paid, from the `Balance` and
`TotalAmt` QBO reports for each of them.

The rule, for the SO's live invoices (those that exist in QBO, `invoiced`):

- no live invoice: no payment status (there is nothing to pay);
- **Paid** when every one of them is paid (its balance is zero — a zero-total invoice is paid, as QBO shows it);
- **Unpaid** when none of them has any payment (each balance equals its total);
- **Partly paid** otherwise: some money is in, some is still owed.

An invoice whose balance has not been read yet counts as one with no payment known: a new invoice is unpaid in
QBO, and the balances are read as soon as QBO reports a change (webhook or CDC poll; sync/payments.py).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

__all__ = ["PAYMENT_STATUS_TEXT", "InvoiceBalance", "PaymentStatus", "payment_status_of"]


class PaymentStatus(StrEnum):
    UNPAID = "unpaid"
    PARTLY_PAID = "partly_paid"
    PAID = "paid"

    @property
    def text(self) -> str:
        """What users see: Unpaid, Partly paid or Paid."""
        return PAYMENT_STATUS_TEXT[self]


PAYMENT_STATUS_TEXT = {
    PaymentStatus.UNPAID: "Unpaid",
    PaymentStatus.PARTLY_PAID: "Partly paid",
    PaymentStatus.PAID: "Paid",
}


@dataclass(frozen=True)
class InvoiceBalance:
    """What QBO last reported for one invoice: its total and what is still owed (`Balance`), and the SyncToken it
    had then (a later read must not be overwritten by an earlier one)."""

    total: Decimal
    balance: Decimal
    sync_token: str | None = None

    def __post_init__(self) -> None:
        for name in ("total", "balance"):
            value = getattr(self, name)
            if not isinstance(value, Decimal) or not value.is_finite():
                raise ValueError(f"{name} must be a finite Decimal, not {value!r}")

    @property
    def paid(self) -> bool:
        return self.balance <= 0

    @property
    def has_payment(self) -> bool:
        """Whether any money was applied to it (its balance is below its total)."""
        return self.balance < self.total


def payment_status_of(invoices: Iterable[InvoiceBalance | None]) -> PaymentStatus | None:
    """The SO's payment status from its live invoices' balances (None: not read yet); None without any."""
    balances = list(invoices)
    if not balances:
        return None
    if all(b is not None and b.paid for b in balances):
        return PaymentStatus.PAID
    if not any(b is not None and b.has_payment for b in balances):
        return PaymentStatus.UNPAID
    return PaymentStatus.PARTLY_PAID
