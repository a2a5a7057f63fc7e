"""The rules of returns (domain/returns.py): what may be returned, the sentences of a refusal, the credit memo's
state machine, request ids and its DocNumber."""

from __future__ import annotations

import contextlib
from datetime import timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from tests.unit.domain.test_order_invoices import T0, deliver, invoiced, order

from invoicebridge.domain import InvalidTransition, OrderInvoices, ValidationError
from invoicebridge.domain.returns import (
    REQUEST_ID_MAX,
    Return,
    ReturnState,
    after_refusal,
    credit_memo_number,
    plan_return,
    return_request_id,
    returnable,
)

AT = T0 + timedelta(days=10)


def invoiced_whole(*quantities: dict[int, str]) -> OrderInvoices:
    """The two-row SO (rows 11: 3 ordered, 12: 1 ordered) with these deliveries, invoiced as a whole in QBO."""
    so = deliver(order(), *quantities)
    return OrderInvoices(so, (invoiced(OrderInvoices(so).plan_whole()),))


def messages(error: pytest.ExceptionInfo[ValidationError]) -> list[str]:
    return [problem.message for problem in error.value.problems]


def test_a_return_takes_the_next_number_and_the_quantities_asked() -> None:
    invoices = invoiced_whole({11: "3", 12: "1"})
    first = plan_return(invoices, (), {11: "2"}, AT)
    assert (first.number, first.state, dict(first.lines), first.created_at) == (
        1, ReturnState.PENDING, {11: Decimal(2)}, AT
    )  # fmt: skip
    second = plan_return(invoices, (first,), {11: "1", 12: "0.5"}, AT)
    assert (second.number, dict(second.lines)) == (2, {11: Decimal(1), 12: Decimal("0.5")})


def test_only_delivered_quantities_on_an_invoice_in_qbo_can_be_returned() -> None:
    invoices = invoiced_whole({11: "2"})  # invoiced whole: 3 of row 11 on the invoice, 2 delivered, 12 not at all
    with pytest.raises(ValidationError) as refused:
        plan_return(invoices, (), {11: "3", 12: "1"}, AT)
    assert messages(refused) == [
        "Cannot return 3 of row 11: 2 were delivered and invoiced.",
        "Nothing of row 12 is delivered, so nothing of it can be returned.",
    ]


def test_a_delivery_not_on_an_invoice_cannot_be_returned() -> None:
    so = deliver(order(), {11: "1"}, {11: "2"})
    first = OrderInvoices(so).plan_deliveries([101], combine=True)[0]
    invoices = OrderInvoices(so, (invoiced(first),))
    assert returnable(invoices, ()) == {11: Decimal(1), 12: Decimal(0)}
    with pytest.raises(ValidationError) as refused:
        plan_return(invoices, (), {11: "2"}, AT)
    assert messages(refused) == ["Cannot return 2 of row 11: 1 were delivered and invoiced."]


def test_an_order_with_nothing_invoiced_in_qbo_is_refused_as_a_whole() -> None:
    so = deliver(order(), {11: "3"})
    creating = OrderInvoices(so).plan_whole().start("r1", T0)  # being invoiced, not in QBO yet
    with pytest.raises(ValidationError) as refused:
        plan_return(OrderInvoices(so, (creating,)), (), {11: "1"}, AT)
    assert messages(refused) == [
        "SO-1001 is not invoiced in QuickBooks: only delivered quantities on an invoice can be returned."
    ]


def test_every_earlier_return_holds_its_quantities_failed_ones_too() -> None:
    invoices = invoiced_whole({11: "3"})
    failed = plan_return(invoices, (), {11: "2"}, AT).start("r", AT).fail("6000", "no", "", AT)
    with pytest.raises(ValidationError) as refused:
        plan_return(invoices, (failed,), {11: "2"}, AT)
    assert messages(refused) == [
        "Cannot return 2 of row 11: 3 were delivered and invoiced, 2 of them already returned."
    ]


