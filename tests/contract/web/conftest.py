"""The API over a real store (SQLite by default, PostgreSQL for the marked tests), through FastAPI's TestClient."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from tests.access_support import log_in, person

from invoicebridge.bootstrap import build
from invoicebridge.settings import Settings
from invoicebridge.web.app import create_app


def client_for(url: str, data_dir: Path) -> Iterator[TestClient]:
    """A client logged in as a person who creates companies (and so is their admin)."""
    container = build(Settings(database_url=url, data_dir=data_dir), migrate=True)
    with TestClient(create_app(container), raise_server_exceptions=False) as client:
        person(container, "owner@example.com")
        log_in(client, "owner@example.com")
        yield client
    container.close()


@pytest.fixture
def api(sqlite_url: str, tmp_path: Path) -> Iterator[TestClient]:
    yield from client_for(sqlite_url, tmp_path)


@pytest.fixture
def company(api: TestClient) -> int:
    response = api.post("/api/companies", json={"name": "Acme", "home_currency": "USD", "timezone": "America/Chicago"})
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


@pytest.fixture
def catalog(api: TestClient, company: int) -> dict[str, int]:
    base = f"/api/companies/{company}"
    address = {"line1": "1 Main St", "city": "Chicago"}
    customer = api.post(
        f"{base}/customers", json={"display_name": "Ada", "email": "ada@example.com", "billing_address": address}
    )
    product_body = {"sku": "WID-1", "name": "Widget", "sales_price": "12.50", "unit_cost": "4.10"}
    product = api.post(f"{base}/products", json=product_body)
    rate = api.post(f"{base}/tax-rates", json={"name": "Sales tax", "percent": "8.25"})
    assert customer.status_code == product.status_code == rate.status_code == 201
    return {"customer": customer.json()["id"], "product": product.json()["id"], "rate": rate.json()["id"]}
