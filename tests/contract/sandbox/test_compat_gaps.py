"""What python-quickbooks (and any QBO client) meets beyond queries (issue 13's gaps): an invoice line with Amount and
ItemRef only, the ten Preferences sections, ExchangeRate's shape, empty strings and read-only fields sent back, and
``include=invoiceLink`` — over real HTTP, through python-quickbooks' own objects where it is the client concerned."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import httpx
from quickbooks import QuickBooks
from quickbooks.objects.base import Address
from quickbooks.objects.customer import Customer
from quickbooks.objects.detailline import SalesItemLine, SalesItemLineDetail
from quickbooks.objects.invoice import Invoice
from quickbooks.objects.item import Item
from quickbooks.objects.preferences import Preferences
from tests.contract.sandbox.conftest import Qbo, connect
from tests.contract.sandbox.contract_support import create, customer, fault, money, ok, sales_line, service_item
from tests.contract.sandbox.quickbooks_support import pyqb

from qbo_sandbox.prefs import SECTIONS

__all__ = ["pyqb"]  # the fixture, used by name


def _amount_only_invoice(pyqb: QuickBooks, amount: int) -> Invoice:
    """An invoice as python-quickbooks' README builds one: a SalesItemLine with Amount and ItemRef only (its
    SalesItemLineDetail then carries its defaults Qty 0 and UnitPrice 0)."""
    invoice = Invoice()
    invoice.CustomerRef = Customer.filter(DisplayName="Cool Cars", qb=pyqb)[0].to_ref()
    line = SalesItemLine()
    line.Amount = amount
    line.SalesItemLineDetail = SalesItemLineDetail()
    line.SalesItemLineDetail.ItemRef = Item.filter(Sku="RF-100", qb=pyqb)[0].to_ref()
    invoice.Line = [line]
    saved: Invoice = invoice.save(qb=pyqb)
    return saved


def test_a_line_with_amount_and_item_only_is_accepted_as_quickbooks_does(pyqb: QuickBooks, qbo: Qbo) -> None:
    saved = _amount_only_invoice(pyqb, 30)
    assert money(saved.TotalAmt) == Decimal(30)
    stored = ok(qbo.get(f"invoice/{saved.Id}"), "Invoice")["Line"][0]
    assert money(stored["Amount"]) == Decimal(30)
    detail = stored["SalesItemLineDetail"]
    assert (money(detail["Qty"]), money(detail["UnitPrice"])) == (Decimal(1), Decimal(30))


def test_a_line_whose_price_times_quantity_differs_from_its_amount_is_still_refused(qbo: Qbo) -> None:
    item = service_item(qbo, "Priced Service")
    line = {**sales_line(item["Id"], "0", "15"), "Amount": "30"}
    fault(qbo.post("invoice", json={"CustomerRef": {"value": "1"}, "Line": [line]}), 400, "6070")


def test_preferences_answer_all_ten_sections_through_python_quickbooks(pyqb: QuickBooks) -> None:
    prefs = Preferences.get(qb=pyqb)
    for section in SECTIONS:
        assert getattr(prefs, section), section
    assert prefs.ProductAndServicesPrefs.ForSales is True
    assert prefs.EmailMessagesPrefs.InvoiceMessage.Subject
    assert prefs.SalesFormsPrefs.CustomTxnNumbers is False and prefs.SalesFormsPrefs.DefaultTerms.value
    assert prefs.VendorAndPurchasesPrefs.BillableExpenseTracking is True
    assert prefs.TimeTrackingPrefs.WorkWeekStartDate == "Monday"
    assert prefs.ReportPrefs.ReportBasis == "Accrual"
    assert prefs.AccountingInfoPrefs.FirstMonthOfFiscalYear == "January"
    assert prefs.CurrencyPrefs.HomeCurrency.value == "USD" and prefs.TaxPrefs.UsingSalesTax is True
    assert {pair.Name for pair in prefs.OtherPrefs.NameValue} >= {"DateFormat", "NumberFormat"}
    prefs.SalesFormsPrefs.AllowServiceDate = True  # every section sent back whole, as python-quickbooks does
    saved = prefs.save(qb=pyqb)
    assert saved.SalesFormsPrefs.AllowServiceDate is True and saved.TimeTrackingPrefs.WorkWeekStartDate == "Monday"


def test_exchange_rates_answer_rate_as_a_number_and_carry_no_id(control: httpx.Client) -> None:
    gb = connect(control, country="GB", multicurrency=True, sample_data=False)
    seeded = gb.rows("select * from ExchangeRate where SourceCurrencyCode = 'EUR'")[0]
    read = ok(gb.get("exchangerate", sourcecurrencycode="EUR"), "ExchangeRate")
    for rate in (seeded, read):
        assert isinstance(rate["Rate"], int | float) and money(rate["Rate"]) == Decimal("1.08")
        assert "Id" not in rate
    made = ok(gb.post("exchangerate", json={"SourceCurrencyCode": "USD", "Rate": 0.79, "AsOfDate": "2026-01-02"}),
              "ExchangeRate")  # fmt: skip
    assert "Id" not in made and isinstance(made["Rate"], float)


def _empty_strings(value: Any, path: str = "") -> list[str]:
    """Where a body holds an empty string (none should remain in an answer)."""
    if isinstance(value, dict):
        return [p for key, inner in value.items() for p in _empty_strings(inner, f"{path}.{key}")]
    if isinstance(value, list):
        return [p for n, inner in enumerate(value) for p in _empty_strings(inner, f"{path}[{n}]")]
    return [path] if value == "" else []


def test_empty_strings_and_read_only_fields_sent_are_neither_stored_nor_echoed(pyqb: QuickBooks, qbo: Qbo) -> None:
    saved = _amount_only_invoice(pyqb, 40)  # python-quickbooks sends "InvoiceLink": "", "PrivateNote": "", ...
    raw = ok(qbo.get(f"invoice/{saved.Id}"), "Invoice")
    assert _empty_strings(raw) == [] and "InvoiceLink" not in raw
    buyer = Customer()
    buyer.DisplayName = "Empty Strings Co"
    buyer.BillAddr = Address()  # every field "" — Lat and Long included
    buyer.BillAddr.City = "Reno"
    made = buyer.save(qb=pyqb)
    shown = ok(qbo.get(f"customer/{made.Id}"), "Customer")
    assert _empty_strings(shown) == [] and shown["BillAddr"] == {"City": "Reno"}
    assert "GivenName" not in shown and "Notes" not in shown


def test_an_empty_string_in_a_sparse_update_empties_the_field(qbo: Qbo) -> None:
    made = customer(qbo, "Sparse Co", Notes="keep me", BillAddr={"City": "Reno", "Lat": "39.5"})
    assert "Lat" not in made["BillAddr"]  # read only: ignored
    body = {"Id": made["Id"], "SyncToken": made["SyncToken"], "sparse": True, "Notes": "", "CompanyName": "Sparse"}
    updated = ok(qbo.post("customer", json=body), "Customer")
    assert "Notes" not in updated and updated["CompanyName"] == "Sparse" and updated["BillAddr"] == {"City": "Reno"}


def test_include_invoice_link_answers_a_link_to_the_invoice(pyqb: QuickBooks, qbo: Qbo, control: httpx.Client) -> None:
    sale = create(qbo, "Invoice", {"CustomerRef": {"value": "1"},
                                   "Line": [sales_line(service_item(qbo, "Linked")["Id"])]})  # fmt: skip
    assert "InvoiceLink" not in ok(qbo.get(f"invoice/{sale['Id']}"), "Invoice")
    link = ok(qbo.get(f"invoice/{sale['Id']}", include="invoiceLink"), "Invoice")["InvoiceLink"]
    assert link.startswith(str(control.base_url)) and f"txnId={sale['Id']}" in link
    page = httpx.get(link)
    assert page.status_code == 200 and sale["DocNumber"] in page.text
    queried = qbo.get("query", query=f"select * from Invoice where Id = '{sale['Id']}'", include="invoicelink")
    assert queried.json()["QueryResponse"]["Invoice"][0]["InvoiceLink"] == link
    through_client = Invoice.get(sale["Id"], qb=pyqb, params={"include": "invoiceLink"})
    assert through_client.InvoiceLink == link