def test_bad_lines_are_refused_each_with_its_row() -> None:
    invoices = invoiced_whole({11: "3", 12: "1"})
    with pytest.raises(ValidationError) as refused:
        plan_return(invoices, (), {99: "1", 11: "-1", 12: "many"}, AT)
    fields = [problem.field for problem in refused.value.problems]
    assert fields == ["lines[99].quantity", "lines[11].quantity", "lines[12].quantity"]
    assert messages(refused)[:2] == ["SO-1001 has no row 99.", "The quantity returned of row 11 must be more than 0."]
    with pytest.raises(ValidationError) as empty:
        plan_return(invoices, (), {}, AT)
    assert messages(empty) == ["Say which rows came back and how many."]
    with pytest.raises(ValidationError) as naive:
        plan_return(invoices, (), {11: "1"}, AT.replace(tzinfo=None))
    assert naive.value.problems[0].field == "returned_at"


@given(st.lists(st.integers(min_value=1, max_value=4), max_size=6))
def test_returns_never_take_more_than_was_delivered_and_invoiced(asks: list[int]) -> None:
    invoices = invoiced_whole({11: "3", 12: "1"})
    taken: list[Return] = []
    for ask in asks:
        with contextlib.suppress(ValidationError):  # refused asks take nothing
            taken.append(plan_return(invoices, taken, {11: str(ask)}, AT))
    assert sum((r.lines[11] for r in taken), Decimal(0)) <= 3
    assert [r.number for r in taken] == list(range(1, len(taken) + 1))


def test_the_credit_memo_state_machine() -> None:
    pending = Return(7, 1, AT, {11: Decimal(1)})
    creating = pending.start("ib-1-so-7-r1", AT)
    assert creating.claimed_by_another(AT + timedelta(minutes=1), timedelta(minutes=5))
    assert not creating.claimed_by_another(AT + timedelta(minutes=6), timedelta(minutes=5))
    created = creating.succeed("88", "SO-1001-R1", "0", AT)
    assert (created.state, created.qbo_credit_memo_id, created.status_text) == (
        ReturnState.CREATED, "88", "Credit memo created (QBO)"
    )  # fmt: skip
    with pytest.raises(InvalidTransition):
        created.start("again", AT)
    failed = creating.fail("6000", "QuickBooks refused it.", "detail", AT)
    assert (failed.status_text, failed.error_code) == ("Credit memo failed", "6000")
    retried = failed.start("ib-1-so-7-r1-a2", AT)
    assert (retried.state, retried.error_code, retried.error_message) == (ReturnState.CREATING, None, None)
    with pytest.raises(ValueError, match="timezone-aware"):
        pending.start("x", AT.replace(tzinfo=None))


def test_request_ids_are_fixed_per_return_and_new_after_a_refusal() -> None:
    assert return_request_id(3, 42, 1) == "ib-3-so-42-r1"
    assert return_request_id(3, 42, 2) != return_request_id(3, 42, 1)
    assert after_refusal("ib-3-so-42-r1") == "ib-3-so-42-r1-a2"
    assert after_refusal("ib-3-so-42-r1-a2") == "ib-3-so-42-r1-a3"
    huge = return_request_id(2**62, 2**62, 10**6)
    assert len(huge) <= REQUEST_ID_MAX and huge == return_request_id(2**62, 2**62, 10**6)
    assert len(after_refusal(huge)) <= REQUEST_ID_MAX and after_refusal(huge) != huge
    with pytest.raises(ValueError, match="positive integers"):
        return_request_id(0, 1, 1)


def test_the_credit_memo_number_is_the_so_number_and_return_unless_too_long() -> None:
    assert credit_memo_number("SO-1042", 1) == "SO-1042-R1"
    assert credit_memo_number("SO-2026-000000000042", 1) is None  # 20 + "-R1" passes QBO's 21 characters
    assert credit_memo_number("SO-2026-00000042", 12) == "SO-2026-00000042-R12"  # 20 characters
    assert credit_memo_number("SO-2026-0000000042", 12) is None  # 22: never shortened (it could clash)
