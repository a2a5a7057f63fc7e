"""Status back from QBO: a deleted invoice sets its SO back to `Not invoiced` — from a webhook (seconds) or
from the periodic CDC poll (at most one interval when webhooks are lost). The same events and rounds keep the
mirror of QBO customers and items current (sync/mirror.py). Both paths are idempotent: an SO
already back, or an invoice we never made, changes nothing.

A notification is a hint, not the truth: before an SO goes back, QBO is asked whether the invoice is really gone
(a forged, stale or misrouted notification must never lead to a second invoice). The CDC poll's answer comes from
QBO itself. An event is recorded as handled only once acted on, so a delivery that fails half-way is retried
for the events it did not finish; events seen before are skipped, and never stop the others."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from invoicebridge.domain import InvoiceBridgeError, InvoiceState
from invoicebridge.domain.connection import Connection
from invoicebridge.qbo import errors as qbo
from invoicebridge.qbo.webhooks import EntityChange, parse_notifications
from invoicebridge.sync.gateway import AuditTrail, ClientFactory
from invoicebridge.sync.mirror import CUSTOMER, ITEM, Mirror
from invoicebridge.sync.pacing import Pacing
from invoicebridge.sync.payments import PaymentStatusSync
from invoicebridge.sync.ports import UnitOfWorkFactory
from invoicebridge.sync.voids import Voids, move_invoice

log = logging.getLogger(__name__)
CDC_OVERLAP = timedelta(minutes=2)  # re-read a little of the last window: clocks and commits are not instant
CDC_FIRST_LOOK = timedelta(days=1)
MIRRORED = (CUSTOMER, ITEM)  # kept current in the mirror by the same webhooks and CDC rounds
DELETABLE = (InvoiceState.INVOICED, InvoiceState.VOIDED)  # a voided invoice deleted later gives its slot back
# How long a handled event's id is remembered: far longer than Intuit redelivers an event (hours at most) and than
# our webhook task retries, so a forgotten id never comes back; without forgetting, the table grows forever.
EVENT_MEMORY = timedelta(days=30)


class DeliveryIncomplete(InvoiceBridgeError):
    """Some events of a webhook delivery could not be handled yet (QBO could not be asked): retry them."""

    def __init__(self, event_ids: list[str]) -> None:
        self.event_ids = event_ids
        super().__init__(f"{len(event_ids)} webhook event(s) not handled yet: {', '.join(event_ids[:5])}")


class Reconcile:
    def __init__(
        self, uow: UnitOfWorkFactory, clients: ClientFactory, now: Callable[[], datetime], pacing: Pacing | None = None
    ) -> None:
        self._uow, self._clients, self._now = uow, clients, now
        self.mirror = Mirror(uow, now)
        self.payments = PaymentStatusSync(uow, clients)  # payment status, for companies that opted in
        self.pacing = pacing or Pacing()
        self.voids = Voids(uow, clients, now)  # invoices voided in QBO (sync/voids.py)

    def invoice_deleted(self, realm_id: str, invoice_id: str) -> list[int]:
        """SO ids set back to Not invoiced after QBO confirmed the invoice is gone (usually one; none when we do
        not know the invoice, or it still exists). QboError when QBO cannot be asked."""
        with self._uow() as uow:
            connections = [c for c in uow.connections.by_realm(realm_id) if c.usable]
        confirmed = [
            c.company_id for c in connections if self._ours(c.company_id, invoice_id) and self._gone(c, invoice_id)
        ]
        return [so for company in confirmed if (so := self._set_back(company, invoice_id)) is not None]

    def forget_old_events(self) -> int:
        """Forgets the webhook event ids handled more than EVENT_MEMORY ago (a daily task); how many."""
        with self._uow() as uow:
            forgotten = uow.processed_events.forget_before(self._now() - EVENT_MEMORY)
            uow.commit()
        return forgotten

    def apply_webhook(self, body: bytes) -> int:
        """A webhook body whose signature was checked on arrival (either of Intuit's formats)."""
        return self.apply_changes(parse_notifications(body))

    def apply_changes(self, changes: Iterable[EntityChange]) -> int:
        """Webhook events: skip those seen before, act on invoice deletions, record each once acted on.
        Raises DeliveryIncomplete, after trying every event, when some could not be handled (the task is
        retried; the events it finished are skipped then)."""
        handled, failed = 0, []
        changes = list(changes)
        self._webhooks_arrived(changes)
        payments = self.payments.delivery(changes)  # reads QBO at most once per realm for the whole delivery
        for change in changes:
            with self._uow() as uow:
                if uow.processed_events.seen(change.event_id):
                    continue
            try:
                if change.entity == "Invoice" and change.operation == "Delete":
                    handled += len(self.invoice_deleted(change.realm_id, change.entity_id))
                elif change.entity == "Invoice" and change.operation == "Void":
                    handled += len(self.voids.invoice_voided(change.realm_id, change.entity_id))
                elif change.entity in MIRRORED:
                    self._mirror_changed(change)
                if payments.concerns(change):  # also after a branch above: an invoice update may be both
                    payments.handle(change)
            except Exception as error:  # one event's failure must not drop the others
                log.warning("webhook event %s not handled yet: %s", change.event_id, error)
                failed.append(change.event_id)
                continue
            with self._uow() as uow:
                uow.processed_events.first_time(change.event_id, self._now())
                uow.commit()
        if failed:
            self._poll_soon({change.realm_id for change in changes if change.event_id in failed})
            raise DeliveryIncomplete(failed)
        return handled

    def poll(self, company_id: int) -> int:
        """One CDC round for a company: deleted invoices since the last round. Returns SOs set back."""
        with self._uow() as uow:
            connection = uow.connections.get(company_id)
        if connection is None or not connection.usable:
            return 0
        started = self._now()
        since = (connection.cdc_checked_at or started - CDC_FIRST_LOOK) - CDC_OVERLAP
        wanted = ["Invoice", *MIRRORED, *self.payments.cdc_entities(connection)]  # one CDC request either way
        changes = self._clients(connection, AuditTrail()).cdc(wanted, since)
        self._mirror_polled(company_id, changes)
        deleted = [str(i["Id"]) for i in changes.get("Invoice", []) if i.get("status") == "Deleted"]
        set_back = sum(1 for invoice_id in deleted if self._set_back(company_id, invoice_id) is not None)
        set_back += self.voids.from_cdc(company_id, changes.get("Invoice", []))  # voided: updated rows, judged
        self.payments.polled(connection, changes)  # balances of the invoices it brought (opt-in; sync/payments.py)
        with self._uow() as uow:
            current = uow.connections.get(company_id)
            if current is not None:
                uow.connections.save(replace(current, cdc_checked_at=started))
                uow.commit()
        return set_back

    # -- the mirror of customers and items (sync/mirror.py) ----------------------------------------------------
    def _mirror_changed(self, change: EntityChange) -> None:
        """A customer or item changed in QBO: read it into the mirror of each company on that realm — unless the
        mirror already has it as of the event (the echo of our own create), or is not loaded yet (it will be
        loaded whole). QboError when QBO cannot be asked (the event is retried)."""
        with self._uow() as uow:
            connections = [c for c in uow.connections.by_realm(change.realm_id) if c.usable]
            loaded = {c.company_id for c in connections if uow.qbo_mirror.state(c.company_id) is not None}
        for connection in (c for c in connections if c.company_id in loaded):
            if self.mirror.knows(connection.company_id, change.entity, change.entity_id, change.occurred_at):
                continue
            try:
                found = self._clients(connection, AuditTrail()).read(change.entity, change.entity_id)
            except qbo.ObjectNotFound:
                found = {"status": "Deleted", "Id": change.entity_id}
            self.mirror.apply(connection.company_id, change.entity, [found])

    def _mirror_polled(self, company_id: int, changes: dict[str, list[dict[str, Any]]]) -> None:
        with self._uow() as uow:
            if uow.qbo_mirror.state(company_id) is None:
                return  # not loaded yet: it will be loaded whole
        for entity in MIRRORED:
            self.mirror.apply(company_id, entity, changes.get(entity, []))

    # -- pacing by webhook health (sync/pacing.py) --------------------------------------------------------------
    def due_for_poll(self) -> list[int]:
        """The connected companies whose paced CDC poll is due now (the periodic task queues a poll for each)."""
        now = self._now()
        with self._uow() as uow:
            return [c.company_id for c in uow.connections.connected() if self.pacing.due(c, now)]

    def poll_if_due(self, company_id: int) -> int:
        """The paced poll: one CDC round when the company's poll is due and this worker claims it (several
        workers' schedulers may each have queued one); else nothing. Returns SOs set back. A round that fails
        gives its claim back, so the task's retry (or the next tick) polls again; the CDC cursor only moves
        after a round succeeded, so a worker dying mid-round loses nothing."""
        now = self._now()
        with self._uow() as uow:
            connection = uow.connections.get(company_id)
            if connection is None or not connection.usable or not self.pacing.due(connection, now):
                return 0
            if not uow.connections.swap_polled_at(company_id, connection.polled_at, now):
                return 0  # another worker claimed this slot's poll
            uow.commit()
        try:
            return self.poll(company_id)
        except Exception:
            with self._uow() as uow:
                uow.connections.swap_polled_at(company_id, now, connection.polled_at)
                uow.commit()
            raise

    def _webhooks_arrived(self, changes: list[EntityChange]) -> None:
        """Any event of a realm shows its webhooks arrive: our writes to it made until now count as echoed. Never
        fails the delivery (the events still need handling)."""
        try:
            with self._uow() as uow:
                for realm_id in dict.fromkeys(change.realm_id for change in changes):
                    uow.connections.webhook_arrived(realm_id, self._now())
                uow.commit()
        except Exception as error:
            log.warning("webhook arrival not recorded: %s", error)

    def _poll_soon(self, realm_ids: set[str]) -> None:
        """Events we could not handle yet are a change we know we missed: the realms' polls fall due at the next
        tick, whatever their pacing (the task's retries may never succeed). Never fails the delivery."""
        try:
            with self._uow() as uow:
                for connection in (c for realm in realm_ids for c in uow.connections.by_realm(realm)):
                    uow.connections.swap_polled_at(connection.company_id, connection.polled_at, None)
                uow.commit()
        except Exception as error:
            log.warning("poll not brought forward after a failed webhook event: %s", error)

    def _ours(self, company_id: int, invoice_id: str) -> bool:
        with self._uow() as uow:
            link = uow.invoice_links.find_by_qbo_invoice(company_id, invoice_id)
        return link is not None and link.state in DELETABLE

    def _gone(self, connection: Connection, invoice_id: str) -> bool:
        """Whether QBO says the invoice no longer exists (read answers Object Not Found, or a Deleted status)."""
        try:
            invoice = self._clients(connection, AuditTrail()).read("Invoice", invoice_id)
        except qbo.ObjectNotFound:
            return True
        if invoice.get("status") == "Deleted":
            return True
        log.warning("QuickBooks still has invoice %s of company %s: deletion notice ignored",
                    invoice_id, connection.company_id)  # fmt: skip
        return False

    def _set_back(self, company_id: int, invoice_id: str) -> int | None:
        return move_invoice(
            self._uow, company_id, invoice_id, DELETABLE, lambda link: link.invoice_deleted(self._now())
        )
