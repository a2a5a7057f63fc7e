"""QBO's shipping line (ItemRef ``SHIPPING_ITEM_ID``, an Amount and a tax code): accepted while the company has
shipping on in its sales-form preferences, counted in the subtotal and taxed by its own tax code; refused as an
unknown item once shipping is off."""

from __future__ import annotations

from typing import Any

import httpx
from tests.contract.sandbox.conftest import Qbo, connect
from tests.contract.sandbox.contract_support import (
    customer,
    fault,
    find_id,
    invoice,
    invoice_body,
    money,
    ok,
    sales_line,
    service_item,
)


def shipping_line(amount: str, tax_code: str | None = None) -> dict[str, Any]:
    detail: dict[str, Any] = {"ItemRef": {"value": "SHIPPING_ITEM_ID"}}
    if tax_code is not None:
        detail["TaxCodeRef"] = {"value": tax_code}
    return {"DetailType": "SalesItemLineDetail", "Amount": amount, "SalesItemLineDetail": detail}


def set_shipping(qbo: Qbo, on: bool) -> None:
    prefs = ok(qbo.get("preferences"), "Preferences")
    sales = {**prefs["SalesFormsPrefs"], "AllowShipping": on}
    body = {"Id": "1", "SyncToken": prefs["SyncToken"], "sparse": True, "SalesFormsPrefs": sales}
    assert ok(qbo.post("preferences", json=body), "Preferences")["SalesFormsPrefs"]["AllowShipping"] is on


def test_a_new_company_has_shipping_on(qbo: Qbo) -> None:
    assert ok(qbo.get("preferences"), "Preferences")["SalesFormsPrefs"]["AllowShipping"] is True


def test_us_shipping_line_counts_in_the_subtotal_and_is_taxed_when_marked_tax(qbo: Qbo) -> None:
    cust, item = customer(qbo, "Ship Co"), service_item(qbo, "Shipped Item")
    california = find_id(qbo, "TaxCode", "Name", "California")
    lines = [sales_line(item["Id"], "1", "100", TaxCodeRef={"value": "TAX"}), shipping_line("20.00", "TAX")]
    made = invoice(qbo, cust["Id"], *lines, TxnTaxDetail={"TxnTaxCodeRef": {"value": california}})
    shipping = [line for line in made["Line"] if line.get("SalesItemLineDetail", {}).get("ItemRef", {}).get("value")
                == "SHIPPING_ITEM_ID"]  # fmt: skip
    assert len(shipping) == 1 and money(shipping[0]["Amount"]) == money("20.00")
    assert "Qty" not in shipping[0]["SalesItemLineDetail"]
    subtotal = next(line for line in made["Line"] if line["DetailType"] == "SubTotalLineDetail")
    assert money(subtotal["Amount"]) == 120
    # 8.625 % of 120 (7.25 % → 8.70, 1.375 % → 1.65)
    assert money(made["TxnTaxDetail"]["TotalTax"]) == money("10.35")
    assert money(made["TotalAmt"]) == money("130.35") and money(made["Balance"]) == money("130.35")


def test_us_shipping_line_marked_non_is_not_taxed(qbo: Qbo) -> None:
    cust, item = customer(qbo, "Untaxed Ship Co"), service_item(qbo, "Untaxed Item")
    made = invoice(qbo, cust["Id"], sales_line(item["Id"], "1", "100", TaxCodeRef={"value": "TAX"}),
                   shipping_line("20.00", "NON"))  # fmt: skip
    assert money(made["TxnTaxDetail"]["TotalTax"]) == money("8.63")
    assert money(made["TotalAmt"]) == money("128.63")


def test_vat_shipping_line_is_taxed_by_its_own_code(control: httpx.Client) -> None:
    co = connect(control, country="GB", sample_data=False)
    cust, item = customer(co, "UK Ship Ltd"), service_item(co, "UK Item")
    codes = {c["Name"]: c["Id"] for c in co.rows("select * from TaxCode")}
    lines = [sales_line(item["Id"], "1", "100", TaxCodeRef={"value": codes["0.0% Z"]}),
             shipping_line("10.00", codes["20.0% S"])]  # fmt: skip
    made = invoice(co, cust["Id"], *lines, GlobalTaxCalculation="TaxExcluded")
    assert money(made["TxnTaxDetail"]["TotalTax"]) == money("2.00")
    assert money(made["TotalAmt"]) == money("112.00")
    # as on any line of a VAT company, the shipping line needs its tax code
    body = invoice_body(cust["Id"], sales_line(item["Id"], TaxCodeRef={"value": codes["0.0% Z"]}),
                        shipping_line("10.00"), GlobalTaxCalculation="TaxExcluded")  # fmt: skip
    fault(co.post("invoice", json=body), 400, "2020", element="TaxCodeRef")


def test_shipping_line_needs_an_amount_that_is_not_negative(qbo: Qbo) -> None:
    cust, item = customer(qbo, "Bad Ship Co"), service_item(qbo, "Bad Ship Item")
    no_amount = shipping_line("1")
    del no_amount["Amount"]
    fault(qbo.post("invoice", json=invoice_body(cust["Id"], sales_line(item["Id"]), no_amount)), 400, "2020")
    negative = invoice_body(cust["Id"], sales_line(item["Id"]), shipping_line("-5"))
    fault(qbo.post("invoice", json=negative), 400, "6000")


def test_shipping_line_is_refused_once_shipping_is_off_and_taken_again_when_on(qbo: Qbo) -> None:
    cust, item = customer(qbo, "Toggle Co"), service_item(qbo, "Toggle Item")
    body = invoice_body(cust["Id"], sales_line(item["Id"], "1", "50"), shipping_line("5.00", "NON"))
    set_shipping(qbo, False)
    refused = fault(qbo.post("invoice", json=body), 400, "2500", element="ItemRef")
    assert "SHIPPING_ITEM_ID" in refused["Detail"]
    set_shipping(qbo, True)
    assert money(ok(qbo.post("invoice", json=body), "Invoice")["TotalAmt"]) == money("55.00")
