"""Webhook signature and both body formats, with bodies built by qbo_sandbox.webhook_payloads."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest

from invoicebridge.qbo.webhooks import EntityChange, parse_notifications, verify_signature
from qbo_sandbox import webhook_payloads as payloads

WHEN = datetime(2026, 1, 5, 14, 42, 19, 179000, tzinfo=UTC)


@dataclass(frozen=True)
class Change:
    realm_id: str
    entity: str
    entity_id: str
    operation: str
    when: datetime


EVENTS = [
    Change("111", "Invoice", "130", "Delete", WHEN),
    Change("111", "Customer", "7", "Create", WHEN),
    Change("222", "JournalEntry", "9", "Void", WHEN),
    Change("222", "Invoice", "131", "Emailed", WHEN),
]


def test_a_sandbox_signature_verifies() -> None:
    body = payloads.encode(payloads.cloudevents_body(EVENTS))

    assert verify_signature(body, payloads.sign("verifier", body), "verifier")


@pytest.mark.parametrize("signature", [None, "", "bm90IGl0"])
def test_a_missing_or_wrong_signature_does_not(signature: str | None) -> None:
    assert not verify_signature(b"[]", signature, "verifier")


def test_a_signature_under_another_token_or_body_does_not_verify() -> None:
    body = payloads.encode(payloads.legacy_body(EVENTS))
    signature = payloads.sign("verifier", body)

    assert not verify_signature(body, signature, "other")
    assert not verify_signature(body + b" ", signature, "verifier")


def test_cloudevents_become_changes_across_realms() -> None:
    body = payloads.cloudevents_body(EVENTS)

    changes = parse_notifications(payloads.encode(body))

    assert [(c.realm_id, c.entity, c.entity_id, c.operation) for c in changes] == [
        ("111", "Invoice", "130", "Delete"),
        ("111", "Customer", "7", "Create"),
        ("222", "JournalEntry", "9", "Void"),
        ("222", "Invoice", "131", "Emailed"),
    ]
    assert [c.event_id for c in changes] == [e["id"] for e in body]
    assert all(c.occurred_at == WHEN for c in changes)


def test_legacy_notifications_become_the_same_changes() -> None:
    changes = parse_notifications(payloads.encode(payloads.legacy_body(EVENTS)))

    assert [(c.realm_id, c.entity, c.entity_id, c.operation, c.occurred_at) for c in changes] == [
        (e.realm_id, e.entity, e.entity_id, e.operation, WHEN) for e in EVENTS
    ]


def test_legacy_event_ids_are_deterministic_and_distinct() -> None:
    body = payloads.encode(payloads.legacy_body(EVENTS))

    first, again = parse_notifications(body), parse_notifications(body)

    assert [c.event_id for c in first] == [c.event_id for c in again]
    assert len({c.event_id for c in first}) == len(EVENTS)


def test_events_of_other_products_are_skipped() -> None:
    event = payloads.cloudevents_body(EVENTS[:1])[0]
    other = {**event, "type": "payments.charge.created.v1"}

    assert len(parse_notifications(json.dumps([event, other]).encode())) == 1


def test_an_empty_array_has_no_changes() -> None:
    assert parse_notifications(b"[]") == []


@pytest.mark.parametrize(
    ("body", "words"),
    [
        (b"not json", "not JSON"),
        (b'{"something": 1}', "neither"),
        (b"[1]", "array of objects"),
        (b'[{"type": "qbo.invoice.v1", "id": "1"}]', "qbo.<entity>.<verb>.v1"),
        (b'[{"type": "qbo.invoice.deleted.v1", "id": "1"}]', "intuitaccountid"),
        (b'{"eventNotifications": [{"realmId": "1"}]}', "dataChangeEvent"),
        (b'{"eventNotifications": [{"realmId": "1", "dataChangeEvent": {"entities": [{"name": "Invoice"}]}}]}', "id"),
    ],
)
def test_malformed_bodies_raise_a_value_error_with_a_sentence(body: bytes, words: str) -> None:
    with pytest.raises(ValueError, match=words.replace(".", r"\.").replace("<", ".").replace(">", ".")):
        parse_notifications(body)


def test_a_legacy_time_is_parsed_aware() -> None:
    body = {
        "eventNotifications": [
            {"realmId": "1", "dataChangeEvent": {"entities": [
                {"name": "Invoice", "id": "5", "operation": "Update", "lastUpdated": "2026-01-05T14:42:19.000Z"}
            ]}}
        ]
    }  # fmt: skip

    (change,) = parse_notifications(json.dumps(body).encode())

    assert change == EntityChange(
        change.event_id, "1", "Invoice", "5", "Update", datetime(2026, 1, 5, 14, 42, 19, tzinfo=UTC)
    )
