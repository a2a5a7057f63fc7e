"""Invoice rules: references, line amounts, numbering, terms and due date, currency, tax, totals, COGS.

Tax follows the company's model:
- US (no VAT-style codes on lines): lines say "TAX" or "NON"; TxnTaxDetail.TxnTaxCodeRef names the sales tax
  code whose rates apply to the taxable lines (default: the company's first taxable sales code).
- Elsewhere: every line's TaxCodeRef is a TaxCode Id; its SalesTaxRateList gives the rates.
`GlobalTaxCalculation` TaxExcluded adds tax on top, TaxInclusive takes it out of the line amounts, NotApplicable
means none. Tax is summed per rate and rounded half-up to cents once per rate (how QBO's TaxLine reads).
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from qbo_sandbox import faults
from qbo_sandbox.entities.common import (
    Outcome,
    RealmView,
    amount,
    business,
    cents,
    company_today,
    currency_ref,
    max_length,
    reference,
    required,
)

US_PSEUDO_CODES = ("TAX", "NON")
# QBO's shipping line: a sales line whose ItemRef is this pseudo id and which carries only an Amount (and a tax
# code), shown in the form's Shipping box. Source: the maintainer's answer in ruckus/quickbooks-ruby issue #319
# ("make a new line item with the ItemRef pointing to the Shipping Item id … SHIPPING_ITEM_ID"; QBO's own invoice
# reference does not list it). Accepted only while Preferences.SalesFormsPrefs.AllowShipping is on; with it off
# there is no such item, refused as any unknown ItemRef (2500) — QBO's exact answer then is unconfirmed.
SHIPPING_ITEM_ID = "SHIPPING_ITEM_ID"


def invoice(view: RealmView, body: dict[str, Any], current: dict[str, Any] | None) -> Outcome:
    entity = dict(body)
    customer = reference(view, "Customer", required(entity, "CustomerRef"), "CustomerRef")
    entity["CustomerRef"] = {"value": customer["Id"], "name": customer.get("DisplayName")}
    _texts(entity)
    entity["DocNumber"] = _doc_number(view, entity, current)
    entity["TxnDate"] = entity.get("TxnDate") or company_today(view).isoformat()
    _terms_and_due_date(view, entity, customer)
    _currency(view, entity, customer)
    for kind in ("BillAddr", "ShipAddr"):
        if not entity.get(kind) and customer.get(kind):
            entity[kind] = dict(customer[kind])
    lines, subtotal, inventory = _lines(view, required(entity, "Line"))
    tax = _tax(view, entity, lines)
    inclusive = entity.get("GlobalTaxCalculation") == "TaxInclusive"
    total = subtotal if inclusive else subtotal + tax
    entity["Line"] = [*lines, {"Amount": subtotal, "DetailType": "SubTotalLineDetail", "SubTotalLineDetail": {}}]
    entity["TotalAmt"] = total
    entity["Balance"] = total
    entity["HomeTotalAmt"] = cents(total * amount(entity.get("ExchangeRate", 1), "ExchangeRate"))
    entity.setdefault("EmailStatus", "NotSet")
    entity.setdefault("PrintStatus", "NotSet")
    return Outcome(entity, _stock_moves(view, _sold(inventory), _sold_by(view, current)))


def void(view: RealmView, current: dict[str, Any]) -> Outcome:
    """Voiding keeps the invoice, zeroes its amounts and quantities and notes it (as QBO shows "Voided"); the
    inventory it sold is back on hand."""
    entity = dict(current)
    entity["Line"] = [_voided(line) for line in current.get("Line", [])]
    entity["TotalAmt"] = Decimal(0)
    entity["Balance"] = Decimal(0)
    entity["HomeTotalAmt"] = Decimal(0)
    entity["PrivateNote"] = voided_note(current.get("PrivateNote"))
    if "TxnTaxDetail" in entity:
        entity["TxnTaxDetail"] = {**entity["TxnTaxDetail"], "TotalTax": Decimal(0), "TaxLine": []}
    return Outcome(entity, _stock_moves(view, {}, _sold_by(view, current)))


def voided_note(note: object) -> str:
    """The PrivateNote of a voided invoice. Intuit's Invoice reference ("Void an invoice"): "the string 'Voided' is
    injected into Invoice.PrivateNote, prepended to existing text if present". The separator is not documented;
    " - " is what recorded QBO answers in public integrations show ("Voided - duplicate") — (verify)."""
    return f"Voided - {note}" if isinstance(note, str) and note else "Voided"


def deleted(view: RealmView, current: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """Deleting an invoice puts the inventory it sold back on hand."""
    return _stock_moves(view, {}, _sold_by(view, current))


def _voided(line: dict[str, Any]) -> dict[str, Any]:
    voided = {**line, "Amount": Decimal(0)}
    if isinstance(line.get("SalesItemLineDetail"), dict):
        voided["SalesItemLineDetail"] = {**line["SalesItemLineDetail"], "Qty": Decimal(0)}
    return voided


def _texts(entity: dict[str, Any]) -> None:
    max_length(entity.get("DocNumber"), 21, "DocNumber")
    max_length((entity.get("CustomerMemo") or {}).get("value"), 1000, "CustomerMemo")
    max_length(entity.get("PrivateNote"), 4000, "PrivateNote")


def _doc_number(view: RealmView, entity: dict[str, Any], current: dict[str, Any] | None) -> str | None:
    """Custom transaction numbers on: the number sent (none stays none), unique among invoices (6140).
    Off: QBO numbers it; a number sent is ignored (our reading of the DocNumber field docs)."""
    custom = (view.preferences().get("SalesFormsPrefs") or {}).get("CustomTxnNumbers", False)
    if not custom:
        return current.get("DocNumber") if current else view.next_doc_number()
    number = entity.get("DocNumber")
    if not number:
        return None
    own = current.get("Id") if current else None
    for other in view.scan("Invoice"):
        if other.get("Id") != own and other.get("DocNumber") == number:
            raise faults.validation(
                faults.DUPLICATE_DOC_NUMBER,
                "Duplicate Document Number Error",
                "Duplicate Document Number Error : You must specify a different number. This number has already been "
                f"used. DocNumber={number} is assigned to TxnType=Invoice with TxnId={other['Id']}",
                "DocNumber",
            )
    return str(number)


def _terms_and_due_date(view: RealmView, entity: dict[str, Any], customer: dict[str, Any]) -> None:
    """Terms sent, else the customer's, else the company's default; DueDate from TxnDate + DueDays if not sent."""
    terms = entity.get("SalesTermRef") or customer.get("SalesTermRef")
    terms = terms or (view.preferences().get("SalesFormsPrefs") or {}).get("DefaultTerms")
    if terms:
        found = reference(view, "Term", terms, "SalesTermRef")
        entity["SalesTermRef"] = {"value": found["Id"], "name": found.get("Name")}
        days = int(found.get("DueDays", 0))
    else:
        days = 0
    if not entity.get("DueDate"):
        try:
            entity["DueDate"] = (date.fromisoformat(str(entity["TxnDate"])[:10]) + timedelta(days=days)).isoformat()
        except OverflowError:
            raise business("The due date the terms give is past the year 9999.", "DueDate") from None


def _currency(view: RealmView, entity: dict[str, Any], customer: dict[str, Any]) -> None:
    """The invoice's currency must be its customer's (multicurrency or not)."""
    own = (customer.get("CurrencyRef") or {}).get("value")
    entity["CurrencyRef"] = currency_ref(
        view, {"CurrencyRef": entity.get("CurrencyRef") or customer.get("CurrencyRef")}
    )
    if own and entity["CurrencyRef"]["value"] != own:
        raise business(
            f"The transaction currency ({entity['CurrencyRef']['value']}) must match the customer's currency ({own}).",
            "CurrencyRef",
        )
    if entity["CurrencyRef"]["value"] == _home(view):
        entity["ExchangeRate"] = 1
    elif "ExchangeRate" not in entity:
        entity["ExchangeRate"] = _rate(view, entity["CurrencyRef"]["value"], str(entity["TxnDate"]))
    elif amount(entity["ExchangeRate"], "ExchangeRate") <= 0:
        raise business("ExchangeRate must be more than 0.", "ExchangeRate")


def _home(view: RealmView) -> str:
    return str(((view.preferences().get("CurrencyPrefs") or {}).get("HomeCurrency") or {}).get("value", "USD"))


def _rate(view: RealmView, code: str, day: str) -> Decimal:
    """The currency's rate on the transaction date: the latest set on or before it (else the earliest there is)."""
    rates = sorted(
        (r for r in view.all("ExchangeRate") if r.get("SourceCurrencyCode") == code),
        key=lambda r: (str(r.get("AsOfDate", "")), int(r["Id"])),
    )
    if not rates:
        return Decimal(1)
    on_or_before = [r for r in rates if str(r.get("AsOfDate", "")) <= day[:10]]
    return amount((on_or_before or rates)[-1 if on_or_before else 0]["Rate"], "ExchangeRate")


