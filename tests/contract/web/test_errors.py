"""Every error comes in one JSON shape: {"error": {"code", "message", "problems": [{"field", "message"}]}}."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient


def assert_error_shape(body: dict[str, Any], code: str) -> None:
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "problems"}
    assert body["error"]["code"] == code
    assert body["error"]["message"]
    assert all(set(p) == {"field", "message"} for p in body["error"]["problems"])


def test_domain_refusal_is_422_validation_error_with_every_problem(
    api: TestClient, company: int, catalog: dict[str, int]
) -> None:
    body = {"number": "", "customer_id": catalog["customer"], "currency": "XXX",
            "rows": [{"variant_id": catalog["product"], "quantity": "0"}]}  # fmt: skip
    response = api.post(f"/api/companies/{company}/sales-orders", json=body)
    assert response.status_code == 422
    assert_error_shape(response.json(), "validation_error")
    fields = {p["field"] for p in response.json()["error"]["problems"]}
    assert {"number", "currency", "rows[1].quantity"} <= fields


def test_malformed_request_is_422_in_the_same_shape(api: TestClient, company: int) -> None:
    response = api.post(f"/api/companies/{company}/customers", json={"email": 3, "extra": 1})
    assert response.status_code == 422
    assert_error_shape(response.json(), "validation_error")
    fields = {p["field"] for p in response.json()["error"]["problems"]}
    assert {"display_name", "extra"} <= fields


def test_missing_record_is_404_not_found(api: TestClient, company: int) -> None:
    response = api.get(f"/api/companies/{company}/sales-orders/999")
    assert response.status_code == 404
    assert_error_shape(response.json(), "not_found")
    assert "sales order 999" in response.json()["error"]["message"]


def test_duplicate_so_number_is_409_conflict_naming_the_number(
    api: TestClient, company: int, catalog: dict[str, int]
) -> None:
    body = {
        "number": "SO-1",
        "customer_id": catalog["customer"],
        "rows": [{"variant_id": catalog["product"], "quantity": "1"}],
    }
    assert api.post(f"/api/companies/{company}/sales-orders", json=body).status_code == 201
    response = api.post(f"/api/companies/{company}/sales-orders", json=body)
    assert response.status_code == 409
    assert_error_shape(response.json(), "conflict")
    assert response.json()["error"]["message"] == "Sales order number SO-1 is already used in this company."


def test_unknown_route_is_404_http_error(api: TestClient) -> None:
    response = api.get("/api/nothing-here")
    assert response.status_code == 404
    assert_error_shape(response.json(), "http_error")


def test_unexpected_failure_is_500_internal_error_without_internals(api: TestClient) -> None:
    app: FastAPI = api.app  # type: ignore[assignment]

    @app.get("/api/_boom")
    def boom() -> None:
        raise RuntimeError("secret internals")

    response = api.get("/api/_boom")
    assert response.status_code == 500
    assert_error_shape(response.json(), "internal_error")
    assert "secret" not in response.text
