"""``include=invoiceLink``: QBO then answers an invoice with ``InvoiceLink``, the link a customer opens to see (and
pay) it (Intuit's Invoice reference: "Sharable link for the invoice sent to external customers", read only,
returned only when ``include=invoiceLink`` is asked for).

The sandbox's link is its own invoice page, ``{base}/app/invoice?txnId={Id}&realmId={realm}`` (ui.py) — the shape of
QBO's in-app link, as no customer portal exists here (unconfirmed what else to answer).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

Work = Callable[[], dict[str, Any]]


def wants_invoice_link(include: str | None) -> bool:
    """Whether an ``include`` parameter (a comma-separated list, any case) asks for invoice links."""
    return any(part.strip().lower() == "invoicelink" for part in (include or "").split(","))


def linked(work: Work, base_url: str, realm_id: str) -> Work:
    """``work`` whose answer (a read ``{"Invoice": {...}}`` or a query ``{"QueryResponse": {"Invoice": [...]}}``)
    gets an InvoiceLink on each invoice."""

    def run() -> dict[str, Any]:
        body = work()
        found = body.get("Invoice") or (body.get("QueryResponse") or {}).get("Invoice") or []
        for invoice in [found] if isinstance(found, dict) else found:
            if invoice.get("Id"):
                invoice["InvoiceLink"] = invoice_link(base_url, realm_id, str(invoice["Id"]))
        return body

    return run


def invoice_link(base_url: str, realm_id: str, invoice_id: str) -> str:
    return f"{base_url.rstrip('/')}/app/invoice?{urlencode({'txnId': invoice_id, 'realmId': realm_id})}"
