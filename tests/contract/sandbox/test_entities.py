"""Entity lifecycles over real HTTP: create, read, sparse and full update, delete, void — with SyncToken,
MetaData and the Faults QBO answers (stale object 5010, object not found 610, unsupported operation 500)."""

from __future__ import annotations

from datetime import datetime

import httpx
import pytest
from tests.contract.sandbox.conftest import Qbo, connect
from tests.contract.sandbox.contract_support import (
    account_id,
    create,
    customer,
    fault,
    invoice,
    money,
    ok,
    sales_line,
    service_item,
)


def assert_metadata(obj: dict[str, object]) -> None:
    meta = obj["MetaData"]
    assert isinstance(meta, dict)
    created = datetime.fromisoformat(str(meta["CreateTime"]))
    updated = datetime.fromisoformat(str(meta["LastUpdatedTime"]))
    assert created.tzinfo is not None and updated >= created
    assert obj["domain"] == "QBO"
    assert obj["sparse"] is False


# -- Customer ----------------------------------------------------------------------------------------------


def test_customer_create_read_and_metadata(qbo: Qbo) -> None:
    made = customer(qbo, "Acme Ltd", PrimaryEmailAddr={"Address": "ap@acme.example"}, CompanyName="Acme")
    assert made["Id"] and made["SyncToken"] == "0"
    assert made["DisplayName"] == "Acme Ltd" and made["FullyQualifiedName"] == "Acme Ltd"
    assert made["Active"] is True
    assert made["CurrencyRef"]["value"] == "USD"
    assert_metadata(made)
    read = ok(qbo.get(f"customer/{made['Id']}"), "Customer")
    assert read == made


def test_customer_sparse_update_keeps_other_fields_and_increments_synctoken(qbo: Qbo) -> None:
    made = customer(qbo, "Sparse Co", CompanyName="Sparse Company", PrimaryEmailAddr={"Address": "a@sparse.example"})
    body = {"Id": made["Id"], "SyncToken": "0", "sparse": True, "PrimaryEmailAddr": {"Address": "b@sparse.example"}}
    updated = ok(qbo.post("customer", json=body), "Customer")
    assert updated["SyncToken"] == "1"
    assert updated["PrimaryEmailAddr"] == {"Address": "b@sparse.example"}
    assert updated["CompanyName"] == "Sparse Company" and updated["DisplayName"] == "Sparse Co"
    assert updated["MetaData"]["CreateTime"] == made["MetaData"]["CreateTime"]
    assert updated["MetaData"]["LastUpdatedTime"] >= made["MetaData"]["LastUpdatedTime"]
    again = ok(qbo.post("customer", json={**body, "SyncToken": "1", "Notes": "n"}), "Customer")
    assert again["SyncToken"] == "2" and again["Notes"] == "n"


def test_customer_full_update_replaces_fields_not_sent(qbo: Qbo) -> None:
    made = customer(qbo, "Full Co", CompanyName="Full Company")
    body = {"Id": made["Id"], "SyncToken": "0", "DisplayName": "Full Co Renamed"}
    updated = ok(qbo.post("customer", json=body), "Customer")
    assert updated["SyncToken"] == "1"
    assert updated["DisplayName"] == "Full Co Renamed" and updated["FullyQualifiedName"] == "Full Co Renamed"
    assert "CompanyName" not in updated
    assert ok(qbo.get(f"customer/{made['Id']}"), "Customer") == updated


def test_stale_synctoken_is_refused_and_changes_nothing(qbo: Qbo) -> None:
    made = customer(qbo, "Stale Co")
    ok(qbo.post("customer", json={"Id": made["Id"], "SyncToken": "0", "sparse": True, "Notes": "first"}), "Customer")
    stale = qbo.post("customer", json={"Id": made["Id"], "SyncToken": "0", "sparse": True, "Notes": "second"})
    error = fault(stale, 400, "5010", element="SyncToken")
    assert error["Message"] == "Stale Object Error"
    read = ok(qbo.get(f"customer/{made['Id']}"), "Customer")
    assert read["Notes"] == "first" and read["SyncToken"] == "1"


def test_update_without_synctoken_is_2020(qbo: Qbo) -> None:
    made = customer(qbo, "No Token Co")
    fault(qbo.post("customer", json={"Id": made["Id"], "sparse": True, "Notes": "x"}), 400, "2020", element="SyncToken")


