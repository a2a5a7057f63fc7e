"""The SO card's *Invoice again* on an invoice voided in QBO (docs/quickbooks.md, "Voided in QBO"): which voided
invoices offer it, and what the button posts — *invoice all* for a voided whole-SO invoice, the voided invoice's
deliveries (as one invoice) for a partial one. The existing actions make the new invoice; the rules stay in the
domain (domain/order_invoices.py), asked here without storing anything."""

from __future__ import annotations

from invoicebridge.domain import InvalidTransition, InvoiceScope, InvoiceState, OrderInvoices


def invoice_again(invoices: OrderInvoices) -> dict[int, tuple[int, ...]]:
    """Voided invoice number → the delivery ids its *Invoice again* posts (() for the whole SO), for the voided
    invoices whose whole part is open again; one invoiced again since (or a partial invoice of the SO, for a
    voided whole one) has no button."""
    open_ids = {d.id for d in invoices.open_deliveries()}
    again: dict[int, tuple[int, ...]] = {}
    for link in invoices.links:
        if link.state is not InvoiceState.VOIDED:
            continue
        if link.scope is InvoiceScope.WHOLE and _whole_open(invoices):
            again[link.number] = ()
        elif link.scope is InvoiceScope.DELIVERIES and link.delivery_ids and open_ids.issuperset(link.delivery_ids):
            again[link.number] = link.delivery_ids
    return again


def _whole_open(invoices: OrderInvoices) -> bool:
    """Whether *invoice all* would be accepted now (nothing of the SO on a live invoice)."""
    try:
        invoices.plan_whole()
    except InvalidTransition:
        return False
    return True