def _lines(view: RealmView, raw: object) -> tuple[list[dict[str, Any]], Decimal, list[tuple[dict[str, Any], Decimal]]]:
    """Sales lines with amounts checked; returns them, the subtotal and the inventory items sold."""
    if not isinstance(raw, list):
        raise business("Line must be a list of lines.", "Line")
    lines, subtotal, inventory = [], Decimal(0), []
    for number, line in enumerate((x for x in raw if x.get("DetailType") != "SubTotalLineDetail"), start=1):
        checked, item = _line(view, line, number)
        lines.append(checked)
        subtotal += checked["Amount"]
        if item.get("Type") == "Inventory":
            inventory.append((item, checked["SalesItemLineDetail"]["Qty"]))
    if not lines:
        raise business("An invoice needs at least one line.", "Line")
    return lines, subtotal, inventory


def _line(view: RealmView, line: dict[str, Any], number: int) -> tuple[dict[str, Any], dict[str, Any]]:
    if line.get("DetailType") != "SalesItemLineDetail":
        raise business(f"Line {number}: DetailType {line.get('DetailType')!r} is not supported here.", "Line")
    detail = dict(required(line, "SalesItemLineDetail", "Line.SalesItemLineDetail"))
    if _ships(view, detail):
        return _shipping_line(line, detail, number), {}
    item = reference(view, "Item", required(detail, "ItemRef", "ItemRef"), "ItemRef")
    detail["ItemRef"] = {"value": item["Id"], "name": item.get("Name")}
    _unpriced(line, detail)
    qty = amount(detail.get("Qty", 1), "Qty")
    price = amount(detail.get("UnitPrice", item.get("UnitPrice", 0)), "UnitPrice")
    total = amount(line["Amount"], "Amount") if "Amount" in line else cents(qty * price)
    if "Qty" in detail and "UnitPrice" in detail and cents(qty * price) != cents(total):
        raise faults.validation(
            "6070", "Amount is not equal to UnitPrice * Qty",
            f"Amount is not equal to UnitPrice * Qty. Supplied value:{total}", "Amount",
        )  # fmt: skip
    detail["Qty"], detail["UnitPrice"] = qty, price
    checked = {**line, "Id": str(number), "LineNum": number, "Amount": total, "SalesItemLineDetail": detail}
    return checked, item


