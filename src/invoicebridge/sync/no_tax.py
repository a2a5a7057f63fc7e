"""The QuickBooks tax code a 0 % tax rate of the order book maps to by itself ("No tax"), so that such a rate never
blocks the settings or invoicing.

- US companies: none. Their lines say ``TAX`` or ``NON`` whatever a rate is mapped to (a 0 % rate's line is
  always ``NON``; qbo-reference.md, "Entities"), so they keep mapping every rate themselves, as before.
- Other countries have no ``NON``: every line names one of the company's own TaxCode ids, and QBO refuses a line
  without one (Intuit, "Manage sales tax for non-US locales": "For each sales item line … set its
  SalesItemLineDetail.TaxCodeRef attribute to reference the applicable TaxCode object"; a UK company answers a
  line without one with 6000 "Make sure all your transactions have a VAT rate before you save",
  intuit/quickbooks-online-mcp-server issue #94). Each such company has a no-tax code of its own: "No VAT" (UK),
  "Out of Scope" (CA: "Hors champ" in French), and zero-rated or exempt codes. We take the first active,
  non-taxable code by these names, else the oldest active non-taxable code whose sales rates (if any) are all
  0 % — in qbo_sandbox's sample companies: "No VAT" (GB), "Exempt" (CA), "GST free" (AU).

The choice is a default: the settings screen shows it as the 0 % rate's mapping, and an admin may choose another.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from invoicebridge.domain.connection import TaxModel

# Names of the no-tax ("out of scope") code in QBO's non-US editions, lower-case, most specific first.
NO_TAX_NAMES = ("no vat", "out of scope", "hors champ", "no tax", "non")


def no_tax_code(
    codes: Iterable[Mapping[str, Any]], tax_model: TaxModel, rates: Mapping[str, Mapping[str, Any]] | None = None
) -> str | None:
    """The id of the company's no-tax code among its TaxCode objects (as QBO answers them), None when it has
    none or is a US company. `rates`: TaxRate objects by id (for their RateValue), when known; a code whose rate is
    above 0 is never taken."""
    if tax_model is TaxModel.US:
        return None
    usable = sorted((c for c in codes if _untaxed(c, rates or {})), key=lambda c: _id_order(str(c.get("Id", ""))))
    by_name = {str(c.get("Name", "")).strip().lower(): str(c["Id"]) for c in reversed(usable)}
    for name in NO_TAX_NAMES:
        if name in by_name:
            return by_name[name]
    return str(usable[0]["Id"]) if usable else None


def _untaxed(code: Mapping[str, Any], rates: Mapping[str, Mapping[str, Any]]) -> bool:
    if not code.get("Id") or code.get("Active") is False or code.get("Taxable") is True:
        return False
    details = (code.get("SalesTaxRateList") or {}).get("TaxRateDetail") or []
    for detail in details:
        rate = rates.get(str((detail.get("TaxRateRef") or {}).get("value", "")))
        if rate is not None and _percent(rate.get("RateValue")) != 0:
            return False
    return True


def _percent(value: object) -> Decimal | None:
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None


def _id_order(qbo_id: str) -> tuple[int, str]:
    """QBO ids are numbers: the oldest code first."""
    return (int(qbo_id), "") if qbo_id.isdigit() else (1 << 62, qbo_id)
