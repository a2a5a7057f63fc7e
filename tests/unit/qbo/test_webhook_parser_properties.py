"""Properties of the webhook parser, the worker's guard: whatever the bytes, parse_notifications returns changes
whose ids are short printable ASCII, or raises a plain ValueError with a sentence fit for a JSON reply — nothing
else (issue 9: a lone surrogate once reached the worker and killed its task)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from tests import strategies

from invoicebridge.qbo.webhooks import MAX_EVENT_ID, MAX_QBO_ID, EntityChange, parse_notifications
from qbo_sandbox import webhook_payloads as payloads

PRINTABLE = {chr(code) for code in range(0x21, 0x7F)}
LETTERS = {chr(code) for code in [*range(0x41, 0x5B), *range(0x61, 0x7B)]}
BUDGET = settings(max_examples=300, deadline=None)  # the three properties stay within a few seconds


def _encode(document: Any, encoding: str) -> bytes:
    if encoding == "ascii-escaped":  # what Intuit (and json.dumps) sends: a lone surrogate travels as \ud800
        return json.dumps(document).encode()
    text = json.dumps(document, ensure_ascii=False)
    if encoding == "utf-8-bom":
        return b"\xef\xbb\xbf" + text.encode("utf-8", "surrogatepass")
    if encoding == "surrogates-as-bytes":
        return text.encode("utf-8", "surrogatepass")
    return text.encode(encoding, "surrogatepass")


def _assert_safe(change: EntityChange) -> None:
    for value, longest in ((change.event_id, MAX_EVENT_ID), (change.realm_id, MAX_QBO_ID), (change.entity_id, 32)):
        assert isinstance(value, str)
        assert 1 <= len(value) <= longest
        assert set(value) <= PRINTABLE
    assert 1 <= len(change.entity) <= 64 and set(change.entity) <= LETTERS
    assert 1 <= len(change.operation) <= 64 and set(change.operation) <= LETTERS
    assert change.occurred_at.tzinfo is not None


def _outcome(body: bytes) -> list[EntityChange] | ValueError:
    try:
        return parse_notifications(body)
    except ValueError as error:
        return error


def _check(body: bytes) -> list[EntityChange]:
    """The property itself; returns the changes (empty when refused) for tests that look further."""
    outcome = _outcome(body)
    if isinstance(outcome, ValueError):
        assert type(outcome) is ValueError  # not a UnicodeError or JSONDecodeError escaping by accident
        message = str(outcome)
        assert message.endswith(".") and len(message) < 400
        message.encode("utf-8")  # it goes into a JSON reply: no lone surrogate may be in it
        return []
    for change in outcome:
        _assert_safe(change)
    # The worker receives the body as a UTF-8 string (jobs.tasks) and must read the same changes from it.
    assert parse_notifications(body.decode("utf-8").encode("utf-8")) == outcome
    return outcome


@BUDGET
@given(strategies.webhook_junk_bytes)
def test_any_bytes_give_safe_changes_or_a_value_error(body: bytes) -> None:
    _check(body)


@BUDGET
@given(strategies.webhook_documents, strategies.webhook_encodings)
def test_near_valid_deliveries_give_safe_changes_or_a_value_error(document: Any, encoding: str) -> None:
    _check(_encode(document, encoding))


class _Event:
    def __init__(self, realm_id: str, entity_id: str) -> None:
        self.realm_id, self.entity_id = realm_id, entity_id
        self.entity, self.operation, self.when = "Invoice", "Delete", datetime(2026, 1, 5, tzinfo=UTC)


@BUDGET
@given(st.lists(st.tuples(strategies.webhook_ids, strategies.webhook_ids), max_size=5), st.booleans())
def test_deliveries_with_printable_ids_are_read_whole(ids: list[tuple[str, str]], legacy: bool) -> None:
    events = [_Event(realm_id, entity_id) for realm_id, entity_id in ids]
    document = payloads.legacy_body(events) if legacy else payloads.cloudevents_body(events)

    changes = _check(json.dumps(document).encode())

    assert sorted((c.realm_id, c.entity_id) for c in changes) == sorted(ids)