def test_update_of_missing_object_is_610(qbo: Qbo) -> None:
    fault(qbo.post("customer", json={"Id": "999999", "SyncToken": "0", "sparse": True, "Notes": "x"}), 400, "610")


def test_read_of_missing_object_is_610(qbo: Qbo) -> None:
    error = fault(qbo.get("customer/424242"), 400, "610")
    assert error["Message"] == "Object Not Found"


@pytest.mark.parametrize("entity", ["customer", "item", "account", "term"])
def test_name_lists_cannot_be_deleted(qbo: Qbo, entity: str) -> None:
    rows = qbo.rows(f"select * from {entity} maxresults 1")
    target = rows[0]
    response = qbo.post(entity, json={"Id": target["Id"], "SyncToken": target["SyncToken"]}, operation="delete")
    error = fault(response, 400, "500")
    assert error["Message"] == "Unsupported Operation"
    assert ok(qbo.get(f"{entity}/{target['Id']}"), entity.capitalize())["Id"] == target["Id"]


def test_customer_made_inactive_instead_of_deleted(qbo: Qbo) -> None:
    made = customer(qbo, "Inactive Co")
    body = {"Id": made["Id"], "SyncToken": "0", "sparse": True, "Active": False}
    updated = ok(qbo.post("customer", json=body), "Customer")
    assert updated["Active"] is False and updated["SyncToken"] == "1"
    assert ok(qbo.get(f"customer/{made['Id']}"), "Customer")["Active"] is False
    assert qbo.rows("select * from Customer where DisplayName = 'Inactive Co'") == []
    assert [c["Id"] for c in qbo.rows("select * from Customer where Active = false")] == [made["Id"]]


def test_unknown_operation_is_refused(qbo: Qbo) -> None:
    made = customer(qbo, "Op Co")
    response = qbo.post("customer", json={"Id": made["Id"], "SyncToken": "0"}, operation="merge")
    fault(response, 400, "500", element="operation")


def test_unknown_entity_is_refused(qbo: Qbo) -> None:
    fault(qbo.get("budget/1"), 400, "500")  # an entity of QBO's the sandbox does not serve (COVERAGE.md)
    fault(qbo.post("vendorcredit", json={"VendorRef": {"value": "1"}}), 400, "500")


def test_body_that_is_not_json_is_2010(qbo: Qbo) -> None:
    response = qbo.http.post(
        qbo.url("customer"),
        params={"minorversion": "75"},
        content=b"{not json",
        headers={**qbo.headers(), "Content-Type": "application/json"},
    )
    fault(response, 400, "2010")


# -- Item --------------------------------------------------------------------------------------------------


def test_item_create_read_update(qbo: Qbo) -> None:
    made = service_item(qbo, "Consulting", price="120", Sku="CONS-1")
    assert made["SyncToken"] == "0" and made["Type"] == "Service"
    assert money(made["UnitPrice"]) == money("120") and made["TrackQtyOnHand"] is False
    assert made["Sku"] == "CONS-1" and made["Active"] is True
    assert made["IncomeAccountRef"] == {"value": account_id(qbo, "Services"), "name": "Services"}
    assert_metadata(made)
    assert ok(qbo.get(f"item/{made['Id']}"), "Item") == made
    body = {"Id": made["Id"], "SyncToken": "0", "sparse": True, "UnitPrice": 130}
    updated = ok(qbo.post("item", json=body), "Item")
    assert money(updated["UnitPrice"]) == money("130") and updated["Sku"] == "CONS-1" and updated["SyncToken"] == "1"


def test_inventory_item_needs_its_accounts_and_quantity(qbo: Qbo) -> None:
    body = {"Name": "Widget", "Type": "Inventory", "IncomeAccountRef": {"value": account_id(qbo, "Services")}}
    fault(qbo.post("item", json=body), 400, "2020", element="AssetAccountRef")
    body["AssetAccountRef"] = {"value": account_id(qbo, "Inventory Asset")}
    body["ExpenseAccountRef"] = {"value": account_id(qbo, "Cost of Goods Sold")}
    fault(qbo.post("item", json=body), 400, "2020", element="InvStartDate")
    body["InvStartDate"] = "2025-01-01"
    fault(qbo.post("item", json=body), 400, "2020", element="QtyOnHand")
    made = create(qbo, "Item", {**body, "QtyOnHand": 12})
    assert made["TrackQtyOnHand"] is True and money(made["QtyOnHand"]) == 12


