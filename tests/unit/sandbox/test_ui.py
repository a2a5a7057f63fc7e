"""The web UI, over an in-memory backend with the Backend methods the UI uses."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from qbo_sandbox import faults
from qbo_sandbox.ui import routes


@dataclass(frozen=True)
class Company:
    realm_id: str
    name: str
    country: str


@dataclass
class MemoryBackend:
    """Companies and objects by (realm, entity, Id); delete refuses a stale SyncToken like QBO (5010)."""

    company_list: list[Company] = field(default_factory=list)
    objects: dict[tuple[str, str, str], dict[str, Any]] = field(default_factory=dict)
    deleted: list[tuple[str, str, str]] = field(default_factory=list)

    def companies(self) -> list[Company]:
        return list(self.company_list)

    def read(self, realm_id: str, entity: str, entity_id: str) -> dict[str, Any]:
        try:
            return self.objects[(realm_id, entity, entity_id)]
        except KeyError:
            raise faults.not_found(entity, entity_id) from None

    def delete(self, realm_id: str, entity: str, body: dict[str, Any], request_id: str | None = None) -> dict[str, Any]:
        current = self.read(realm_id, entity, body["Id"])
        if current["SyncToken"] != body["SyncToken"]:
            raise faults.validation(faults.STALE_OBJECT, "Stale Object Error", "stale")
        del self.objects[(realm_id, entity, body["Id"])]
        self.deleted.append((realm_id, entity, body["Id"]))
        return {"Id": body["Id"], "status": "Deleted", "domain": "QBO"}

    def void(self, realm_id: str, entity: str, body: dict[str, Any], request_id: str | None = None) -> dict[str, Any]:
        current = self.read(realm_id, entity, body["Id"])
        if current["SyncToken"] != body["SyncToken"]:
            raise faults.validation(faults.STALE_OBJECT, "Stale Object Error", "stale")
        voided = {**current, "TotalAmt": 0, "Balance": 0, "PrivateNote": "Voided", "SyncToken": "1"}
        self.objects[(realm_id, entity, body["Id"])] = voided
        return voided

    def list_entities(self, realm_id: str, entity: str) -> list[dict[str, Any]]:
        return [obj for (realm, kind, _), obj in self.objects.items() if (realm, kind) == (realm_id, entity)]

    def add(self, realm_id: str, entity: str, obj: dict[str, Any]) -> None:
        self.objects[(realm_id, entity, obj["Id"])] = {"SyncToken": "0", **obj}


INVOICE = {
    "Id": "130",
    "DocNumber": "SO-1042",
    "TxnDate": "2026-01-05",
    "CustomerRef": {"value": "58", "name": "Amy's Bird Sanctuary"},
    "TotalAmt": 262.5,
    "Balance": 262.5,
    "CurrencyRef": {"value": "USD"},
    "Line": [
        {
            "DetailType": "SalesItemLineDetail",
            "Amount": 262.5,
            "Description": "Rock fountain",
            "SalesItemLineDetail": {"ItemRef": {"value": "5", "name": "Rock Fountain"}, "Qty": 1, "UnitPrice": 262.5},
        }
    ],
}


@pytest.fixture
def backend() -> MemoryBackend:
    memory = MemoryBackend([Company("9130", "Sandbox Company US", "US"), Company("4620", "Sandbox Company GB", "GB")])
    memory.add("9130", "Invoice", INVOICE)
    memory.add("9130", "Customer", {"Id": "58", "DisplayName": "Amy's Bird Sanctuary", "Active": True})
    memory.add("9130", "Item", {"Id": "5", "Name": "Rock Fountain", "Type": "Inventory", "QtyOnHand": 2})
    posting = {"PostingType": "Debit", "AccountRef": {"value": "1", "name": "Checking"}}
    line = {"DetailType": "JournalEntryLineDetail", "Amount": 10, "JournalEntryLineDetail": posting}
    memory.add("9130", "JournalEntry", {"Id": "7", "DocNumber": "JE-1", "Line": [line]})
    return memory


@pytest.fixture
def client(backend: MemoryBackend) -> Iterator[TestClient]:
    with TestClient(Starlette(routes=routes(backend))) as c:
        yield c


def test_companies_index_lists_every_company(client: TestClient) -> None:
    page = client.get("/app")
    assert "Sandbox Company US" in page.text
    assert "/app/invoices?realmId=4620" in page.text


def test_invoice_list_links_to_the_stable_invoice_url(client: TestClient) -> None:
    page = client.get("/app/invoices", params={"realmId": "9130"})
    assert "SO-1042" in page.text
    assert "/app/invoice?txnId=130&amp;realmId=9130" in page.text


def test_invoice_page_shows_customer_total_and_lines(client: TestClient) -> None:
    page = client.get("/app/invoice", params={"txnId": "130", "realmId": "9130"})
    assert page.status_code == 200
    assert "Amy&#39;s Bird Sanctuary" in page.text
    assert "262.5" in page.text
    assert "Rock Fountain" in page.text


def test_delete_button_deletes_through_the_backend(client: TestClient, backend: MemoryBackend) -> None:
    response = client.post("/app/invoice/delete", data={"txnId": "130", "realmId": "9130"}, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/app/invoices?realmId=9130"
    assert backend.deleted == [("9130", "Invoice", "130")]
    assert client.get("/app/invoice", params={"txnId": "130", "realmId": "9130"}).status_code == 404


def test_void_button_voids_through_the_backend_and_shows_the_invoice_again(
    client: TestClient, backend: MemoryBackend
) -> None:
    assert 'action="/app/invoice/void"' in client.get("/app/invoice", params={"txnId": "130", "realmId": "9130"}).text
    response = client.post("/app/invoice/void", data={"txnId": "130", "realmId": "9130"}, follow_redirects=False)
    assert (response.status_code, response.headers["location"]) == (303, "/app/invoice?realmId=9130&txnId=130")
    assert backend.read("9130", "Invoice", "130")["PrivateNote"] == "Voided"
    page = client.get("/app/invoice", params={"txnId": "130", "realmId": "9130"})
    assert "Voided" in page.text and 'action="/app/invoice/void"' not in page.text


def test_journal_entry_page_shows_postings(client: TestClient) -> None:
    page = client.get("/app/journal", params={"txnId": "7", "realmId": "9130"})
    assert "Checking" in page.text
    assert "Debit" in page.text


@pytest.mark.parametrize(
    ("path", "text"), [("/app/customers", "Amy&#39;s Bird Sanctuary"), ("/app/items", "Inventory")]
)
def test_customer_and_item_lists(client: TestClient, path: str, text: str) -> None:
    assert text in client.get(path, params={"realmId": "9130"}).text


def test_unknown_invoice_or_company_is_a_404_page(client: TestClient) -> None:
    assert client.get("/app/invoice", params={"txnId": "999", "realmId": "9130"}).status_code == 404
    assert client.get("/app/invoices", params={"realmId": "1"}).status_code == 404


def test_without_realm_id_the_only_company_is_used(backend: MemoryBackend) -> None:
    backend.company_list = backend.company_list[:1]
    with TestClient(Starlette(routes=routes(backend))) as client:
        assert "SO-1042" in client.get("/app/invoice", params={"txnId": "130"}).text


def test_without_realm_id_and_several_companies_the_page_asks_which(client: TestClient) -> None:
    page = client.get("/app/invoice", params={"txnId": "130"})
    assert page.status_code == 400
    assert "realmId" in page.text


def test_credit_memo_pages_list_show_and_delete_at_qbos_path(client: TestClient, backend: MemoryBackend) -> None:
    memo = {**INVOICE, "Id": "131", "DocNumber": "SO-1042-R1", "CustomerMemo": {"value": "Return of SO-1042"},
            "RemainingCredit": 262.5}  # fmt: skip
    backend.add("9130", "CreditMemo", memo)
    listed = client.get("/app/creditmemos", params={"realmId": "9130"})
    assert "SO-1042-R1" in listed.text and "/app/creditmemo?txnId=131&amp;realmId=9130" in listed.text
    page = client.get("/app/creditmemo", params={"txnId": "131", "realmId": "9130"})
    assert page.status_code == 200
    assert "Return of SO-1042" in page.text and "Rock Fountain" in page.text
    done = client.post("/app/creditmemo/delete", data={"txnId": "131", "realmId": "9130"}, follow_redirects=False)
    assert (done.status_code, done.headers["location"]) == (303, "/app/creditmemos?realmId=9130")
    assert backend.deleted == [("9130", "CreditMemo", "131")]


def test_invoice_page_calls_qbos_shipping_line_shipping(client: TestClient, backend: MemoryBackend) -> None:
    shipping = {"ItemRef": {"value": "SHIPPING_ITEM_ID"}, "TaxCodeRef": {"value": "NON"}}
    line = {"DetailType": "SalesItemLineDetail", "Amount": 9.75, "SalesItemLineDetail": shipping}
    backend.add("9130", "Invoice", {**INVOICE, "Id": "131", "Line": [*INVOICE["Line"], line]})  # type: ignore[list-item]
    page = client.get("/app/invoice", params={"txnId": "131", "realmId": "9130"})
    assert page.status_code == 200
    assert "<td>Shipping</td>" in page.text and "9.75" in page.text  # the line names no item: called as QBO does
