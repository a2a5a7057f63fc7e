"""Bounds through the API (issue 9): a poison SO is refused and stores nothing; an SO has at most as many rows as a
QBO invoice takes; amounts, quantities and times are read only in their documented forms; an amount stored before
the bounds existed is still shown."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import replace
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from tests.access_support import log_in, person
from tests.contract.web.test_errors import assert_error_shape

from invoicebridge.bootstrap import Container, build
from invoicebridge.domain import OrderRow, RowInput
from invoicebridge.domain.orders import MAX_ROWS
from invoicebridge.settings import Settings
from invoicebridge.web.app import create_app


def problems(answer: Any) -> dict[str, str]:
    assert answer.status_code == 422, answer.text
    assert_error_shape(answer.json(), "validation_error")
    return {p["field"]: p["message"] for p in answer.json()["error"]["problems"]}


def order_body(catalog: dict[str, int], number: str = "SO-1", **row: object) -> dict[str, Any]:
    line = {"variant_id": catalog["product"], "quantity": "2", **row}
    return {"number": number, "customer_id": catalog["customer"], "rows": [line]}


# -- the poison SO ----------------------------------------------------------------------------------------------
def test_the_poison_order_is_refused_and_nothing_is_stored(
    api: TestClient, company: int, catalog: dict[str, int]
) -> None:
    base = f"/api/companies/{company}/sales-orders"
    poison = order_body(catalog, quantity="99999999999999", unit_price="99999999999999")
    refusal = problems(api.post(base, json=poison))
    assert set(refusal) == {"rows[1].quantity", "rows[1].unit_price"}
    assert all("too large" in message for message in refusal.values())
    listed = api.get(base)
    assert (listed.status_code, listed.json()["items"]) == (200, [])


def test_a_row_past_one_quickbooks_line_is_refused_with_its_sentence(
    api: TestClient, company: int, catalog: dict[str, int]
) -> None:
    body = order_body(catalog, quantity="100000", unit_price="100000")
    assert problems(api.post(f"/api/companies/{company}/sales-orders", json=body)) == {
        "rows[1].amount": "Quantity × price (row 1) comes to 10000000000; QuickBooks takes at most "
        "9,999,999,999.99 on one line."
    }


def test_a_product_priced_past_what_quickbooks_takes_is_refused(api: TestClient, company: int) -> None:
    body = {"sku": "BIG", "name": "Big", "sales_price": "12345678901234.5678"}
    assert set(problems(api.post(f"/api/companies/{company}/products", json=body))) == {"sales_price"}


# -- rows -------------------------------------------------------------------------------------------------------
def test_an_order_takes_as_many_rows_as_a_quickbooks_invoice(
    api: TestClient, company: int, catalog: dict[str, int]
) -> None:
    body = order_body(catalog)
    body["rows"] = body["rows"] * MAX_ROWS
    made = api.post(f"/api/companies/{company}/sales-orders", json=body)
    assert made.status_code == 201, made.text
    assert len(made.json()["rows"]) == 750
    body["rows"].append(body["rows"][0])
    assert set(problems(api.post(f"/api/companies/{company}/sales-orders", json={**body, "number": "SO-2"}))) == {
        "rows"
    }


@pytest.mark.parametrize("count", [20_000, 300_000])
def test_an_order_of_many_rows_is_refused_whole_before_its_rows_are_read(
    api: TestClient, company: int, catalog: dict[str, int], count: int
) -> None:
    body = order_body(catalog)
    body["rows"] = body["rows"] * count
    started = time.perf_counter()
    answer = api.post(f"/api/companies/{company}/sales-orders", json=body)
    print(f"{count:,} rows refused in {time.perf_counter() - started:.2f} s")  # a figure, never asserted
    if answer.status_code == 413:  # past the API's body limit (web/limits.py) before any row cap is reached
        assert_error_shape(answer.json(), "too_large")
    else:
        assert problems(answer) == {"rows": f"List should have at most 750 items after validation, not {count}."}
    assert api.get(f"/api/companies/{company}/sales-orders").json()["items"] == []


# -- written forms ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("quantity", ["1_000", "١٢", "１２", "1e3", 1.5])
def test_a_quantity_not_written_as_a_plain_decimal_is_refused(
    api: TestClient, company: int, catalog: dict[str, int], quantity: object
) -> None:
    answer = api.post(f"/api/companies/{company}/sales-orders", json=order_body(catalog, quantity=quantity))
    assert set(problems(answer)) in ({"rows[1].quantity"}, {"rows.0.quantity"})  # the domain's, or a JSON float


@pytest.mark.parametrize("price", ["1_000", "٣", "1e2"])
def test_a_price_not_written_as_a_plain_decimal_is_refused(api: TestClient, company: int, price: str) -> None:
    body = {"sku": "P", "name": "P", "sales_price": price}
    assert set(problems(api.post(f"/api/companies/{company}/products", json=body))) == {"sales_price"}


@pytest.mark.parametrize("moment", [1_700_000_000, "1700000000", 1.7e9, "2026-03-01T09:30:00", "2026-03-01"])
def test_a_time_not_written_as_iso_8601_with_a_zone_is_refused(
    api: TestClient, company: int, catalog: dict[str, int], moment: object
) -> None:
    base = f"/api/companies/{company}/sales-orders"
    assert set(problems(api.post(base, json={**order_body(catalog), "created_at": moment}))) == {"created_at"}
    assert set(problems(api.get(base, params={"created_from": moment}))) == {"created_from"}
    made = api.post(base, json=order_body(catalog, number=f"SO-{moment}"[:21])).json()
    delivery = {"rows": [{"row_id": made["rows"][0]["id"], "quantity": "1"}], "delivered_at": moment}
    assert set(problems(api.post(f"{base}/{made['id']}/deliveries", json=delivery))) == {"delivered_at"}


@pytest.mark.parametrize("day", [0, 20260301, "20260301", "2026-W09-1", "2026-03-01T00:00:00Z"])
def test_a_date_not_written_as_yyyy_mm_dd_is_refused(
    api: TestClient, company: int, catalog: dict[str, int], day: object
) -> None:
    body = {**order_body(catalog), "delivery_deadline": day}
    assert set(problems(api.post(f"/api/companies/{company}/sales-orders", json=body))) == {"delivery_deadline"}


def test_the_documented_forms_are_read(api: TestClient, company: int, catalog: dict[str, int]) -> None:
    body = {
        **order_body(catalog, quantity="1000.5", unit_price=3),
        "created_at": "2026-03-01T09:30:00-05:00",
        "delivery_deadline": "2026-03-20",
    }
    made = api.post(f"/api/companies/{company}/sales-orders", json=body)
    assert made.status_code == 201, made.text
    assert (made.json()["total"], made.json()["created_at"]) == ("3001.50", "2026-03-01T14:30:00Z")
    listed = api.get(f"/api/companies/{company}/sales-orders", params={"created_from": "2026-03-01T14:30:00Z"})
    assert [o["id"] for o in listed.json()["items"]] == [made.json()["id"]]


# -- an amount stored before the bounds -------------------------------------------------------------------------
@pytest.fixture
def container(sqlite_url: str, tmp_path: Path) -> Iterator[Container]:
    app = build(Settings(database_url=sqlite_url, data_dir=tmp_path), migrate=True)
    yield app
    app.close()


def test_an_order_stored_before_the_bounds_is_still_listed_and_shown(container: Container) -> None:
    admin = person(container, "owner@example.com")
    company = container.people.found_company(admin.id or 0, "Acme", "USD", "UTC").id or 0
    customer = container.orderbook.create_customer(company, "Ada").id
    product = container.orderbook.create_product(company, "W", "W", "1", "0").id
    made = container.orderbook.create_sales_order(company, "SO-OLD", customer, [RowInput(product, "1", "1")])
    huge = Decimal("99999999999999.9999")  # what the old validators let through
    poison = replace(made, rows=(OrderRow(made.rows[0].id, product or 0, huge, huge, None, huge),))
    with container.uow() as uow:
        uow.sales_orders.update(poison)
        uow.commit()
    with TestClient(create_app(container), raise_server_exceptions=False) as client:
        log_in(client, "owner@example.com")
        listed = client.get(f"/api/companies/{company}/sales-orders")
        shown = client.get(f"/api/companies/{company}/sales-orders/{made.id}")
    assert listed.status_code == shown.status_code == 200, shown.text
    assert Decimal(shown.json()["total"]) == huge * huge
    assert listed.json()["items"][0]["rows"][0]["unit_price"] == "99999999999999.9999"
