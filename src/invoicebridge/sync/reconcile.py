"""Status back from QBO: a deleted invoice sets its SO back to `Not invoiced` — from a webhook (seconds) or
from the periodic CDC poll (at most one interval when webhooks are lost). Both paths are idempotent: an SO
already back, or an invoice we never made, changes nothing."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import replace
from datetime import datetime, timedelta

from invoicebridge.domain import Conflict, InvoiceState
from invoicebridge.qbo.webhooks import EntityChange, parse_notifications
from invoicebridge.sync.gateway import AuditTrail, ClientFactory
from invoicebridge.sync.ports import UnitOfWorkFactory

CDC_OVERLAP = timedelta(minutes=2)  # re-read a little of the last window: clocks and commits are not instant
CDC_FIRST_LOOK = timedelta(days=1)


class Reconcile:
    def __init__(self, uow: UnitOfWorkFactory, clients: ClientFactory, now: Callable[[], datetime]) -> None:
        self._uow, self._clients, self._now = uow, clients, now

    def invoice_deleted(self, realm_id: str, invoice_id: str) -> list[int]:
        """SO ids set back to Not invoiced (usually one; none when we do not know the invoice)."""
        with self._uow() as uow:
            companies = [c.company_id for c in uow.connections.by_realm(realm_id)]
        return [so for company in companies if (so := self._set_back(company, invoice_id)) is not None]

    def apply_webhook(self, body: bytes) -> int:
        """A webhook body whose signature was checked on arrival (either of Intuit's formats)."""
        return self.apply_changes(parse_notifications(body))

    def apply_changes(self, changes: Iterable[EntityChange]) -> int:
        """Webhook events (already verified): skip seen event ids, act on invoice deletions."""
        handled = 0
        for change in changes:
            with self._uow() as uow:
                first = uow.processed_events.first_time(change.event_id, self._now())
                uow.commit()
            if first and change.entity == "Invoice" and change.operation == "Delete":
                handled += len(self.invoice_deleted(change.realm_id, change.entity_id))
        return handled

    def poll(self, company_id: int) -> int:
        """One CDC round for a company: deleted invoices since the last round. Returns SOs set back."""
        with self._uow() as uow:
            connection = uow.connections.get(company_id)
        if connection is None or not connection.usable:
            return 0
        started = self._now()
        since = (connection.cdc_checked_at or started - CDC_FIRST_LOOK) - CDC_OVERLAP
        changes = self._clients(connection, AuditTrail()).cdc(["Invoice"], since)
        deleted = [str(i["Id"]) for i in changes.get("Invoice", []) if i.get("status") == "Deleted"]
        set_back = sum(1 for invoice_id in deleted if self._set_back(company_id, invoice_id) is not None)
        with self._uow() as uow:
            current = uow.connections.get(company_id)
            if current is not None:
                uow.connections.save(replace(current, cdc_checked_at=started))
                uow.commit()
        return set_back

    def _set_back(self, company_id: int, invoice_id: str) -> int | None:
        try:
            with self._uow() as uow:
                link = uow.invoice_links.find_by_qbo_invoice(company_id, invoice_id)
                if link is None or link.state is not InvoiceState.INVOICED:
                    return None
                uow.invoice_links.save(company_id, link.invoice_deleted(self._now()))
                uow.commit()
                return link.sales_order_id
        except Conflict:
            return None  # another path (webhook vs poll) did it at the same moment
