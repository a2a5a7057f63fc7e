"""QBO webhook deliveries: the ``intuit-signature`` check and the events, typed.

Two body formats are accepted (qbo-reference.md, "Webhooks"; qbo_sandbox.webhook_payloads builds both):

* CloudEvents (Intuit's format since 2025-11-12): a JSON array of ``{"specversion": "1.0", "id", "type":
  "qbo.<entity>.<created|updated|deleted|merged|voided>.v1", "time", "intuitentityid", "intuitaccountid", …}``;
* legacy: ``{"eventNotifications": [{"realmId", "dataChangeEvent": {"entities": [{"name", "id", "operation",
  "lastUpdated"}]}}]}``.

Either may carry several realms. Events carry no field values: read the entity (or CDC) for its state.
Deliveries may come late, twice or out of order — dedupe on ``EntityChange.event_id``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

__all__ = ["SIGNATURE_HEADER", "EntityChange", "parse_notifications", "verify_signature"]

SIGNATURE_HEADER = "intuit-signature"
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
    """The changes in a delivery, in body order; ValueError with a sentence when the body is not one."""
    try:
        parsed = json.loads(body)
    except (ValueError, UnicodeDecodeError) as error:
        raise ValueError(f"The webhook body is not JSON: {error}.") from None
    if isinstance(parsed, list):
        return [change for event in parsed if (change := _cloudevent(event)) is not None]
    if isinstance(parsed, dict) and "specversion" in parsed:
        return [change for change in [_cloudevent(parsed)] if change is not None]
    if isinstance(parsed, dict) and "eventNotifications" in parsed:
        return _legacy(parsed["eventNotifications"])
    raise ValueError("The webhook body is neither a CloudEvents array nor an eventNotifications object.")


def _cloudevent(event: object) -> EntityChange | None:
    """One CloudEvent as a change; None for events that are not QBO entity changes."""
    if not isinstance(event, dict):
        raise ValueError("A CloudEvents webhook body must be an array of objects.")
    kind = _text(event, "type", "CloudEvent")
    parts = kind.split(".")
    if parts[0] != "qbo":
        return None
    if len(parts) != 4:
        raise ValueError(f"The CloudEvent type {kind!r} is not of the form qbo.<entity>.<verb>.v1.")
    _, entity, verb, _ = parts
    return EntityChange(
        event_id=_text(event, "id", "CloudEvent"),
        realm_id=_text(event, "intuitaccountid", "CloudEvent"),
        entity=_ENTITIES.get(entity.lower(), entity[:1].upper() + entity[1:]),
        entity_id=_text(event, "intuitentityid", "CloudEvent"),
        operation=_OPERATIONS.get(verb.lower(), verb.capitalize()),
        occurred_at=_moment(_text(event, "time", "CloudEvent")),
    )


def _legacy(notifications: object) -> list[EntityChange]:
    if not isinstance(notifications, list):
        raise ValueError("eventNotifications must be an array.")
    changes: list[EntityChange] = []
    for notification in notifications:
        if not isinstance(notification, dict):
            raise ValueError("Each entry of eventNotifications must be an object.")
        realm_id = _text(notification, "realmId", "notification")
        event = notification.get("dataChangeEvent")
        entities = event.get("entities") if isinstance(event, dict) else None
        if not isinstance(entities, list):
            raise ValueError(f"The notification for realm {realm_id} has no dataChangeEvent.entities array.")
        changes.extend(_legacy_entity(realm_id, entity) for entity in entities)
    return changes


def _legacy_entity(realm_id: str, entity: object) -> EntityChange:
    if not isinstance(entity, dict):
        raise ValueError("Each entry of dataChangeEvent.entities must be an object.")
    name, entity_id = _text(entity, "name", "entity"), _text(entity, "id", "entity")
    operation = _text(entity, "operation", "entity")
    occurred_at = _moment(_text(entity, "lastUpdated", "entity"))
    # Legacy events carry no id: derive one that a redelivery of the same event reproduces.
    key = "|".join((realm_id, name, entity_id, operation, occurred_at.isoformat()))
    event_id = "legacy-" + hashlib.sha256(key.encode()).hexdigest()[:32]
    return EntityChange(event_id, realm_id, name, entity_id, operation, occurred_at)


def _text(obj: dict[str, Any], key: str, what: str) -> str:
    value = obj.get(key)
    if not isinstance(value, str | int) or isinstance(value, bool) or str(value) == "":
        raise ValueError(f"A {what} lacks its {key!r} field.")
    return str(value)


def _moment(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"{text!r} is not an ISO 8601 time.") from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
