"""Ids out of range (issue 9, item 6): 2⁶³, 2⁶⁴ and -1 in any path, query or body answer 404 or 422 in the one
error shape, never 500 — SQLite cannot even compare an integer past 64 bits (OverflowError) — and change nothing.

The routes are read from the app's router, so a new route with an id is covered without being listed here."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from tests.access_support import log_in, person
from tests.contract.web.test_access_matrix import routes, snapshot
from tests.contract.web.test_errors import assert_error_shape

from invoicebridge.bootstrap import Container, build
from invoicebridge.domain import RowInput
from invoicebridge.settings import Settings
from invoicebridge.web.app import create_app

BAD_IDS = [2**63, 2**64, -1]
C = "/api/companies/{company_id}"
PARAM = re.compile(r"{(\w+)}")


@dataclass
class Book:
    app: Container
    client: TestClient
    ids: dict[str, int | str]


@pytest.fixture
def book(tmp_path: Path) -> Iterator[Book]:
    """A company with one of everything, and its admin logged in; every path can name a real object."""
    app = build(Settings(data_dir=tmp_path), migrate=True)
    admin = person(app, "admin@a.example")
    company = app.people.found_company(admin.id or 0, "A", "USD", "America/Chicago").id or 0
    member = person(app, "member@a.example", company, "member")
    customer = app.orderbook.create_customer(company, "Ada", "ada@example.com")
    product = app.orderbook.create_product(company, "WID-1", "Widget", "12.50", "4.10")
    rate = app.orderbook.create_tax_rate(company, "Tax", "8.25")
    order = app.orderbook.create_sales_order(company, "SO-1", customer.id, [RowInput(product.id, "2", None, rate.id)])
    token = app.api_tokens.create(company, "existing", "member", admin.id)
    ids: dict[str, int | str] = {
        "company_id": company, "customer_id": customer.id or 0, "product_id": product.id or 0,
        "rate_id": rate.id or 0, "order_id": order.id or 0, "row_id": order.rows[0].id or 0, "number": order.number,
        "user_id": member.id or 0, "token_id": token.token.id or 0,
    }  # fmt: skip
    with TestClient(create_app(app), raise_server_exceptions=False) as client:
        log_in(client, "admin@a.example")
        yield Book(app, client, ids)
    app.close()


def bodies(book: Book) -> dict[tuple[str, str], dict[str, Any]]:
    """A valid body for each route that takes one, so that only the id under test is wrong."""
    row = {"variant_id": book.ids["product_id"], "quantity": "1", "tax_rate_id": book.ids["rate_id"]}
    order = {"number": "SO-X", "customer_id": book.ids["customer_id"], "rows": [row]}
    delivery = {"rows": [{"row_id": book.ids["row_id"], "quantity": "1"}]}
    return {
        ("PATCH", f"{C}/customers/{{customer_id}}"): {"display_name": "Changed"},
        ("PATCH", f"{C}/products/{{product_id}}"): {"name": "Changed"},
        ("PATCH", f"{C}/tax-rates/{{rate_id}}"): {"name": "Changed"},
        ("POST", f"{C}/sales-orders"): order,
        ("PATCH", f"{C}/sales-orders/{{order_id}}"): order,
        ("POST", f"{C}/sales-orders/{{order_id}}/deliveries"): delivery,
        ("POST", f"{C}/invoices"): {"sales_order_ids": [book.ids["order_id"]]},
        ("PUT", f"{C}/qbo/settings"): {"revenue_account_id": "1", "tax_mapping": {str(book.ids["rate_id"]): "TAX"}},
    }  # fmt: skip


def refused(book: Book, method: str, url: str, body: Any = None) -> None:
    answer = book.client.request(method, url, json=body, follow_redirects=False)
    assert answer.status_code in (404, 422), (method, url, body, answer.status_code, answer.text)
    assert_error_shape(answer.json(), "not_found" if answer.status_code == 404 else "validation_error")


def id_routes(book: Book) -> list[tuple[str, str, str]]:
    """(method, path, id parameter) for every API route with an id in its path."""
    return [
        (method, path, name)
        for method, path in routes(book.client.app)  # type: ignore[arg-type]
        if path.startswith("/api/")
        for name in PARAM.findall(path)
        if name.endswith("_id")
    ]


def test_every_id_in_a_path_out_of_range_is_404_or_422(book: Book) -> None:
    before = snapshot(book.app)
    walked = id_routes(book)
    assert len(walked) > 30  # company ids on every company route, and the objects' own ids
    for method, path, name in walked:
        for bad in BAD_IDS:
            url = path.format(**{**book.ids, name: bad})
            refused(book, method, url, bodies(book).get((method, path)))
    assert snapshot(book.app) == before


QUERIES = [
    ("/api/companies", "after"),
    (f"{C}/customers", "after"),
    (f"{C}/products", "after"),
    (f"{C}/tax-rates", "after"),
    (f"{C}/sales-orders", "after"),
    (f"{C}/sales-orders", "customer_id"),
]


def test_every_id_in_a_query_out_of_range_is_422(book: Book) -> None:
    for path, query in QUERIES:
        for bad in BAD_IDS:
            refused(book, "GET", f"{path.format(**book.ids)}?{query}={bad}")


def body_cases(book: Book, bad: int) -> list[tuple[str, str, dict[str, Any]]]:
    """(method, path, body) with one id of a valid body replaced by `bad`."""
    good = bodies(book)
    cases: list[tuple[str, str, dict[str, Any]]] = []
    for method, path in [("POST", f"{C}/sales-orders"), ("PATCH", f"{C}/sales-orders/{{order_id}}")]:
        order = good[(method, path)]
        cases.append((method, path, {**order, "customer_id": bad}))
        for key in ("variant_id", "tax_rate_id"):
            cases.append((method, path, {**order, "rows": [{**order["rows"][0], key: bad}]}))
    cases += [
        ("POST", f"{C}/sales-orders/{{order_id}}/deliveries", {"rows": [{"row_id": bad, "quantity": "1"}]}),
        ("POST", f"{C}/invoices", {"sales_order_ids": [bad]}),
        ("POST", f"{C}/invoices", {"sales_order_ids": [book.ids["order_id"], bad]}),
        ("PUT", f"{C}/qbo/settings", {"revenue_account_id": "1", "tax_mapping": {str(bad): "TAX"}}),
    ]
    return cases


def test_every_id_in_a_body_out_of_range_is_422(book: Book) -> None:
    before = snapshot(book.app)
    for bad in BAD_IDS:
        for method, path, body in body_cases(book, bad):
            refused(book, method, path.format(**book.ids), body)
    assert snapshot(book.app) == before


def test_the_bodies_are_valid_with_good_ids(book: Book) -> None:
    """The cases above fail on their ids alone: the same bodies with good ids are taken (or stop only because
    QuickBooks is not connected)."""
    for (method, path), body in bodies(book).items():
        answer = book.client.request(method, path.format(**book.ids), json=body)
        assert answer.status_code in (200, 201, 202, 409), (method, path, answer.text)
