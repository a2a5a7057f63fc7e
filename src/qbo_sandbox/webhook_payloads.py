"""Webhook bodies as Intuit sends them (CloudEvents and legacy) and the ``intuit-signature`` over them.

CloudEvents (Intuit's format since the 2025-11-12 announcement): a JSON array of events, each
``{"specversion": "1.0", "id", "source": "intuit.<opaque>", "type": "qbo.<entity>.<verb>.v1",
"datacontenttype": "application/json", "time", "intuitentityid", "intuitaccountid", "data": {}}``.
The ``source`` suffix is opaque in Intuit's samples; the sandbox derives a stable one from the realm id.

Legacy: ``{"eventNotifications": [{"realmId", "dataChangeEvent": {"entities": [{"name", "id", "operation",
"lastUpdated"}]}}]}``, one notification per realm, events in the order they happened.

Both are signed alike: header ``intuit-signature`` = base64(HMAC-SHA256(verifier token, raw body)).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, Protocol

# QBO's operation names and the CloudEvents verbs Intuit maps them to (sample: qbo.account.created.v1).
VERBS = {"Create": "created", "Update": "updated", "Delete": "deleted", "Merge": "merged", "Void": "voided"}


class ChangeEventLike(Protocol):
    """What the dispatcher reads of ``backend.ChangeEvent`` (the core's type; not redefined here)."""

    @property
    def realm_id(self) -> str: ...
    @property
    def entity(self) -> str: ...
    @property
    def entity_id(self) -> str: ...
    @property
    def operation(self) -> str: ...
    @property
    def when(self) -> datetime: ...


def sign(verifier_token: str, body: bytes) -> str:
    """The ``intuit-signature`` header value for ``body``."""
    digest = hmac.new(verifier_token.encode(), body, hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def signature_valid(verifier_token: str, body: bytes, signature: str) -> bool:
    """Whether ``signature`` is the right one for ``body`` (constant-time comparison)."""
    return hmac.compare_digest(sign(verifier_token, body), signature)


def cloudevents_body(events: Sequence[ChangeEventLike]) -> list[dict[str, Any]]:
    """The CloudEvents array for ``events`` (a fresh ``id`` per event)."""
    return [
        {
            "specversion": "1.0",
            "id": str(uuid.uuid4()),
            "source": f"intuit.{_opaque(event.realm_id)}",
            "type": f"qbo.{event.entity.lower()}.{_verb(event.operation)}.v1",
            "datacontenttype": "application/json",
            "time": _timestamp(event.when),
            "intuitentityid": event.entity_id,
            "intuitaccountid": event.realm_id,
            "data": {},
        }
        for event in events
    ]


def legacy_body(events: Sequence[ChangeEventLike]) -> dict[str, Any]:
    """The legacy ``eventNotifications`` object: one notification per realm, first-seen order."""
    by_realm: dict[str, list[dict[str, str]]] = {}
    for event in events:
        entry = {
            "name": event.entity,
            "id": event.entity_id,
            "operation": event.operation,
            "lastUpdated": _timestamp(event.when),
        }
        by_realm.setdefault(event.realm_id, []).append(entry)
    return {
        "eventNotifications": [
            {"realmId": realm, "dataChangeEvent": {"entities": entities}} for realm, entities in by_realm.items()
        ]
    }


def encode(body: object) -> bytes:
    """The exact bytes sent (and signed)."""
    return json.dumps(body, separators=(",", ":")).encode()


def _verb(operation: str) -> str:
    return VERBS.get(operation, operation.lower())


def _timestamp(moment: datetime) -> str:
    """``2026-01-05T14:42:19.179Z`` (UTC, milliseconds), as in Intuit's samples."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _opaque(realm_id: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(realm_id.encode()).digest()[:18]).decode()
