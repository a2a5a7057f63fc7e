"""*Link to this invoice*: an SO's invoice refused because its number is used in QBO (6140) becomes the QBO invoice
that has the number — when that invoice is this one (made by hand, or by another tool) rather than another's.

Opt-in per company (ConnectionSettings.offer_link_duplicates, off by default). The invoice holding the number
is the one QBO named in the refusal (sync/duplicates.py). It is this invoice when, read from QBO just now (one
read; never an earlier read):
- it still has the number this invoice would take (the company's prefix included);
- its customer is the QBO customer matching chose for this SO's customer (the remembered id);
- its currency, when it names one, is the SO's;
- its lines before tax — Σ Amount of its SalesItemLineDetail lines, QBO's subtotal — equal what this invoice
  carries (Σ quantity × price per row, each rounded to cents, plus the shipping fee when it carries it). TotalAmt
  is not compared: it includes the tax QBO worked out, which this side never computes.
and no live invoice of this company (of this SO or another) points at it already.

Linking moves the failed link to `invoiced` with the QBO invoice's id, number and SyncToken
(InvoiceLink.linked_existing), under the SO's invoicing lock and the link's version (a concurrent retry or a
second click conflicts instead of both winning). Nothing is created in QBO; the link keeps the deliveries it
covers, so nothing is invoiced twice; what follows an invoice (COGS) follows this one too.

The "no other live invoice points at it" rule is checked in the linking transaction for a clear sentence; two
SOs linking the same QBO invoice at the very same instant (PostgreSQL) could both pass that check, and the store's
unique index on invoiced links per QBO invoice then refuses the second save as a Conflict.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any

from invoicebridge.domain import Conflict, InvalidTransition, InvoiceLink, OrderInvoices, SalesOrder
from invoicebridge.domain.connection import Connection
from invoicebridge.domain.money import to_cents
from invoicebridge.qbo import errors as qbo
from invoicebridge.sync.duplicates import existing_invoice_id
from invoicebridge.sync.gateway import AuditTrail
from invoicebridge.sync.invoicing import Invoicing
from invoicebridge.sync.mapping import line_amount
from invoicebridge.sync.matching import CUSTOMER
from invoicebridge.sync.reads import usable_connection

log = logging.getLogger(__name__)
TURNED_OFF = (
    "Linking an SO to an invoice already in QuickBooks is turned off for this company: an admin turns on "
    '"Offer to link duplicate-number invoices" in the QuickBooks settings.'
)


@dataclass(frozen=True)
class LinkOffer:
    """What was found for linking one failed invoice: the QBO invoice holding its number and, unless it may be
    linked, why not (a sentence)."""

    sales_order_id: int
    number: int
    existing_id: str
    doc_number: str
    reason: str | None
    sync_token: str = "0"
    existing_subtotal: Decimal | None = None
    subtotal: Decimal | None = None

    @property
    def linkable(self) -> bool:
        return self.reason is None


@dataclass(frozen=True)
class _Case:
    """Ours, read in one transaction: the link, the number it would take, the part of the SO it carries."""

    link: InvoiceLink
    existing_id: str
    doc_number: str
    part: SalesOrder
    customer_id: str | None
    connection: Connection


class LinkExisting:
    """Offer and make the link. Built on the invoicing use case (same unit of work, clients, clock and what follows
    an invoice)."""

    def __init__(self, invoicing: Invoicing) -> None:
        self._invoicing = invoicing

    def check(self, company_id: int, sales_order_id: int, number: int) -> LinkOffer:
        """The offer for the SO's invoice `number`, after one read of the QBO invoice holding its number.

        Refuses before any read: NotFound (no such SO or invoice in this company), InvalidTransition (linking is
        off, or the invoice did not fail for a number QBO says another invoice has), ValidationError (its number
        with the prefix is too long), NotConnected. A QBO invoice that does not match comes back with the reason;
        QBO failures other than "not found" are raised (QboError) — nothing is changed."""
        case = self._case(company_id, sales_order_id, number)
        trail = AuditTrail(sales_order_id)
        client = self._invoicing.clients(case.connection, trail)
        try:
            try:
                invoice: dict[str, Any] | None = client.read("Invoice", case.existing_id)
            except qbo.ObjectNotFound:
                invoice = None
        finally:
            with self._invoicing.uow() as uow:
                uow.audit.add(company_id, trail.take())  # the read is a QBO request made for this SO
                uow.commit()
        return _offer(case, invoice)

    def link(self, company_id: int, sales_order_id: int, number: int) -> InvoiceLink:
        """Link the SO's invoice `number` to the QBO invoice holding its number: checked again now (one read), then
        stored as invoiced. Refusals as `check`, plus InvalidTransition with the reason when it does not match,
        and Conflict when another live invoice points at that QBO invoice or the link changed meanwhile."""
        offer = self.check(company_id, sales_order_id, number)
        if not offer.linkable:
            raise InvalidTransition(offer.reason or "")
        with self._invoicing.uow() as uow:
            uow.invoice_links.lock_order(company_id, sales_order_id)
            current = uow.invoice_links.get(company_id, sales_order_id, number)
            if existing_invoice_id(current) != offer.existing_id:
                raise InvalidTransition(f"Invoice {number} changed meanwhile ({current.status_text}); look again.")
            _not_linked_elsewhere(uow.invoice_links.find_by_qbo_invoice(company_id, offer.existing_id), current)
            moved = current.linked_existing(
                offer.existing_id, offer.doc_number, offer.sync_token, self._invoicing.now()
            )
            saved = uow.invoice_links.save(company_id, moved)
            uow.commit()
        if self._invoicing.after_invoiced is not None:
            try:
                self._invoicing.after_invoiced(company_id, sales_order_id)  # e.g. COGS, through the queue
            except Exception:  # the link is made: what follows an invoice (COGS) has its own retries and state
                log.exception("after-invoice step failed for SO %s of company %s", sales_order_id, company_id)
        return saved

    def _case(self, company_id: int, sales_order_id: int, number: int) -> _Case:
        with self._invoicing.uow() as uow:
            uow.sales_orders.get(company_id, sales_order_id)  # NotFound for an SO of another company
            link = uow.invoice_links.get(company_id, sales_order_id, number)
            connection = uow.connections.get(company_id)
            if connection is None or not connection.settings.offer_link_duplicates:
                raise InvalidTransition(TURNED_OFF)
            existing_id = existing_invoice_id(link)
            if existing_id is None:
                raise InvalidTransition(
                    f"Invoice {number} was not refused for a number another QuickBooks invoice has, so there is no "
                    "invoice to link it to."
                )
            connection, _ = usable_connection(uow, company_id)
            invoices: OrderInvoices = uow.invoice_links.of_order(company_id, sales_order_id)
            doc_number = invoices.doc_number(link, connection.settings.invoice_number_prefix)
            part = invoices.part(link)
            _not_linked_elsewhere(uow.invoice_links.find_by_qbo_invoice(company_id, existing_id), link)
            customer_id = uow.qbo_refs.get(company_id, CUSTOMER, part.customer_id)
        return _Case(link, existing_id, doc_number, part, customer_id, connection)


def _not_linked_elsewhere(holder: InvoiceLink | None, link: InvoiceLink) -> None:
    if (
        holder is not None
        and holder.live
        and (holder.sales_order_id, holder.number)
        != (
            link.sales_order_id,
            link.number,
        )
    ):
        raise Conflict(
            "qbo_invoice_id",
            f"QuickBooks invoice {holder.qbo_invoice_id} is linked to another sales order's invoice already "
            f"(sales order {holder.sales_order_id}, invoice {holder.number}): one QuickBooks invoice cannot stand for "
            "two.",
        )


def _offer(case: _Case, invoice: dict[str, Any] | None) -> LinkOffer:
    ours = subtotal(case.part)
    offer = LinkOffer(case.link.sales_order_id, case.link.number, case.existing_id, case.doc_number, None)
    if invoice is None:
        reason = f"QuickBooks invoice {case.existing_id} no longer exists: retry this invoice instead."
        return replace(offer, reason=reason, subtotal=ours)
    theirs = invoice_subtotal(invoice)
    found = replace(offer, sync_token=str(invoice.get("SyncToken", "0")), existing_subtotal=theirs, subtotal=ours)
    return replace(found, reason=_mismatch(case, invoice, theirs, ours))


def _mismatch(case: _Case, invoice: dict[str, Any], theirs: Decimal, ours: Decimal) -> str | None:
    """Why the QBO invoice is not this invoice, or None when it is."""
    name = f"QuickBooks invoice {case.existing_id}"
    if invoice.get("DocNumber") != case.doc_number:
        return f"{name} is numbered {invoice.get('DocNumber')!r} now, not {case.doc_number}: retry this invoice."
    customer = str((invoice.get("CustomerRef") or {}).get("value", ""))
    if case.customer_id is None:
        return f"This order's customer is not matched to a QuickBooks customer yet, so {name} cannot be confirmed."
    if customer != case.customer_id:
        return (
            f"{name} is for another QuickBooks customer ({customer}); this order's customer is QuickBooks customer "
            f"{case.customer_id}."
        )
    currency = (invoice.get("CurrencyRef") or {}).get("value")
    if currency and currency != case.part.currency:
        return f"{name} is in {currency}; this order is in {case.part.currency}."
    if theirs != ours:
        return (
            f"{name} comes to {theirs:,.2f} before tax; this invoice of the order comes to {ours:,.2f}. Only an "
            "invoice with the same customer and amount can be linked."
        )
    return None


def subtotal(order: SalesOrder) -> Decimal:
    """What an invoice of `order` (the part of the SO it carries) comes to before tax, as its lines would say."""
    rows = sum((line_amount(row.quantity, row.unit_price) for row in order.rows), Decimal(0))
    fee = order.shipping_fee  # on an invoice line of its own, like a row (None when this invoice carries none)
    return rows + (to_cents(fee) if fee is not None else Decimal(0))


def invoice_subtotal(invoice: dict[str, Any]) -> Decimal:
    """Σ Amount of a QBO invoice's SalesItemLineDetail lines: its amount before tax (QBO's own SubTotal line and
    discount lines left out)."""
    lines = invoice.get("Line") or []
    return sum(
        (Decimal(str(line.get("Amount", 0))) for line in lines if line.get("DetailType") == "SalesItemLineDetail"),
        Decimal(0),
    )
