"""The client's operations against qbo_sandbox: CRUD, query, paging, batch, CDC, preferences."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from invoicebridge.qbo.client import QboClient, batch_error
from invoicebridge.qbo.errors import DuplicateName, ObjectNotFound


def rid() -> str:
    return uuid.uuid4().hex


def an_invoice(client: QboClient) -> dict[str, Any]:
    customer = client.query("SELECT * FROM Customer WHERE DisplayName = 'Cool Cars'")["Customer"][0]
    item = client.query("SELECT * FROM Item WHERE Sku = 'SRV-DESIGN'")["Item"][0]
    line = {
        "Amount": Decimal("150.50"),
        "DetailType": "SalesItemLineDetail",
        "SalesItemLineDetail": {"ItemRef": {"value": item["Id"]}, "Qty": 2, "UnitPrice": Decimal("75.25")},
    }
    return {"CustomerRef": {"value": customer["Id"]}, "Line": [line], "PrivateNote": "from a test"}


def test_create_then_read_keeps_amounts_as_decimal(client: QboClient) -> None:
    made = client.create("Invoice", an_invoice(client), request_id=rid())

    read = client.read("Invoice", made["Id"])

    assert read["Id"] == made["Id"]
    assert isinstance(read["TotalAmt"], Decimal)
    assert read["TotalAmt"] == Decimal("150.50")


def test_create_needs_a_request_id(client: QboClient) -> None:
    with pytest.raises(ValueError, match="request_id"):
        client.create("Customer", {"DisplayName": "No id"}, request_id="")


def test_the_same_request_id_creates_once(client: QboClient) -> None:
    request_id = rid()

    first = client.create("Customer", {"DisplayName": "Once Only"}, request_id=request_id)
    second = client.create("Customer", {"DisplayName": "Once Only"}, request_id=request_id)

    assert first["Id"] == second["Id"]
    assert len(client.query_all("Customer", "DisplayName = 'Once Only'")) == 1


def test_full_and_sparse_update_move_the_sync_token(client: QboClient) -> None:
    made = client.create("Customer", {"DisplayName": "Updatable"}, request_id=rid())

    full = client.update("Customer", {**made, "CompanyName": "Updatable Inc"})
    sparse = client.sparse_update("Customer", full["Id"], full["SyncToken"], {"Notes": "sparse"}, request_id=rid())

    assert int(full["SyncToken"]) == int(made["SyncToken"]) + 1
    assert sparse["CompanyName"] == "Updatable Inc"
    assert sparse["Notes"] == "sparse"


def test_delete_makes_the_invoice_unreadable(client: QboClient) -> None:
    made = client.create("Invoice", an_invoice(client), request_id=rid())

    deleted = client.delete("Invoice", made["Id"], made["SyncToken"])

    assert deleted["status"] == "Deleted"
    with pytest.raises(ObjectNotFound):
        client.read("Invoice", made["Id"])


def test_void_zeroes_the_invoice(client: QboClient) -> None:
    made = client.create("Invoice", an_invoice(client), request_id=rid())

    voided = client.void("Invoice", made["Id"], made["SyncToken"], request_id=rid())

    assert voided["Id"] == made["Id"]
    assert client.read("Invoice", made["Id"])["TotalAmt"] == 0


def test_query_without_matches_has_no_entity_key(client: QboClient) -> None:
    found = client.query("SELECT * FROM Customer WHERE DisplayName = 'Nobody At All'")

    assert "Customer" not in found


def test_query_all_pages_through_every_match(client: QboClient) -> None:
    for n in range(7):
        client.create("Customer", {"DisplayName": f"Paged {n}"}, request_id=rid())

    found = client.query_all("Customer", "WHERE DisplayName LIKE 'Paged%'", page=3)

    assert sorted(c["DisplayName"] for c in found) == [f"Paged {n}" for n in range(7)]
    assert len({c["Id"] for c in found}) == 7


def test_query_all_with_an_exact_page_multiple(client: QboClient) -> None:
    for n in range(4):
        client.create("Customer", {"DisplayName": f"Even {n}"}, request_id=rid())

    assert len(client.query_all("Customer", "DisplayName LIKE 'Even%'", page=2)) == 4


def test_batch_items_succeed_or_fail_one_by_one(client: QboClient) -> None:
    client.create("Customer", {"DisplayName": "Taken"}, request_id=rid())
    items: list[dict[str, Any]] = [
        {"bId": "1", "operation": "create", "Customer": {"DisplayName": "Batch New"}},
        {"bId": "2", "operation": "create", "Customer": {"DisplayName": "Taken"}},
        {"bId": "3", "Query": "SELECT * FROM Customer WHERE DisplayName = 'Taken'"},
    ]

    answers = {item["bId"]: item for item in client.batch(items, request_id=rid())}

    assert answers["1"]["Customer"]["DisplayName"] == "Batch New"
    assert batch_error(answers["1"]) is None
    assert isinstance(batch_error(answers["2"]), DuplicateName)
    assert answers["3"]["QueryResponse"]["Customer"][0]["DisplayName"] == "Taken"


def test_batch_refuses_more_than_thirty_items(client: QboClient) -> None:
    items = [{"bId": str(n), "Query": "SELECT * FROM Term"} for n in range(31)]

    with pytest.raises(ValueError, match="30"):
        client.batch(items)


def test_cdc_reports_changes_and_deletions(client: QboClient) -> None:
    since = datetime.now(UTC) - timedelta(minutes=1)
    kept = client.create("Invoice", an_invoice(client), request_id=rid())
    gone = client.create("Invoice", an_invoice(client), request_id=rid())
    client.delete("Invoice", gone["Id"], gone["SyncToken"])

    changes = client.cdc(["Invoice", "Customer"], since)

    invoices = {row["Id"]: row for row in changes["Invoice"]}
    assert invoices[kept["Id"]].get("status") != "Deleted"
    assert invoices[gone["Id"]]["status"] == "Deleted"
    assert all(row.get("status") != "Deleted" for row in changes["Customer"])


def test_cdc_needs_an_aware_time(client: QboClient) -> None:
    with pytest.raises(ValueError, match="aware"):
        client.cdc(["Invoice"], datetime(2026, 1, 1))


def test_preferences_and_company_info(client: QboClient) -> None:
    preferences = client.preferences()
    info = client.company_info()

    assert preferences["SalesFormsPrefs"]["CustomTxnNumbers"] is False
    assert info["CompanyName"] == "Test Co"
