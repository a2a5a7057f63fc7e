"""The table of DESIGN §1 as one pure function: a sales order and the QBO references matched for it → the
JSON body of the QBO invoice. No I/O; property-tested (totals equal the SO's, one line per row, the memo always
carries the SO number)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from zoneinfo import ZoneInfo

from invoicebridge.domain import Address, OrderRow, SalesOrder
from invoicebridge.domain.connection import QboPreferences, TaxModel

CENT = Decimal("0.01")
MARKER_PREFIX = "invoicebridge"
# QBO's own shipping line takes this pseudo item id (sync/shipping.py says where that is documented).
SHIPPING_ITEM_ID = "SHIPPING_ITEM_ID"


@dataclass(frozen=True)
class ShippingRefs:
    """Where an invoice's shipping fee goes: QBO's shipping line (SHIPPING_ITEM_ID) or the company's Shipping
    item, with the fee's tax code."""

    item_id: str
    tax_code: str


@dataclass(frozen=True)
class Refs:
    """What matching found in QBO for one SO."""

    customer_id: str
    item_ids: Mapping[int, str]  # order-book variant id → QBO Item id
    line_tax_codes: Mapping[int, str]  # row index → QBO TaxCode id ("TAX"/"NON" in the US model)
    txn_tax_code: str | None  # US model: the invoice's sales tax code
    terms_id: str | None  # customer's terms, else the company default
    shipping: ShippingRefs | None = None  # needed when the order (as this invoice carries it) has a shipping fee


def marker(order: SalesOrder, request_id: str) -> str:
    """Written to the invoice's PrivateNote: how we find our invoice again after an unknown outcome."""
    return f"{MARKER_PREFIX} {order.number} [{request_id}]"


def line_amount(quantity: Decimal, unit_price: Decimal) -> Decimal:
    return (quantity * unit_price).quantize(CENT, rounding=ROUND_HALF_UP)


def invoice_payload(
    order: SalesOrder, refs: Refs, prefs: QboPreferences, zone: ZoneInfo, request_id: str,
    doc_number: str | None = None,
) -> dict[str, Any]:  # fmt: skip
    """The QBO Invoice body for `order` — an SO, or the part of it one invoice carries (tax-exclusive; amounts
    Decimal). `doc_number` (default: the SO number) is used when the company has custom transaction numbers.
    The shipping fee, when the order carries one, is the last line; ValueError when `refs` say nowhere to put it."""
    lines = [_line(order, index, refs) for index in range(len(order.rows))]
    if order.shipping_fee is not None:
        if refs.shipping is None:
            raise ValueError(f"{order.number} carries a shipping fee, but no shipping line was matched")
        lines.append(shipping_line(order.shipping_fee, refs.shipping))
    body: dict[str, Any] = {
        "CustomerRef": {"value": refs.customer_id},
        "TxnDate": order.created_at.astimezone(zone).date().isoformat(),
        "CustomerMemo": {"value": order.number},
        "PrivateNote": marker(order, request_id),
        "Line": lines,
    }
    if prefs.custom_txn_numbers:
        body["DocNumber"] = doc_number or order.number
    for key, address in (("BillAddr", order.billing_address), ("ShipAddr", order.shipping_address)):
        if not address.is_empty():
            body[key] = qbo_address(address)
    if order.delivery_deadline is not None:
        body["ShipDate"] = order.delivery_deadline.isoformat()
    if refs.terms_id:
        body["SalesTermRef"] = {"value": refs.terms_id}
    tax_and_currency(body, prefs, refs.txn_tax_code, order.currency)
    return body


def _line(order: SalesOrder, index: int, refs: Refs) -> dict[str, Any]:
    row = order.rows[index]
    return sales_line(row, row.quantity, refs.item_ids[row.variant_id], refs.line_tax_codes[index])


def sales_line(row: OrderRow, quantity: Decimal, item_id: str, tax_code: str) -> dict[str, Any]:
    """One SalesItemLineDetail line for `quantity` of an SO row at its price (invoices and credit memos alike)."""
    detail: dict[str, Any] = {
        "ItemRef": {"value": item_id},
        "Qty": quantity,
        "UnitPrice": row.unit_price,
        "TaxCodeRef": {"value": tax_code},
    }
    line: dict[str, Any] = {
        "DetailType": "SalesItemLineDetail",
        "Amount": line_amount(quantity, row.unit_price),
        "SalesItemLineDetail": detail,
    }
    if row.description:
        line["Description"] = row.description
    return line


def tax_and_currency(body: dict[str, Any], prefs: QboPreferences, txn_tax_code: str | None, currency: str) -> None:
    """Tax-exclusive where the company's tax model has it (else the US model's one sales tax code), and the
    currency when multicurrency is on: the same on every sales form we send."""
    if prefs.tax_model is TaxModel.GLOBAL:
        body["GlobalTaxCalculation"] = "TaxExcluded"
    elif txn_tax_code:
        body["TxnTaxDetail"] = {"TxnTaxCodeRef": {"value": txn_tax_code}}
    if prefs.multicurrency:
        body["CurrencyRef"] = {"value": currency}


def shipping_line(fee: Decimal, refs: ShippingRefs) -> dict[str, Any]:
    """The fee as QBO's shipping line (an Amount and a tax code only), or as one unit of the Shipping item."""
    amount = fee.quantize(CENT, rounding=ROUND_HALF_UP)
    detail: dict[str, Any] = {"ItemRef": {"value": refs.item_id}, "TaxCodeRef": {"value": refs.tax_code}}
    line: dict[str, Any] = {"DetailType": "SalesItemLineDetail", "Amount": amount, "SalesItemLineDetail": detail}
    if refs.item_id != SHIPPING_ITEM_ID:
        detail.update(Qty=Decimal(1), UnitPrice=fee)
        line["Description"] = "Shipping"
    return line


def qbo_address(address: Address) -> dict[str, str]:
    parts = {
        "Line1": address.line1, "Line2": address.line2, "City": address.city,
        "CountrySubDivisionCode": address.region, "PostalCode": address.postal_code, "Country": address.country,
    }  # fmt: skip
    return {key: value for key, value in parts.items() if value}


def payload_total(body: Mapping[str, Any]) -> Decimal:
    """Σ line amounts of an invoice body (before tax; the shipping line included)."""
    return sum((Decimal(line["Amount"]) for line in body["Line"]), Decimal(0))
