"""Per-company facts read from QBO — preferences (numbering, multicurrency, home currency, default terms) and
the company's tax model — cached on the connection for a short while: one read serves many invoices."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from invoicebridge.domain.connection import Connection, QboPreferences, TaxModel
from invoicebridge.qbo.client import QboClient
from invoicebridge.sync.ports import UnitOfWorkFactory

PREFERENCES_TTL = timedelta(minutes=10)


def read_preferences(client: QboClient, now: datetime) -> QboPreferences:
    """Two QBO reads: Preferences and CompanyInfo."""
    prefs, info = client.preferences(), client.company_info()
    sales: dict[str, Any] = prefs.get("SalesFormsPrefs") or {}
    currency: dict[str, Any] = prefs.get("CurrencyPrefs") or {}
    country = str(info.get("Country") or "US")
    return QboPreferences(
        custom_txn_numbers=bool(sales.get("CustomTxnNumbers")),
        multicurrency=bool(currency.get("MultiCurrencyEnabled")),
        home_currency=str((currency.get("HomeCurrency") or {}).get("value") or ""),
        default_terms_id=(sales.get("DefaultTerms") or {}).get("value"),
        # US companies keep sales tax (TAX/NON on lines); everywhere else VAT/GST codes per line.
        tax_model=TaxModel.US if country == "US" else TaxModel.GLOBAL,
        country=country,
        read_at=now,
        allow_shipping=bool(sales.get("AllowShipping")),
    )


def is_fresh(connection: Connection, now: datetime) -> bool:
    prefs = connection.preferences
    return prefs is not None and now - prefs.read_at < PREFERENCES_TTL


def preferences(
    uow: UnitOfWorkFactory, connection: Connection, client: QboClient, now: datetime, refresh: bool = False
) -> QboPreferences:
    """The connection's cached preferences while fresh; else read from QBO (two calls) and cached again."""
    if not refresh and is_fresh(connection, now):
        assert connection.preferences is not None
        return connection.preferences
    prefs = read_preferences(client, now)
    with uow() as work:
        current = work.connections.get(connection.company_id)
        if current is not None:
            work.connections.save(replace(current, preferences=prefs))
            work.commit()
    return prefs
