"""Helpers of the sandbox's serving contract tests (control, injection, throttle, webhooks, OAuth, persistence):
QBO Fault assertions and an invoice to create over HTTP."""

from __future__ import annotations

from typing import Any

import httpx
from tests.contract.sandbox.conftest import Qbo

THROTTLE_MESSAGE = "message=ThrottleExceeded; errorCode=003001; statusCode=429"


def assert_fault(response: httpx.Response, status: int, fault_type: str, code: str) -> dict[str, Any]:
    """A QBO Fault body with exactly one Error entry of ``code``; returns that entry."""
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"Fault", "time"}, body
    assert body["Fault"]["type"] == fault_type, body
    assert len(body["Fault"]["Error"]) == 1, body
    error: dict[str, Any] = body["Fault"]["Error"][0]
    assert error["code"] == code, body
    return error


def assert_throttled(response: httpx.Response) -> None:
    """HTTP 429 with QBO's throttling Fault (code 003001) and a Retry-After of whole seconds ≥ 1."""
    error = assert_fault(response, 429, "ThrottleExceeded", "003001")
    assert error == {"Message": THROTTLE_MESSAGE, "Detail": "The request limit was reached.", "code": "003001",
                     "element": ""}  # fmt: skip
    assert int(response.headers["retry-after"]) >= 1


def invoice_body(qbo: Qbo, amount: int = 75, tax_code: str | None = None) -> dict[str, Any]:
    """An invoice for the company's first customer and first item (needs sample data); outside the US, lines
    need ``tax_code`` (a TaxCode's name)."""
    customer = qbo.rows("select * from Customer")[0]["Id"]
    item = qbo.rows("select * from Item")[0]["Id"]
    line: dict[str, Any] = {"ItemRef": {"value": item}, "Qty": 1, "UnitPrice": amount}
    if tax_code is not None:
        line["TaxCodeRef"] = {"value": qbo.rows(f"select * from TaxCode where Name = '{tax_code}'")[0]["Id"]}
    return {
        "CustomerRef": {"value": customer},
        "Line": [{"Amount": amount, "DetailType": "SalesItemLineDetail", "SalesItemLineDetail": line}],
    }


def create_invoice(qbo: Qbo, body: dict[str, Any]) -> dict[str, Any]:
    made = qbo.post("invoice", json=body)
    assert made.status_code == 200, made.text
    invoice: dict[str, Any] = made.json()["Invoice"]
    return invoice


def count(qbo: Qbo, entity: str) -> int:
    response = qbo.query(f"select count(*) from {entity}")
    assert response.status_code == 200, response.text
    return int(response.json()["QueryResponse"]["totalCount"])
