"""A return as a QBO CreditMemo: the payload (pure), the look-up that finds one an earlier attempt made, and the
sentences its failures land on the SO as.

The credit memo mirrors the SO's invoice lines (sync/mapping.py's rules): the same item, unit price and tax code per
row, `Qty` the returned quantity, tax-exclusive, in the SO's currency when multicurrency is on. `CustomerMemo` says
"Return of SO-1042"; `DocNumber` ("SO-1042-R1") only with custom transaction numbers on, and none when it would pass
21 characters (QBO then numbers it). `PrivateNote` carries the marker a look-up finds it by.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from invoicebridge.domain import SalesOrder
from invoicebridge.domain.connection import QboPreferences
from invoicebridge.domain.returns import Return, credit_memo_number
from invoicebridge.qbo import errors as qbo
from invoicebridge.qbo.client import QboClient, entity_rows
from invoicebridge.sync.explain import UNCERTAIN, Explained, OutcomeUncertain, explain
from invoicebridge.sync.mapping import MARKER_PREFIX, qbo_address, sales_line, tax_and_currency
from invoicebridge.sync.matching import quote

ENTITY = "CreditMemo"


@dataclass(frozen=True)
class CreditRefs:
    """What the credit memo refers to in QBO: the customer of the SO's invoice, each row's item and tax code."""

    customer_id: str
    item_ids: Mapping[int, str]  # order-book variant id → QBO Item id
    line_tax_codes: Mapping[int, str]  # SO row id → QBO TaxCode id ("TAX"/"NON" in the US model)
    txn_tax_code: str | None  # US model: the sales tax code


def credit_marker(order: SalesOrder, ret: Return, request_id: str) -> str:
    """Written to the credit memo's PrivateNote: how an attempt whose outcome is unknown finds it again."""
    return f"{MARKER_PREFIX} return {ret.number} of {order.number} [{request_id}]"


def credit_memo_payload(
    order: SalesOrder, ret: Return, refs: CreditRefs, prefs: QboPreferences, zone: ZoneInfo, request_id: str
) -> dict[str, Any]:
    """The QBO CreditMemo body for `ret`, a return of `order` (amounts Decimal, one line per returned row, in the
    SO's row order)."""
    rows = [row for row in order.rows if ret.lines.get(row.id or 0)]
    body: dict[str, Any] = {
        "CustomerRef": {"value": refs.customer_id},
        "TxnDate": ret.created_at.astimezone(zone).date().isoformat(),
        "CustomerMemo": {"value": f"Return of {order.number}"},
        "PrivateNote": credit_marker(order, ret, request_id),
        "Line": [
            sales_line(row, ret.lines[row.id or 0], refs.item_ids[row.variant_id], refs.line_tax_codes[row.id or 0])
            for row in rows
        ],
    }
    if prefs.custom_txn_numbers and (number := credit_memo_number(order.number, ret.number)) is not None:
        body["DocNumber"] = number
    if not order.billing_address.is_empty():
        body["BillAddr"] = qbo_address(order.billing_address)
    tax_and_currency(body, prefs, refs.txn_tax_code, order.currency)
    return body


def find_credit_memo(client: QboClient, body: Mapping[str, Any]) -> dict[str, Any] | None:
    """Our credit memo if an earlier attempt made it: that customer's credit memos of that day carrying our marker
    (PrivateNote is not filterable in QBO's query language). A failing look-up raises its QboError: then nobody
    knows, and nothing may be created."""
    where = f"CustomerRef = {quote(body['CustomerRef']['value'])} AND TxnDate = {quote(body['TxnDate'])}"
    rows = entity_rows(client.query(f"SELECT * FROM {ENTITY} WHERE {where} MAXRESULTS 1000"), ENTITY)
    return next((row for row in rows if row.get("PrivateNote") == body["PrivateNote"]), None)


def explain_credit_memo(error: Exception, doc_number: str | None) -> Explained:
    """The SO-facing account of a failure making a return's credit memo: the invoice's sentences (sync/explain.py)
    where they hold for any QBO form (reconnect, accounts, currency, busy…), the credit memo's own otherwise."""
    detail = explain(error, doc_number or "").detail
    if isinstance(error, OutcomeUncertain):
        return Explained(
            UNCERTAIN,
            "QuickBooks did not answer, so it is not yet known whether the credit memo was made. It is looked up in "
            "QuickBooks before anything is created again; nothing needs doing.",
            detail or str(error),
        )
    if isinstance(error, qbo.DuplicateDocNumber):
        return Explained(error.code, f"Credit memo number {doc_number} is already used in QuickBooks.", detail)
    if isinstance(error, qbo.ServerError | qbo.OutcomeUnknown):
        return Explained(
            error.code or "unavailable",
            "QuickBooks did not answer properly and no credit memo was made: try again.",
            detail,
        )
    if isinstance(error, qbo.ObjectNotFound | qbo.InvalidReference) and (gone := _gone(error)) is not None:
        return Explained(error.code, gone, detail)
    explained = explain(error, doc_number or "")
    if explained.message.startswith("QuickBooks refused the invoice"):
        message = explained.message.replace("refused the invoice", "refused the credit memo", 1)
        return Explained(explained.code, message, explained.detail)
    return explained


def _gone(error: qbo.QboError) -> str | None:
    """The sentence for a customer or item QBO no longer has (deleted, or made inactive), None for anything else
    (an account, say: explain() has that sentence)."""
    text = f"{error.element} {error.detail}"
    if "Customer" in text:
        return (
            "The QuickBooks customer of this order's invoice was deleted or made inactive in QuickBooks: make it "
            "active there (or invoice the order to another customer), then retry."
        )
    if "Item" in text:
        return "An item of this return was deleted or made inactive in QuickBooks: make it active there, then retry."
    return None