def test_item_type_must_be_known(qbo: Qbo) -> None:
    body = {"Name": "Odd", "Type": "Gizmo", "IncomeAccountRef": {"value": account_id(qbo, "Services")}}
    fault(qbo.post("item", json=body), 400, "2070", element="Type")


# -- Invoice -----------------------------------------------------------------------------------------------


def test_invoice_lifecycle_create_read_sparse_full_update(qbo: Qbo) -> None:
    cust = customer(qbo, "Invoice Co")
    item = service_item(qbo, "Invoice Service")
    made = invoice(qbo, cust["Id"], sales_line(item["Id"], "2", "50"), TxnDate="2026-03-01")
    assert made["SyncToken"] == "0" and money(made["TotalAmt"]) == 100 and money(made["Balance"]) == 100
    assert made["CustomerRef"] == {"value": cust["Id"], "name": "Invoice Co"}
    assert [line["DetailType"] for line in made["Line"]] == ["SalesItemLineDetail", "SubTotalLineDetail"]
    assert_metadata(made)
    assert ok(qbo.get(f"invoice/{made['Id']}"), "Invoice") == made

    sparse = {"Id": made["Id"], "SyncToken": "0", "sparse": True, "CustomerMemo": {"value": "Thanks"}}
    updated = ok(qbo.post("invoice", json=sparse), "Invoice")
    assert updated["SyncToken"] == "1" and updated["CustomerMemo"] == {"value": "Thanks"}
    assert money(updated["TotalAmt"]) == 100 and updated["DocNumber"] == made["DocNumber"]

    full = {"Id": made["Id"], "SyncToken": "1", "CustomerRef": {"value": cust["Id"]}, "TxnDate": "2026-03-01",
            "Line": [sales_line(item["Id"], "3", "50")]}  # fmt: skip
    replaced = ok(qbo.post("invoice", json=full), "Invoice")
    assert replaced["SyncToken"] == "2" and money(replaced["TotalAmt"]) == 150 and money(replaced["Balance"]) == 150
    assert "CustomerMemo" not in replaced
    assert replaced["MetaData"]["CreateTime"] == made["MetaData"]["CreateTime"]


def test_invoice_delete_then_read_is_610(qbo: Qbo) -> None:
    cust = customer(qbo, "Delete Co")
    item = service_item(qbo, "Delete Service")
    made = invoice(qbo, cust["Id"], sales_line(item["Id"]))
    deleted = ok(qbo.post("invoice", json={"Id": made["Id"], "SyncToken": "0"}, operation="delete"), "Invoice")
    assert deleted == {"domain": "QBO", "status": "Deleted", "Id": made["Id"]}
    fault(qbo.get(f"invoice/{made['Id']}"), 400, "610")
    again = qbo.post("invoice", json={"Id": made["Id"], "SyncToken": "0"}, operation="delete")
    fault(again, 400, "610")
    assert qbo.rows(f"select * from Invoice where Id = '{made['Id']}'") == []


def test_invoice_delete_with_stale_synctoken_is_5010(qbo: Qbo) -> None:
    cust = customer(qbo, "Stale Delete Co")
    made = invoice(qbo, cust["Id"], sales_line(service_item(qbo, "SD Service")["Id"]))
    ok(qbo.post("invoice", json={"Id": made["Id"], "SyncToken": "0", "sparse": True, "PrivateNote": "x"}), "Invoice")
    fault(qbo.post("invoice", json={"Id": made["Id"], "SyncToken": "0"}, operation="delete"), 400, "5010")
    assert ok(qbo.get(f"invoice/{made['Id']}"), "Invoice")["SyncToken"] == "1"


