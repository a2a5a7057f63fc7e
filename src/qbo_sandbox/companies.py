"""Creating a company: its built-in objects (preferences, company info, tax codes and rates), then, when asked,
Intuit-like sample data created through the same rules as API calls."""

from __future__ import annotations

from typing import Any

from qbo_sandbox import seed
from qbo_sandbox.backend import Backend, Company
from qbo_sandbox.faults import SandboxFault
from qbo_sandbox.history import add_history
from qbo_sandbox.text import is_text


def create_company(
    backend: Backend,
    name: str,
    country: str = "US",
    multicurrency: bool = False,
    custom_txn_numbers: bool = False,
    sample_data: bool = True,
    history_months: int = 0,
    seed_number: int = 0,
) -> Company:
    """A new company (realm). Raises ValueError for a country the sandbox cannot model, or a name that is not
    Unicode text (it would break every answer that lists the company: text.py). With sample data,
    `history_months` adds that many months of transactions, the same for the same `seed_number` (history.py)."""
    if country not in seed.COUNTRIES:
        raise ValueError(f"country must be one of {', '.join(seed.COUNTRIES)}")
    if not is_text(name):
        raise ValueError("the name holds a lone surrogate, which is not a Unicode character")
    realm = backend.new_realm(name, country).realm_id
    home = seed.HOME_CURRENCY[country]
    backend.install(realm, "CompanyInfo", seed.default_company_info(name, country), "1")
    backend.install(realm, "Preferences", seed.default_preferences(country, multicurrency, custom_txn_numbers), "1")
    _tax(backend, realm, country)
    ids: dict[str, dict[str, str]] = {"Account": {}, "Term": {}}
    for account_name, kind, subtype in seed.ACCOUNTS:
        made = backend.create(realm, "Account", {"Name": account_name, "AccountType": kind, "AccountSubType": subtype})
        ids["Account"][account_name] = made["Id"]
    for term_name, days in seed.TERMS:
        ids["Term"][term_name] = backend.create(realm, "Term", {"Name": term_name, "DueDays": days})["Id"]
    _set_default_terms(backend, realm, ids["Term"][seed.DEFAULT_TERMS])
    if multicurrency:
        _currencies(backend, realm, home)
    if sample_data:
        for customer in seed.sample_customers(country, home):
            backend.create(realm, "Customer", _resolve(customer, ids))
        for item in seed.sample_items():
            backend.create(realm, "Item", _resolve(item, ids))
        for vendor in seed.sample_vendors():
            backend.create(realm, "Vendor", _resolve(vendor, ids))
        for entity, body in seed.sample_lists():
            backend.create(realm, entity, body)
        if history_months:
            add_history(backend, realm, history_months, seed_number)
    return Company(realm, name, country)


def _tax(backend: Backend, realm: str, country: str) -> None:
    if country == "US":  # lines of US invoices carry these pseudo codes
        backend.install(realm, "TaxCode", {"Name": "TAX", "Taxable": True, "Active": True, "TaxGroup": False}, "TAX")
        backend.install(realm, "TaxCode", {"Name": "NON", "Taxable": False, "Active": True, "TaxGroup": False}, "NON")
    rate_ids: dict[str, str] = {}
    for code_name, rates in seed.tax_codes(country):
        details = []
        for rate_name, percent in rates:
            if rate_name not in rate_ids:
                rate = {"Name": rate_name, "RateValue": percent, "Active": True, "SpecialTaxType": "NONE"}
                rate_ids[rate_name] = backend.install(realm, "TaxRate", rate)["Id"]
            rate_ref = {"value": rate_ids[rate_name], "name": rate_name}
            details.append({"TaxRateRef": rate_ref, "TaxTypeApplicable": "TaxOnAmount"})
        code = {"Name": code_name, "Active": True, "Taxable": any(p > 0 for _, p in rates), "TaxGroup": len(rates) > 1}
        code.update(SalesTaxRateList={"TaxRateDetail": details}, PurchaseTaxRateList={"TaxRateDetail": []})
        backend.install(realm, "TaxCode", code)


def _set_default_terms(backend: Backend, realm: str, term_id: str) -> None:
    preferences = backend.read(realm, "Preferences", "1")
    preferences["SalesFormsPrefs"]["DefaultTerms"] = {"value": term_id}
    backend.install(
        realm, "Preferences", {k: v for k, v in preferences.items() if k not in ("Id", "SyncToken", "MetaData")}, "1"
    )


def _currencies(backend: Backend, realm: str, home: str) -> None:
    for code in seed.EXTRA_CURRENCIES[home]:
        backend.create(realm, "CompanyCurrency", {"Code": code})
        rate = {"SourceCurrencyCode": code, "TargetCurrencyCode": home, "Rate": seed.RATES_TO_HOME[code],
                "AsOfDate": seed.COMPANY_START_DATE}  # fmt: skip
        backend.install(realm, "ExchangeRate", rate)


def _resolve(body: dict[str, Any], ids: dict[str, dict[str, str]]) -> dict[str, Any]:
    """Turn `{"name": "Net 30"}` references into `{"value": id}`."""
    resolved = dict(body)
    for key, value in body.items():
        if key.endswith("Ref") and isinstance(value, dict) and "value" not in value:
            table = ids["Term"] if key in ("SalesTermRef", "TermRef") else ids["Account"]
            if value["name"] not in table:
                raise SandboxFault()  # a seed referring to nothing is a bug in seed.py
            resolved[key] = {"value": table[value["name"]], "name": value["name"]}
    return resolved
