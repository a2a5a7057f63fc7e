"""Company-level entities: Preferences, CompanyInfo, CompanyCurrency, ExchangeRate (TaxCode and TaxRate are
read-only through the API and need no rules)."""

from __future__ import annotations

from typing import Any

from qbo_sandbox.entities.common import CURRENCY_NAMES, Outcome, RealmView, amount, business, company_today, required

ISO_CODES = frozenset(
    "AED AUD BRL CAD CHF CNY CZK DKK EUR GBP HKD HUF ILS INR JPY KRW MXN MYR NOK NZD PHP PLN SEK SGD THB TRY "
    "TWD USD ZAR".split()
)


def preferences(view: RealmView, body: dict[str, Any], current: dict[str, Any] | None) -> Outcome:
    """Multicurrency, once on, cannot be turned off (as in QBO); the home currency cannot change."""
    entity = dict(body)
    before = (current or {}).get("CurrencyPrefs") or {}
    after = entity.get("CurrencyPrefs") or {}
    if before.get("MultiCurrencyEnabled") and not after.get("MultiCurrencyEnabled", True):
        raise business("Multicurrency cannot be turned off once it is on.", "MultiCurrencyEnabled")
    if before.get("HomeCurrency") and after.get("HomeCurrency", before["HomeCurrency"]) != before["HomeCurrency"]:
        raise business("The home currency cannot be changed.", "HomeCurrency")
    # what cannot change stays when an update leaves it out (or sends CurrencyPrefs null)
    entity["CurrencyPrefs"] = {**before, **after} if before else entity.get("CurrencyPrefs")
    return Outcome(entity)


COMPANY_FIXED = ("Country", "DefaultTimeZone")  # set when the company is made; the tax model and dates hang on them


def company_info(view: RealmView, body: dict[str, Any], current: dict[str, Any] | None) -> Outcome:
    """CompanyName is required; the country and time zone cannot be changed through the API (unconfirmed)."""
    entity = dict(body)
    required(entity, "CompanyName")
    for key in COMPANY_FIXED:
        if current is not None and key in current:
            entity[key] = current[key]
    return Outcome(entity)


def company_currency(view: RealmView, body: dict[str, Any], current: dict[str, Any] | None) -> Outcome:
    multicurrency = (view.preferences().get("CurrencyPrefs") or {}).get("MultiCurrencyEnabled", False)
    if not multicurrency:
        raise business("Currencies can be added only when multicurrency is on.", "CompanyCurrency")
    entity = dict(body)
    code = str(required(entity, "Code"))
    if code not in ISO_CODES:
        raise business(f"{code} is not a currency QuickBooks supports here.", "Code")
    if current is None and any(c.get("Code") == code for c in view.all("CompanyCurrency")):
        raise business(f"The currency {code} is already in this company.", "Code")
    entity.setdefault("Name", CURRENCY_NAMES.get(code, code))
    entity.setdefault("Active", True)
    return Outcome(entity)


def exchange_rate(view: RealmView, body: dict[str, Any], current: dict[str, Any] | None) -> Outcome:
    """A rate into the home currency of an active foreign currency of a multicurrency company, more than 0."""
    entity = dict(body)
    code = str(required(entity, "SourceCurrencyCode"))
    if current is None:
        if not (view.preferences().get("CurrencyPrefs") or {}).get("MultiCurrencyEnabled", False):
            raise business("Exchange rates can be set only when multicurrency is on.", "SourceCurrencyCode")
        if not any(c.get("Code") == code and c.get("Active", True) for c in view.all("CompanyCurrency")):
            raise business(f"The currency {code} is not active in this company.", "SourceCurrencyCode")
    elif code != current.get("SourceCurrencyCode"):
        raise business("The currency of an exchange rate cannot be changed.", "SourceCurrencyCode")
    entity["Rate"] = amount(required(entity, "Rate"), "Rate")
    if entity["Rate"] <= 0:
        raise business("Rate must be more than 0.", "Rate")
    entity.setdefault(
        "TargetCurrencyCode", ((view.preferences().get("CurrencyPrefs") or {}).get("HomeCurrency") or {}).get("value")
    )
    entity.setdefault("AsOfDate", company_today(view).isoformat())
    return Outcome(entity)