def test_invoice_void_zeroes_amounts_and_keeps_the_invoice(qbo: Qbo) -> None:
    cust = customer(qbo, "Void Co")
    made = invoice(qbo, cust["Id"], sales_line(service_item(qbo, "Void Service")["Id"], "1", "80"))
    voided = ok(qbo.post("invoice", json={"Id": made["Id"], "SyncToken": "0"}, operation="void"), "Invoice")
    assert voided["SyncToken"] == "1" and voided["Id"] == made["Id"]
    assert money(voided["TotalAmt"]) == 0 and money(voided["Balance"]) == 0
    assert all(money(line["Amount"]) == 0 for line in voided["Line"])
    assert voided["PrivateNote"] == "Voided" and voided["DocNumber"] == made["DocNumber"]
    assert ok(qbo.get(f"invoice/{made['Id']}"), "Invoice") == voided


def test_void_of_a_customer_or_journal_entry_is_unsupported(qbo: Qbo) -> None:
    cust = customer(qbo, "No Void Co")
    fault(qbo.post("customer", json={"Id": cust["Id"], "SyncToken": "0"}, operation="void"), 400, "500")
    entry = create(qbo, "JournalEntry", journal_body(qbo, "10"))
    fault(qbo.post("journalentry", json={"Id": entry["Id"], "SyncToken": "0"}, operation="void"), 400, "500")


# -- JournalEntry ------------------------------------------------------------------------------------------


def journal_body(qbo: Qbo, amount: str, credit: str | None = None) -> dict[str, object]:
    def line(posting: str, account: str, value: str) -> dict[str, object]:
        detail = {"PostingType": posting, "AccountRef": {"value": account_id(qbo, account)}}
        return {"DetailType": "JournalEntryLineDetail", "Amount": value, "JournalEntryLineDetail": detail}

    lines = [line("Debit", "Cost of Goods Sold", amount), line("Credit", "Inventory Asset", credit or amount)]
    return {"TxnDate": "2026-02-01", "DocNumber": "JE-1", "Line": lines}


def test_journal_entry_create_read_update_delete(qbo: Qbo) -> None:
    made = create(qbo, "JournalEntry", journal_body(qbo, "42.50"))
    assert made["SyncToken"] == "0" and money(made["TotalAmt"]) == money("42.50") and made["TxnDate"] == "2026-02-01"
    assert [line["JournalEntryLineDetail"]["PostingType"] for line in made["Line"]] == ["Debit", "Credit"]
    assert made["Line"][0]["JournalEntryLineDetail"]["AccountRef"]["name"] == "Cost of Goods Sold"
    assert_metadata(made)
    assert ok(qbo.get(f"journalentry/{made['Id']}"), "JournalEntry") == made
    body = {"Id": made["Id"], "SyncToken": "0", "sparse": True, "PrivateNote": "COGS for order 7"}
    updated = ok(qbo.post("journalentry", json=body), "JournalEntry")
    assert updated["SyncToken"] == "1" and updated["PrivateNote"] == "COGS for order 7"
    assert money(updated["TotalAmt"]) == money("42.50")
    deleted = ok(
        qbo.post("journalentry", json={"Id": made["Id"], "SyncToken": "1"}, operation="delete"), "JournalEntry"
    )
    assert deleted["status"] == "Deleted"
    fault(qbo.get(f"journalentry/{made['Id']}"), 400, "610")


def test_unbalanced_journal_entry_is_6000(qbo: Qbo) -> None:
    error = fault(qbo.post("journalentry", json=journal_body(qbo, "10", credit="9")), 400, "6000", element="Line")
    assert "balanced" in error["Detail"]


def test_journal_entry_on_receivables_names_a_customer(qbo: Qbo) -> None:
    receivable, income = account_id(qbo, "Accounts Receivable (A/R)"), account_id(qbo, "Services")
    cust = customer(qbo, "Receivable Co")

    def line(posting: str, account: str, **detail: object) -> dict[str, object]:
        fields = {"PostingType": posting, "AccountRef": {"value": account}, **detail}
        return {"DetailType": "JournalEntryLineDetail", "Amount": "25", "JournalEntryLineDetail": fields}

    bare = {"Line": [line("Debit", receivable), line("Credit", income)]}
    error = fault(qbo.post("journalentry", json=bare), 400, "6000", element="Entity")
    assert "you must choose a customer" in error["Detail"]
    missing = {"Type": "Customer", "EntityRef": {"value": "99999"}}
    body = {"Line": [line("Debit", receivable, Entity=missing), line("Credit", income)]}
    fault(qbo.post("journalentry", json=body), 400, "2500", element="EntityRef")
    named = {"Type": "Customer", "EntityRef": {"value": cust["Id"]}}
    made = create(qbo, "JournalEntry", {"Line": [line("Debit", receivable, Entity=named), line("Credit", income)]})
    assert made["Line"][0]["JournalEntryLineDetail"]["Entity"]["EntityRef"] == {
        "value": cust["Id"],
        "name": "Receivable Co",
    }


