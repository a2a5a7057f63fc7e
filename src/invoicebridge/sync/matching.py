"""Finding (or, when allowed, creating) what an SO's invoice refers to in QBO, per DESIGN §1:

* the customer: by e-mail, else the QBO id remembered for this customer, else by display name, else created
  (with the company's default terms). Matching never edits a QBO customer;
* the items: by SKU, looked up in bulk (``Sku IN (…)``); a missing one is created as a non-inventory item on
  the chosen revenue account; an existing one is never updated;
* the tax codes: through the mapping chosen at connection.

With ``create=False`` nothing is written (the invoice preview): the plan says what would be created.
Creates carry deterministic request ids, so a retried create replays instead of duplicating.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from invoicebridge.domain import Customer, ProductVariant, SalesOrder, TaxRate, ValidationError
from invoicebridge.domain.connection import ConnectionSettings, QboPreferences, TaxModel
from invoicebridge.qbo.client import QboClient, entity_rows

CUSTOMER, ITEM = "customer", "item"
IN_CHUNK = 100  # values per IN (…) look-up: keeps a query well under QBO's URL and statement limits


@dataclass(frozen=True)
class CustomerMatch:
    qbo_id: str | None  # None: would be created (preview)
    how: str  # "email" | "remembered" | "display_name" | "created" | "would create"
    display_name: str
    terms_id: str | None
    currency: str | None


@dataclass(frozen=True)
class ItemMatch:
    sku: str
    qbo_id: str | None
    how: str  # "sku" | "created" | "would create"


@dataclass
class Remembered:
    """QBO ids learnt while matching, for the caller to store with its transaction."""

    ids: dict[tuple[str, int], str] = field(default_factory=dict)


def quote(value: str) -> str:
    """A QBO query string literal: single quotes, backslash-escaped."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def create_request_id(company_id: int, kind: str, key: str) -> str:
    digest = hashlib.sha256(f"{company_id}/{kind}/{key}".encode()).hexdigest()[:24]
    return f"ib-{company_id}-{kind}-{digest}"


class Matcher:
    def __init__(self, client: QboClient, company_id: int, settings: ConnectionSettings, prefs: QboPreferences) -> None:
        self.client, self.company_id, self.settings, self.prefs = client, company_id, settings, prefs
        self.remembered = Remembered()

    # -- customers -------------------------------------------------------------------------------------
    def customer(self, customer: Customer, remembered_id: str | None, create: bool) -> CustomerMatch:
        found = self._by_email(customer) if customer.email else None
        how = "email"
        if found is None and remembered_id:
            found, how = self._active(remembered_id), "remembered"
        if found is None:
            found, how = self._first("Customer", f"DisplayName = {quote(customer.display_name)}"), "display_name"
        if found is None:
            if not create:
                return CustomerMatch(None, "would create", customer.display_name, self.prefs.default_terms_id, None)
            found, how = self._create_customer(customer), "created"
        assert customer.id is not None
        self.remembered.ids[(CUSTOMER, customer.id)] = str(found["Id"])
        terms = (found.get("SalesTermRef") or {}).get("value") or self.prefs.default_terms_id
        currency = (found.get("CurrencyRef") or {}).get("value")
        return CustomerMatch(str(found["Id"]), how, str(found.get("DisplayName", "")), terms, currency)

    def _by_email(self, customer: Customer) -> dict[str, Any] | None:
        assert customer.email is not None
        return self._first("Customer", f"PrimaryEmailAddr = {quote(customer.email)}")

    def _active(self, qbo_id: str) -> dict[str, Any] | None:
        found = self._first("Customer", f"Id = {quote(qbo_id)}")
        return found if found and found.get("Active", True) else None

    def _first(self, entity: str, where: str) -> dict[str, Any] | None:
        rows = entity_rows(self.client.query(f"SELECT * FROM {entity} WHERE {where} MAXRESULTS 1"), entity)
        return rows[0] if rows else None

    def _create_customer(self, customer: Customer) -> dict[str, Any]:
        body: dict[str, Any] = {"DisplayName": customer.display_name}
        if customer.email:
            body["PrimaryEmailAddr"] = {"Address": customer.email}
        if self.prefs.default_terms_id:
            body["SalesTermRef"] = {"value": self.prefs.default_terms_id}
        if self.prefs.multicurrency:
            body["CurrencyRef"] = {"value": customer.currency}
        assert customer.id is not None
        request_id = create_request_id(self.company_id, CUSTOMER, str(customer.id))
        return self.client.create("Customer", body, request_id=request_id)

    # -- items -----------------------------------------------------------------------------------------
    def items(self, products: Sequence[ProductVariant], create: bool) -> dict[int, ItemMatch]:
        by_sku = self._items_by_sku([p.sku for p in products])
        matches: dict[int, ItemMatch] = {}
        for product in products:
            assert product.id is not None
            found = by_sku.get(product.sku.lower())
            if found is not None:
                matches[product.id] = ItemMatch(product.sku, str(found["Id"]), "sku")
            elif create:
                made = self._create_item(product)
                by_sku[product.sku.lower()] = made
                matches[product.id] = ItemMatch(product.sku, str(made["Id"]), "created")
            else:
                matches[product.id] = ItemMatch(product.sku, None, "would create")
        return matches

    def _items_by_sku(self, skus: Sequence[str]) -> dict[str, dict[str, Any]]:
        found: dict[str, dict[str, Any]] = {}
        unique = sorted(set(skus))
        for start in range(0, len(unique), IN_CHUNK):
            chunk = ", ".join(quote(sku) for sku in unique[start : start + IN_CHUNK])
            for row in self.client.query_all("Item", f"Sku IN ({chunk})"):
                found.setdefault(str(row.get("Sku", "")).lower(), row)
        return found

    def _create_item(self, product: ProductVariant) -> dict[str, Any]:
        body = {
            "Name": product.name, "Sku": product.sku, "Type": "NonInventory",
            "IncomeAccountRef": {"value": self.settings.revenue_account_id}, "UnitPrice": product.sales_price,
        }  # fmt: skip
        request_id = create_request_id(self.company_id, ITEM, product.sku)
        return self.client.create("Item", body, request_id=request_id)


def tax_codes(
    order: SalesOrder, rates: Mapping[int, TaxRate], settings: ConnectionSettings, prefs: QboPreferences
) -> tuple[dict[int, str], str | None]:
    """Per row index its QBO tax code, and (US) the invoice's sales tax code. Raises ValidationError."""
    lines: dict[int, str] = {}
    if prefs.tax_model is TaxModel.US:
        taxed = {
            settings.tax_mapping[r.tax_rate_id] for r in order.rows if r.tax_rate_id and _taxed(r.tax_rate_id, rates)
        }
        if len(taxed) > 1:
            raise ValidationError.single(
                "rows", "A US QuickBooks invoice carries one sales tax rate, but this order's rows use several."
            )
        for index, row in enumerate(order.rows):
            lines[index] = "TAX" if _taxed(row.tax_rate_id, rates) else "NON"
        return lines, next(iter(taxed), None)
    for index, row in enumerate(order.rows):
        if row.tax_rate_id is None:
            raise ValidationError.single(
                f"rows[{index}].tax_rate_id", "Every row needs a tax rate for a VAT/GST company (use a 0% rate)."
            )
        lines[index] = settings.tax_mapping[row.tax_rate_id]
    return lines, None


def _taxed(rate_id: int | None, rates: Mapping[int, TaxRate]) -> bool:
    return rate_id is not None and rates[rate_id].percent > Decimal(0)
