"""Payment status from the balances QBO reports (domain/payments.py): one invoice by its balance; several — paid
when all are paid, unpaid when none has any payment, else partly paid; an invoice not read yet counts as unpaid."""

from __future__ import annotations

from decimal import Decimal
from random import Random

import pytest
from hypothesis import given
from hypothesis import strategies as st
from tests.strategies import invoice_balances, so_balances

from invoicebridge.domain.payments import InvoiceBalance, PaymentStatus, payment_status_of

PAID, PARTLY, UNPAID = PaymentStatus.PAID, PaymentStatus.PARTLY_PAID, PaymentStatus.UNPAID
RANK = {UNPAID: 0, PARTLY: 1, PAID: 2}


def inv(total: str, balance: str) -> InvoiceBalance:
    return InvoiceBalance(Decimal(total), Decimal(balance))


@pytest.mark.parametrize(
    ("invoices", "expected"),
    [
        ([], None),
        ([inv("100", "100")], UNPAID),
        ([inv("100", "40")], PARTLY),
        ([inv("100", "0")], PAID),
        ([inv("0", "0")], PAID),  # a zero invoice is paid, as QBO shows it
        ([None], UNPAID),  # a new invoice, not read yet
        ([inv("100", "0"), inv("50", "0")], PAID),
        ([inv("100", "0"), inv("50", "50")], PARTLY),  # one paid, one not: money in, money owed
        ([inv("100", "100"), inv("50", "50")], UNPAID),
        ([inv("100", "0"), None], PARTLY),
        ([inv("0", "0"), inv("50", "50")], UNPAID),  # nothing was paid on either
    ],
)
def test_an_sos_status_from_its_invoices(invoices: list[InvoiceBalance | None], expected: PaymentStatus) -> None:
    assert payment_status_of(invoices) is expected


def test_texts_are_what_users_see() -> None:
    assert [s.text for s in PaymentStatus] == ["Unpaid", "Partly paid", "Paid"]


def test_a_balance_is_exact_money() -> None:
    for bad in (100.0, Decimal("NaN"), Decimal("Infinity")):
        with pytest.raises(ValueError, match="finite Decimal"):
            InvoiceBalance(bad, Decimal(0))  # type: ignore[arg-type]


@given(invoice_balances())
def test_one_invoice_is_paid_by_its_balance_alone(invoice: InvoiceBalance) -> None:
    status = payment_status_of([invoice])
    if invoice.balance == 0:
        assert status is PAID
    elif invoice.balance == invoice.total:
        assert status is UNPAID
    else:
        assert status is PARTLY


@given(so_balances.filter(bool))
def test_paid_exactly_when_every_invoice_is_read_and_owes_nothing(invoices: list[InvoiceBalance | None]) -> None:
    everything_paid = all(i is not None and i.balance == 0 for i in invoices)
    assert (payment_status_of(invoices) is PAID) == everything_paid


@given(so_balances.filter(bool))
def test_unpaid_exactly_when_no_money_came_in_and_something_is_owed(invoices: list[InvoiceBalance | None]) -> None:
    no_money_in = all(i is None or i.balance == i.total for i in invoices)
    owed = any(i is None or i.balance > 0 for i in invoices)
    assert (payment_status_of(invoices) is UNPAID) == (no_money_in and owed)


@given(so_balances.filter(bool), st.randoms())
def test_the_order_of_the_invoices_does_not_matter(invoices: list[InvoiceBalance | None], rnd: Random) -> None:
    shuffled = list(invoices)
    rnd.shuffle(shuffled)
    assert payment_status_of(shuffled) is payment_status_of(invoices)


@given(so_balances.filter(bool), st.data())
def test_a_payment_never_moves_the_status_back(invoices: list[InvoiceBalance | None], data: st.DataObject) -> None:
    """Paying more of one invoice (its balance lower) leaves the SO as paid as before, or more."""
    index = data.draw(st.integers(0, len(invoices) - 1))
    before = invoices[index] or InvoiceBalance(Decimal("100"), Decimal("100"))
    paid_now = data.draw(st.decimals(min_value=Decimal(0), max_value=before.balance, places=2))
    after = [*invoices[:index], InvoiceBalance(before.total, before.balance - paid_now), *invoices[index + 1 :]]
    was = payment_status_of([*invoices[:index], before, *invoices[index + 1 :]])
    now = payment_status_of(after)
    assert was is not None and now is not None
    assert RANK[now] >= RANK[was]


@given(so_balances)
def test_an_invoice_not_read_counts_as_one_nothing_was_paid_on(invoices: list[InvoiceBalance | None]) -> None:
    unpaid = [i if i is not None else InvoiceBalance(Decimal("25.00"), Decimal("25.00")) for i in invoices]
    assert payment_status_of(invoices) is payment_status_of(unpaid)
