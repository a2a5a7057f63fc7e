"""Every row of DESIGN §1's table, against qbo_sandbox over HTTP: in a US company (sales tax) and in non-US
companies (VAT/GST, tax-exclusive), with and without custom transaction numbers and multicurrency."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from tests.contract.invoicing.conftest import WorldFactory, money

from invoicebridge.domain import InvoiceState
from invoicebridge.qbo.links import invoice_url

COUNTRIES = ["US", "GB", "AU", "CA"]


@pytest.mark.parametrize("country", COUNTRIES)
@pytest.mark.parametrize("custom_numbers", [False, True])
def test_so_number_goes_to_the_memo_and_to_the_number_only_with_custom_numbers(
    make_world: WorldFactory, country: str, custom_numbers: bool
) -> None:
    world = make_world(country, custom_txn_numbers=custom_numbers)
    order = world.order(world.customer("Memo Test Ltd", "memo@test.example"), number="SO-7001")
    link = world.invoice(order)
    invoice = world.qbo_read("Invoice", link.qbo_invoice_id)
    assert invoice["CustomerMemo"]["value"] == "SO-7001"
    if custom_numbers:
        assert invoice["DocNumber"] == "SO-7001"
    else:
        assert invoice["DocNumber"] != "SO-7001"  # QBO numbers it (1001, 1002, …)
        assert invoice["DocNumber"].isdigit()
    assert link.doc_number == invoice["DocNumber"]


def test_a_number_already_used_in_qbo_is_a_clear_error_and_the_so_stays_retryable(make_world: WorldFactory) -> None:
    world = make_world("US", custom_txn_numbers=True)
    customer = world.customer("Dup Number Inc", "dup@number.example")
    order = world.order(customer, number="SO-DUP-1")
    qbo_customer = world.qbo_rows("SELECT * FROM Customer")[0]
    item = world.qbo_rows("SELECT * FROM Item")[0]
    line = {"DetailType": "SalesItemLineDetail", "Amount": 1, "SalesItemLineDetail": {"ItemRef": {"value": item["Id"]}}}
    taken = world.qbo_create(
        "Invoice", {"DocNumber": "SO-DUP-1", "CustomerRef": {"value": qbo_customer["Id"]}, "Line": [line]}
    )
    before = world.qbo_count("Invoice")

    failed = world.invoice(order)
    assert failed.state is InvoiceState.FAILED
    assert failed.error_code == "6140"
    assert failed.error_message == (
        f"Invoice number SO-DUP-1 is already used in QuickBooks. QuickBooks invoice {taken['Id']} has this number."
    )
    assert "Duplicate Document Number" in (failed.error_detail or "")
    assert world.qbo_count("Invoice") == before

    world.sandbox.sandbox.backend.delete(
        world.realm_id, "Invoice", {"Id": taken["Id"], "SyncToken": taken["SyncToken"]}
    )
    retried = world.invoice(order)
    assert retried.state is InvoiceState.INVOICED
    assert world.qbo_read("Invoice", retried.qbo_invoice_id)["DocNumber"] == "SO-DUP-1"


def test_customer_matched_by_email_first_and_never_edited(make_world: WorldFactory) -> None:
    world = make_world("US")
    amy = world.qbo_rows("SELECT * FROM Customer WHERE DisplayName = 'Amy\\'s Bird Sanctuary'")[0]
    ours = world.customer("A Different Name", "birds@intuit.com")  # e-mail matches case-insensitively
    link = world.invoice(world.order(ours))
    assert world.qbo_read("Invoice", link.qbo_invoice_id)["CustomerRef"]["value"] == amy["Id"]
    assert world.qbo_read("Customer", amy["Id"])["SyncToken"] == amy["SyncToken"]
    assert world.qbo_rows("SELECT * FROM Customer WHERE DisplayName = 'A Different Name'") == []


def test_customer_matched_by_remembered_id_after_renaming_in_qbo(make_world: WorldFactory) -> None:
    world = make_world("US")
    ours = world.customer("Remember Me Co")
    first = world.invoice(world.order(ours))
    qbo_id = world.qbo_read("Invoice", first.qbo_invoice_id)["CustomerRef"]["value"]
    current = world.qbo_read("Customer", qbo_id)
    world.sandbox.sandbox.backend.update(world.realm_id, "Customer", {
        "Id": qbo_id, "SyncToken": current["SyncToken"], "sparse": True, "DisplayName": "Renamed In QBO"})  # fmt: skip
    customers = world.qbo_count("Customer")
    second = world.invoice(world.order(ours))
    assert world.qbo_read("Invoice", second.qbo_invoice_id)["CustomerRef"]["value"] == qbo_id
    assert world.qbo_count("Customer") == customers


def test_customer_matched_by_display_name_with_an_apostrophe(make_world: WorldFactory) -> None:
    world = make_world("US")
    jeff = world.qbo_rows("SELECT * FROM Customer WHERE DisplayName = 'Jeff\\'s Jalopies'")[0]
    link = world.invoice(world.order(world.customer("Jeff's Jalopies")))
    assert world.qbo_read("Invoice", link.qbo_invoice_id)["CustomerRef"]["value"] == jeff["Id"]


def test_a_new_customer_is_created_with_the_default_terms(make_world: WorldFactory) -> None:
    world = make_world("GB")
    link = world.invoice(world.order(world.customer("Brand New Ltd", "new@brand.example")))
    customer_id = world.qbo_read("Invoice", link.qbo_invoice_id)["CustomerRef"]["value"]
    created = world.qbo_read("Customer", customer_id)
    default_terms = world.qbo_read("Preferences", "1")["SalesFormsPrefs"]["DefaultTerms"]["value"]
    assert created["DisplayName"] == "Brand New Ltd"
    assert created["PrimaryEmailAddr"]["Address"] == "new@brand.example"
    assert created["SalesTermRef"]["value"] == default_terms


def test_addresses_go_onto_the_invoice_only(make_world: WorldFactory) -> None:
    world = make_world("US")
    amy = world.qbo_rows("SELECT * FROM Customer WHERE DisplayName = 'Amy\\'s Bird Sanctuary'")[0]
    ours = world.customer("Amy's Bird Sanctuary")
    bill = {"line1": "1 Billing Rd", "city": "Reno", "region": "NV", "postal_code": "89501", "country": "US"}
    ship = {"line1": "2 Dock St", "line2": "Bay 4", "city": "Oakland", "region": "CA", "postal_code": "94607"}
    link = world.invoice(world.order(ours, billing_address=bill, shipping_address=ship))
    invoice = world.qbo_read("Invoice", link.qbo_invoice_id)
    assert invoice["BillAddr"] == {"Line1": "1 Billing Rd", "City": "Reno", "CountrySubDivisionCode": "NV",
                                   "PostalCode": "89501", "Country": "US"}  # fmt: skip
    assert invoice["ShipAddr"]["Line2"] == "Bay 4"
    assert world.qbo_read("Customer", amy["Id"])["BillAddr"] == amy["BillAddr"]


def test_invoice_date_is_the_so_date_in_the_company_zone_and_ship_date_the_deadline(make_world: WorldFactory) -> None:
    world = make_world("US")  # America/Los_Angeles
    created = datetime(2026, 3, 1, 3, 30, tzinfo=UTC)  # still 28 February in California
    order = world.order(world.customer("Dated Co"), created_at=created, delivery_deadline=date(2026, 3, 20))
    invoice = world.qbo_read("Invoice", world.invoice(order).qbo_invoice_id)
    assert invoice["TxnDate"] == "2026-02-28"
    assert invoice["ShipDate"] == "2026-03-20"


def test_terms_are_the_customers_else_the_company_default_and_qbo_derives_the_due_date(
    make_world: WorldFactory,
) -> None:
    world = make_world("US")
    created = datetime(2026, 5, 4, 18, 0, tzinfo=UTC)
    bills = world.invoice(world.order(world.customer("Bill's Windsurf Shop"), created_at=created))  # Net 30 in QBO
    dukes = world.invoice(world.order(world.customer("Dukes Basketball Camp"), created_at=created))  # Net 15
    assert world.qbo_read("Invoice", bills.qbo_invoice_id)["DueDate"] == "2026-06-03"
    assert world.qbo_read("Invoice", dukes.qbo_invoice_id)["DueDate"] == "2026-05-19"


def test_rows_match_items_by_sku_never_overwriting_and_missing_items_are_created(make_world: WorldFactory) -> None:
    world = make_world("US")
    fountain = world.qbo_rows("SELECT * FROM Item WHERE Sku = 'RF-100'")[0]
    existing = world.product("RF-100", "Our name for the fountain", price="999.00")
    new = world.product("NEW-SKU-1", "Brand new gadget", price="12.00")
    order = world.order(world.customer("Items Co"), rows=[(existing, "1", "300.00", world.rates[0]),
                                                          (new, "3", "12.00", world.rates[1])])  # fmt: skip
    invoice = world.qbo_read("Invoice", world.invoice(order).qbo_invoice_id)
    lines = [line for line in invoice["Line"] if line["DetailType"] == "SalesItemLineDetail"]
    assert lines[0]["SalesItemLineDetail"]["ItemRef"]["value"] == fountain["Id"]
    assert world.qbo_read("Item", fountain["Id"]) == fountain  # untouched: same name, price, SyncToken
    created = world.qbo_rows("SELECT * FROM Item WHERE Sku = 'NEW-SKU-1'")[0]
    assert lines[1]["SalesItemLineDetail"]["ItemRef"]["value"] == created["Id"]
    assert created["Type"] == "NonInventory"
    assert (
        created["IncomeAccountRef"]["value"]
        == world.app.connecting.connection(world.company_id).settings.revenue_account_id
    )
    assert [money(line["SalesItemLineDetail"]["Qty"]) for line in lines] == [Decimal(1), Decimal(3)]
    assert [money(line["Amount"]) for line in lines] == [Decimal("300.00"), Decimal("36.00")]


def test_us_sales_tax_through_the_mapping(make_world: WorldFactory) -> None:
    world = make_world("US")
    widget = world.product("W-1", "Widget")
    order = world.order(world.customer("Tax US Co"), rows=[(widget, "2", "50.00", world.rates[0]),
                                                           (widget, "1", "20.00", world.rates[1])])  # fmt: skip
    invoice = world.qbo_read("Invoice", world.invoice(order).qbo_invoice_id)
    california = world.qbo_rows("SELECT * FROM TaxCode WHERE Name = 'California'")[0]
    assert invoice["TxnTaxDetail"]["TxnTaxCodeRef"]["value"] == california["Id"]
    codes = [line["SalesItemLineDetail"]["TaxCodeRef"]["value"] for line in invoice["Line"]
             if line["DetailType"] == "SalesItemLineDetail"]  # fmt: skip
    assert codes == ["TAX", "NON"]
    assert money(invoice["TxnTaxDetail"]["TotalTax"]) == Decimal("8.63")  # 100 × 8.625 % (7.25 + 1.375)
    assert money(invoice["TotalAmt"]) == Decimal("128.63")


@pytest.mark.parametrize(("country", "expected_tax"), [("GB", "20.00"), ("AU", "10.00"), ("CA", "13.00")])
def test_vat_and_gst_are_tax_exclusive_through_the_mapping(
    make_world: WorldFactory, country: str, expected_tax: str
) -> None:
    world = make_world(country)
    widget = world.product("W-1", "Widget")
    order = world.order(world.customer("Tax Global Co"), rows=[(widget, "2", "50.00", world.rates[0]),
                                                               (widget, "1", "30.00", world.rates[1])])  # fmt: skip
    invoice = world.qbo_read("Invoice", world.invoice(order).qbo_invoice_id)
    assert invoice["GlobalTaxCalculation"] == "TaxExcluded"
    mapping = world.app.connecting.connection(world.company_id).settings.tax_mapping
    codes = [line["SalesItemLineDetail"]["TaxCodeRef"]["value"] for line in invoice["Line"]
             if line["DetailType"] == "SalesItemLineDetail"]  # fmt: skip
    assert codes == [mapping[world.rates[0].id], mapping[world.rates[1].id]]
    assert money(invoice["TxnTaxDetail"]["TotalTax"]) == Decimal(expected_tax)
    assert money(invoice["TotalAmt"]) == Decimal("130.00") + Decimal(expected_tax)


@pytest.mark.parametrize("country", ["US", "GB"])
def test_multicurrency_sends_the_orders_currency(make_world: WorldFactory, country: str) -> None:
    world = make_world(country, multicurrency=True)
    euro_customer = world.customer("Euro Buyer GmbH", "einkauf@euro.example", currency="EUR")
    invoice = world.qbo_read("Invoice", world.invoice(world.order(euro_customer, currency="EUR")).qbo_invoice_id)
    assert invoice["CurrencyRef"]["value"] == "EUR"
    created = world.qbo_read("Customer", invoice["CustomerRef"]["value"])
    assert created["CurrencyRef"]["value"] == "EUR"


def test_without_multicurrency_no_currency_is_sent(make_world: WorldFactory) -> None:
    world = make_world("GB")
    link = world.invoice(world.order(world.customer("Home Currency Ltd")))
    invoice = world.qbo_read("Invoice", link.qbo_invoice_id)
    assert invoice["CurrencyRef"]["value"] == "GBP"  # QBO fills in the home currency itself
    assert link.state is InvoiceState.INVOICED


def test_status_text_and_link_to_the_invoice(make_world: WorldFactory) -> None:
    world = make_world("US")
    order = world.order(world.customer("Linked Co"))
    assert world.app.orderbook.invoice_link(world.company_id, order.id).status_text == "Not invoiced"
    link = world.invoice(order)
    assert link.status_text == "Invoice created (QBO)"
    url = invoice_url("sandbox", world.realm_id, link.qbo_invoice_id, sandbox_base=world.sandbox.url)
    page = world.control.get(url.removeprefix(world.sandbox.url))
    assert page.status_code == 200
    assert order.number in page.text
