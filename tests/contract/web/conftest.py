"""The API over a real store (SQLite by default, PostgreSQL for the marked tests), through FastAPI's TestClient."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from tests.access_support import log_in, person

from invoicebridge.bootstrap import Container, build
from invoicebridge.domain import RowInput
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


@dataclass
class Book:
    """Two companies; company A has one of everything so every path can name a real object of A."""

    app: Container
    web: FastAPI
    a: int
    b: int
    ids: dict[str, int | str]


@pytest.fixture
def book(tmp_path: Path) -> Iterator[Book]:
    app = build(Settings(data_dir=tmp_path), migrate=True)
    admin = person(app, "admin@a.example")
    a = app.people.found_company(admin.id or 0, "A", "USD", "America/Chicago").id or 0
    b = app.people.found_company(person(app, "admin@b.example").id or 0, "B", "EUR", "Europe/Paris").id or 0
    member = person(app, "member@a.example", a, "member")
    customer = app.orderbook.create_customer(a, "Ada", "ada@example.com")
    product = app.orderbook.create_product(a, "WID-1", "Widget", "12.50", "4.10")
    rate = app.orderbook.create_tax_rate(a, "Tax", "8.25")
    order = app.orderbook.create_sales_order(a, "SO-1", customer.id, [RowInput(product.id, "2", None, rate.id)])
    token = app.api_tokens.create(a, "existing", "member", admin.id)
    run = app.bulk_runs.record(a, [order.id or 0], "admin@a.example")
    ids: dict[str, int | str] = {
        "company_id": a, "customer_id": customer.id or 0, "product_id": product.id or 0, "rate_id": rate.id or 0,
        "order_id": order.id or 0, "row_id": order.rows[0].id or 0, "number": order.number,
        "user_id": member.id or 0, "token_id": token.token.id or 0, "run_id": run.id or 0,
    }  # fmt: skip
    yield Book(app, create_app(app), a, b, ids)
    app.close()


# The web app's screens are tested against a served world (a company connected to a sandbox company).
from tests.contract.invoicing.conftest import make_world  # noqa: E402, F401  (a fixture)
