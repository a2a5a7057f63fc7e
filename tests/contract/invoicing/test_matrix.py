"""Every row of DESIGN §1's table at once, in every company shape: US (sales tax) and GB/AU/CA (VAT/GST,
tax-exclusive), custom transaction numbers on and off, multicurrency on and off."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from tests.contract.invoicing.conftest import TAX, WorldFactory, money

from invoicebridge.domain import InvoiceState


@pytest.mark.parametrize("multicurrency", [False, True], ids=["single-currency", "multicurrency"])
@pytest.mark.parametrize("custom_numbers", [False, True], ids=["qbo-numbers", "custom-numbers"])
@pytest.mark.parametrize("country", ["US", "GB", "AU", "CA"])
def test_every_rule_of_the_table(
    make_world: WorldFactory, country: str, custom_numbers: bool, multicurrency: bool
) -> None:
    world = make_world(country, multicurrency=multicurrency, custom_txn_numbers=custom_numbers)
    home = world.app.connecting.connection(world.company_id).preferences.home_currency
    currency = ("USD" if country == "AU" else "EUR") if multicurrency else home  # currencies active in the sample
    customer = world.customer("Matrix Buyer", "matrix@buyer.example", currency=currency,
                              billing_address={"line1": "1 Customer St", "city": "Springfield"})  # fmt: skip
    existing = world.product("RF-100", "Our fountain", price="300.00")  # in QBO already (sample data)
    new = world.product(f"MX-{country}", "Matrix gadget", price="12.345")
    fountain_before = world.qbo_rows("SELECT * FROM Item WHERE Sku = 'RF-100'")[0]
    order = world.order(
        customer,
        rows=[(existing, "2", "310.00", world.rates[0]), (new, "3", "12.345", world.rates[1])],
        number=f"SO-MX-{country}",
        billing_address={"line1": "9 Bill Rd", "city": "Billington", "postal_code": "B1"},
        shipping_address={"line1": "8 Ship Ln", "city": "Portside"},
        created_at=datetime(2026, 6, 30, 23, 30, tzinfo=UTC),
        delivery_deadline=date(2026, 7, 15),
        currency=currency,
    )
    link = world.invoice(order)
    assert link.state is InvoiceState.INVOICED, link.error_message
    invoice = world.qbo_read("Invoice", link.qbo_invoice_id)

    # SO number: memo always; DocNumber only with custom numbers
    assert invoice["CustomerMemo"]["value"] == order.number
    assert (invoice["DocNumber"] == order.number) is custom_numbers
    # customer: created (no match), with the default terms; its own address untouched by the invoice's
    qbo_customer = world.qbo_read("Customer", invoice["CustomerRef"]["value"])
    assert qbo_customer["DisplayName"] == "Matrix Buyer"
    assert "BillAddr" not in qbo_customer or qbo_customer["BillAddr"].get("Line1") != "9 Bill Rd"
    # addresses on the invoice
    assert (invoice["BillAddr"]["Line1"], invoice["ShipAddr"]["Line1"]) == ("9 Bill Rd", "8 Ship Ln")
    # dates: the SO's created date in the company's zone; the deadline as ShipDate
    zone_date = {"US": "2026-06-30", "CA": "2026-06-30", "GB": "2026-07-01", "AU": "2026-07-01"}[country]
    assert invoice["TxnDate"] == zone_date
    assert invoice["ShipDate"] == "2026-07-15"
    # terms: the company default (the customer was created with it); QBO derived the due date
    default_terms = world.qbo_read("Preferences", "1")["SalesFormsPrefs"]["DefaultTerms"]["value"]
    assert invoice["SalesTermRef"]["value"] == default_terms
    assert invoice["DueDate"] > invoice["TxnDate"]
    # rows: by SKU, the existing item untouched, the missing one created non-inventory on the revenue account
    lines = [line for line in invoice["Line"] if line["DetailType"] == "SalesItemLineDetail"]
    assert lines[0]["SalesItemLineDetail"]["ItemRef"]["value"] == fountain_before["Id"]
    assert world.qbo_read("Item", fountain_before["Id"]) == fountain_before
    created = world.qbo_rows(f"SELECT * FROM Item WHERE Sku = 'MX-{country}'")[0]
    assert created["Type"] == "NonInventory"
    assert [money(line["Amount"]) for line in lines] == [Decimal("620.00"), Decimal("37.04")]  # 37.035 → 37.04
    # tax through the mapping; tax-exclusive outside the US
    if country == "US":
        assert [line["SalesItemLineDetail"]["TaxCodeRef"]["value"] for line in lines] == ["TAX", "NON"]
        assert invoice["TxnTaxDetail"]["TxnTaxCodeRef"]["value"]
    else:
        assert invoice["GlobalTaxCalculation"] == "TaxExcluded"
        codes = {c["Name"]: c["Id"] for c in world.qbo_rows("SELECT * FROM TaxCode MAXRESULTS 1000")}
        expected = [codes[TAX[country][0][2]], codes[TAX[country][1][2]]]
        assert [line["SalesItemLineDetail"]["TaxCodeRef"]["value"] for line in lines] == expected
    assert money(invoice["TotalAmt"]) == Decimal("657.04") + money(invoice["TxnTaxDetail"]["TotalTax"])
    assert money(invoice["TxnTaxDetail"]["TotalTax"]) > 0
    # currency: the order's with multicurrency, QBO's home currency otherwise
    assert invoice["CurrencyRef"]["value"] == currency
    # status and link
    assert link.status_text == "Invoice created (QBO)"
    assert world.app.invoice_url(world.company_id, link.qbo_invoice_id) == (
        f"{world.sandbox.url}/app/invoice?txnId={link.qbo_invoice_id}&realmId={world.realm_id}"
    )
