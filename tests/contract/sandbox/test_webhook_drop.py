"""Webhooks lost on demand: a company set to `drop` sends none of its changes while the setting holds (other
companies' still go out), CDC still reports them, and turning it off brings webhooks back."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from tests.contract.sandbox.conftest import Qbo, connect
from tests.contract.sandbox.serving_support import create_invoice, invoice_body
from tests.webhook_receiver import Receiver, running_receiver


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with running_receiver() as state:
        yield state


def _hooked(control: httpx.Client, url: str) -> tuple[Qbo, Qbo]:
    """One app connected to two companies, its webhooks pointed at `url` once their setup events are out."""
    lost = connect(control)
    other = control.post("/_sandbox/companies", json={"name": "Other Co"}).json()
    tokens = control.post("/_sandbox/tokens", json={"client_id": lost.app["client_id"], "realm_id": other["realm_id"]})
    kept = Qbo(control, lost.app, other, tokens.json())
    control.post("/_sandbox/webhooks/flush", json={"timeout": 10}).raise_for_status()
    control.patch(f"/_sandbox/apps/{lost.app['client_id']}", json={"webhook_url": url}).raise_for_status()
    return lost, kept


def _announced(control: httpx.Client, receiver: Receiver) -> list[tuple[str, str]]:
    control.post("/_sandbox/webhooks/flush", json={"timeout": 10}).raise_for_status()
    return [(e["intuitaccountid"], e["intuitentityid"]) for r in receiver.received() for e in json.loads(r.body)]


def test_a_dropping_company_sends_no_webhooks_but_cdc_still_reports_its_changes(
    control: httpx.Client, receiver: Receiver
) -> None:
    lost, kept = _hooked(control, receiver.url)
    answer = control.put(f"/_sandbox/companies/{lost.realm_id}/webhooks", json={"drop": True})
    assert answer.json() == {"duplicate": False, "delay_seconds": 0, "drop": True}
    since = (datetime.now(UTC) - timedelta(minutes=1)).isoformat()
    unseen = create_invoice(lost, invoice_body(lost))
    seen = create_invoice(kept, invoice_body(kept))
    assert _announced(control, receiver) == [(kept.realm_id, seen["Id"])]
    changed = lost.get("cdc", entities="Invoice", changedSince=since).json()
    ids = [i["Id"] for r in changed["CDCResponse"][0]["QueryResponse"] for i in r.get("Invoice", [])]
    assert unseen["Id"] in ids  # the change is in QBO; only its notification is lost


def test_turning_drop_off_brings_webhooks_back_for_new_changes_only(control: httpx.Client, receiver: Receiver) -> None:
    lost, _ = _hooked(control, receiver.url)
    control.put(f"/_sandbox/companies/{lost.realm_id}/webhooks", json={"drop": True}).raise_for_status()
    create_invoice(lost, invoice_body(lost))
    control.put(f"/_sandbox/companies/{lost.realm_id}/webhooks", json={"drop": False}).raise_for_status()
    after = create_invoice(lost, invoice_body(lost))
    assert _announced(control, receiver) == [(lost.realm_id, after["Id"])]  # a dropped change is never sent late