def _ships(view: RealmView, detail: dict[str, Any]) -> bool:
    """Whether this is QBO's shipping line, in a company whose sales forms have shipping on."""
    ref = detail.get("ItemRef")
    if not isinstance(ref, dict) or ref.get("value") != SHIPPING_ITEM_ID:
        return False
    return bool((view.preferences().get("SalesFormsPrefs") or {}).get("AllowShipping", False))


def _shipping_line(line: dict[str, Any], detail: dict[str, Any], number: int) -> dict[str, Any]:
    """The shipping line: its Amount (required, not negative) is taxed by its TaxCodeRef like any sales line and
    counts in the subtotal; it has no quantity or price."""
    if "Amount" not in line:
        raise faults.validation(
            faults.REQUIRED_PARAM_MISSING,
            "Required param missing, need to supply the required value for the API",
            "Required parameter Line.Amount is missing in the request (the shipping line)",
            "Line.Amount",
        )
    total = amount(line["Amount"], "Amount")
    if total < 0:
        raise business("The shipping amount cannot be negative.", "Line.Amount")
    detail["ItemRef"] = {"value": SHIPPING_ITEM_ID}
    for key in ("Qty", "UnitPrice"):
        detail.pop(key, None)
    return {**line, "Id": str(number), "LineNum": number, "Amount": cents(total), "SalesItemLineDetail": detail}


def _unpriced(line: dict[str, Any], detail: dict[str, Any]) -> None:
    """A line with an Amount whose Qty and UnitPrice are both 0 — python-quickbooks' defaults for a
    SalesItemLineDetail built with Amount and ItemRef only — is a line sold by amount: QBO accepts it (its
    sample invoice line with Amount and ItemRef alone comes back without Qty or UnitPrice). The sandbox then
    stores Qty 1 and UnitPrice = Amount, so Amount = Qty × UnitPrice holds and an Inventory item moves by one
    (our choice, unconfirmed: COVERAGE.md)."""
    if "Amount" not in line or "Qty" not in detail or "UnitPrice" not in detail:
        return
    zero = all(amount(detail[key], key) == 0 for key in ("Qty", "UnitPrice"))
    if zero and amount(line["Amount"], "Amount") != 0:
        detail["Qty"], detail["UnitPrice"] = Decimal(1), amount(line["Amount"], "Amount")


