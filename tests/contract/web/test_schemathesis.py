"""Schemathesis over /api/openapi.json, with an admin API token of a company that has data: whatever the schema
lets a client send, the API answers below 500, and every refusal comes in the one error shape."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, given, settings
from tests.access_support import person, token_headers

from invoicebridge.bootstrap import build
from invoicebridge.domain import RowInput
from invoicebridge.settings import Settings
from invoicebridge.web.app import create_app

AUTH: dict[str, str] = {}


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FastAPI]:
    container = build(Settings(data_dir=Path(tmp_path_factory.mktemp("schemathesis"))), migrate=True)
    owner = person(container, "owner@example.com")
    company = container.people.found_company(owner.id or 0, "Acme", "USD", "America/Chicago").id or 0
    customer = container.orderbook.create_customer(company, "Ada", "ada@example.com")
    product = container.orderbook.create_product(company, "WID-1", "Widget", "12.50", "4.10")
    rate = container.orderbook.create_tax_rate(company, "Tax", "8.25")
    container.orderbook.create_sales_order(company, "SO-1", customer.id, [RowInput(product.id, "2", None, rate.id)])
    AUTH.update(token_headers(container, company, "admin"))
    yield create_app(container)
    container.close()


def test_no_input_the_schema_allows_makes_a_5xx(app: FastAPI) -> None:
    schema = schemathesis.openapi.from_asgi("/api/openapi.json", app, headers=AUTH)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) > 40
    calls = sum(_fuzz(operation) for operation in operations)
    assert calls > 10 * len(operations)  # it really sent requests


def _fuzz(operation: Any) -> int:
    """Up to 25 generated requests to one operation (derandomized: the same ones on every run)."""

    @given(case=operation.as_strategy())
    @settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True,
              database=None)  # fmt: skip
    def check(case: Any) -> None:
        sent.append(case.method)
        response = case.call(headers=AUTH)
        assert response.status_code < 500, (case.as_curl_command(), response.text[:500])
        if response.status_code >= 400:
            _assert_error_shape(response.json(), case)

    sent: list[str] = []
    check()
    return len(sent)


def _assert_error_shape(body: Any, case: Any) -> None:
    assert isinstance(body, dict) and set(body) == {"error"}, (case.as_curl_command(), body)
    assert set(body["error"]) == {"code", "message", "problems"}, body
    assert body["error"]["message"] and all(set(p) == {"field", "message"} for p in body["error"]["problems"])