# -- Account and Term --------------------------------------------------------------------------------------


def test_account_create_read_update(qbo: Qbo) -> None:
    body = {"Name": "Consulting Income", "AccountType": "Income", "AccountSubType": "ServiceFeeIncome"}
    made = create(qbo, "Account", body)
    assert made["Classification"] == "Revenue" and made["Active"] is True and made["SyncToken"] == "0"
    assert made["CurrencyRef"]["value"] == "USD"
    assert_metadata(made)
    assert ok(qbo.get(f"account/{made['Id']}"), "Account") == made
    updated = ok(
        qbo.post("account", json={"Id": made["Id"], "SyncToken": "0", "sparse": True, "Active": False}), "Account"
    )
    assert updated["Active"] is False and updated["SyncToken"] == "1" and updated["Name"] == "Consulting Income"


def test_account_type_must_be_known(qbo: Qbo) -> None:
    fault(qbo.post("account", json={"Name": "X", "AccountType": "Magic"}), 400, "2070", element="AccountType")


def test_term_create_read_update(qbo: Qbo) -> None:
    made = create(qbo, "Term", {"Name": "Net 45", "DueDays": 45})
    assert made["DueDays"] == 45 and made["Type"] == "STANDARD" and made["Active"] is True
    assert ok(qbo.get(f"term/{made['Id']}"), "Term") == made
    updated = ok(qbo.post("term", json={"Id": made["Id"], "SyncToken": "0", "sparse": True, "DueDays": 50}), "Term")
    assert updated["DueDays"] == 50 and updated["SyncToken"] == "1"
    fault(qbo.post("term", json={"Name": "Net 45"}), 400, "6240")
    fault(qbo.post("term", json={"Name": "Bad", "DueDays": -1}), 400, "6000", element="DueDays")


# -- TaxCode / TaxRate (read-only) -------------------------------------------------------------------------


def test_us_tax_codes_and_rates_are_readable_not_writable(qbo: Qbo) -> None:
    codes = {c["Name"]: c for c in qbo.rows("select * from TaxCode")}
    assert {"TAX", "NON", "California"} <= set(codes)
    assert ok(qbo.get("taxcode/TAX"), "TaxCode")["Taxable"] is True
    california = ok(qbo.get(f"taxcode/{codes['California']['Id']}"), "TaxCode")
    rate_ids = [d["TaxRateRef"]["value"] for d in california["SalesTaxRateList"]["TaxRateDetail"]]
    rates = {ok(qbo.get(f"taxrate/{i}"), "TaxRate")["Name"]: money(ok(qbo.get(f"taxrate/{i}"), "TaxRate")["RateValue"])
             for i in rate_ids}  # fmt: skip
    assert rates == {"California State": money("7.25"), "San Francisco County": money("1.375")}
    fault(qbo.post("taxcode", json={"Name": "New"}), 400, "500")
    fault(qbo.post("taxrate", json={"Id": rate_ids[0], "SyncToken": "0", "sparse": True, "RateValue": 1}), 400, "500")


def test_gb_vat_codes_reference_their_rates(control: httpx.Client) -> None:
    gb = connect(control, country="GB", sample_data=False)
    codes = {c["Name"]: c for c in gb.rows("select * from TaxCode")}
    assert set(codes) == {"20.0% S", "5.0% R", "0.0% Z", "Exempt", "No VAT"}
    standard = codes["20.0% S"]["SalesTaxRateList"]["TaxRateDetail"][0]["TaxRateRef"]["value"]
    assert money(ok(gb.get(f"taxrate/{standard}"), "TaxRate")["RateValue"]) == 20


# -- CompanyCurrency / ExchangeRate ------------------------------------------------------------------------


