"""Webhooks over real HTTP: API and web-UI changes reach a real receiver, signed, in CloudEvents or legacy
format, batched across companies, retried after failures, doubled or delayed on demand."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import threading
import time
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import httpx
import pytest
from tests.contract.sandbox.conftest import Qbo, connect
from tests.contract.sandbox.serving_support import create_invoice, invoice_body
from tests.webhook_receiver import Received, Receiver, running_receiver

from qbo_sandbox.sandbox import SandboxConfig
from qbo_sandbox.server import SandboxServer
from qbo_sandbox.throttle import Limits

CLOUDEVENT_KEYS = {"specversion", "id", "source", "type", "datacontenttype", "time", "intuitentityid",
                   "intuitaccountid", "data"}  # fmt: skip
TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with running_receiver() as state:
        yield state


def _flush(control: httpx.Client) -> int:
    answer = control.post("/_sandbox/webhooks/flush", json={"timeout": 10})
    assert answer.status_code == 200, answer.text
    deliveries: int = answer.json()["deliveries"]
    return deliveries


def _hook(control: httpx.Client, qbo: Qbo, url: str, webhook_format: str = "cloudevents") -> None:
    """Point the app's webhooks at ``url``, after the company's own setup events are out of the way."""
    _flush(control)
    answer = control.patch(f"/_sandbox/apps/{qbo.app['client_id']}",
                           json={"webhook_url": url, "webhook_format": webhook_format})  # fmt: skip
    assert answer.status_code == 200, answer.text
    qbo.app = answer.json()


def _verified(received: Received, verifier_token: str) -> Any:
    """The parsed body, after checking intuit-signature = base64(HMAC-SHA256(verifier token, raw body))."""
    digest = hmac.new(verifier_token.encode(), received.body, hashlib.sha256).digest()
    assert received.headers["intuit-signature"] == base64.b64encode(digest).decode()
    assert received.headers["content-type"] == "application/json"
    assert received.path == "/hooks"
    return json.loads(received.body)


def _cloudevents(receiver: Receiver, verifier_token: str) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    for received in receiver.received():
        body = _verified(received, verifier_token)
        assert isinstance(body, list)
        events.extend(body)
    return events


def _write_invoice_life(qbo: Qbo) -> str:
    """Create, update and delete one invoice through the API; its Id."""
    made = create_invoice(qbo, invoice_body(qbo))
    updated = qbo.post("invoice", json={"Id": made["Id"], "SyncToken": made["SyncToken"], "sparse": True,
                                        "PrivateNote": "changed"})  # fmt: skip
    assert updated.status_code == 200, updated.text
    deleted = qbo.post("invoice", json={"Id": made["Id"], "SyncToken": updated.json()["Invoice"]["SyncToken"]},
                       operation="delete")  # fmt: skip
    assert deleted.status_code == 200, deleted.text
    return str(made["Id"])


def test_api_changes_arrive_as_signed_cloudevents(control: httpx.Client, receiver: Receiver) -> None:
    qbo = connect(control)
    _hook(control, qbo, receiver.url)
    invoice_id = _write_invoice_life(qbo)
    _flush(control)
    events = _cloudevents(receiver, qbo.app["verifier_token"])
    assert [event["type"] for event in events] == ["qbo.invoice.created.v1", "qbo.invoice.updated.v1",
                                                   "qbo.invoice.deleted.v1"]  # fmt: skip
    for event in events:
        assert set(event) == CLOUDEVENT_KEYS
        assert event["specversion"] == "1.0"
        assert event["datacontenttype"] == "application/json"
        assert event["intuitentityid"] == invoice_id
        assert event["intuitaccountid"] == qbo.realm_id
        assert event["data"] == {}
        assert re.fullmatch(r"intuit\.[A-Za-z0-9_-]+", event["source"])
        assert TIMESTAMP.match(event["time"])
    assert len({event["id"] for event in events}) == 3
    assert len({event["source"] for event in events}) == 1
    deliveries = control.get("/_sandbox/webhooks/deliveries").json()["deliveries"]
    assert [d["body"].encode() for d in deliveries] == [r.body for r in receiver.received()]
    assert all(d["status"] == "delivered" and d["client_id"] == qbo.app["client_id"] for d in deliveries)
    assert sum(d["event_count"] for d in deliveries) == 3


def test_legacy_format(control: httpx.Client, receiver: Receiver) -> None:
    qbo = connect(control)
    _hook(control, qbo, receiver.url, "legacy")
    invoice_id = _write_invoice_life(qbo)
    _flush(control)
    entities: list[dict[str, Any]] = []
    for received in receiver.received():
        body = _verified(received, qbo.app["verifier_token"])
        assert list(body) == ["eventNotifications"]
        for notification in body["eventNotifications"]:
            assert set(notification) == {"realmId", "dataChangeEvent"}
            assert notification["realmId"] == qbo.realm_id
            entities.extend(notification["dataChangeEvent"]["entities"])
    assert [(e["name"], e["id"], e["operation"]) for e in entities] == [
        ("Invoice", invoice_id, "Create"), ("Invoice", invoice_id, "Update"), ("Invoice", invoice_id, "Delete"),
    ]  # fmt: skip
    assert all(set(e) == {"name", "id", "operation", "lastUpdated"} and TIMESTAMP.match(e["lastUpdated"])
               for e in entities)  # fmt: skip


def test_only_connected_apps_with_a_webhook_url_are_notified(control: httpx.Client, receiver: Receiver) -> None:
    qbo = connect(control)
    stranger = control.post("/_sandbox/apps", json={"redirect_uris": [], "webhook_url": receiver.url}).json()
    silent = control.post("/_sandbox/apps", json={"redirect_uris": []}).json()  # connected, no webhook_url
    control.post(
        "/_sandbox/tokens", json={"client_id": silent["client_id"], "realm_id": qbo.realm_id}
    ).raise_for_status()
    _flush(control)
    create_invoice(qbo, invoice_body(qbo))
    assert _flush(control) == 0
    assert receiver.received() == []
    assert stranger["webhook_url"] == receiver.url


def test_changes_of_two_companies_are_batched_into_one_delivery(receiver: Receiver) -> None:
    config = SandboxConfig(limits=Limits.off(), webhook_batch_window=0.3, webhook_retry_delays=(0.05,))
    with SandboxServer(config) as server, httpx.Client(base_url=server.url, timeout=10) as control:
        first = connect(control)
        second_company = control.post("/_sandbox/companies", json={"name": "Second"}).json()
        tokens = control.post("/_sandbox/tokens", json={"client_id": first.app["client_id"],
                                                        "realm_id": second_company["realm_id"]}).json()  # fmt: skip
        second = Qbo(control, first.app, second_company, tokens)
        _hook(control, first, receiver.url)
        one = create_invoice(first, invoice_body(first))
        two = create_invoice(second, invoice_body(second))
        assert _flush(control) == 1
        (delivery,) = control.get("/_sandbox/webhooks/deliveries").json()["deliveries"]
        assert delivery["realm_ids"] == [first.realm_id, second.realm_id]
        assert delivery["event_count"] == 2
        (received,) = receiver.received()
        events = _verified(received, first.app["verifier_token"])
        assert [(e["intuitaccountid"], e["intuitentityid"], e["type"]) for e in events] == [
            (first.realm_id, one["Id"], "qbo.invoice.created.v1"),
            (second.realm_id, two["Id"], "qbo.invoice.created.v1"),
        ]


def test_legacy_batch_has_one_notification_per_company(receiver: Receiver) -> None:
    config = SandboxConfig(limits=Limits.off(), webhook_batch_window=0.3)
    with SandboxServer(config) as server, httpx.Client(base_url=server.url, timeout=10) as control:
        first = connect(control)
        second_company = control.post("/_sandbox/companies", json={"name": "Second"}).json()
        tokens = control.post("/_sandbox/tokens", json={"client_id": first.app["client_id"],
                                                        "realm_id": second_company["realm_id"]}).json()  # fmt: skip
        second = Qbo(control, first.app, second_company, tokens)
        _hook(control, first, receiver.url, "legacy")
        one = create_invoice(first, invoice_body(first))
        two = create_invoice(second, invoice_body(second))
        three = create_invoice(first, invoice_body(first, 80))
        _flush(control)
        (received,) = receiver.received()
        body = _verified(received, first.app["verifier_token"])
        notifications = body["eventNotifications"]
        assert [n["realmId"] for n in notifications] == [first.realm_id, second.realm_id]
        assert [e["id"] for e in notifications[0]["dataChangeEvent"]["entities"]] == [one["Id"], three["Id"]]
        assert [e["id"] for e in notifications[1]["dataChangeEvent"]["entities"]] == [two["Id"]]


def test_a_failed_delivery_is_retried_until_accepted(control: httpx.Client, receiver: Receiver) -> None:
    qbo = connect(control)
    _hook(control, qbo, receiver.url)
    receiver.script = [500, 503]
    create_invoice(qbo, invoice_body(qbo))
    _flush(control)
    received = receiver.received()
    assert len(received) == 3
    assert len({(r.body, r.headers["intuit-signature"]) for r in received}) == 1  # the same delivery each time
    assert received[1].at - received[0].at >= 0.05  # the session server's retry delays: 0.05 s, 0.1 s, 0.2 s
    assert received[2].at - received[1].at >= 0.1
    (delivery,) = control.get("/_sandbox/webhooks/deliveries").json()["deliveries"]
    assert delivery["status"] == "delivered"
    assert [a["status_code"] for a in delivery["attempts"]] == [500, 503, 200]
    assert [a["error"] for a in delivery["attempts"]] == [None, None, None]


def test_a_delivery_is_given_up_after_the_last_retry(control: httpx.Client, receiver: Receiver) -> None:
    qbo = connect(control)
    _hook(control, qbo, receiver.url)
    receiver.default = 500
    create_invoice(qbo, invoice_body(qbo))
    pending = control.post("/_sandbox/webhooks/flush", json={"timeout": 0.01})
    assert pending.status_code == 409
    assert pending.json() == {"error": "webhook deliveries still pending after the timeout"}
    _flush(control)
    assert len(receiver.received()) == 4  # the first try and three retries
    (delivery,) = control.get("/_sandbox/webhooks/deliveries").json()["deliveries"]
    assert delivery["status"] == "failed"
    assert [a["status_code"] for a in delivery["attempts"]] == [500] * 4


def test_an_unreachable_receiver_is_retried_and_logged(control: httpx.Client) -> None:
    qbo = connect(control)
    with running_receiver() as gone:
        url = gone.url
    _hook(control, qbo, url)
    create_invoice(qbo, invoice_body(qbo))
    _flush(control)
    (delivery,) = control.get("/_sandbox/webhooks/deliveries").json()["deliveries"]
    assert delivery["status"] == "failed"
    assert [a["status_code"] for a in delivery["attempts"]] == [None] * 4
    assert all(a["error"].startswith("ConnectError") for a in delivery["attempts"])


def test_duplicate_delivery(control: httpx.Client, receiver: Receiver) -> None:
    qbo = connect(control)
    _hook(control, qbo, receiver.url)
    configured = control.put(f"/_sandbox/companies/{qbo.realm_id}/webhooks", json={"duplicate": True})
    assert configured.status_code == 200
    assert configured.json() == {"duplicate": True, "delay_seconds": 0, "drop": False}
    create_invoice(qbo, invoice_body(qbo))
    assert _flush(control) == 2
    first, second = receiver.received()
    assert first.body == second.body
    assert first.headers["intuit-signature"] == second.headers["intuit-signature"]
    events = _cloudevents(receiver, qbo.app["verifier_token"])
    assert [e["type"] for e in events] == ["qbo.invoice.created.v1"] * 2
    assert events[0]["id"] == events[1]["id"]  # the same event, delivered twice
    deliveries = control.get("/_sandbox/webhooks/deliveries").json()["deliveries"]
    assert [d["duplicate"] for d in deliveries] == [False, True]
    assert deliveries[0]["delivery_id"] != deliveries[1]["delivery_id"]


def test_delayed_events_arrive_late_and_out_of_order(control: httpx.Client, receiver: Receiver) -> None:
    late = connect(control)
    prompt_company = control.post("/_sandbox/companies", json={"name": "Prompt"}).json()
    tokens = control.post("/_sandbox/tokens", json={"client_id": late.app["client_id"],
                                                    "realm_id": prompt_company["realm_id"]}).json()  # fmt: skip
    prompt = Qbo(control, late.app, prompt_company, tokens)
    _hook(control, late, receiver.url)
    configured = control.put(f"/_sandbox/companies/{late.realm_id}/webhooks", json={"delay_seconds": 0.6})
    assert configured.json() == {"duplicate": False, "delay_seconds": 0.6, "drop": False}
    started = time.monotonic()
    late_invoice = create_invoice(late, invoice_body(late))
    prompt_invoice = create_invoice(prompt, invoice_body(prompt))
    _flush(control)
    first, second = receiver.received()
    token = late.app["verifier_token"]
    assert [(e["intuitaccountid"], e["intuitentityid"]) for e in _verified(first, token)] == [
        (prompt.realm_id, prompt_invoice["Id"])
    ]
    assert [(e["intuitaccountid"], e["intuitentityid"]) for e in _verified(second, token)] == [
        (late.realm_id, late_invoice["Id"])
    ]
    assert second.at - started >= 0.6
    assert first.at - started < 0.6


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"duplicate": "yes"}, "duplicate must be true or false and delay_seconds a number from 0 to 86400"),
        ({"delay_seconds": "1"}, "duplicate must be true or false and delay_seconds a number from 0 to 86400"),
        ({"delay_seconds": True}, "duplicate must be true or false and delay_seconds a number from 0 to 86400"),
        ({"delay_seconds": -1}, "duplicate must be true or false and delay_seconds a number from 0 to 86400"),
        ({"delay_seconds": 1e300}, "duplicate must be true or false and delay_seconds a number from 0 to 86400"),
        ({"drop": "yes"}, "drop must be true or false"),
    ],
)
def test_webhook_settings_reject_bad_input(control: httpx.Client, body: dict[str, Any], message: str) -> None:
    qbo = connect(control, sample_data=False)
    answer = control.put(f"/_sandbox/companies/{qbo.realm_id}/webhooks", json=body)
    assert answer.status_code == 400
    assert answer.json() == {"error": message}


@pytest.mark.parametrize("timeout", [0, -1, 121, "5", True])
def test_flush_rejects_a_bad_timeout(control: httpx.Client, timeout: object) -> None:
    answer = control.post("/_sandbox/webhooks/flush", json={"timeout": timeout})
    assert answer.status_code == 400
    assert answer.json() == {"error": "timeout must be a number of seconds from 0 to 120"}


def test_deleting_an_invoice_in_the_web_ui_notifies_and_leaves_a_cdc_tombstone(
    control: httpx.Client, receiver: Receiver
) -> None:
    qbo = connect(control)
    _hook(control, qbo, receiver.url)
    since = control.post("/_sandbox/clock/advance", json={"seconds": 0}).json()["now"]
    invoice = create_invoice(qbo, invoice_body(qbo))
    page = control.get("/app/invoice", params={"realmId": qbo.realm_id, "txnId": invoice["Id"]})
    assert page.status_code == 200
    assert 'action="/app/invoice/delete"' in page.text
    deleted = control.post("/app/invoice/delete", data={"realmId": qbo.realm_id, "txnId": invoice["Id"]})
    assert deleted.status_code == 303
    assert deleted.headers["location"] == f"/app/invoices?realmId={qbo.realm_id}"
    _flush(control)
    events = _cloudevents(receiver, qbo.app["verifier_token"])
    assert [(e["type"], e["intuitentityid"]) for e in events] == [
        ("qbo.invoice.created.v1", invoice["Id"]), ("qbo.invoice.deleted.v1", invoice["Id"]),
    ]  # fmt: skip
    cdc = qbo.get("cdc", entities="Invoice", changedSince=since)
    assert cdc.status_code == 200, cdc.text
    (tombstone,) = cdc.json()["CDCResponse"][0]["QueryResponse"][0]["Invoice"]
    assert tombstone["Id"] == invoice["Id"]
    assert tombstone["status"] == "Deleted"
    assert datetime.fromisoformat(tombstone["MetaData"]["LastUpdatedTime"]) >= datetime.fromisoformat(since)
    gone = qbo.get(f"invoice/{invoice['Id']}")
    assert gone.status_code == 400
    assert qbo.rows("select * from Invoice") == []


def test_a_failing_delivery_holds_back_later_ones(control: httpx.Client, receiver: Receiver) -> None:
    qbo = connect(control)
    _hook(control, qbo, receiver.url)
    receiver.script = [500]
    first = create_invoice(qbo, invoice_body(qbo))
    deadline = time.monotonic() + 5
    while not receiver.received():  # the first delivery has been tried (and refused)
        assert time.monotonic() < deadline
        time.sleep(0.01)
    second = create_invoice(qbo, invoice_body(qbo, 90))
    _flush(control)
    ids = [[e["intuitentityid"] for e in _verified(r, qbo.app["verifier_token"])] for r in receiver.received()]
    assert ids == [[first["Id"]], [first["Id"]], [second["Id"]]]


def test_the_server_answers_while_a_flush_waits(control: httpx.Client, receiver: Receiver) -> None:
    qbo = connect(control)
    _hook(control, qbo, receiver.url)
    control.put(f"/_sandbox/companies/{qbo.realm_id}/webhooks", json={"delay_seconds": 1.0}).raise_for_status()
    create_invoice(qbo, invoice_body(qbo))
    flushed: list[float] = []

    def flush() -> None:
        with httpx.Client(base_url=str(control.base_url), timeout=10) as http:
            assert http.post("/_sandbox/webhooks/flush", json={"timeout": 5}).status_code == 200
        flushed.append(time.monotonic())

    waiter = threading.Thread(target=flush)
    waiter.start()
    time.sleep(0.2)
    started = time.monotonic()
    assert qbo.get(f"companyinfo/{qbo.realm_id}").status_code == 200
    answered = time.monotonic()
    waiter.join()
    assert answered - started < 0.5
    assert answered < flushed[0]
    assert len(receiver.received()) == 1


def test_changes_from_before_an_app_connected_are_not_sent_to_it(receiver: Receiver) -> None:
    config = SandboxConfig(limits=Limits.off(), webhook_batch_window=0.3)
    with SandboxServer(config) as server, httpx.Client(base_url=server.url, timeout=10) as control:
        app = control.post("/_sandbox/apps", json={"redirect_uris": [], "webhook_url": receiver.url}).json()
        company = control.post("/_sandbox/companies", json={"name": "Fresh"}).json()  # sample data: ~30 objects
        tokens = control.post("/_sandbox/tokens", json={"client_id": app["client_id"],
                                                        "realm_id": company["realm_id"]}).json()  # fmt: skip
        qbo = Qbo(control, app, company, tokens)
        invoice = create_invoice(qbo, invoice_body(qbo))  # within the batch window of the company's setup
        assert _flush(control) == 1
        events = _cloudevents(receiver, app["verifier_token"])
        assert [(e["type"], e["intuitentityid"]) for e in events] == [("qbo.invoice.created.v1", invoice["Id"])]


def test_a_slow_receiver_holds_back_only_its_own_app(control: httpx.Client) -> None:
    qbo = connect(control)
    with running_receiver() as slow, running_receiver() as fast:
        slow.delay = 1.0
        _hook(control, qbo, slow.url)  # the slow app is registered (and served) first
        other = control.post("/_sandbox/apps", json={"redirect_uris": [], "webhook_url": fast.url}).json()
        control.post(
            "/_sandbox/tokens", json={"client_id": other["client_id"], "realm_id": qbo.realm_id}
        ).raise_for_status()
        started = time.monotonic()
        create_invoice(qbo, invoice_body(qbo))
        assert _flush(control) == 2
        (fast_one,) = fast.received()
        (slow_one,) = slow.received()
        assert fast_one.at - started < 0.8
        assert _verified(fast_one, other["verifier_token"])[0]["type"] == "qbo.invoice.created.v1"
        assert _verified(slow_one, qbo.app["verifier_token"])[0]["type"] == "qbo.invoice.created.v1"


def test_deleting_a_journal_entry_in_the_web_ui_notifies(control: httpx.Client, receiver: Receiver) -> None:
    qbo = connect(control)
    _hook(control, qbo, receiver.url, "legacy")
    accounts = {row["Name"]: row["Id"] for row in qbo.rows("select * from Account")}
    lines = [
        {"Amount": 100, "DetailType": "JournalEntryLineDetail",
         "JournalEntryLineDetail": {"PostingType": posting, "AccountRef": {"value": accounts[name]}}}
        for posting, name in (("Debit", "Checking"), ("Credit", "Services"))
    ]  # fmt: skip
    made = qbo.post("journalentry", json={"Line": lines})
    assert made.status_code == 200, made.text
    journal_id = made.json()["JournalEntry"]["Id"]
    deleted = control.post("/app/journal/delete", data={"realmId": qbo.realm_id, "txnId": journal_id})
    assert deleted.status_code == 303
    assert deleted.headers["location"] == f"/app/journals?realmId={qbo.realm_id}"
    again = control.post("/app/journal/delete", data={"realmId": qbo.realm_id, "txnId": journal_id})
    assert again.status_code == 404
    _flush(control)
    entities = [
        (e["name"], e["id"], e["operation"])
        for received in receiver.received()
        for n in _verified(received, qbo.app["verifier_token"])["eventNotifications"]
        for e in n["dataChangeEvent"]["entities"]
    ]
    assert entities == [("JournalEntry", journal_id, "Create"), ("JournalEntry", journal_id, "Delete")]
