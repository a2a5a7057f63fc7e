"""Invoice numbers with a company's prefix (domain/numbering.py), and the link to an existing QBO invoice
(InvoiceLink.linked_existing): pure rules."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st
from tests.unit.domain.test_invoice_link import link_in

from invoicebridge.domain import InvalidTransition, InvoiceState, ValidationError
from invoicebridge.domain.connection import ConnectionSettings
from invoicebridge.domain.numbering import DOC_NUMBER_MAX, clean_prefix, prefix_problems, prefixed_doc_number

T1 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
so_numbers = st.text(st.characters(codec="utf-8", categories=("L", "N", "Pd")), min_size=1, max_size=21)
prefixes = st.text(st.characters(codec="utf-8", categories=("L", "N", "Pd")), min_size=1, max_size=20)


@pytest.mark.parametrize(
    ("prefix", "number", "slot", "expected"),
    [("INV-", "SO-1", 1, "INV-SO-1"), ("INV-", "SO-1", 2, "INV-SO-1-2"), ("A", "SO-1234567890123456-9", 1, None)],
)
def test_the_prefix_goes_before_the_number_and_its_suffix(prefix: str, number: str, slot: int, expected: str) -> None:
    if expected is None:
        with pytest.raises(ValidationError):
            prefixed_doc_number(prefix, number, slot)
    else:
        assert prefixed_doc_number(prefix, number, slot) == expected


@given(prefixes, so_numbers, st.integers(min_value=1, max_value=200))
def test_a_prefixed_number_is_never_shortened_it_fits_whole_or_is_refused(prefix: str, number: str, slot: int) -> None:
    whole = prefix + (number if slot == 1 else f"{number}-{slot}")
    if len(whole) <= DOC_NUMBER_MAX:
        assert prefixed_doc_number(prefix, number, slot) == whole
    else:
        with pytest.raises(ValidationError) as refused:
            prefixed_doc_number(prefix, number, slot)
        assert refused.value.problems[0].field == "invoice_number_prefix"
        assert f"The invoice number {whole} ({len(whole)} characters)" in refused.value.problems[0].message


@pytest.mark.parametrize(
    ("sent", "problem"),
    [
        ("", None),
        ("INV-", None),
        ("  INV-  ", None),  # trimmed at the boundary
        ("X" * 20, None),
        ("X" * 21, "longer than QuickBooks allows (20 characters)"),
        ("IN\nV", "characters QuickBooks refuses"),
        ("IN\x07V", "control characters"),
        ("IN\u200bV", "printable characters only"),
        (7, "must be text"),
    ],
)
def test_a_prefix_is_printable_text_of_at_most_twenty_characters(sent: object, problem: str | None) -> None:
    if problem is None:
        assert clean_prefix(sent) == str(sent).strip()
    else:
        with pytest.raises(ValidationError, match=re.escape(problem)):
            clean_prefix(sent)


def test_settings_with_a_bad_or_untrimmed_prefix_are_not_complete() -> None:
    assert prefix_problems("INV-") == []
    assert prefix_problems(" INV-") == [
        ("invoice_number_prefix", "The invoice number prefix cannot begin or end with a space.")
    ]
    settings = ConnectionSettings("1", invoice_number_prefix="X" * 21)
    assert ("invoice_number_prefix", "The invoice number prefix is longer than QuickBooks allows (20 characters).") in (
        settings.problems([])
    )
    assert ConnectionSettings().offer_link_duplicates is False  # opt-in


def test_a_failed_invoice_links_to_the_existing_one_and_forgets_the_failure() -> None:
    failed = link_in(InvoiceState.FAILED)
    linked = failed.linked_existing("45823", "SO-7", "3", T1)
    assert (linked.state, linked.qbo_invoice_id, linked.doc_number, linked.sync_token) == (
        InvoiceState.INVOICED, "45823", "SO-7", "3")  # fmt: skip
    assert (linked.error_code, linked.error_message, linked.error_detail) == (None, None, None)
    assert (linked.number, linked.slot, linked.delivery_ids, linked.request_id) == (
        failed.number, failed.slot, failed.delivery_ids, failed.request_id)  # fmt: skip
    assert linked.history[:-1] == failed.history
    assert (linked.history[-1].at, linked.history[-1].note) == (
        T1, "linked to the existing QuickBooks invoice 45823 (number SO-7)")  # fmt: skip


@pytest.mark.parametrize("state", [s for s in InvoiceState if s is not InvoiceState.FAILED])
def test_only_a_failed_invoice_can_be_linked(state: InvoiceState) -> None:
    link = link_in(state)
    with pytest.raises(InvalidTransition, match=re.escape(link.status_text)):
        link.linked_existing("45823", "SO-7", "0", T1)