def _tax(view: RealmView, entity: dict[str, Any], lines: list[dict[str, Any]]) -> Decimal:
    """Compute TxnTaxDetail per the company's tax model; returns the total tax."""
    mode = entity.get("GlobalTaxCalculation")
    if mode == "NotApplicable":
        entity["TxnTaxDetail"] = {"TotalTax": Decimal(0), "TaxLine": []}
        return Decimal(0)
    us = view.company_info().get("Country", "US") == "US"
    taxable: dict[str, Decimal] = {}  # TaxRate Id -> net amount taxed at it
    rates: dict[str, Decimal] = {}
    for line in lines:
        for rate in _line_rates(view, entity, line, us):
            rates[rate["Id"]] = amount(rate.get("RateValue", 0), "RateValue")
            base = line["Amount"]
            taxable[rate["Id"]] = taxable.get(rate["Id"], Decimal(0)) + base
    tax_lines, total = [], Decimal(0)
    for rate_id, net in taxable.items():
        percent = rates[rate_id]
        if mode == "TaxInclusive":
            net = net / (1 + percent / 100)
        tax = cents(net * percent / 100)
        total += tax
        line_detail = {"TaxRateRef": {"value": rate_id}, "PercentBased": True, "TaxPercent": percent}
        line_detail["NetAmountTaxable"] = cents(net)
        tax_lines.append({"Amount": tax, "DetailType": "TaxLineDetail", "TaxLineDetail": line_detail})
    detail: dict[str, Any] = {"TotalTax": total, "TaxLine": tax_lines}
    if us and (entity.get("TxnTaxDetail") or {}).get("TxnTaxCodeRef"):
        detail["TxnTaxCodeRef"] = entity["TxnTaxDetail"]["TxnTaxCodeRef"]
    entity["TxnTaxDetail"] = detail
    return total


def _line_rates(view: RealmView, entity: dict[str, Any], line: dict[str, Any], us: bool) -> list[dict[str, Any]]:
    code_ref = line["SalesItemLineDetail"].get("TaxCodeRef")
    if us:
        if not code_ref or code_ref.get("value") != "TAX":
            if code_ref and code_ref.get("value") not in US_PSEUDO_CODES:
                raise business("US companies use the tax codes TAX and NON on lines.", "TaxCodeRef")
            return []
        txn_code = (entity.get("TxnTaxDetail") or {}).get("TxnTaxCodeRef")
        code = reference(view, "TaxCode", txn_code, "TxnTaxCodeRef") if txn_code else _default_sales_code(view)
    else:
        if not code_ref:
            raise faults.validation(
                faults.REQUIRED_PARAM_MISSING,
                "Required param missing, need to supply the required value for the API",
                "Required parameter TaxCodeRef is missing in the request (every line needs a tax code here)",
                "TaxCodeRef",
            )
        code = reference(view, "TaxCode", code_ref, "TaxCodeRef")
    if code is None:
        return []
    details = (code.get("SalesTaxRateList") or {}).get("TaxRateDetail", [])
    return [reference(view, "TaxRate", d.get("TaxRateRef"), "TaxRateRef", active=False) for d in details]


def _default_sales_code(view: RealmView) -> dict[str, Any] | None:
    for code in view.all("TaxCode"):
        if code.get("Taxable") and (code.get("SalesTaxRateList") or {}).get("TaxRateDetail"):
            return code
    return None


def _sold(inventory: list[tuple[dict[str, Any], Decimal]]) -> dict[str, Decimal]:
    """Quantity sold per Inventory item Id."""
    sold: dict[str, Decimal] = {}
    for item, qty in inventory:
        sold[item["Id"]] = sold.get(item["Id"], Decimal(0)) + qty
    return sold


def _sold_by(view: RealmView, stored: dict[str, Any] | None) -> dict[str, Decimal]:
    """What a stored invoice sold of Inventory items (nothing for none)."""
    inventory = []
    for line in (stored or {}).get("Line", []):
        detail = line.get("SalesItemLineDetail") or {}
        item = view.get("Item", str((detail.get("ItemRef") or {}).get("value")))
        if item is not None and item.get("Type") == "Inventory":
            inventory.append((item, amount(detail.get("Qty", 0), "Qty")))
    return _sold(inventory)


def _stock_moves(
    view: RealmView, sold: dict[str, Decimal], sold_before: dict[str, Decimal]
) -> list[tuple[str, dict[str, Any]]]:
    """Selling an Inventory item lowers its quantity on hand (QBO books its cost of goods sold itself); changing,
    voiding or deleting the sale moves the difference back."""
    effects = []
    for item_id in sorted({*sold, *sold_before}):
        change = sold.get(item_id, Decimal(0)) - sold_before.get(item_id, Decimal(0))
        item = view.get("Item", item_id)
        if change and item is not None:
            item["QtyOnHand"] = amount(item.get("QtyOnHand", 0), "QtyOnHand") - change
            effects.append(("Item", item))
    return effects
