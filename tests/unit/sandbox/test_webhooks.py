"""WebhookDispatcher against a real local HTTP receiver: signatures, formats, batching, retries, duplicates."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
from tests.webhook_receiver import Receiver

from qbo_sandbox.oauth import App, OAuthRegistry
from qbo_sandbox.webhooks import WebhookDispatcher

WHEN = datetime(2026, 1, 5, 14, 42, 19, 179000, tzinfo=UTC)


@dataclass(frozen=True)
class ChangeEvent:  # the fields of backend.ChangeEvent
    realm_id: str
    entity: str
    entity_id: str
    operation: str
    when: datetime


@pytest.fixture
def registry() -> OAuthRegistry:
    return OAuthRegistry()


@pytest.fixture
def dispatcher(registry: OAuthRegistry) -> Iterator[WebhookDispatcher]:
    hooks = WebhookDispatcher(registry, batch_window=0.05, retry_delays=(0.01, 0.01, 0.01))
    yield hooks
    hooks.stop()


def connected_app(registry: OAuthRegistry, url: str, *realms: str, fmt: str = "cloudevents") -> App:
    app = registry.register_app(["https://client.example/cb"], webhook_url=url, webhook_format=fmt)  # type: ignore[arg-type]
    for realm in realms:
        registry.issue_tokens(app.client_id, realm)
    return app


def expected_signature(app: App, body: bytes) -> str:
    return base64.b64encode(hmac.new(app.verifier_token.encode(), body, hashlib.sha256).digest()).decode()


def test_cloudevents_delivery_is_signed_with_the_verifier_token(
    registry: OAuthRegistry, dispatcher: WebhookDispatcher, receiver: Receiver
) -> None:
    app = connected_app(registry, receiver.url, "9130")
    dispatcher.start()
    dispatcher.notify(ChangeEvent("9130", "Invoice", "130", "Delete", WHEN))
    dispatcher.flush(timeout=10)
    [request] = receiver.requests
    assert request.headers["intuit-signature"] == expected_signature(app, request.body)
    assert request.headers["content-type"] == "application/json"
    [event] = json.loads(request.body)
    assert event["type"] == "qbo.invoice.deleted.v1"
    assert event["specversion"] == "1.0"
    assert event["source"].startswith("intuit.")
    assert (event["intuitentityid"], event["intuitaccountid"]) == ("130", "9130")
    assert event["time"] == "2026-01-05T14:42:19.179Z"
    assert event["datacontenttype"] == "application/json"
    assert event["data"] == {}


def test_legacy_format_groups_entities_per_realm(
    registry: OAuthRegistry, dispatcher: WebhookDispatcher, receiver: Receiver
) -> None:
    app = connected_app(registry, receiver.url, "9130", "4620", fmt="legacy")
    dispatcher.notify(ChangeEvent("9130", "Invoice", "1", "Create", WHEN))
    dispatcher.notify(ChangeEvent("4620", "Customer", "2", "Update", WHEN))
    dispatcher.notify(ChangeEvent("9130", "Invoice", "1", "Void", WHEN))
    dispatcher.start()
    dispatcher.flush(timeout=10)
    [request] = receiver.requests
    assert request.headers["intuit-signature"] == expected_signature(app, request.body)
    assert json.loads(request.body) == {
        "eventNotifications": [
            {
                "realmId": "9130",
                "dataChangeEvent": {
                    "entities": [
                        {
                            "name": "Invoice",
                            "id": "1",
                            "operation": "Create",
                            "lastUpdated": "2026-01-05T14:42:19.179Z",
                        },
                        {"name": "Invoice", "id": "1", "operation": "Void", "lastUpdated": "2026-01-05T14:42:19.179Z"},
                    ]
                },
            },
            {
                "realmId": "4620",
                "dataChangeEvent": {
                    "entities": [
                        {
                            "name": "Customer",
                            "id": "2",
                            "operation": "Update",
                            "lastUpdated": "2026-01-05T14:42:19.179Z",
                        }
                    ]
                },
            },
        ]
    }


def test_one_delivery_batches_events_of_several_realms(
    registry: OAuthRegistry, dispatcher: WebhookDispatcher, receiver: Receiver
) -> None:
    connected_app(registry, receiver.url, "9130", "4620")
    dispatcher.notify(ChangeEvent("9130", "Invoice", "1", "Create", WHEN))
    dispatcher.notify(ChangeEvent("4620", "Item", "7", "Merge", WHEN))
    dispatcher.start()
    dispatcher.flush(timeout=10)
    [request] = receiver.requests
    events = json.loads(request.body)
    assert [(e["intuitaccountid"], e["type"]) for e in events] == [
        ("9130", "qbo.invoice.created.v1"),
        ("4620", "qbo.item.merged.v1"),
    ]
    assert len({e["id"] for e in events}) == 2


def test_apps_hear_only_of_companies_they_are_connected_to(
    registry: OAuthRegistry, dispatcher: WebhookDispatcher, receiver: Receiver
) -> None:
    connected_app(registry, receiver.url, "9130")
    registry.register_app(["https://client.example/cb"])  # no webhook URL: never called
    dispatcher.notify(ChangeEvent("4620", "Invoice", "1", "Create", WHEN))
    dispatcher.notify(ChangeEvent("9130", "Invoice", "2", "Update", WHEN))
    dispatcher.start()
    dispatcher.flush(timeout=10)
    [request] = receiver.requests
    assert [e["intuitentityid"] for e in json.loads(request.body)] == ["2"]


def test_failed_delivery_is_retried_until_acknowledged(
    registry: OAuthRegistry, dispatcher: WebhookDispatcher, receiver: Receiver
) -> None:
    connected_app(registry, receiver.url, "9130")
    receiver.script = [500, 503]
    dispatcher.start()
    dispatcher.notify(ChangeEvent("9130", "Invoice", "1", "Create", WHEN))
    dispatcher.flush(timeout=10)
    assert len(receiver.requests) == 3
    assert len({r.body for r in receiver.requests}) == 1
    [delivery] = dispatcher.deliveries
    assert [a.status_code for a in delivery.attempts] == [500, 503, 200]
    assert delivery.status == "delivered"


def test_retries_are_bounded(registry: OAuthRegistry, dispatcher: WebhookDispatcher, receiver: Receiver) -> None:
    connected_app(registry, receiver.url, "9130")
    receiver.default = 500
    dispatcher.start()
    dispatcher.notify(ChangeEvent("9130", "Invoice", "1", "Create", WHEN))
    dispatcher.flush(timeout=10)
    [delivery] = dispatcher.deliveries
    assert delivery.status == "failed"
    assert len(delivery.attempts) == 4 == len(receiver.requests)


def test_unreachable_receiver_counts_as_a_failed_attempt(
    registry: OAuthRegistry, dispatcher: WebhookDispatcher
) -> None:
    with socket.socket() as sock:  # a port nobody listens on once closed
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    connected_app(registry, f"http://127.0.0.1:{port}/hooks", "9130")
    dispatcher.start()
    dispatcher.notify(ChangeEvent("9130", "Invoice", "1", "Create", WHEN))
    dispatcher.flush(timeout=10)
    [delivery] = dispatcher.deliveries
    assert delivery.status == "failed"
    assert all(a.error and a.status_code is None for a in delivery.attempts)


def test_a_failing_delivery_holds_back_later_ones_of_the_same_app(
    registry: OAuthRegistry, dispatcher: WebhookDispatcher, receiver: Receiver
) -> None:
    connected_app(registry, receiver.url, "9130")
    receiver.script = [500]
    dispatcher.start()
    dispatcher.notify(ChangeEvent("9130", "Invoice", "1", "Create", WHEN))
    dispatcher.flush(timeout=10)
    dispatcher.notify(ChangeEvent("9130", "Invoice", "1", "Update", WHEN))
    dispatcher.flush(timeout=10)
    types = [json.loads(r.body)[0]["type"] for r in receiver.requests]
    assert types == ["qbo.invoice.created.v1", "qbo.invoice.created.v1", "qbo.invoice.updated.v1"]


def test_duplicate_mode_sends_each_delivery_twice(
    registry: OAuthRegistry, dispatcher: WebhookDispatcher, receiver: Receiver
) -> None:
    connected_app(registry, receiver.url, "9130")
    dispatcher.configure("9130", duplicate=True)
    dispatcher.start()
    dispatcher.notify(ChangeEvent("9130", "Invoice", "1", "Create", WHEN))
    dispatcher.flush(timeout=10)
    first, second = receiver.requests
    assert first.body == second.body
    assert [d.duplicate for d in dispatcher.deliveries] == [False, True]


def test_delayed_realm_arrives_after_later_changes_of_other_realms(
    registry: OAuthRegistry, dispatcher: WebhookDispatcher, receiver: Receiver
) -> None:
    connected_app(registry, receiver.url, "9130", "4620")
    dispatcher.configure("9130", delay_seconds=0.3)
    dispatcher.start()
    dispatcher.notify(ChangeEvent("9130", "Invoice", "1", "Create", WHEN))
    dispatcher.notify(ChangeEvent("4620", "Invoice", "2", "Create", WHEN))
    dispatcher.flush(timeout=10)
    realms = [[e["intuitaccountid"] for e in json.loads(r.body)] for r in receiver.requests]
    assert realms == [["4620"], ["9130"]]


def test_flush_on_a_stopped_dispatcher_with_work_raises(registry: OAuthRegistry, receiver: Receiver) -> None:
    connected_app(registry, receiver.url, "9130")
    hooks = WebhookDispatcher(registry)
    hooks.notify(ChangeEvent("9130", "Invoice", "1", "Create", WHEN))
    with pytest.raises(RuntimeError):
        hooks.flush(timeout=1)


def test_reset_forgets_the_log_and_the_queue(
    registry: OAuthRegistry, dispatcher: WebhookDispatcher, receiver: Receiver
) -> None:
    connected_app(registry, receiver.url, "9130")
    dispatcher.start()
    dispatcher.notify(ChangeEvent("9130", "Invoice", "1", "Create", WHEN))
    dispatcher.flush(timeout=10)
    dispatcher.reset()
    assert dispatcher.deliveries == []
