"""The invoice link state machine (DESIGN §3): every legal and every illegal transition, history, request ids."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from invoicebridge.domain import (
    InvalidTransition,
    InvoiceLink,
    InvoiceScope,
    InvoiceState,
    new_link,
    request_id_for,
)

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
Step = Callable[[InvoiceLink], InvoiceLink]

STEPS: dict[str, Step] = {
    "queue": lambda link: link.queue(T0),
    "abandoned": lambda link: link.abandoned("uncertain", "its worker died", T0),
    "start": lambda link: link.start("ib-1-so-7-g1", T0),
    "succeed": lambda link: link.succeed("145", "SO-7", "0", T0),
    "fail": lambda link: link.fail("6140", "Invoice number SO-7 is already used", "Duplicate Document Number", T0),
    "invoice_deleted": lambda link: link.invoice_deleted(T0),
    "invoice_voided": lambda link: link.invoice_voided(T0),
}

# How to reach each state from a fresh link.
REACH: dict[InvoiceState, list[str]] = {
    InvoiceState.NOT_INVOICED: [],
    InvoiceState.QUEUED: ["queue"],
    InvoiceState.CREATING: ["start"],
    InvoiceState.INVOICED: ["start", "succeed"],
    InvoiceState.FAILED: ["start", "fail"],
    InvoiceState.DELETED: ["start", "succeed", "invoice_deleted"],
    InvoiceState.VOIDED: ["start", "succeed", "invoice_voided"],
}

LEGAL = {
    (InvoiceState.NOT_INVOICED, "start"): InvoiceState.CREATING,
    (InvoiceState.NOT_INVOICED, "queue"): InvoiceState.QUEUED,
    (InvoiceState.QUEUED, "queue"): InvoiceState.QUEUED,  # the sweeper queues a lost job again
    (InvoiceState.QUEUED, "start"): InvoiceState.CREATING,
    (InvoiceState.FAILED, "queue"): InvoiceState.QUEUED,
    (InvoiceState.CREATING, "abandoned"): InvoiceState.QUEUED,  # the sweeper, for a dead worker's claim
    (InvoiceState.CREATING, "succeed"): InvoiceState.INVOICED,
    (InvoiceState.CREATING, "fail"): InvoiceState.FAILED,
    (InvoiceState.FAILED, "start"): InvoiceState.CREATING,
    (InvoiceState.INVOICED, "invoice_deleted"): InvoiceState.DELETED,  # final: its part is invoiced anew
    (InvoiceState.INVOICED, "invoice_voided"): InvoiceState.VOIDED,  # final: its part is invoiced anew, next slot
    (InvoiceState.VOIDED, "invoice_deleted"): InvoiceState.DELETED,  # a voided invoice deleted later frees its slot
}
ILLEGAL = [(state, step) for state in InvoiceState for step in STEPS if (state, step) not in LEGAL]


def link_in(state: InvoiceState) -> InvoiceLink:
    link = new_link(7)
    for name in REACH[state]:
        link = STEPS[name](link)
    assert link.state is state
    return link


@pytest.mark.parametrize(("state", "step"), list(LEGAL))
def test_each_legal_transition_moves_to_its_state_and_adds_one_history_event(state: InvoiceState, step: str) -> None:
    before = link_in(state)
    after = STEPS[step](before)
    assert after.state is LEGAL[(state, step)]
    assert after.history[:-1] == before.history
    assert (after.history[-1].state, after.history[-1].at) == (after.state, T0)
    assert after.history[-1].note


def test_there_are_thirty_seven_illegal_transitions_and_twelve_legal_ones() -> None:
    assert (len(ILLEGAL), len(LEGAL)) == (37, 12)


@pytest.mark.parametrize(("state", "step"), ILLEGAL)
def test_each_illegal_transition_is_refused_and_says_what_the_link_is(state: InvoiceState, step: str) -> None:
    link = link_in(state)
    with pytest.raises(InvalidTransition, match=re.escape(link.status_text)):
        STEPS[step](link)


@pytest.mark.parametrize(
    ("state", "text"),
    [
        (InvoiceState.NOT_INVOICED, "Not invoiced"),
        (InvoiceState.QUEUED, "Invoice queued…"),
        (InvoiceState.CREATING, "Creating invoice…"),
        (InvoiceState.INVOICED, "Invoice created (QBO)"),
        (InvoiceState.FAILED, "Invoice failed"),
        (InvoiceState.DELETED, "Deleted in QuickBooks"),
        (InvoiceState.VOIDED, "Invoice voided (QBO)"),
    ],
)
def test_status_text_is_what_the_sell_screen_shows(state: InvoiceState, text: str) -> None:
    assert link_in(state).status_text == text


def test_a_new_link_is_the_first_whole_so_invoice_not_invoiced_without_history() -> None:
    link = new_link(7)
    assert (link.sales_order_id, link.state, link.number, link.history) == (7, InvoiceState.NOT_INVOICED, 1, ())
    assert (link.scope, link.delivery_ids, link.slot, link.live) == (InvoiceScope.WHOLE, (), 1, True)


def test_starting_keeps_the_request_id_and_success_keeps_the_qbo_invoice() -> None:
    link = link_in(InvoiceState.INVOICED)
    assert link.request_id == "ib-1-so-7-g1"
    assert (link.qbo_invoice_id, link.doc_number, link.sync_token) == ("145", "SO-7", "0")


def test_failure_keeps_code_message_and_detail_for_the_so_card() -> None:
    link = link_in(InvoiceState.FAILED)
    assert (link.error_code, link.error_message, link.error_detail) == (
        "6140",
        "Invoice number SO-7 is already used",
        "Duplicate Document Number",
    )


def test_retry_after_failure_clears_the_error_and_keeps_the_number() -> None:
    failed = link_in(InvoiceState.FAILED)
    retried = failed.start("ib-1-so-7-g1", T0 + timedelta(minutes=1))
    assert (retried.error_code, retried.error_message, retried.error_detail) == (None, None, None)
    assert retried.number == failed.number
    assert [e.state for e in retried.history] == [InvoiceState.CREATING, InvoiceState.FAILED, InvoiceState.CREATING]


def test_an_invoice_deleted_in_qbo_is_final_keeps_its_history_and_frees_its_part() -> None:
    link = link_in(InvoiceState.INVOICED).invoice_deleted(T0)
    assert (link.state, link.number, link.live) == (InvoiceState.DELETED, 1, False)
    assert (link.qbo_invoice_id, link.doc_number) == ("145", "SO-7")  # a repeated notice finds it, changes nothing
    assert "145 deleted in QuickBooks" in link.history[-1].note
    with pytest.raises(InvalidTransition):
        link.start("ib-1-so-7-g1", T0)  # invoicing the part again is a new invoice, with the next number
    again = new_link(7, number=2).start(request_id_for(1, 7, 2), T0).succeed("146", "SO-7", "0", T0)
    assert (again.qbo_invoice_id, again.request_id) == ("146", "ib-1-so-7-g2")


def test_an_invoice_voided_in_qbo_is_final_frees_its_part_but_keeps_its_link_and_slot() -> None:
    link = link_in(InvoiceState.INVOICED).invoice_voided(T0)
    assert (link.state, link.number, link.live, link.holds_slot) == (InvoiceState.VOIDED, 1, False, True)
    assert (link.qbo_invoice_id, link.doc_number, link.slot) == ("145", "SO-7", 1)  # still in QBO: still linked
    assert "145 voided in QuickBooks" in link.history[-1].note
    with pytest.raises(InvalidTransition, match="Invoice voided"):
        link.invoice_voided(T0)  # a second notice of the same void changes nothing
    with pytest.raises(InvalidTransition):
        link.start("ib-1-so-7-g1", T0)  # invoicing the part again is a new invoice, with the next number
    gone = link.invoice_deleted(T0)  # voided, then deleted in QBO: its number is free again
    assert (gone.state, gone.live, gone.holds_slot) == (InvoiceState.DELETED, False, False)


def test_transitions_leave_the_original_link_untouched() -> None:
    link = new_link(7)
    link.start("r", T0)
    assert link.state is InvoiceState.NOT_INVOICED
    assert link.history == ()


def test_a_transition_at_a_time_without_a_zone_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="timezone"):
        new_link(7).start("r", datetime(2026, 3, 1, 9, 0))


ids = st.integers(min_value=1, max_value=2**63)


@given(ids, ids, ids)
def test_request_id_is_deterministic_short_enough_for_qbo_and_plain_ascii(company: int, so: int, gen: int) -> None:
    request_id = request_id_for(company, so, gen)
    assert request_id == request_id_for(company, so, gen)
    assert len(request_id) <= 50
    assert request_id.isascii()
    assert request_id.startswith("ib-")


@given(ids, ids, ids, ids, ids, ids)
def test_different_orders_or_generations_get_different_request_ids(
    c1: int, s1: int, g1: int, c2: int, s2: int, g2: int
) -> None:
    if (c1, s1, g1) != (c2, s2, g2):
        assert request_id_for(c1, s1, g1) != request_id_for(c2, s2, g2)


def test_request_id_reads_as_company_order_and_generation_when_short() -> None:
    assert request_id_for(3, 42, 2) == "ib-3-so-42-g2"


@pytest.mark.parametrize("bad", [0, -1, True])
def test_request_id_needs_positive_integer_ids(bad: int) -> None:
    with pytest.raises(ValueError, match="positive integers"):
        request_id_for(1, bad, 1)


def test_a_queued_link_keeps_the_last_failure_so_an_uncertain_outcome_stays_uncertain() -> None:
    failed = new_link(7).start("ib-1-so-7-g1", T0).fail("uncertain", "not known yet", "", T0)
    queued = failed.queue(T0)
    assert (queued.state, queued.error_code, queued.request_id) == (InvoiceState.QUEUED, "uncertain", "ib-1-so-7-g1")
    restarted = queued.start("ib-1-so-7-g1", T0)
    assert (restarted.state, restarted.error_code) == (InvoiceState.CREATING, None)
