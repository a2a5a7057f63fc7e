"""A payment changes its invoice, and QBO reports the invoice as changed: the Balance a Payment moves shows in CDC (the
invoice updated, its SyncToken moved on) and in a selected-fields query, and deleting the payment does the same in
reverse. Clients that track payment status read balances this way (invoicebridge's sync/payments.py); the webhook
side (an `invoice.updated` event after each payment) is in test_entities_more.py."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest
from tests.contract.qbo.conftest import Recorder, connect, make_client
from tests.contract.sandbox.test_entities_more import Names, sales

from invoicebridge.qbo.client import QboClient


@pytest.fixture
def client(control: httpx.Client) -> Iterator[QboClient]:
    company = connect(control)
    with httpx.Client(timeout=10) as http:
        yield make_client(company, http, Recorder())


def _pay(client: QboClient, names: Names, invoice_id: str, amount: str) -> dict[str, Any]:
    line = {"Amount": amount, "LinkedTxn": [{"TxnId": invoice_id, "TxnType": "Invoice"}]}
    body = {"CustomerRef": names.customer(), "TotalAmt": amount, "Line": [line]}
    return client.create("Payment", body, request_id=f"echo-pay-{invoice_id}-{amount}")


def _changed(client: QboClient, since: datetime) -> dict[str, dict[str, Any]]:
    return {str(i["Id"]): i for i in client.cdc(["Invoice", "Payment"], since).get("Invoice", [])}


def test_a_payment_reports_its_invoice_changed_in_cdc_with_the_new_balance(client: QboClient) -> None:
    names = Names(client)
    sale = client.create("Invoice", {"CustomerRef": names.customer(), "Line": sales(names, "300")}, request_id="e1")
    # after the invoice was made (QBO's own clock): only what the payment changes can bring it back
    since = datetime.fromisoformat(sale["MetaData"]["CreateTime"]) + timedelta(seconds=1)
    time.sleep(1.2)
    payment = _pay(client, names, sale["Id"], "120")
    changed = _changed(client, since)
    assert sale["Id"] in changed
    assert Decimal(str(changed[sale["Id"]]["Balance"])) == 180
    assert int(changed[sale["Id"]]["SyncToken"]) > int(sale["SyncToken"])
    found = client.query(f"select Id, Balance, TotalAmt, SyncToken from Invoice where Id in ('{sale['Id']}')")
    (row,) = found["Invoice"]
    assert (Decimal(str(row["Balance"])), Decimal(str(row["TotalAmt"]))) == (180, 300)
    client.delete("Payment", payment["Id"], payment["SyncToken"])
    after = _changed(client, since)
    assert Decimal(str(after[sale["Id"]]["Balance"])) == 300
    assert int(after[sale["Id"]]["SyncToken"]) > int(changed[sale["Id"]]["SyncToken"])
