"""QBO webhook deliveries: the ``intuit-signature`` check and the events, typed.

Two body formats are accepted (qbo-reference.md, "Webhooks"; qbo_sandbox.webhook_payloads builds both):

* CloudEvents (Intuit's format since 2025-11-12): a JSON array of ``{"specversion": "1.0", "id", "type":
  "qbo.<entity>.<created|updated|deleted|merged|voided>.v1", "time", "intuitentityid", "intuitaccountid", …}``;
* legacy: ``{"eventNotifications": [{"realmId", "dataChangeEvent": {"entities": [{"name", "id", "operation",
  "lastUpdated"}]}}]}``.

Either may carry several realms. Events carry no field values: read the entity (or CDC) for its state.
Deliveries may come late, twice or out of order — dedupe on ``EntityChange.event_id``.

The parser is the worker's guard: whatever a body holds, ``parse_notifications`` returns changes whose fields
are safe to store and compare, or raises ValueError with a sentence — never another exception. It refuses a
body that is not UTF-8 JSON (UTF-16 or UTF-32, with or without a byte-order mark, invalid or surrogate bytes),
JSON nested deeper than the interpreter parses, more than ``MAX_EVENTS`` events, and any id that is not 1 to
``MAX_EVENT_ID`` (event ids) or ``MAX_QBO_ID`` (realm and entity ids) printable ASCII characters — so a lone
surrogate, a control character or a number where Intuit sends a string never reaches a worker or a database.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

__all__ = [
    "MAX_EVENTS",
    "MAX_EVENT_ID",
    "MAX_QBO_ID",
    "SIGNATURE_HEADER",
    "EntityChange",
    "parse_notifications",
    "verify_signature",
]

SIGNATURE_HEADER = "intuit-signature"
# A delivery carries a handful of events; the web layer's 256 KiB body limit holds ~800 CloudEvents. The bound
# holds for callers without that limit too (the worker re-parses what was queued).
MAX_EVENTS = 1_000
MAX_EVENT_ID = 128  # Intuit sends a UUID; processed_events.event_id is String(128)
MAX_QBO_ID = 32  # realm and entity ids are QBO's numeric strings (~20 digits); our columns hold 32
_ID = re.compile(r"[!-~]+")  # printable ASCII, no space: what Intuit's numeric ids and UUIDs are made of
_NAME = re.compile(r"[A-Za-z]{1,64}")  # entity and operation names (Invoice, Delete, created, …)
_TIME = re.compile(r"[0-9T:.+Z-]{1,40}")  # ISO 8601, before datetime.fromisoformat sees it
_OPERATIONS = {
    "created": "Create",
    "updated": "Update",
    "deleted": "Delete",
    "merged": "Merge",
    "voided": "Void",
    "emailed": "Emailed",
}
# QBO's spelling of the entities whose lower-case names appear in CloudEvents types.
_ENTITIES = {
    name.lower(): name
    for name in (
        "Account Bill BillPayment Budget Class CompanyCurrency CreditMemo Customer Department Deposit Employee "
        "Estimate ExchangeRate Invoice Item JournalCode JournalEntry Payment PaymentMethod Preferences Purchase "
        "PurchaseOrder RefundReceipt SalesReceipt TaxAgency TaxCode TaxRate Term TimeActivity Transfer Vendor "
        "VendorCredit"
    ).split()
}


@dataclass(frozen=True)
class EntityChange:
    """One change QBO announced: ``operation`` is Create, Update, Delete, Void, Merge or Emailed."""

    event_id: str
    realm_id: str
    entity: str
    entity_id: str
    operation: str
    occurred_at: datetime


def verify_signature(body: bytes, signature: str | None, verifier_token: str) -> bool:
    """Whether ``signature`` (the ``intuit-signature`` header) is base64(HMAC-SHA256(verifier token, body)),
    compared in constant time. A missing signature or empty token is never valid."""
    if not signature or not verifier_token:
        return False
    expected = base64.b64encode(hmac.new(verifier_token.encode(), body, hashlib.sha256).digest())
    return hmac.compare_digest(expected, signature.strip().encode())


def parse_notifications(body: bytes) -> list[EntityChange]:
    """The changes in a delivery, in body order; ValueError with a sentence when the body is not one (see the
    module docstring for what is refused)."""
    parsed = _json(body)
    if isinstance(parsed, list):
        _bounded(len(parsed))
        return [change for event in parsed if (change := _cloudevent(event)) is not None]
    if isinstance(parsed, dict) and "specversion" in parsed:
        return [change for change in [_cloudevent(parsed)] if change is not None]
    if isinstance(parsed, dict) and "eventNotifications" in parsed:
        return _legacy(parsed["eventNotifications"])
    raise ValueError("The webhook body is neither a CloudEvents array nor an eventNotifications object.")


def _json(body: bytes) -> object:
    """The body as JSON, read as UTF-8 only: json.loads would guess UTF-16 and UTF-32 from bytes, but the
    worker receives the body as a UTF-8 string, so what it cannot decode must be refused here."""
    try:
        text = body.decode("utf-8")  # strict: refuses invalid bytes and encoded surrogates
    except UnicodeDecodeError as error:
        raise ValueError(f"The webhook body is not UTF-8 ({error.reason} at byte {error.start}).") from None
    try:
        return json.loads(text)
    except RecursionError:  # the C scanner counts its depth against the recursion limit (~1,000)
        raise ValueError("The webhook body is JSON nested too deeply to be a notification.") from None
    except ValueError as error:  # JSONDecodeError, a UTF-8 byte-order mark, an integer of over 4,300 digits
        raise ValueError(f"The webhook body is not JSON: {error}.") from None


def _bounded(count: int) -> None:
    if count > MAX_EVENTS:
        raise ValueError(f"The webhook body has {count} events; at most {MAX_EVENTS} are accepted in one delivery.")


def _cloudevent(event: object) -> EntityChange | None:
    """One CloudEvent as a change; None for events that are not QBO entity changes."""
    if not isinstance(event, dict):
        raise ValueError("A CloudEvents webhook body must be an array of objects.")
    kind = _text(event, "type", "A CloudEvent")
    parts = kind.split(".")
    if parts[0] != "qbo":
        return None
    if len(parts) != 4 or not _NAME.fullmatch(parts[1]) or not _NAME.fullmatch(parts[2]):
        raise ValueError(f"The CloudEvent type {_shown(kind)} is not of the form qbo.<entity>.<verb>.v1.")
    _, entity, verb, _ = parts
    return EntityChange(
        event_id=_id(event, "id", "A CloudEvent", MAX_EVENT_ID),
        realm_id=_id(event, "intuitaccountid", "A CloudEvent", MAX_QBO_ID),
        entity=_ENTITIES.get(entity.lower(), entity[:1].upper() + entity[1:]),
        entity_id=_id(event, "intuitentityid", "A CloudEvent", MAX_QBO_ID),
        operation=_OPERATIONS.get(verb.lower(), verb.capitalize()),
        occurred_at=_moment(_text(event, "time", "A CloudEvent")),
    )


def _legacy(notifications: object) -> list[EntityChange]:
    if not isinstance(notifications, list):
        raise ValueError("eventNotifications must be an array.")
    changes: list[EntityChange] = []
    for notification in notifications:
        if not isinstance(notification, dict):
            raise ValueError("Each entry of eventNotifications must be an object.")
        realm_id = _id(notification, "realmId", "A notification", MAX_QBO_ID)
        event = notification.get("dataChangeEvent")
        entities = event.get("entities") if isinstance(event, dict) else None
        if not isinstance(entities, list):
            raise ValueError(f"The notification for realm {realm_id} has no dataChangeEvent.entities array.")
        _bounded(len(changes) + len(entities))
        changes.extend(_legacy_entity(realm_id, entity) for entity in entities)
    return changes


def _legacy_entity(realm_id: str, entity: object) -> EntityChange:
    if not isinstance(entity, dict):
        raise ValueError("Each entry of dataChangeEvent.entities must be an object.")
    name, entity_id = _name(entity, "name"), _id(entity, "id", "An entity", MAX_QBO_ID)
    operation = _name(entity, "operation")
    occurred_at = _moment(_text(entity, "lastUpdated", "An entity"))
    # Legacy events carry no id: derive one that a redelivery of the same event reproduces.
    key = "|".join((realm_id, name, entity_id, operation, occurred_at.isoformat()))
    event_id = "legacy-" + hashlib.sha256(key.encode()).hexdigest()[:32]
    return EntityChange(event_id, realm_id, name, entity_id, operation, occurred_at)


def _text(obj: dict[str, Any], key: str, what: str) -> str:
    """A non-empty string field. Intuit sends every field as a string; a number there is refused, not guessed."""
    value = obj.get(key)
    if not isinstance(value, str) or value == "":
        raise ValueError(f"{what}'s {key!r} field is missing or not a non-empty string.")
    return value


def _id(obj: dict[str, Any], key: str, what: str, longest: int) -> str:
    value = _text(obj, key, what)
    if len(value) > longest or not _ID.fullmatch(value):
        raise ValueError(f"{what}'s {key!r} is not an id of 1 to {longest} printable ASCII characters.")
    return value


def _name(obj: dict[str, Any], key: str) -> str:
    value = _text(obj, key, "An entity")
    if not _NAME.fullmatch(value):
        raise ValueError(f"An entity's {key!r} {_shown(value)} is not a name of up to 64 ASCII letters.")
    return value


def _moment(text: str) -> datetime:
    """An ISO 8601 time, aware (UTC when it names no offset)."""
    if not _TIME.fullmatch(text):  # fromisoformat is not meant for arbitrary text: only time-like text reaches it
        raise ValueError(f"{_shown(text)} is not an ISO 8601 time.")
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"{_shown(text)} is not an ISO 8601 time.") from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _shown(text: str) -> str:
    """``text`` fit for an error message: short, and escaped (a lone surrogate cannot be encoded in a reply)."""
    return ascii(text[:40]) + ("…" if len(text) > 40 else "")
