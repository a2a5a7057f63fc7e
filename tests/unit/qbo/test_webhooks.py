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


# -- odd bytes (issue 9): refused at parse time, so they never reach a worker or a database -------------------------
def _cloudevent(**fields: object) -> dict[str, object]:
    event = payloads.cloudevents_body(EVENTS[:1])[0]
    return {**event, **fields}


def _json(document: object) -> bytes:
    return json.dumps(document).encode()


@pytest.mark.parametrize(
    ("body", "words"),
    [
        (_json([_cloudevent()]).decode().encode("utf-16"), "not UTF-8"),
        (_json([_cloudevent()]).decode().encode("utf-16-le"), "not JSON"),
        (_json([_cloudevent()]).decode().encode("utf-32"), "not UTF-8"),
        (b"\xef\xbb\xbf" + _json([_cloudevent()]), "not JSON"),  # the worker reads the body as UTF-8 text
        (_json([_cloudevent()]).replace(b'"130"', b'"13\xff"'), "not UTF-8"),
        (_json([_cloudevent()]).replace(b'"130"', b'"13\xed\xa0\x80"'), "not UTF-8"),  # a surrogate, as bytes
        (b"[" * 50_000 + b"]" * 50_000, "nested too deeply"),
        (b'{"a":' * 50_000 + b"1" + b"}" * 50_000, "nested too deeply"),
        (b"[" + b"9" * 5000 + b"]", "not JSON"),
        (_json([_cloudevent(id="\ud800")]), "'id' is not an id"),
        (_json([_cloudevent(intuitentityid="13\udfff")]), "'intuitentityid' is not an id"),
        (_json([_cloudevent(intuitaccountid="1\x00")]), "'intuitaccountid' is not an id"),
        (_json([_cloudevent(intuitaccountid="1 2")]), "'intuitaccountid' is not an id"),
        (_json([_cloudevent(id="e" * 129)]), "1 to 128"),
        (_json([_cloudevent(intuitentityid="9" * 33)]), "1 to 32"),
        (_json([_cloudevent(id=7)]), "'id' field is missing or not a non-empty string"),
        (_json([_cloudevent(intuitentityid=130)]), "not a non-empty string"),
        (_json([_cloudevent(intuitaccountid=1.5)]), "not a non-empty string"),
        (_json([_cloudevent(id=True)]), "not a non-empty string"),
        (_json([_cloudevent(id=["a"])]), "not a non-empty string"),
        (_json([_cloudevent(type="qbo.\ud800.deleted.v1")]), "qbo.<entity>.<verb>.v1"),
        (_json([_cloudevent(type="qbo.invoice.dele\x00ted.v1")]), "qbo.<entity>.<verb>.v1"),
        (_json([_cloudevent(time="\ud800")]), "not an ISO 8601 time"),
        (_json([_cloudevent(time="2026-13-45T99:99:99Z")]), "not an ISO 8601 time"),
        (_json([_cloudevent(id=f"e{n}") for n in range(1001)]), "at most 1000"),
        (_json(payloads.legacy_body([EVENTS[0]] * 1001)), "at most 1000"),
        (_json({"eventNotifications": [{"realmId": "\ud83d", "dataChangeEvent": {"entities": []}}]}), "realmId"),
    ],
)
def test_odd_bodies_are_refused_with_a_sentence(body: bytes, words: str) -> None:
    with pytest.raises(ValueError, match=words.replace(".", r"\.").replace("<", ".").replace(">", ".")) as refused:
        parse_notifications(body)

    assert type(refused.value) is ValueError
    assert str(refused.value).endswith(".")
    str(refused.value).encode()  # fit for a JSON reply: no lone surrogate in the message


def test_a_refusal_quotes_a_long_value_short_and_escaped() -> None:
    with pytest.raises(ValueError, match="is not of the form") as refused:
        parse_notifications(_json([_cloudevent(type="qbo." + "\ud800" * 10_000)]))

    assert len(str(refused.value)) < 400
    assert "\\ud800" in str(refused.value)


def test_ids_at_their_bounds_are_read() -> None:
    event = _cloudevent(id="e" * 128, intuitaccountid="9" * 32, intuitentityid="~!" * 16)

    (change,) = parse_notifications(_json([event]))

    assert (change.event_id, change.realm_id, change.entity_id) == ("e" * 128, "9" * 32, "~!" * 16)


def test_a_thousand_events_are_read() -> None:
    assert len(parse_notifications(_json([_cloudevent(id=f"e{n}") for n in range(1000)]))) == 1000
