"""Ids out of range (issue 9, item 6): 2⁶³, 2⁶⁴ and -1 in any path, query or body answer 404 or 422 in the one
error shape, never 500 — SQLite cannot even compare an integer past 64 bits (OverflowError) — and change nothing.

The routes are read from the app's router, so a new route with an id is covered without being listed here."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient
from tests.access_support import log_in
from tests.contract.web.conftest import Book
from tests.contract.web.test_access_matrix import routes, snapshot
from tests.contract.web.test_errors import assert_error_shape

from invoicebridge.bootstrap import Container

BAD_IDS = [2**63, 2**64, -1]
C = "/api/companies/{company_id}"
PARAM = re.compile(r"{(\w+)}")


@dataclass
class Signed:
    """The shared book (conftest), with its admin logged in."""

    app: Container
    client: TestClient
    ids: dict[str, int | str]


@pytest.fixture
def signed(book: Book) -> Iterator[Signed]:
    with TestClient(book.web, raise_server_exceptions=False) as client:
        log_in(client, "admin@a.example")
        yield Signed(book.app, client, book.ids)


def bodies(signed: Signed) -> dict[tuple[str, str], dict[str, Any]]:
    """A valid body for each route that takes one, so that only the id under test is wrong."""
    row = {"variant_id": signed.ids["product_id"], "quantity": "1", "tax_rate_id": signed.ids["rate_id"]}
    order = {"number": "SO-X", "customer_id": signed.ids["customer_id"], "rows": [row]}
    delivery = {"rows": [{"row_id": signed.ids["row_id"], "quantity": "1"}]}
    return {
        ("PATCH", f"{C}/customers/{{customer_id}}"): {"display_name": "Changed"},
        ("PATCH", f"{C}/products/{{product_id}}"): {"name": "Changed"},
        ("PATCH", f"{C}/tax-rates/{{rate_id}}"): {"name": "Changed"},
        ("POST", f"{C}/sales-orders"): order,
        ("PATCH", f"{C}/sales-orders/{{order_id}}"): order,
        ("POST", f"{C}/sales-orders/{{order_id}}/deliveries"): delivery,
        ("POST", f"{C}/invoices"): {"sales_order_ids": [signed.ids["order_id"]]},
        ("PUT", f"{C}/qbo/settings"): {"revenue_account_id": "1", "tax_mapping": {str(signed.ids["rate_id"]): "TAX"}},
    }  # fmt: skip


def refused(signed: Signed, method: str, url: str, body: Any = None) -> None:
    answer = signed.client.request(method, url, json=body, follow_redirects=False)
    assert answer.status_code in (404, 422), (method, url, body, answer.status_code, answer.text)
    assert_error_shape(answer.json(), "not_found" if answer.status_code == 404 else "validation_error")


def id_routes(signed: Signed) -> list[tuple[str, str, str]]:
    """(method, path, id parameter) for every API route with an id in its path."""
    return [
        (method, path, name)
        for method, path in routes(signed.client.app)  # type: ignore[arg-type]
        if path.startswith("/api/")
        for name in PARAM.findall(path)
        if name.endswith("_id")
    ]


def test_every_id_in_a_path_out_of_range_is_404_or_422(signed: Signed) -> None:
    before = snapshot(signed.app)
    walked = id_routes(signed)
    assert len(walked) > 30  # company ids on every company route, and the objects' own ids
    for method, path, name in walked:
        for bad in BAD_IDS:
            url = path.format(**{**signed.ids, name: bad})
            refused(signed, method, url, bodies(signed).get((method, path)))
    assert snapshot(signed.app) == before


QUERIES = [
    ("/api/companies", "after"),
    (f"{C}/customers", "after"),
    (f"{C}/products", "after"),
    (f"{C}/tax-rates", "after"),
    (f"{C}/sales-orders", "after"),
    (f"{C}/sales-orders", "customer_id"),
]


def test_every_id_in_a_query_out_of_range_is_422(signed: Signed) -> None:
    for path, query in QUERIES:
        for bad in BAD_IDS:
            refused(signed, "GET", f"{path.format(**signed.ids)}?{query}={bad}")


def body_cases(signed: Signed, bad: int) -> list[tuple[str, str, dict[str, Any]]]:
    """(method, path, body) with one id of a valid body replaced by `bad`."""
    good = bodies(signed)
    cases: list[tuple[str, str, dict[str, Any]]] = []
    for method, path in [("POST", f"{C}/sales-orders"), ("PATCH", f"{C}/sales-orders/{{order_id}}")]:
        order = good[(method, path)]
        cases.append((method, path, {**order, "customer_id": bad}))
        for key in ("variant_id", "tax_rate_id"):
            cases.append((method, path, {**order, "rows": [{**order["rows"][0], key: bad}]}))
    cases += [
        ("POST", f"{C}/sales-orders/{{order_id}}/deliveries", {"rows": [{"row_id": bad, "quantity": "1"}]}),
        ("POST", f"{C}/invoices", {"sales_order_ids": [bad]}),
        ("POST", f"{C}/invoices", {"sales_order_ids": [signed.ids["order_id"], bad]}),
        ("PUT", f"{C}/qbo/settings", {"revenue_account_id": "1", "tax_mapping": {str(bad): "TAX"}}),
    ]
    return cases


def test_every_id_in_a_body_out_of_range_is_422(signed: Signed) -> None:
    before = snapshot(signed.app)
    for bad in BAD_IDS:
        for method, path, body in body_cases(signed, bad):
            refused(signed, method, path.format(**signed.ids), body)
    assert snapshot(signed.app) == before


def test_the_bodies_are_valid_with_good_ids(signed: Signed) -> None:
    """The cases above fail on their ids alone: the same bodies with good ids are taken (or stop only because
    QuickBooks is not connected)."""
    for (method, path), body in bodies(signed).items():
        answer = signed.client.request(method, path.format(**signed.ids), json=body)
        assert answer.status_code in (200, 201, 202, 409), (method, path, answer.text)
