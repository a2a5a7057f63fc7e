"""The shipping fee through the JSON API: given with an SO (amount as a decimal string, its tax rate one of the
company's), read back, changed and taken away; refused in the one error shape; and the invoice preview says which
way the fee goes in QuickBooks and why."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from tests.contract.invoicing.conftest import WorldFactory
from tests.contract.invoicing.test_shipping import set_shipping


def order_body(catalog: dict[str, int], number: str, **extra: object) -> dict[str, object]:
    row = {"variant_id": catalog["product"], "quantity": "2", "tax_rate_id": catalog["rate"]}
    return {"number": number, "customer_id": catalog["customer"], "rows": [row], **extra}


def problems(answer: Any) -> dict[str, str]:
    assert answer.status_code == 422, answer.text
    return {p["field"]: p["message"] for p in answer.json()["error"]["problems"]}


def test_fee_and_its_rate_are_stored_and_read_back(api: TestClient, company: int, catalog: dict[str, int]) -> None:
    base = f"/api/companies/{company}/sales-orders"
    made = api.post(base, json=order_body(catalog, "SO-S1", shipping_fee="7.5", shipping_tax_rate_id=catalog["rate"]))
    assert made.status_code == 201, made.text
    body = made.json()
    assert (body["shipping_fee"], body["shipping_tax_rate_id"], body["total"]) == ("7.50", catalog["rate"], "25.00")
    assert api.get(f"{base}/{body['id']}").json()["shipping_fee"] == "7.50"
    plain = api.post(base, json=order_body(catalog, "SO-S2")).json()
    assert (plain["shipping_fee"], plain["shipping_tax_rate_id"]) == (None, None)


@pytest.mark.parametrize(
    ("extra", "field", "words"),
    [
        pytest.param({"shipping_fee": "-1"}, "shipping_fee", "cannot be negative", id="negative"),
        pytest.param({"shipping_fee": "lots"}, "shipping_fee", "not a number", id="not-a-number"),
        pytest.param({"shipping_fee": "10000000000"}, "shipping_fee", "at most", id="over-one-line"),
        pytest.param({"shipping_tax_rate_id": 1}, "shipping_tax_rate_id", "needs a shipping fee", id="rate-no-fee"),
        pytest.param({"shipping_fee": "1", "shipping_tax_rate_id": 999}, "shipping_tax_rate_id", "no tax rate 999",
                     id="unknown-rate"),
    ],
)  # fmt: skip
def test_bad_fees_are_refused_in_the_one_error_shape_and_nothing_is_stored(
    api: TestClient, company: int, catalog: dict[str, int], extra: dict[str, object], field: str, words: str
) -> None:
    base = f"/api/companies/{company}/sales-orders"
    assert words in problems(api.post(base, json=order_body(catalog, "SO-BAD", **extra)))[field]
    assert api.get(f"{base}/by-number/SO-BAD").status_code == 404


def test_a_float_fee_is_refused(api: TestClient, company: int, catalog: dict[str, int]) -> None:
    answer = api.post(f"/api/companies/{company}/sales-orders", json=order_body(catalog, "SO-F", shipping_fee=2.5))
    assert "decimal strings" in problems(answer)["shipping_fee"]


def test_another_companys_tax_rate_is_refused_like_one_that_does_not_exist(
    api: TestClient, company: int, catalog: dict[str, int]
) -> None:
    other = api.post("/api/companies", json={"name": "Other", "home_currency": "USD", "timezone": "UTC"}).json()["id"]
    theirs = api.post(f"/api/companies/{other}/tax-rates", json={"name": "Theirs", "percent": "5"}).json()["id"]
    body = order_body(catalog, "SO-X", shipping_fee="1.00", shipping_tax_rate_id=theirs)
    message = problems(api.post(f"/api/companies/{company}/sales-orders", json=body))["shipping_tax_rate_id"]
    assert message == f"There is no tax rate {theirs} in this company."


def test_the_fee_is_changed_and_taken_away_with_its_rate(
    api: TestClient, company: int, catalog: dict[str, int]
) -> None:
    base = f"/api/companies/{company}/sales-orders"
    made = api.post(base, json=order_body(catalog, "SO-E", shipping_fee="3", shipping_tax_rate_id=catalog["rate"]))
    url = f"{base}/{made.json()['id']}"
    assert api.patch(url, json={"shipping_fee": "4.25"}).json()["shipping_fee"] == "4.25"
    gone = api.patch(url, json={"shipping_fee": None}).json()
    assert (gone["shipping_fee"], gone["shipping_tax_rate_id"]) == (None, None)


def test_preview_says_which_way_the_fee_goes_and_why(make_world: WorldFactory) -> None:
    world = make_world("US", serve=True)
    api = world.api()
    product = world.product("PRV-1", "Previewed", price="10.00")
    order = world.order(world.customer("Preview Ship Co"), rows=[(product, "1", "10.00", world.rates[0])],
                        shipping_fee="4.00", shipping_tax_rate_id=world.rates[0].id)  # fmt: skip
    url = f"/api/companies/{world.company_id}/sales-orders/{order.id}/invoice/preview"
    on = api.get(url).json()
    assert on["shipping"]["way"] == "shipping_line" and on["shipping"]["fee"] == "4.00"
    assert on["shipping"]["explanation"] == (
        "The shipping fee goes on QuickBooks' shipping line, because shipping is on in your sales-form settings."
    )
    assert on["payload"]["Line"][-1]["SalesItemLineDetail"]["ItemRef"]["value"] == "SHIPPING_ITEM_ID"

    set_shipping(world, False)
    world.app.connecting.refresh_preferences(world.company_id)
    off = api.get(url).json()
    assert off["shipping"]["way"] == "item" and off["shipping"]["qbo_item_id"] is None
    assert off["shipping"]["explanation"] == (
        "The shipping fee goes on a line on the item 'Shipping', because shipping is off in QuickBooks' sales-form "
        "settings (will be created in QuickBooks)."
    )
    assert world.qbo_rows("SELECT * FROM Item WHERE Name = 'Shipping'") == []  # a preview creates nothing
