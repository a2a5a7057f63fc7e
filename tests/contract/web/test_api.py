"""The JSON API: every resource, filters, stable pages, money as strings."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient


def order_body(catalog: dict[str, int], number: str, quantity: str = "2", **extra: object) -> dict[str, object]:
    row = {"variant_id": catalog["product"], "quantity": quantity, "tax_rate_id": catalog["rate"]}
    return {"number": number, "customer_id": catalog["customer"], "rows": [row], **extra}


def test_sales_order_is_created_with_defaults_and_read_back(
    api: TestClient, company: int, catalog: dict[str, int]
) -> None:
    created = api.post(f"/api/companies/{company}/sales-orders", json=order_body(catalog, "SO-1"))
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["total"] == "25.00"
    assert body["rows"][0]["unit_price"] == "12.50"
    assert body["billing_address"]["city"] == "Chicago"
    assert body["delivery_status"] == "not_shipped"
    assert body["invoice"]["status"] == "Not invoiced"
    again = api.get(f"/api/companies/{company}/sales-orders/{body['id']}").json()
    assert again == body
    assert api.get(f"/api/companies/{company}/sales-orders/by-number/SO-1").json()["id"] == body["id"]


def test_money_is_never_a_json_float(api: TestClient, company: int, catalog: dict[str, int]) -> None:
    product = api.get(f"/api/companies/{company}/products/{catalog['product']}").json()
    assert product["sales_price"] == "12.50"
    assert isinstance(product["unit_cost"], str)
    refused = api.post(f"/api/companies/{company}/products", json={"sku": "F", "name": "F", "sales_price": 1.1})
    assert refused.status_code == 422
    assert "decimal strings" in refused.json()["error"]["problems"][0]["message"]


def test_partial_and_full_deliveries_change_the_delivery_status(
    api: TestClient, company: int, catalog: dict[str, int]
) -> None:
    order = api.post(f"/api/companies/{company}/sales-orders", json=order_body(catalog, "SO-1", "3")).json()
    url = f"/api/companies/{company}/sales-orders/{order['id']}/deliveries"
    row = order["rows"][0]["id"]
    partial = api.post(url, json={"rows": [{"row_id": row, "quantity": "1"}]})
    assert partial.json()["delivery_status"] == "partially_delivered"
    full = api.post(url, json={"rows": [{"row_id": row, "quantity": "2"}], "delivered_at": "2026-03-02T10:00:00Z"})
    assert full.json()["delivery_status"] == "delivered"
    assert full.json()["delivered_at"] == "2026-03-02T10:00:00Z"
    over = api.post(url, json={"rows": [{"row_id": row, "quantity": "1"}]})
    assert over.status_code == 422
    assert "only 3 were ordered" in over.json()["error"]["problems"][0]["message"]


def test_a_delivery_listing_a_row_twice_is_refused_and_records_nothing(
    api: TestClient, company: int, catalog: dict[str, int]
) -> None:
    order = api.post(f"/api/companies/{company}/sales-orders", json=order_body(catalog, "SO-2", "3")).json()
    url = f"/api/companies/{company}/sales-orders/{order['id']}/deliveries"
    row = order["rows"][0]["id"]
    twice = api.post(url, json={"rows": [{"row_id": row, "quantity": "1"}, {"row_id": row, "quantity": "2"}]})
    assert twice.status_code == 422
    said = f"Row {row} is listed twice: give each row once, with all of it that went out in this delivery."
    assert twice.json()["error"]["problems"] == [{"field": "rows.1.row_id", "message": said}]
    again = api.get(f"/api/companies/{company}/sales-orders/{order['id']}").json()
    assert again["delivery_status"] == "not_shipped" and again["deliveries"] == []


def test_list_filters_by_delivery_customer_invoice_state_and_dates(
    api: TestClient, company: int, catalog: dict[str, int]
) -> None:
    base = f"/api/companies/{company}/sales-orders"
    early = api.post(base, json=order_body(catalog, "SO-E", created_at="2026-01-10T09:00:00-06:00")).json()
    late = api.post(base, json=order_body(catalog, "SO-L", created_at="2026-02-10T09:00:00-06:00")).json()
    api.post(f"{base}/{late['id']}/deliveries", json={"rows": [{"row_id": late["rows"][0]["id"], "quantity": "2"}]})

    def numbers(query: str) -> list[str]:
        response = api.get(f"{base}?{query}")
        assert response.status_code == 200, response.text
        return [o["number"] for o in response.json()["items"]]

    assert numbers("delivery_status=delivered") == ["SO-L"]
    assert numbers(f"customer_id={catalog['customer']}") == ["SO-E", "SO-L"]
    assert numbers("invoice_state=not_invoiced") == ["SO-E", "SO-L"]
    assert numbers("invoice_state=invoiced") == []
    assert numbers("created_from=2026-02-01T00:00:00Z") == ["SO-L"]
    assert numbers("created_to=2026-02-01T00:00:00Z") == ["SO-E"]
    assert early["id"] < late["id"]


def test_pages_are_stable_and_end_with_a_null_cursor(api: TestClient, company: int, catalog: dict[str, int]) -> None:
    base = f"/api/companies/{company}/sales-orders"
    for n in range(5):
        api.post(base, json=order_body(catalog, f"SO-{n}"))
    seen, after = [], None
    while True:
        page = api.get(base, params={"limit": 2, **({"after": after} if after else {})}).json()
        seen += [o["number"] for o in page["items"]]
        if page["next_after"] is None:
            break
        after = page["next_after"]
    assert seen == [f"SO-{n}" for n in range(5)]


def test_customer_product_and_tax_rate_can_be_updated_and_listed(
    api: TestClient, company: int, catalog: dict[str, int]
) -> None:
    base = f"/api/companies/{company}"
    customer = api.patch(f"{base}/customers/{catalog['customer']}", json={"email": "ada@new.example"}).json()
    assert (customer["email"], customer["display_name"]) == ("ada@new.example", "Ada")
    assert (
        api.patch(f"{base}/products/{catalog['product']}", json={"sales_price": "13"}).json()["sales_price"] == "13.00"
    )
    assert api.patch(f"{base}/tax-rates/{catalog['rate']}", json={"percent": "9"}).json()["percent"] == "9"
    for resource in ("customers", "products", "tax-rates"):
        assert len(api.get(f"{base}/{resource}").json()["items"]) == 1
    assert api.get("/api/companies").json()["items"][0]["name"] == "Acme"


def test_order_can_be_edited_until_it_ships(api: TestClient, company: int, catalog: dict[str, int]) -> None:
    base = f"/api/companies/{company}/sales-orders"
    order = api.post(base, json=order_body(catalog, "SO-1")).json()
    edited = api.patch(f"{base}/{order['id']}", json={"delivery_deadline": "2026-12-24"})
    assert edited.json()["delivery_deadline"] == "2026-12-24"
    assert edited.json()["rows"][0]["id"] == order["rows"][0]["id"]  # editing keeps the rows' ids
    row = {"row_id": order["rows"][0]["id"], "quantity": "1"}
    assert api.post(f"{base}/{order['id']}/deliveries", json={"rows": [row]}).status_code == 200
    locked = api.patch(f"{base}/{order['id']}", json={"delivery_deadline": "2026-12-25"})
    assert locked.status_code == 409


def test_openapi_document_lists_the_endpoints(api: TestClient) -> None:
    paths = api.get("/api/openapi.json").json()["paths"]
    assert "/api/companies/{company_id}/sales-orders" in paths
    assert "/api/companies/{company_id}/sales-orders/{order_id}/deliveries" in paths
    assert "/api/companies/{company_id}/tax-rates" in paths


@pytest.mark.postgres
def test_the_api_works_the_same_on_postgresql(postgres_url: str, tmp_path: Path) -> None:
    from tests.contract.web.conftest import client_for

    for api in client_for(postgres_url, tmp_path):
        company = api.post("/api/companies", json={"name": "P", "home_currency": "EUR", "timezone": "Europe/Paris"})
        base = f"/api/companies/{company.json()['id']}"
        customer = api.post(f"{base}/customers", json={"display_name": "Zoé"}).json()
        product = api.post(f"{base}/products", json={"sku": "S", "name": "S", "sales_price": "0.10"}).json()
        rows = [{"variant_id": product["id"], "quantity": "3"}]
        order = api.post(f"{base}/sales-orders", json={"number": "SO-1", "customer_id": customer["id"], "rows": rows})
        assert order.status_code == 201, order.text
        assert (order.json()["total"], order.json()["currency"]) == ("0.30", "EUR")
