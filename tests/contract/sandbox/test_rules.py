"""QBO's business rules, each with the Fault code QBO answers: names, lengths, required fields, references,
document numbers, currencies, totals and terms, sales tax (US) and VAT/GST (GB, AU, CA), inventory."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.contract.sandbox.conftest import Qbo, connect
from tests.contract.sandbox.contract_support import (
    account_id,
    create,
    customer,
    fault,
    find_id,
    inventory_item,
    invoice,
    invoice_body,
    money,
    ok,
    sales_line,
    service_item,
    term_id,
)

from qbo_sandbox.server import SandboxServer

# -- names -------------------------------------------------------------------------------------------------


def test_duplicate_customer_display_name_is_6240(qbo: Qbo) -> None:
    first = customer(qbo, "Duplicate Co")
    error = fault(qbo.post("customer", json={"DisplayName": "Duplicate Co"}), 400, "6240")
    assert error["Message"] == "Duplicate Name Exists Error" and f"Id={first['Id']}" in error["Detail"]
    # QBO compares names without case and surrounding spaces
    fault(qbo.post("customer", json={"DisplayName": "  duplicate co "}), 400, "6240")


def test_duplicate_name_counts_inactive_customers_and_renames(qbo: Qbo) -> None:
    gone = customer(qbo, "Old Name")
    ok(qbo.post("customer", json={"Id": gone["Id"], "SyncToken": "0", "sparse": True, "Active": False}), "Customer")
    fault(qbo.post("customer", json={"DisplayName": "Old Name"}), 400, "6240")
    other = customer(qbo, "Other Name")
    rename = {"Id": other["Id"], "SyncToken": "0", "sparse": True, "DisplayName": "Old Name"}
    fault(qbo.post("customer", json=rename), 400, "6240")
    # keeping one's own name on update is no duplicate
    same = {"Id": other["Id"], "SyncToken": "0", "sparse": True, "DisplayName": "Other Name", "Notes": "n"}
    assert ok(qbo.post("customer", json=same), "Customer")["SyncToken"] == "1"


def test_duplicate_item_and_account_names_are_6240(qbo: Qbo) -> None:
    service_item(qbo, "Unique Service")
    body = {"Name": "unique service", "Type": "Service", "IncomeAccountRef": {"value": account_id(qbo, "Services")}}
    fault(qbo.post("item", json=body), 400, "6240")
    fault(qbo.post("account", json={"Name": "Checking", "AccountType": "Bank"}), 400, "6240")


BAD_NAMES = [
    pytest.param("customer", "DisplayName", "A:B", "6000", id="customer-colon"),
    pytest.param("customer", "DisplayName", "A\tB", "6000", id="customer-tab"),
    pytest.param("customer", "DisplayName", "A\nB", "6000", id="customer-newline"),
    pytest.param("customer", "DisplayName", "x" * 501, "2050", id="customer-501-chars"),
    pytest.param("item", "Name", "Parent:Child", "6000", id="item-colon"),
    pytest.param("item", "Name", "Tab\there", "6000", id="item-tab"),
    pytest.param("item", "Name", "y" * 101, "2050", id="item-101-chars"),
    pytest.param("item", "Sku", "s" * 101, "2050", id="item-sku-101-chars"),
    pytest.param("account", "Name", "Bank:Sub", "6000", id="account-colon"),
    pytest.param("account", "Name", "z" * 101, "2050", id="account-101-chars"),
    pytest.param("term", "Name", "t" * 32, "2050", id="term-32-chars"),
]


def valid_body(qbo: Qbo, entity: str) -> dict[str, Any]:
    if entity == "customer":
        return {"DisplayName": "Valid Name"}
    if entity == "item":
        return {"Name": "Valid Item", "Type": "Service", "IncomeAccountRef": {"value": account_id(qbo, "Services")}}
    if entity == "account":
        return {"Name": "Valid Account", "AccountType": "Expense"}
    return {"Name": "Valid Term", "DueDays": 10}


@pytest.mark.parametrize(("entity", "field", "value", "code"), BAD_NAMES)
def test_bad_names_are_refused(qbo: Qbo, entity: str, field: str, value: str, code: str) -> None:
    body = valid_body(qbo, entity)
    error = fault(qbo.post(entity, json={**body, field: value}), 400, code, element=field)
    if code == "2050":
        assert f"supplied:{len(value)}" in error["Detail"]
    # the same body with a good value is accepted: the bad field alone was the reason
    assert qbo.post(entity, json=body).status_code == 200


def test_names_at_the_length_limit_are_accepted(qbo: Qbo) -> None:
    assert customer(qbo, "c" * 500)["DisplayName"] == "c" * 500
    assert service_item(qbo, "i" * 100)["Name"] == "i" * 100


def test_customer_display_name_derived_from_name_parts(qbo: Qbo) -> None:
    made = create(qbo, "Customer", {"GivenName": "Ada", "FamilyName": "Lovelace"})
    assert made["DisplayName"] == "Ada Lovelace"
    assert create(qbo, "Customer", {"CompanyName": "Analytical Engines"})["DisplayName"] == "Analytical Engines"


def test_customer_email_must_be_an_address(qbo: Qbo) -> None:
    body = {"DisplayName": "Mail Co", "PrimaryEmailAddr": {"Address": "not-an-address"}}
    fault(qbo.post("customer", json=body), 400, "6000", element="PrimaryEmailAddr")


# -- required fields and references ------------------------------------------------------------------------


def required_cases(qbo: Qbo, customer_id: str, item_id: str) -> list[tuple[str, dict[str, Any], str]]:
    line = sales_line(item_id)
    je_line = {"DetailType": "JournalEntryLineDetail", "Amount": 1, "JournalEntryLineDetail": {"PostingType": "Debit"}}
    return [
        ("customer", {"Notes": "no name at all"}, "DisplayName"),
        ("item", {"Type": "Service", "IncomeAccountRef": {"value": account_id(qbo, "Services")}}, "Name"),
        ("item", {"Name": "No Income", "Type": "Service"}, "IncomeAccountRef"),
        ("account", {"AccountType": "Bank"}, "Name"),
        ("account", {"Name": "No Type"}, "AccountType"),
        ("term", {"DueDays": 5}, "Name"),
        ("invoice", {"Line": [line]}, "CustomerRef"),
        ("invoice", {"CustomerRef": {"value": customer_id}}, "Line"),
        ("invoice", {"CustomerRef": {"value": customer_id}, "Line": []}, "Line"),
        ("invoice", invoice_body(customer_id, {"DetailType": "SalesItemLineDetail", "Amount": 1}),
         "Line.SalesItemLineDetail"),
        ("invoice", invoice_body(customer_id, {"DetailType": "SalesItemLineDetail", "Amount": 1,
                                               "SalesItemLineDetail": {"Qty": 1}}), "ItemRef"),
        ("journalentry", {"TxnDate": "2026-01-01"}, "Line"),
        ("journalentry", {"Line": [je_line]}, "AccountRef"),
        ("companycurrency", {"Name": "No code"}, "Code"),
    ]  # fmt: skip


def test_missing_required_fields_are_2020(control: httpx.Client) -> None:
    co = connect(control, multicurrency=True, sample_data=False)
    cust, item = customer(co, "Required Co"), service_item(co, "Required Item")
    for entity, body, element in required_cases(co, cust["Id"], item["Id"]):
        error = fault(co.post(entity, json=body), 400, "2020", element=element)
        assert error["Message"] == "Required param missing, need to supply the required value for the API"
        assert element in error["Detail"]


def test_references_to_missing_objects_are_2500(qbo: Qbo) -> None:
    cust, item = customer(qbo, "Ref Co"), service_item(qbo, "Ref Item")
    cases: list[tuple[str, dict[str, Any], str]] = [
        ("invoice", invoice_body("99999", sales_line(item["Id"])), "CustomerRef"),
        ("invoice", invoice_body(cust["Id"], sales_line("99999")), "ItemRef"),
        ("invoice", invoice_body(cust["Id"], sales_line(item["Id"]), SalesTermRef={"value": "999"}), "SalesTermRef"),
        ("customer", {"DisplayName": "Terms Co", "SalesTermRef": {"value": "999"}}, "SalesTermRef"),
        ("item", {"Name": "Bad Income", "IncomeAccountRef": {"value": "999"}}, "IncomeAccountRef"),
    ]
    for entity, body, element in cases:
        error = fault(qbo.post(entity, json=body), 400, "2500", element=element)
        assert error["Message"] == "Invalid Reference Id"
    fault(qbo.post("item", json={"Name": "Malformed", "IncomeAccountRef": {"name": "x"}}), 400, "2500")
    line = {"DetailType": "JournalEntryLineDetail", "Amount": 5,
            "JournalEntryLineDetail": {"PostingType": "Debit", "AccountRef": {"value": "999"}}}  # fmt: skip
    credit = {**line, "JournalEntryLineDetail": {"PostingType": "Credit", "AccountRef": {"value": "999"}}}
    fault(qbo.post("journalentry", json={"Line": [line, credit]}), 400, "2500", element="AccountRef")


def test_reference_to_an_inactive_customer_or_item_is_610(qbo: Qbo) -> None:
    cust, item = customer(qbo, "Sleeping Co"), service_item(qbo, "Sleeping Item")
    ok(qbo.post("customer", json={"Id": cust["Id"], "SyncToken": "0", "sparse": True, "Active": False}), "Customer")
    fault(qbo.post("invoice", json=invoice_body(cust["Id"], sales_line(item["Id"]))), 400, "610")
    awake = customer(qbo, "Awake Co")
    ok(qbo.post("item", json={"Id": item["Id"], "SyncToken": "0", "sparse": True, "Active": False}), "Item")
    fault(qbo.post("invoice", json=invoice_body(awake["Id"], sales_line(item["Id"]))), 400, "610")


@pytest.mark.parametrize(
    ("field", "value", "limit"),
    [("DocNumber", "D" * 22, 21), ("PrivateNote", "p" * 4001, 4000), ("CustomerMemo", {"value": "m" * 1001}, 1000)],
)
def test_invoice_text_lengths_are_2050(control: httpx.Client, field: str, value: object, limit: int) -> None:
    co = connect(control, custom_txn_numbers=True, sample_data=False)
    cust, item = customer(co, "Long Co"), service_item(co, "Long Item")
    error = fault(
        co.post("invoice", json=invoice_body(cust["Id"], sales_line(item["Id"]), **{field: value})), 400, "2050"
    )
    assert error["element"] == field and f"Max:{limit}" in error["Detail"]


def test_line_amount_must_equal_qty_times_unit_price(qbo: Qbo) -> None:
    cust, item = customer(qbo, "Amount Co"), service_item(qbo, "Amount Item")
    line = {**sales_line(item["Id"], "2", "10"), "Amount": "25"}
    fault(qbo.post("invoice", json=invoice_body(cust["Id"], line)), 400, "6070", element="Amount")
    fault(qbo.post("invoice", json=invoice_body(cust["Id"], {**line, "Amount": "abc"})), 400, "2090", element="Amount")


def _sale(**detail: Any) -> dict[str, Any]:
    return {
        "DetailType": "SalesItemLineDetail",
        "Amount": 1,
        "SalesItemLineDetail": {"ItemRef": {"value": "1"}, **detail},
    }


MISTYPED = [
    ("invoice", {"CustomerRef": {"value": "1"}, "Line": [1]}, "Line"),
    ("invoice", {"CustomerRef": {"value": "1"}, "Line": "x"}, "Line"),
    ("invoice", {"CustomerRef": "1", "Line": [_sale()]}, "CustomerRef"),
    ("invoice", {"CustomerRef": {"value": ["1"]}, "Line": [_sale()]}, "CustomerRef.value"),
    ("invoice", {"CustomerRef": {"value": "1"}, "Line": [{"DetailType": "SalesItemLineDetail",
                                                          "SalesItemLineDetail": "x"}]}, "Line[0].SalesItemLineDetail"),
    ("invoice", {"CustomerRef": {"value": "1"}, "TxnDate": "not a date", "Line": [_sale()]}, "TxnDate"),
    ("invoice", {"CustomerRef": {"value": "1"}, "DueDate": 5, "Line": [_sale()]}, "DueDate"),
    ("invoice", {"CustomerRef": {"value": "1"}, "TxnTaxDetail": "x", "Line": [_sale()]}, "TxnTaxDetail"),
    ("invoice", {"CustomerRef": {"value": "1"}, "Line": [_sale(TaxCodeRef="TAX")]},
     "Line[0].SalesItemLineDetail.TaxCodeRef"),
    ("invoice", {"CustomerRef": {"value": "1"}, "CustomerMemo": "hi", "Line": [_sale()]}, "CustomerMemo"),
    ("invoice", {"CustomerRef": {"value": "1"}, "DocNumber": 12345, "Line": [_sale()]}, "DocNumber"),
    ("customer", {"DisplayName": "X", "PrimaryEmailAddr": "a@b.com"}, "PrimaryEmailAddr"),
    ("customer", {"DisplayName": 5}, "DisplayName"),
    ("customer", {"DisplayName": "Flag", "Active": "false"}, "Active"),
    ("customer", {"DisplayName": "Addr", "BillAddr": ["1 Main St"]}, "BillAddr"),
    ("item", {"Name": "Typed", "IncomeAccountRef": {"value": "1"}, "Type": ["Service"]}, "Type"),
    ("account", {"Name": "A", "AccountType": ["Bank"]}, "AccountType"),
    ("journalentry", {"Line": ["x"]}, "Line"),
    ("journalentry", {"Line": [{"Amount": 1, "JournalEntryLineDetail": "x"}]}, "Line[0].JournalEntryLineDetail"),
    ("journalentry", {"TxnDate": "2026-13-01", "Line": []}, "TxnDate"),
]  # fmt: skip


@pytest.mark.parametrize(("entity", "body", "element"), MISTYPED)
def test_mistyped_fields_are_2010_never_a_crash(qbo: Qbo, entity: str, body: dict[str, Any], element: str) -> None:
    before = qbo.query(f"select count(*) from {entity}").json()["QueryResponse"]["totalCount"]
    error = fault(qbo.post(entity, json=body), 400, "2010", element=element)
    assert error["Message"] == "Request has invalid or unsupported property"
    assert qbo.query(f"select count(*) from {entity}").json()["QueryResponse"]["totalCount"] == before


def test_mistyped_fields_in_updates_and_preferences_are_2010(qbo: Qbo) -> None:
    made = customer(qbo, "Typed Co")
    body = {"Id": made["Id"], "SyncToken": "0", "sparse": True, "PrimaryEmailAddr": "x@y.com"}
    fault(qbo.post("customer", json=body), 400, "2010", element="PrimaryEmailAddr")
    prefs = ok(qbo.get("preferences"), "Preferences")
    bad = {"Id": "1", "SyncToken": prefs["SyncToken"], "sparse": True, "CurrencyPrefs": "x"}
    fault(qbo.post("preferences", json=bad), 400, "2010", element="CurrencyPrefs")
    assert ok(qbo.get("preferences"), "Preferences") == prefs


def test_empty_dates_count_as_unset(qbo: Qbo) -> None:
    cust, item = customer(qbo, "Empty Date Co"), service_item(qbo, "Empty Date Item")
    made = invoice(qbo, cust["Id"], sales_line(item["Id"]), TxnDate="", DueDate="", ShipDate="")
    assert made["TxnDate"] and made["DueDate"] > made["TxnDate"]


# -- document numbers --------------------------------------------------------------------------------------


def test_duplicate_doc_number_with_custom_numbers_is_6140(control: httpx.Client) -> None:
    co = connect(control, custom_txn_numbers=True, sample_data=False)
    cust, item = customer(co, "Numbers Co"), service_item(co, "Numbers Item")
    first = invoice(co, cust["Id"], sales_line(item["Id"]), DocNumber="SO-1042")
    assert first["DocNumber"] == "SO-1042"
    error = fault(co.post("invoice", json=invoice_body(cust["Id"], sales_line(item["Id"]), DocNumber="SO-1042")),
                  400, "6140", element="DocNumber")  # fmt: skip
    assert error["Message"] == "Duplicate Document Number Error"
    assert error["Detail"] == (
        "Duplicate Document Number Error : You must specify a different number. This number has already been used. "
        f"DocNumber=SO-1042 is assigned to TxnType=Invoice with TxnId={first['Id']}"
    )
    unnumbered = invoice(co, cust["Id"], sales_line(item["Id"]))
    assert unnumbered.get("DocNumber") is None
    # an update keeping its own number is no duplicate; taking another's is
    keep = {"Id": first["Id"], "SyncToken": "0", "sparse": True, "PrivateNote": "same number"}
    assert ok(co.post("invoice", json=keep), "Invoice")["DocNumber"] == "SO-1042"
    take = {"Id": unnumbered["Id"], "SyncToken": "0", "sparse": True, "DocNumber": "SO-1042"}
    fault(co.post("invoice", json=take), 400, "6140")


def test_doc_numbers_assigned_when_custom_numbers_are_off(control: httpx.Client) -> None:
    co = connect(control, custom_txn_numbers=False, sample_data=False)
    cust, item = customer(co, "Auto Co"), service_item(co, "Auto Item")
    numbers = [invoice(co, cust["Id"], sales_line(item["Id"]))["DocNumber"] for _ in range(3)]
    assert numbers == ["1001", "1002", "1003"]
    sent = invoice(co, cust["Id"], sales_line(item["Id"]), DocNumber="MINE-1")
    assert sent["DocNumber"] == "1004"
    ok(co.post("invoice", json={"Id": sent["Id"], "SyncToken": "0"}, operation="delete"), "Invoice")
    assert invoice(co, cust["Id"], sales_line(item["Id"]))["DocNumber"] == "1005"


def test_automatic_numbers_continue_the_last_number_and_its_prefix(control: httpx.Client) -> None:
    co = connect(control, custom_txn_numbers=True, sample_data=False)
    cust, item = customer(co, "Prefix Co"), service_item(co, "Prefix Item")
    invoice(co, cust["Id"], sales_line(item["Id"]), DocNumber="App_0999")
    invoice(co, cust["Id"], sales_line(item["Id"]), DocNumber="App_1000")
    prefs = ok(co.get("preferences"), "Preferences")
    sales = {**prefs["SalesFormsPrefs"], "CustomTxnNumbers": False}
    body = {"Id": "1", "SyncToken": prefs["SyncToken"], "sparse": True, "SalesFormsPrefs": sales}
    ok(co.post("preferences", json=body), "Preferences")
    assert invoice(co, cust["Id"], sales_line(item["Id"]))["DocNumber"] == "App_1001"
    assert invoice(co, cust["Id"], sales_line(item["Id"]))["DocNumber"] == "App_1002"


# -- currencies --------------------------------------------------------------------------------------------


def test_customer_currency_is_fixed_once_set(control: httpx.Client) -> None:
    co = connect(control, country="GB", multicurrency=True, sample_data=False)
    euro = customer(co, "Euro Kunde", CurrencyRef={"value": "EUR"})
    assert euro["CurrencyRef"] == {"value": "EUR", "name": "Euro"}
    change = {"Id": euro["Id"], "SyncToken": "0", "sparse": True, "CurrencyRef": {"value": "GBP"}}
    fault(co.post("customer", json=change), 400, "6000", element="CurrencyRef")
    home = customer(co, "Home Customer")
    assert home["CurrencyRef"]["value"] == "GBP"
    fault(co.post("customer", json={"DisplayName": "Yen Co", "CurrencyRef": {"value": "JPY"}}), 400, "6000")


def test_full_update_without_currency_keeps_the_customers_currency(control: httpx.Client) -> None:
    co = connect(control, country="GB", multicurrency=True, sample_data=False)
    euro = customer(co, "Euro Full", CurrencyRef={"value": "EUR"})
    body = {"Id": euro["Id"], "SyncToken": "0", "DisplayName": "Euro Full", "Notes": "full update"}
    updated = ok(co.post("customer", json=body), "Customer")
    assert updated["CurrencyRef"]["value"] == "EUR" and updated["Notes"] == "full update"


def test_invoice_currency_must_match_its_customer(control: httpx.Client) -> None:
    co = connect(control, country="GB", multicurrency=True, sample_data=False)
    euro, item = customer(co, "Euro Buyer", CurrencyRef={"value": "EUR"}), service_item(co, "FX Item")
    no_tax = {"GlobalTaxCalculation": "NotApplicable"}
    made = invoice(co, euro["Id"], sales_line(item["Id"], "1", "100"), **no_tax)
    assert made["CurrencyRef"]["value"] == "EUR"
    assert money(made["ExchangeRate"]) == money("1.08") and money(made["HomeTotalAmt"]) == money("108.00")
    rate = invoice(co, euro["Id"], sales_line(item["Id"], "1", "100"), ExchangeRate="1.10", **no_tax)
    assert money(rate["HomeTotalAmt"]) == money("110.00")
    wrong = invoice_body(euro["Id"], sales_line(item["Id"]), CurrencyRef={"value": "USD"}, **no_tax)
    error = fault(co.post("invoice", json=wrong), 400, "6000", element="CurrencyRef")
    assert "customer's currency" in error["Detail"]
    home = customer(co, "Pound Buyer")
    pound = invoice(co, home["Id"], sales_line(item["Id"]), **no_tax)
    assert pound["CurrencyRef"]["value"] == "GBP" and money(pound["ExchangeRate"]) == 1


def test_foreign_currency_refused_without_multicurrency(control: httpx.Client) -> None:
    co = connect(control, country="GB", multicurrency=False, sample_data=False)
    body = {"DisplayName": "Abroad Co", "CurrencyRef": {"value": "EUR"}}
    error = fault(co.post("customer", json=body), 400, "6000", element="CurrencyRef")
    assert "Multicurrency is off" in error["Detail"]
    cust, item = customer(co, "Home Co"), service_item(co, "Home Item")
    assert cust["CurrencyRef"]["value"] == "GBP"
    wrong = invoice_body(cust["Id"], sales_line(item["Id"]), CurrencyRef={"value": "EUR"})
    fault(co.post("invoice", json=wrong), 400, "6000", element="CurrencyRef")


# -- totals, terms, due dates ------------------------------------------------------------------------------


def test_totals_and_balance_are_computed_from_lines(qbo: Qbo) -> None:
    cust, item = customer(qbo, "Totals Co"), service_item(qbo, "Totals Item")
    amount_only = {"DetailType": "SalesItemLineDetail", "Amount": "10.00",
                   "SalesItemLineDetail": {"ItemRef": {"value": item["Id"]}}}  # fmt: skip
    lines = [sales_line(item["Id"], "3", "19.99"), sales_line(item["Id"], "1", "0.03"), amount_only]
    made = invoice(qbo, cust["Id"], *lines, TotalAmt="1.00", Balance="1.00")
    assert money(made["TotalAmt"]) == money("70.00") and money(made["Balance"]) == money("70.00")
    subtotal = [line for line in made["Line"] if line["DetailType"] == "SubTotalLineDetail"]
    assert len(subtotal) == 1 and money(subtotal[0]["Amount"]) == money("70.00")
    assert [line["LineNum"] for line in made["Line"][:3]] == [1, 2, 3]
    # a line with Amount only takes Qty 1 and the item's price
    assert money(made["Line"][2]["SalesItemLineDetail"]["Qty"]) == 1


@pytest.mark.parametrize(
    ("invoice_terms", "customer_terms", "expected_terms", "due"),
    [
        ("Net 15", None, "Net 15", "2026-01-25"),
        (None, "Net 60", "Net 60", "2026-03-11"),
        ("Due on receipt", "Net 60", "Due on receipt", "2026-01-10"),
        (None, None, "Net 30", "2026-02-09"),  # the company's default terms
    ],
)
def test_due_date_from_terms(
    qbo: Qbo, invoice_terms: str | None, customer_terms: str | None, expected_terms: str, due: str
) -> None:
    extra = {"SalesTermRef": {"value": term_id(qbo, customer_terms)}} if customer_terms else {}
    cust, item = customer(qbo, "Terms Co", **extra), service_item(qbo, "Terms Item")
    sent = {"SalesTermRef": {"value": term_id(qbo, invoice_terms)}} if invoice_terms else {}
    made = invoice(qbo, cust["Id"], sales_line(item["Id"]), TxnDate="2026-01-10", **sent)
    assert made["SalesTermRef"] == {"value": term_id(qbo, expected_terms), "name": expected_terms}
    assert made["DueDate"] == due


def test_transactions_without_txn_date_are_dated_today_in_the_company_zone(control: httpx.Client) -> None:
    probe = connect(control, sample_data=False)
    now = datetime.fromisoformat(customer(probe, "Clock Probe")["MetaData"]["CreateTime"]).astimezone(UTC)
    # 02:00 UTC: still the day before in California, so a UTC date would be a day late
    target = (now + timedelta(days=1)).replace(hour=2, minute=0, second=0, microsecond=0)
    control.post("/_sandbox/clock/advance", json={"seconds": (target - now).total_seconds()}).raise_for_status()
    co = connect(control, sample_data=False)  # tokens issued after the clock moved
    cust, item = customer(co, "Today Co"), service_item(co, "Today Item")
    created = datetime.fromisoformat(cust["MetaData"]["CreateTime"])
    today = created.astimezone(ZoneInfo("America/Los_Angeles")).date().isoformat()
    assert today != created.astimezone(UTC).date().isoformat()
    assert invoice(co, cust["Id"], sales_line(item["Id"]))["TxnDate"] == today

    def line(posting: str, account: str) -> dict[str, Any]:
        detail = {"PostingType": posting, "AccountRef": {"value": account_id(co, account)}}
        return {"DetailType": "JournalEntryLineDetail", "Amount": 1, "JournalEntryLineDetail": detail}

    entry = create(co, "JournalEntry", {"Line": [line("Debit", "Checking"), line("Credit", "Services")]})
    assert entry["TxnDate"] == today


def test_explicit_due_date_wins_over_terms(qbo: Qbo) -> None:
    cust, item = customer(qbo, "Due Co"), service_item(qbo, "Due Item")
    made = invoice(qbo, cust["Id"], sales_line(item["Id"]), TxnDate="2026-01-10", DueDate="2026-01-12")
    assert made["DueDate"] == "2026-01-12" and made["SalesTermRef"]["name"] == "Net 30"


def test_seeded_customer_terms_apply(qbo: Qbo) -> None:
    dukes = find_id(qbo, "Customer", "DisplayName", "Dukes Basketball Camp")
    item = find_id(qbo, "Item", "Name", "Design")
    made = invoice(qbo, dukes, sales_line(item, "1", "75"), TxnDate="2026-04-01")
    assert made["SalesTermRef"]["name"] == "Net 15" and made["DueDate"] == "2026-04-16"
    assert made["BillAddr"]["City"] == "Tucson"  # the customer's address when none is sent


# -- tax -----------------------------------------------------------------------------------------------------


def test_us_sales_tax_on_tax_lines_only(qbo: Qbo) -> None:
    cust, item = customer(qbo, "Tax Co"), service_item(qbo, "Taxable Item")
    california = find_id(qbo, "TaxCode", "Name", "California")
    lines = [sales_line(item["Id"], "1", "100", TaxCodeRef={"value": "TAX"}),
             sales_line(item["Id"], "1", "50", TaxCodeRef={"value": "NON"})]  # fmt: skip
    made = invoice(qbo, cust["Id"], *lines, TxnTaxDetail={"TxnTaxCodeRef": {"value": california}})
    detail = made["TxnTaxDetail"]
    assert detail["TxnTaxCodeRef"]["value"] == california
    # 7.25 % and 1.375 % of the taxable 100, each rounded half-up to cents
    assert sorted(money(line["Amount"]) for line in detail["TaxLine"]) == [money("1.38"), money("7.25")]
    assert all(money(line["TaxLineDetail"]["NetAmountTaxable"]) == 100 for line in detail["TaxLine"])
    assert money(detail["TotalTax"]) == money("8.63")
    assert money(made["TotalAmt"]) == money("158.63") and money(made["Balance"]) == money("158.63")
    # without TxnTaxCodeRef the company's sales tax code applies
    default = invoice(qbo, cust["Id"], sales_line(item["Id"], "1", "100", TaxCodeRef={"value": "TAX"}))
    assert money(default["TxnTaxDetail"]["TotalTax"]) == money("8.63")
    untaxed = invoice(qbo, cust["Id"], sales_line(item["Id"], "1", "100"))
    assert money(untaxed["TxnTaxDetail"]["TotalTax"]) == 0 and money(untaxed["TotalAmt"]) == 100


def test_us_lines_take_only_the_pseudo_codes(qbo: Qbo) -> None:
    cust, item = customer(qbo, "Pseudo Co"), service_item(qbo, "Pseudo Item")
    california = find_id(qbo, "TaxCode", "Name", "California")
    body = invoice_body(cust["Id"], sales_line(item["Id"], TaxCodeRef={"value": california}))
    fault(qbo.post("invoice", json=body), 400, "6000", element="TaxCodeRef")
    missing = invoice_body(cust["Id"], sales_line(item["Id"], TaxCodeRef={"value": "TAX"}),
                           TxnTaxDetail={"TxnTaxCodeRef": {"value": "999"}})  # fmt: skip
    fault(qbo.post("invoice", json=missing), 400, "2500", element="TxnTaxCodeRef")


VAT_CASES = [
    pytest.param("GB", [("20.0% S", "100"), ("5.0% R", "50")], "22.50", id="gb-standard-and-reduced"),
    pytest.param("GB", [("0.0% Z", "100"), ("Exempt", "40")], "0.00", id="gb-zero-and-exempt"),
    pytest.param("AU", [("GST", "99.99")], "10.00", id="au-gst"),
    pytest.param("AU", [("GST", "100"), ("GST free", "30")], "10.00", id="au-gst-and-free"),
    pytest.param("CA", [("GST/PST BC", "100")], "12.00", id="ca-gst-pst-two-rates"),
    pytest.param("CA", [("HST ON", "200")], "26.00", id="ca-hst"),
]


@pytest.mark.parametrize(("country", "lines", "tax"), VAT_CASES)
def test_vat_and_gst_tax_excluded(control: httpx.Client, country: str, lines: list[tuple[str, str]], tax: str) -> None:
    co = connect(control, country=country, sample_data=False)
    cust, item = customer(co, "VAT Co"), service_item(co, "VAT Item")
    codes = {c["Name"]: c["Id"] for c in co.rows("select * from TaxCode")}
    body_lines = [sales_line(item["Id"], "1", amount, TaxCodeRef={"value": codes[name]}) for name, amount in lines]
    made = invoice(co, cust["Id"], *body_lines, GlobalTaxCalculation="TaxExcluded")
    net = sum((Decimal(amount) for _, amount in lines), Decimal(0))
    assert made["GlobalTaxCalculation"] == "TaxExcluded"
    assert money(made["TxnTaxDetail"]["TotalTax"]) == money(tax)
    assert money(made["TotalAmt"]) == net + money(tax) and money(made["Balance"]) == net + money(tax)
    assert sum(money(t["Amount"]) for t in made["TxnTaxDetail"]["TaxLine"]) == money(tax)


def test_vat_company_lines_need_a_tax_code(control: httpx.Client) -> None:
    co = connect(control, country="GB", sample_data=False)
    cust, item = customer(co, "No Code Co"), service_item(co, "No Code Item")
    body = invoice_body(cust["Id"], sales_line(item["Id"]), GlobalTaxCalculation="TaxExcluded")
    fault(co.post("invoice", json=body), 400, "2020", element="TaxCodeRef")
    bad = invoice_body(cust["Id"], sales_line(item["Id"], TaxCodeRef={"value": "TAX"}))
    fault(co.post("invoice", json=bad), 400, "2500", element="TaxCodeRef")
    none = invoice(co, cust["Id"], sales_line(item["Id"], "1", "100"), GlobalTaxCalculation="NotApplicable")
    assert money(none["TotalAmt"]) == 100 and money(none["TxnTaxDetail"]["TotalTax"]) == 0


# -- inventory -----------------------------------------------------------------------------------------------


def test_inventory_sale_lowers_qty_on_hand(qbo: Qbo) -> None:
    pump = qbo.rows("select * from Item where Name = 'Pump'")[0]
    assert money(pump["QtyOnHand"]) == 25 and pump["Type"] == "Inventory"
    cust = customer(qbo, "Inventory Co")
    design = find_id(qbo, "Item", "Name", "Design")
    made = invoice(qbo, cust["Id"], sales_line(pump["Id"], "3", "15"), sales_line(pump["Id"], "2", "15"),
                   sales_line(design, "1", "75"))  # fmt: skip
    assert money(made["TotalAmt"]) == money("150")
    after = ok(qbo.get(f"item/{pump['Id']}"), "Item")
    assert money(after["QtyOnHand"]) == 20 and int(after["SyncToken"]) == int(pump["SyncToken"]) + 1
    assert money(ok(qbo.get(f"item/{design}"), "Item")["UnitPrice"]) == 75  # services have no stock


def test_inventory_item_created_then_sold(control: httpx.Client) -> None:
    co = connect(control, country="GB", sample_data=False)
    widget, cust = inventory_item(co, "Widget", qty="5"), customer(co, "Stock Co")
    vat = find_id(co, "TaxCode", "Name", "20.0% S")
    invoice(co, cust["Id"], sales_line(widget["Id"], "5", "15", TaxCodeRef={"value": vat}))
    assert money(ok(co.get(f"item/{widget['Id']}"), "Item")["QtyOnHand"]) == 0
    refused = invoice_body(cust["Id"], sales_line(widget["Id"], "1", "15"))
    fault(co.post("invoice", json=refused), 400, "2020", element="TaxCodeRef")
    assert money(ok(co.get(f"item/{widget['Id']}"), "Item")["QtyOnHand"]) == 0  # a refused sale moves nothing


def test_changing_voiding_or_deleting_a_sale_moves_stock_back(control: httpx.Client) -> None:
    co = connect(control, sample_data=False)
    widget, gadget, cust = (
        inventory_item(co, "Widget", qty="10"),
        inventory_item(co, "Gadget", qty="4"),
        customer(co, "Stock Co"),
    )

    def on_hand(item: dict[str, Any]) -> Decimal:
        return money(ok(co.get(f"item/{item['Id']}"), "Item")["QtyOnHand"])

    sale = invoice(co, cust["Id"], sales_line(widget["Id"], "3", "15"))
    assert on_hand(widget) == 7
    more = {"Id": sale["Id"], "SyncToken": "0", "CustomerRef": {"value": cust["Id"]},
            "Line": [sales_line(widget["Id"], "5", "15"), sales_line(gadget["Id"], "1", "15")]}  # fmt: skip
    ok(co.post("invoice", json=more), "Invoice")
    assert (on_hand(widget), on_hand(gadget)) == (5, 3)
    sparse = {"Id": sale["Id"], "SyncToken": "1", "sparse": True, "PrivateNote": "no stock change"}
    ok(co.post("invoice", json=sparse), "Invoice")
    assert (on_hand(widget), on_hand(gadget)) == (5, 3)
    voided = ok(co.post("invoice", json={"Id": sale["Id"], "SyncToken": "2"}, operation="void"), "Invoice")
    assert [money(line["SalesItemLineDetail"]["Qty"]) for line in voided["Line"][:2]] == [0, 0]
    assert (on_hand(widget), on_hand(gadget)) == (10, 4)
    ok(co.post("invoice", json={"Id": sale["Id"], "SyncToken": "3"}, operation="delete"), "Invoice")
    assert (on_hand(widget), on_hand(gadget)) == (10, 4)  # a voided sale gives nothing back twice

    second = invoice(co, cust["Id"], sales_line(gadget["Id"], "4", "15"))
    assert on_hand(gadget) == 0
    ok(co.post("invoice", json={"Id": second["Id"], "SyncToken": "0"}, operation="delete"), "Invoice")
    assert on_hand(gadget) == 4


# -- customer balance ----------------------------------------------------------------------------------------


def test_customer_balance_is_what_its_invoices_still_owe(qbo: Qbo) -> None:
    cust, item = customer(qbo, "Owing Co"), service_item(qbo, "Owing Item")
    assert money(cust["Balance"]) == 0
    first = invoice(qbo, cust["Id"], sales_line(item["Id"], "1", "100"))
    second = invoice(qbo, cust["Id"], sales_line(item["Id"], "2", "25.50"))

    def balance() -> Decimal:
        return money(ok(qbo.get(f"customer/{cust['Id']}"), "Customer")["Balance"])

    assert balance() == money("151.00")
    owing = qbo.rows("select * from Customer where Balance > 0")
    assert [(c["DisplayName"], money(c["Balance"])) for c in owing] == [("Owing Co", money("151.00"))]
    ok(qbo.post("invoice", json={"Id": first["Id"], "SyncToken": "0"}, operation="void"), "Invoice")
    assert balance() == money("51.00")
    ok(qbo.post("invoice", json={"Id": second["Id"], "SyncToken": "0"}, operation="delete"), "Invoice")
    assert balance() == 0
    # reading the customer changes nothing about it: no new SyncToken
    assert ok(qbo.get(f"customer/{cust['Id']}"), "Customer")["SyncToken"] == "0"


def test_customer_opening_balance_is_kept_and_balance_is_read_only(qbo: Qbo) -> None:
    cust, item = customer(qbo, "Opening Co", Balance="40"), service_item(qbo, "Opening Item")
    assert money(cust["Balance"]) == 40
    invoice(qbo, cust["Id"], sales_line(item["Id"], "1", "60"))
    read = ok(qbo.get(f"customer/{cust['Id']}"), "Customer")
    assert money(read["Balance"]) == 100
    # a full update sending back the Balance it read does not count the invoice twice
    updated = ok(qbo.post("customer", json={**read, "Notes": "full update"}), "Customer")
    assert money(updated["Balance"]) == 100 and updated["Notes"] == "full update"
    sparse = {"Id": cust["Id"], "SyncToken": updated["SyncToken"], "sparse": True, "Balance": 0}
    assert money(ok(qbo.post("customer", json=sparse), "Customer")["Balance"]) == 100


def test_sparse_must_be_a_boolean(qbo: Qbo) -> None:
    made = customer(qbo, "Sparse Flag Co", CompanyName="Kept")
    body = {"Id": made["Id"], "SyncToken": "0", "sparse": "false", "DisplayName": "Sparse Flag Co"}
    fault(qbo.post("customer", json=body), 400, "2010", element="sparse")
    assert ok(qbo.get(f"customer/{made['Id']}"), "Customer")["CompanyName"] == "Kept"


# -- numbers and dates at the edges: Faults, never a crash -------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "element"),
    [
        ({"Amount": 10**27}, "Amount"),
        ({"Amount": "1e30"}, "Amount"),
        ({"Amount": "NaN"}, "Amount"),
        ({"SalesItemLineDetail": {"Qty": 10**40, "UnitPrice": 1}}, "Qty"),
        ({"SalesItemLineDetail": {"Qty": 1, "UnitPrice": "Infinity"}}, "UnitPrice"),
    ],
)
def test_numbers_too_large_or_not_finite_are_2090(qbo: Qbo, line: dict[str, Any], element: str) -> None:
    cust, item = customer(qbo, "Big Co"), service_item(qbo, "Big Item")
    body_line = {"DetailType": "SalesItemLineDetail", **line}
    body_line["SalesItemLineDetail"] = {"ItemRef": {"value": item["Id"]}, **line.get("SalesItemLineDetail", {})}
    error = fault(qbo.post("invoice", json=invoice_body(cust["Id"], body_line)), 400, "2090", element=element)
    assert error["Message"] == "Invalid Number"


def test_large_but_valid_amounts_round_to_cents(qbo: Qbo) -> None:
    cust, item = customer(qbo, "Large Co"), service_item(qbo, "Large Item")
    made = invoice(qbo, cust["Id"], sales_line(item["Id"], "1000", "999999999999.99"))
    assert money(made["TotalAmt"]) == money("999999999999990.00")
    line = {"DetailType": "SalesItemLineDetail", "SalesItemLineDetail": {"ItemRef": {"value": item["Id"]},
            "Qty": "3", "UnitPrice": "0.3333"}}  # fmt: skip
    assert money(invoice(qbo, cust["Id"], line)["TotalAmt"]) == money("1.00")


def test_terms_and_dates_at_the_edges(qbo: Qbo) -> None:
    fault(qbo.post("term", json={"Name": "Forever", "DueDays": 1000}), 400, "6000", element="DueDays")
    assert create(qbo, "Term", {"Name": "Long", "DueDays": 999})["DueDays"] == 999
    cust, item = customer(qbo, "Edge Co"), service_item(qbo, "Edge Item")
    late = invoice_body(cust["Id"], sales_line(item["Id"]), TxnDate="9999-12-31")
    fault(qbo.post("invoice", json=late), 400, "6000", element="DueDate")
    kept = invoice(qbo, cust["Id"], sales_line(item["Id"]), TxnDate="9999-12-31", DueDate="9999-12-31")
    assert kept["DueDate"] == "9999-12-31"
    assert invoice(qbo, cust["Id"], sales_line(item["Id"]), TxnTaxDetail=None)["TxnTaxDetail"]["TotalTax"] == 0


def test_foreign_invoice_exchange_rate_must_be_a_positive_number(control: httpx.Client) -> None:
    co = connect(control, country="GB", multicurrency=True, sample_data=False)
    euro, item = customer(co, "Rate Co", CurrencyRef={"value": "EUR"}), service_item(co, "Rate Item")
    no_tax = {"GlobalTaxCalculation": "NotApplicable"}
    zero = invoice_body(euro["Id"], sales_line(item["Id"]), ExchangeRate=0, **no_tax)
    fault(co.post("invoice", json=zero), 400, "6000", element="ExchangeRate")
    text = invoice_body(euro["Id"], sales_line(item["Id"]), ExchangeRate="abc", **no_tax)
    fault(co.post("invoice", json=text), 400, "2090", element="ExchangeRate")


def test_preferences_currency_prefs_cannot_be_dropped(control: httpx.Client) -> None:
    gb = connect(control, country="GB", multicurrency=True, sample_data=False)
    prefs = ok(gb.get("preferences"), "Preferences")
    body = {"Id": "1", "SyncToken": prefs["SyncToken"], "sparse": True, "CurrencyPrefs": None}
    updated = ok(gb.post("preferences", json=body), "Preferences")
    assert updated["CurrencyPrefs"] == {"MultiCurrencyEnabled": True, "HomeCurrency": {"value": "GBP"}}
    partial = {"Id": "1", "SyncToken": updated["SyncToken"], "sparse": True, "CurrencyPrefs": {}}
    assert ok(gb.post("preferences", json=partial), "Preferences")["CurrencyPrefs"] == updated["CurrencyPrefs"]
    assert customer(gb, "Still Pounds")["CurrencyRef"]["value"] == "GBP"


# -- the property: a mutated body is a Fault or a success, never a 500 ---------------------------------------------

EDGE_VALUES = st.sampled_from(
    [None, "", "1", "999", "TAX", "EUR", "2026-02-30", "9999-12-31", "x:y", "NaN", "1e400", 10**28, -(10**28),
     1e300, -1, 0, True, [], {}, {"value": None}, {"value": ["1"]}]
)  # fmt: skip
ODD_VALUES = st.one_of(
    EDGE_VALUES,
    st.recursive(
        st.one_of(st.integers(), st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=4)),
        lambda inner: st.one_of(
            st.lists(inner, max_size=2), st.dictionaries(st.sampled_from(["value", "name", "x"]), inner, max_size=2)
        ),
        max_leaves=4,
    ),
)


def _paths(obj: object, prefix: tuple[object, ...] = ()) -> list[tuple[object, ...]]:
    found = [prefix] if prefix else []
    children = obj.items() if isinstance(obj, dict) else enumerate(obj) if isinstance(obj, list) else []
    for key, value in children:
        found += _paths(value, (*prefix, key))
    return found


def _replace(obj: Any, path: tuple[object, ...], value: object) -> Any:
    if not path:
        return value
    copied = dict(obj) if isinstance(obj, dict) else list(obj)
    copied[path[0]] = _replace(copied[path[0]], path[1:], value)  # type: ignore[index]
    return copied


def test_mutated_bodies_never_answer_500(sandbox_server: SandboxServer) -> None:
    with httpx.Client(base_url=sandbox_server.url, timeout=10) as control:
        co = connect(control, country="GB", multicurrency=True)
        vat = find_id(co, "TaxCode", "Name", "20.0% S")
        pump = find_id(co, "Item", "Name", "Pump")
        bases = {
            "invoice": invoice_body("1", sales_line(pump, "2", "15", TaxCodeRef={"value": vat}), TxnDate="2026-01-02",
                                    SalesTermRef={"value": "2"}, GlobalTaxCalculation="TaxExcluded", ExchangeRate=1),
            "customer": {"DisplayName": "Mutant", "PrimaryEmailAddr": {"Address": "m@x.com"},
                         "CurrencyRef": {"value": "EUR"}},
            "item": {"Name": "Mutant", "Type": "Service", "UnitPrice": 5, "IncomeAccountRef": {"value": "1"}},
            "term": {"Name": "Mutant", "DueDays": 10},
        }  # fmt: skip
        choices = [(entity, path) for entity, body in bases.items() for path in _paths(body)]

        @settings(max_examples=100)
        @given(choice=st.sampled_from(choices), value=ODD_VALUES, suffix=st.integers(0, 10**6))
        def check(choice: tuple[str, tuple[object, ...]], value: object, suffix: int) -> None:
            entity, path = choice
            body = _replace(bases[entity], path, value)
            for key in ("DisplayName", "Name"):
                if body.get(key) == "Mutant":
                    body[key] = f"Mutant {suffix}"  # keep duplicate names out of the way
            response = co.post(entity, json=body)
            assert response.status_code in (200, 400), response.text
            if response.status_code == 400:
                assert response.json()["Fault"]["type"] == "ValidationFault"

        check()