def test_company_currencies_and_exchange_rates_of_a_multicurrency_company(control: httpx.Client) -> None:
    gb = connect(control, country="GB", multicurrency=True, sample_data=False)
    currencies = {c["Code"]: c for c in gb.rows("select * from CompanyCurrency")}
    assert set(currencies) == {"EUR", "USD"}
    assert currencies["EUR"]["Name"] == "Euro" and currencies["EUR"]["Active"] is True
    assert ok(gb.get(f"companycurrency/{currencies['EUR']['Id']}"), "CompanyCurrency")["Code"] == "EUR"
    rates = gb.rows("select * from ExchangeRate where SourceCurrencyCode = 'EUR'")
    assert len(rates) == 1 and rates[0]["TargetCurrencyCode"] == "GBP" and money(rates[0]["Rate"]) == money("1.08")

    added = create(gb, "CompanyCurrency", {"Code": "CAD"})
    assert added["Name"] == "Canadian Dollar" and added["Active"] is True
    fault(gb.post("companycurrency", json={"Code": "CAD"}), 400, "6000", element="Code")
    fault(gb.post("companycurrency", json={"Code": "XYZ"}), 400, "6000", element="Code")

    assert "Id" not in rates[0]  # QBO's ExchangeRate has no Id: a rate is named by its currency and date
    body = {"SourceCurrencyCode": "EUR", "AsOfDate": rates[0]["AsOfDate"], "SyncToken": "0", "Rate": "1.10"}
    updated = ok(gb.post("exchangerate", json=body), "ExchangeRate")
    assert money(updated["Rate"]) == money("1.10") and updated["SyncToken"] == "1"


def test_exchange_rate_read_by_currency_and_date(control: httpx.Client) -> None:
    gb = connect(control, country="GB", multicurrency=True, sample_data=False)
    seeded = ok(gb.get("exchangerate", sourcecurrencycode="EUR"), "ExchangeRate")
    assert seeded["SourceCurrencyCode"] == "EUR" and seeded["TargetCurrencyCode"] == "GBP"
    assert money(seeded["Rate"]) == money("1.08") and seeded["AsOfDate"] == "2025-01-01"
    assert ok(gb.get("exchangerate", sourcecurrencycode="EUR", asofdate="2026-06-01"), "ExchangeRate") == seeded
    fault(gb.get("exchangerate", sourcecurrencycode="EUR", asofdate="2024-12-31"), 400, "610")
    fault(gb.get("exchangerate", sourcecurrencycode="JPY"), 400, "610")
    fault(gb.get("exchangerate"), 400, "2020", element="sourcecurrencycode")


def test_exchange_rate_set_without_id_as_python_quickbooks_does(control: httpx.Client) -> None:
    gb = connect(control, country="GB", multicurrency=True, sample_data=False)
    # python-quickbooks' ExchangeRate.save(): POST /exchangerate with no Id
    body = {"AsOfDate": "2026-03-01", "SourceCurrencyCode": "EUR", "Rate": 1.15, "TargetCurrencyCode": "GBP"}
    made = ok(gb.post("exchangerate", json=body), "ExchangeRate")
    assert made["AsOfDate"] == "2026-03-01" and money(made["Rate"]) == money("1.15") and made["SyncToken"] == "0"
    again = ok(gb.post("exchangerate", json={**body, "Rate": 1.16}), "ExchangeRate")
    assert again["AsOfDate"] == made["AsOfDate"] and again["SyncToken"] == "1" and money(again["Rate"]) == money("1.16")
    assert len(gb.rows("select * from ExchangeRate where SourceCurrencyCode = 'EUR'")) == 2
    on_day = ok(gb.get("exchangerate", sourcecurrencycode="EUR", asofdate="2026-03-15"), "ExchangeRate")
    assert on_day["AsOfDate"] == "2026-03-01" and money(on_day["Rate"]) == money("1.16")
    before = ok(gb.get("exchangerate", sourcecurrencycode="EUR", asofdate="2026-02-28"), "ExchangeRate")
    assert money(before["Rate"]) == money("1.08")
    # an invoice takes the rate of its date
    euro, item = customer(gb, "Rate Day Co", CurrencyRef={"value": "EUR"}), service_item(gb, "Rate Day Item")
    for day, rate in (("2026-03-02", "1.16"), ("2026-02-01", "1.08")):
        sale = invoice(gb, euro["Id"], sales_line(item["Id"]), TxnDate=day, GlobalTaxCalculation="NotApplicable")
        assert money(sale["ExchangeRate"]) == money(rate)
    fault(gb.post("exchangerate", json={**body, "SourceCurrencyCode": "JPY"}), 400, "6000")
    fault(gb.post("exchangerate", json={**body, "Rate": 0}), 400, "6000", element="Rate")
    fault(gb.post("exchangerate", json={**body, "Rate": 1.2, "SyncToken": "0"}), 400, "5010")


