"""Shared helpers of the sandbox contract tests (entities, rules, query, batch/CDC/requestid): assertions on
QBO's response shapes and builders of the objects the tests create over HTTP."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import httpx
from tests.contract.sandbox.conftest import Qbo


def ok(response: httpx.Response, entity: str) -> dict[str, Any]:
    """The object of a 200 answer ``{"<entity>": {...}, "time": ...}``."""
    assert response.status_code == 200, response.text
    body = response.json()
    assert "time" in body
    found: dict[str, Any] = body[entity]
    return found


def fault(
    response: httpx.Response, status: int, code: str, fault_type: str = "ValidationFault", element: str | None = None
) -> dict[str, Any]:
    """Assert a QBO Fault (status, type, code; element when given) and return its first Error entry."""
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"Fault", "time"}, body
    assert body["Fault"]["type"] == fault_type, body
    error: dict[str, Any] = body["Fault"]["Error"][0]
    assert error["code"] == code, body
    assert error["Message"], body
    if element is not None:
        assert error["element"] == element, body
    return error


def money(value: object) -> Decimal:
    return Decimal(str(value))


def find_id(qbo: Qbo, entity: str, field: str, value: str) -> str:
    rows = qbo.rows(f"select * from {entity} where {field} = '{value}'")
    assert len(rows) == 1, rows
    return str(rows[0]["Id"])


def account_id(qbo: Qbo, name: str) -> str:
    return find_id(qbo, "Account", "Name", name)


def term_id(qbo: Qbo, name: str) -> str:
    return find_id(qbo, "Term", "Name", name)


def create(qbo: Qbo, entity: str, body: dict[str, Any]) -> dict[str, Any]:
    return ok(qbo.post(entity.lower(), json=body), entity)


def customer(qbo: Qbo, name: str, **extra: Any) -> dict[str, Any]:
    return create(qbo, "Customer", {"DisplayName": name, **extra})


def service_item(qbo: Qbo, name: str, price: str = "100", **extra: Any) -> dict[str, Any]:
    body = {
        "Name": name,
        "Type": "Service",
        "UnitPrice": price,
        "IncomeAccountRef": {"value": account_id(qbo, "Services")},
    }
    return create(qbo, "Item", {**body, **extra})


def inventory_item(qbo: Qbo, name: str, qty: str = "10", price: str = "15") -> dict[str, Any]:
    return create(
        qbo,
        "Item",
        {
            "Name": name,
            "Type": "Inventory",
            "UnitPrice": price,
            "IncomeAccountRef": {"value": account_id(qbo, "Sales of Product Income")},
            "AssetAccountRef": {"value": account_id(qbo, "Inventory Asset")},
            "ExpenseAccountRef": {"value": account_id(qbo, "Cost of Goods Sold")},
            "QtyOnHand": qty,
            "InvStartDate": "2025-01-01",
        },
    )


def sales_line(item_id: str, qty: str = "1", price: str = "100", **detail: Any) -> dict[str, Any]:
    return {
        "DetailType": "SalesItemLineDetail",
        "Amount": str(money(qty) * money(price)),
        "SalesItemLineDetail": {"ItemRef": {"value": item_id}, "Qty": qty, "UnitPrice": price, **detail},
    }


def invoice_body(customer_id: str, *lines: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"CustomerRef": {"value": customer_id}, "Line": list(lines), **extra}


def invoice(qbo: Qbo, customer_id: str, *lines: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return create(qbo, "Invoice", invoice_body(customer_id, *lines, **extra))


def count(qbo: Qbo, entity: str) -> int:
    response = qbo.query(f"select count(*) from {entity}")
    assert response.status_code == 200, response.text
    return int(response.json()["QueryResponse"]["totalCount"])
