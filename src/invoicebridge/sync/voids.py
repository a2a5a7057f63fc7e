"""Invoices voided in QBO (docs/quickbooks.md, "Voided in QBO"): the invoice's link becomes `voided` — it keeps its
link into QBO and its DocNumber slot, and gives its part of the SO back (domain/order_invoices.py) — from a
webhook (legacy operation `Void`, CloudEvents `qbo.invoice.voided.v1`) or from the CDC poll. Reconcile
(sync/reconcile.py) hands both to this module.

A notification is a hint: the invoice is read and must look voided (is_voided) before anything changes, so a
forged, stale or misrouted notification never opens an SO for a second invoice. The CDC poll's rows come from QBO
itself and are judged the same way. Both paths are idempotent: an invoice voided already, deleted, or not ours
changes nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection, Iterable, Mapping
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from invoicebridge.domain import Conflict, InvoiceLink, InvoiceState
from invoicebridge.domain.connection import Connection
from invoicebridge.qbo import errors as qbo
from invoicebridge.sync.gateway import AuditTrail, ClientFactory
from invoicebridge.sync.ports import UnitOfWorkFactory

log = logging.getLogger(__name__)
VOID_NOTE = "Voided"


def is_voided(invoice: Mapping[str, Any]) -> bool:
    """Whether an invoice as QBO returns it (a read, or a CDC row) is voided.

    QBO has no status field for it. Intuit's Invoice API reference ("Void an invoice") and its developer blog
    ("Voiding Invoice Objects", 2016-04-06): a voided invoice stays, with every amount and quantity zeroed, and
    the string "Voided" injected into `PrivateNote`, prepended to any text already there (ours holds the look-up
    marker); intuit/QuickBooks-V3-PHP-SDK issue #167 confirms reads show Balance and TotalAmt 0 and the note, the
    status itself not being exposed. So: not a deletion tombstone, `PrivateNote` starting with "Voided", and
    `TotalAmt` and `Balance` zero — an invoice of ours is never zero with that note otherwise.
    """
    if invoice.get("status") == "Deleted":
        return False
    note = invoice.get("PrivateNote")
    if not isinstance(note, str) or not note.startswith(VOID_NOTE):
        return False
    return _zero(invoice.get("TotalAmt")) and _zero(invoice.get("Balance", 0))


def _zero(value: object) -> bool:
    try:
        return value is not None and not isinstance(value, bool) and Decimal(str(value)) == 0
    except InvalidOperation:
        return False


class Voids:
    """Marks our invoices voided once QBO shows them voided."""

    def __init__(self, uow: UnitOfWorkFactory, clients: ClientFactory, now: Callable[[], datetime]) -> None:
        self._uow, self._clients, self._now = uow, clients, now

    def invoice_voided(self, realm_id: str, invoice_id: str) -> list[int]:
        """A void notification: SO ids whose invoice became voided after QBO's copy read as voided (usually one;
        none when we do not know the invoice, it is voided already, or QBO does not show it voided). QboError when
        QBO cannot be asked (the event is retried)."""
        with self._uow() as uow:
            connections = [c for c in uow.connections.by_realm(realm_id) if c.usable]
        confirmed = [
            c.company_id for c in connections if self._ours(c.company_id, invoice_id) and self._confirm(c, invoice_id)
        ]
        return [so for company in confirmed if (so := self.mark(company, invoice_id)) is not None]

    def from_cdc(self, company_id: int, invoices: Iterable[Mapping[str, Any]]) -> int:
        """A CDC round's invoice rows: those that read as voided mark our invoice voided. Returns how many did."""
        voided = [str(row["Id"]) for row in invoices if "Id" in row and is_voided(row)]
        return sum(1 for invoice_id in voided if self.mark(company_id, invoice_id) is not None)

    def mark(self, company_id: int, invoice_id: str) -> int | None:
        """Our invoice `invoice_id` becomes voided (its SO's status is recomputed in the same transaction); its SO
        id, or None when it is not ours or not invoiced (voided or deleted already)."""
        return move_invoice(self._uow, company_id, invoice_id, (InvoiceState.INVOICED,),
                            lambda link: link.invoice_voided(self._now()))  # fmt: skip

    def _ours(self, company_id: int, invoice_id: str) -> bool:
        with self._uow() as uow:
            link = uow.invoice_links.find_by_qbo_invoice(company_id, invoice_id)
        return link is not None and link.state is InvoiceState.INVOICED

    def _confirm(self, connection: Connection, invoice_id: str) -> bool:
        """Whether QBO shows the invoice voided (a deleted one is the deletion path's business)."""
        try:
            invoice = self._clients(connection, AuditTrail()).read("Invoice", invoice_id)
        except qbo.ObjectNotFound:
            return False
        if is_voided(invoice):
            return True
        log.warning("QuickBooks does not show invoice %s of company %s voided: void notice ignored",
                    invoice_id, connection.company_id)  # fmt: skip
        return False


def move_invoice(
    uow: UnitOfWorkFactory, company_id: int, invoice_id: str, allowed: Collection[InvoiceState],
    move: Callable[[InvoiceLink], InvoiceLink],
) -> int | None:  # fmt: skip
    """Our invoice `invoice_id`, found by its QBO id, takes the step `move` QBO reported (voided, deleted), its SO's
    status recomputed in the same transaction. Its SO id; None when it is not ours, not in an `allowed` state, or
    another path (webhook vs poll) took the step at the same moment."""
    try:
        with uow() as work:
            link = work.invoice_links.find_by_qbo_invoice(company_id, invoice_id)
            if link is None or link.state not in allowed:
                return None
            work.invoice_links.save(company_id, move(link))
            work.commit()
            return link.sales_order_id
    except Conflict:
        return None