def test_company_currency_refused_without_multicurrency(control: httpx.Client) -> None:
    gb = connect(control, country="GB", multicurrency=False, sample_data=False)
    assert gb.rows("select * from CompanyCurrency") == []
    fault(gb.post("companycurrency", json={"Code": "EUR"}), 400, "6000")
    rate = {"SourceCurrencyCode": "EUR", "Rate": 1.1, "AsOfDate": "2026-01-01"}
    fault(gb.post("exchangerate", json=rate), 400, "6000", element="SourceCurrencyCode")
    fault(gb.get("exchangerate", sourcecurrencycode="EUR"), 400, "610")


# -- Preferences and CompanyInfo ---------------------------------------------------------------------------


def test_preferences_read_and_sparse_update(control: httpx.Client) -> None:
    gb = connect(control, country="GB", multicurrency=True, custom_txn_numbers=True, sample_data=False)
    prefs = ok(gb.get("preferences"), "Preferences")
    assert prefs["Id"] == "1"
    assert prefs["SalesFormsPrefs"]["CustomTxnNumbers"] is True
    assert (
        prefs["SalesFormsPrefs"]["DefaultTerms"]["value"]
        == gb.rows("select * from Term where Name = 'Net 30'")[0]["Id"]
    )
    assert prefs["CurrencyPrefs"] == {"MultiCurrencyEnabled": True, "HomeCurrency": {"value": "GBP"}}
    assert prefs["TaxPrefs"]["PartnerTaxEnabled"] is False
    sales = {**prefs["SalesFormsPrefs"], "CustomTxnNumbers": False}
    body = {"Id": "1", "SyncToken": prefs["SyncToken"], "sparse": True, "SalesFormsPrefs": sales}
    updated = ok(gb.post("preferences", json=body), "Preferences")
    assert updated["SalesFormsPrefs"]["CustomTxnNumbers"] is False
    assert updated["CurrencyPrefs"] == prefs["CurrencyPrefs"]
    assert updated["SyncToken"] == str(int(prefs["SyncToken"]) + 1)
    assert ok(gb.get("preferences"), "Preferences") == updated
    stale = gb.post("preferences", json={**body, "SyncToken": prefs["SyncToken"]})
    fault(stale, 400, "5010")


def test_preferences_multicurrency_cannot_be_turned_off_nor_home_currency_changed(control: httpx.Client) -> None:
    gb = connect(control, country="GB", multicurrency=True, sample_data=False)
    prefs = ok(gb.get("preferences"), "Preferences")
    off = {"Id": "1", "SyncToken": prefs["SyncToken"], "sparse": True,
           "CurrencyPrefs": {"MultiCurrencyEnabled": False, "HomeCurrency": {"value": "GBP"}}}  # fmt: skip
    fault(gb.post("preferences", json=off), 400, "6000", element="MultiCurrencyEnabled")
    home = {**off, "CurrencyPrefs": {"MultiCurrencyEnabled": True, "HomeCurrency": {"value": "USD"}}}
    fault(gb.post("preferences", json=home), 400, "6000", element="HomeCurrency")
    assert ok(gb.get("preferences"), "Preferences") == prefs


def test_preferences_turn_multicurrency_on(qbo: Qbo) -> None:
    prefs = ok(qbo.get("preferences"), "Preferences")
    assert prefs["CurrencyPrefs"]["MultiCurrencyEnabled"] is False
    body = {"Id": "1", "SyncToken": prefs["SyncToken"], "sparse": True,
            "CurrencyPrefs": {"MultiCurrencyEnabled": True, "HomeCurrency": {"value": "USD"}}}  # fmt: skip
    assert ok(qbo.post("preferences", json=body), "Preferences")["CurrencyPrefs"]["MultiCurrencyEnabled"] is True
    assert create(qbo, "CompanyCurrency", {"Code": "EUR"})["Code"] == "EUR"


def test_preferences_cannot_be_created_or_deleted(qbo: Qbo) -> None:
    prefs = ok(qbo.get("preferences"), "Preferences")
    response = qbo.post("preferences", json={"Id": "1", "SyncToken": prefs["SyncToken"]}, operation="delete")
    fault(response, 400, "500")
    assert ok(qbo.get("preferences"), "Preferences") == prefs
    fault(qbo.post("preferences", json={"SalesFormsPrefs": {}}), 400, "2020", element="Id")


def test_company_info_read_and_update(qbo: Qbo) -> None:
    info = ok(qbo.get(f"companyinfo/{qbo.realm_id}"), "CompanyInfo")
    assert info["CompanyName"] == "Test Co" and info["Country"] == "US" and info["Id"] == "1"
    assert info["CompanyStartDate"] and info["DefaultTimeZone"] == "America/Los_Angeles"
    fault(qbo.get("companyinfo/123"), 400, "610")
    body = {"Id": "1", "SyncToken": info["SyncToken"], "sparse": True, "LegalName": "Test Company LLC"}
    updated = ok(qbo.post("companyinfo", json=body), "CompanyInfo")
    assert updated["LegalName"] == "Test Company LLC" and updated["CompanyName"] == "Test Co"
    assert updated["SyncToken"] == str(int(info["SyncToken"]) + 1)
    empty = {"Id": "1", "SyncToken": updated["SyncToken"], "sparse": True, "CompanyName": ""}
    fault(qbo.post("companyinfo", json=empty), 400, "2020", element="CompanyName")


def test_company_info_country_and_time_zone_cannot_change(qbo: Qbo) -> None:
    info = ok(qbo.get(f"companyinfo/{qbo.realm_id}"), "CompanyInfo")
    body = {"Id": "1", "SyncToken": info["SyncToken"], "sparse": True, "Country": "GB", "DefaultTimeZone": 5}
    updated = ok(qbo.post("companyinfo", json=body), "CompanyInfo")
    assert updated["Country"] == "US" and updated["DefaultTimeZone"] == "America/Los_Angeles"
    # the company still works: US sales tax codes, dates in its zone
    cust, item = customer(qbo, "After Info Co"), service_item(qbo, "After Info Item")
    made = invoice(qbo, cust["Id"], sales_line(item["Id"], "1", "10", TaxCodeRef={"value": "TAX"}))
    assert money(made["TotalAmt"]) > 10


def test_references_answer_with_the_objects_own_names(qbo: Qbo) -> None:
    income = account_id(qbo, "Services")
    made = create(qbo, "Item", {"Name": "Named Refs", "IncomeAccountRef": {"value": income, "name": "whatever"}})
    assert made["IncomeAccountRef"] == {"value": income, "name": "Services"}
    net15 = qbo.rows("select * from Term where Name = 'Net 15'")[0]["Id"]
    cust = customer(qbo, "Named Terms", SalesTermRef={"value": net15, "name": ["not", "a", "name"]})
    assert cust["SalesTermRef"] == {"value": net15, "name": "Net 15"}


def test_invoice_references_carry_current_names(qbo: Qbo) -> None:
    cust, item = customer(qbo, "Before Rename"), service_item(qbo, "Item Before")
    made = invoice(qbo, cust["Id"], sales_line(item["Id"]))
    assert made["CustomerRef"]["name"] == "Before Rename"
    assert made["Line"][0]["SalesItemLineDetail"]["ItemRef"]["name"] == "Item Before"
    rename = {"Id": cust["Id"], "SyncToken": "0", "sparse": True, "DisplayName": "After Rename"}
    ok(qbo.post("customer", json=rename), "Customer")
    ok(qbo.post("item", json={"Id": item["Id"], "SyncToken": "0", "sparse": True, "Name": "Item After"}), "Item")
    read = ok(qbo.get(f"invoice/{made['Id']}"), "Invoice")
    assert read["CustomerRef"] == {"value": cust["Id"], "name": "After Rename"}
    assert read["Line"][0]["SalesItemLineDetail"]["ItemRef"] == {"value": item["Id"], "name": "Item After"}
    assert read["SyncToken"] == "0"  # renaming a customer is no change to its invoices
    [queried] = qbo.rows(f"select * from Invoice where Id = '{made['Id']}'")
    assert queried == read
