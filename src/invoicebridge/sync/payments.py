"""Payment status back from QBO (opt-in per company, `ConnectionSettings.track_payments`; domain/payments.py has
the rule): each of our invoices' `Balance` and `TotalAmt` as QBO reports them, and the SO's status from those.

Where the balances come from, cheapest first (QBO reads are metered — qbo-reference.md, "Metering"):

- **the CDC poll** (sync/reconcile.py): every invoice changed since the last round comes back whole, balance
  included — a payment changes its invoice's Balance, so QBO reports the invoice as changed — at no extra read.
  With the opt-in on the same CDC request also asks for Payments; the invoices they pay that the round did not
  bring already are read in one query. Invoices whose balance was never read (tracking just turned on) are read
  too, `BACKFILL` per round, in queries of `IN_CHUNK`;
- **webhooks** (seconds): a Payment created, updated, voided or deleted, or an Invoice updated, is a hint — QBO is
  read before any status changes. Per delivery and company, at most one query of the payments named (their
  `Line[].LinkedTxn` list the invoices they pay; a deleted payment cannot be read, and its invoices' own update
  events bring the balance back) and one query `select Id, Balance, TotalAmt, SyncToken from Invoice where Id in
  (…)` of those invoices that are ours. Invoices that are not ours are never read.

A company that has not opted in costs nothing: no event of it is read, the CDC request is unchanged. Everything
here is idempotent: a balance is only replaced by one QBO reported at the same or a later SyncToken.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

from invoicebridge.domain.connection import Connection
from invoicebridge.domain.payments import InvoiceBalance
from invoicebridge.qbo.client import QboClient, entity_rows
from invoicebridge.qbo.webhooks import EntityChange
from invoicebridge.sync.gateway import AuditTrail, ClientFactory
from invoicebridge.sync.mirror import IN_CHUNK, quote
from invoicebridge.sync.ports import UnitOfWork, UnitOfWorkFactory

__all__ = ["BACKFILL", "PaymentRound", "PaymentStatusSync", "balances_of", "paid_invoice_ids", "tracking_changed"]

log = logging.getLogger(__name__)
PAYMENT, INVOICE = "Payment", "Invoice"
BACKFILL = 2_000  # unread invoices read per CDC round (20 queries); more wait for the next round, brought forward
PAYMENT_OPERATIONS = ("Create", "Update", "Void", "Delete")


class PaymentStatusSync:
    def __init__(self, uow: UnitOfWorkFactory, clients: ClientFactory) -> None:
        self._uow, self._clients = uow, clients

    # -- webhooks ---------------------------------------------------------------------------------------------------
    @staticmethod
    def concerns(change: EntityChange) -> bool:
        """Whether an event may move a payment status: a payment made, changed, voided or deleted, or an invoice
        updated (QBO reports an invoice a payment was applied to as updated)."""
        if change.entity == PAYMENT:
            return change.operation in PAYMENT_OPERATIONS
        return change.entity == INVOICE and change.operation == "Update"

    def delivery(self, changes: Sequence[EntityChange]) -> PaymentRound:
        """The payment events of one webhook delivery, handled together (see PaymentRound)."""
        return PaymentRound(self, [change for change in changes if self.concerns(change)])

    def realm_changed(self, realm_id: str, changes: Sequence[EntityChange]) -> int:
        """Read QBO for these events of one realm, for each company on it that tracks payments, and record what
        it says. Returns the SOs whose status changed. QboError when QBO cannot be asked (nothing half-recorded:
        each company's balances are stored in one transaction)."""
        with self._uow() as uow:
            tracking = [c for c in uow.connections.by_realm(realm_id) if c.usable and c.settings.track_payments]
            fresh = [c for c in changes if not uow.processed_events.seen(c.event_id)]
        if not tracking or not fresh:
            return 0  # a company that has not opted in costs no read
        payment_ids = _unique(c.entity_id for c in fresh if c.entity == PAYMENT and c.operation != "Delete")
        invoice_ids = _unique(c.entity_id for c in fresh if c.entity == INVOICE)
        changed = 0
        for connection in tracking:
            client = self._clients(connection, AuditTrail())
            paid = paid_invoice_ids(read_payments(client, payment_ids)) if payment_ids else []
            changed += self._refresh(connection.company_id, client, [*invoice_ids, *paid])
        return changed

    # -- the CDC poll -----------------------------------------------------------------------------------------------
    @staticmethod
    def cdc_entities(connection: Connection) -> list[str]:
        """What the poll's CDC request asks for on top of invoices, customers and items (same request: no extra
        read)."""
        return [PAYMENT] if connection.settings.track_payments else []

    def polled(self, connection: Connection, changes: Mapping[str, list[dict[str, Any]]]) -> int:
        """After a CDC round of a company that tracks payments: the balances of the invoices it brought, then the
        invoices its payments pay that it did not bring, then (tracking just turned on) invoices never read.
        Returns the SOs whose status changed. QboError when a read fails (the round is retried)."""
        if not connection.settings.track_payments:
            return 0
        company_id = connection.company_id
        brought = balances_of(i for i in changes.get(INVOICE, []) if i.get("status") != "Deleted")
        with self._uow() as uow:
            changed = len(uow.payments.record(company_id, brought))
            uow.commit()
        paid = [i for i in paid_invoice_ids(changes.get(PAYMENT, [])) if i not in brought]
        with self._uow() as uow:
            unread = uow.payments.unread(company_id, BACKFILL)
            wanted = [*sorted(uow.payments.ours(company_id, paid)), *unread]
        if wanted:
            changed += self._record(company_id, read_balances(self._clients(connection, AuditTrail()), wanted))
        if len(unread) == BACKFILL:
            self._poll_again(company_id)  # more to read: the next tick goes on, whatever the pacing
        return changed

    # -- helpers ----------------------------------------------------------------------------------------------------
    def _refresh(self, company_id: int, client: QboClient, invoice_ids: Sequence[str]) -> int:
        with self._uow() as uow:
            ours = sorted(uow.payments.ours(company_id, invoice_ids))
        if not ours:
            return 0  # only our invoices matter: nothing is read for the others
        return self._record(company_id, read_balances(client, ours))

    def _poll_again(self, company_id: int) -> None:
        with self._uow() as uow:
            current = uow.connections.get(company_id)
            if current is not None:
                uow.connections.swap_polled_at(company_id, current.polled_at, None)
                uow.commit()

    def _record(self, company_id: int, balances: Mapping[str, InvoiceBalance]) -> int:
        with self._uow() as uow:
            changed = uow.payments.record(company_id, balances)
            uow.commit()
        return len(changed)


class PaymentRound:
    """One webhook delivery's payment events. The first event of a realm reads QBO for all of that realm's events
    in the delivery (a payment and the invoice update it causes usually arrive together: read once); the others
    find it done. When that failed, every event of the realm fails with the same error (and is retried)."""

    def __init__(self, sync: PaymentStatusSync, changes: list[EntityChange]) -> None:
        self._sync, self._changes = sync, changes
        self._done: dict[str, Exception | None] = {}

    def concerns(self, change: EntityChange) -> bool:
        return self._sync.concerns(change)

    def handle(self, change: EntityChange) -> None:
        realm_id = change.realm_id
        if realm_id not in self._done:
            try:
                self._sync.realm_changed(realm_id, [c for c in self._changes if c.realm_id == realm_id])
                self._done[realm_id] = None
            except Exception as error:  # every event of the realm reports it; the delivery is retried
                self._done[realm_id] = error
        failure = self._done[realm_id]
        if failure is not None:
            raise failure


def tracking_changed(uow: UnitOfWork, connection: Connection, on: bool) -> None:
    """The opt-in was turned on or off (in the caller's transaction, with the new settings). On: every SO's status
    from the balances known, and the company's CDC poll falls due at the next tick, which reads the balances not
    known yet. Off: statuses and balances forgotten; nothing more is read."""
    uow.payments.track(connection.company_id, on)
    if on:
        uow.connections.swap_polled_at(connection.company_id, connection.polled_at, None)


def read_payments(client: QboClient, payment_ids: Sequence[str]) -> list[dict[str, Any]]:
    """The payments, one query per IN_CHUNK ids (a deleted one is simply not there). QboError when QBO fails."""
    found: list[dict[str, Any]] = []
    for start in range(0, len(payment_ids), IN_CHUNK):
        ids = ", ".join(quote(i) for i in payment_ids[start : start + IN_CHUNK])
        found += entity_rows(client.query(f"select * from Payment where Id in ({ids})"), PAYMENT)
    return found


def read_balances(client: QboClient, invoice_ids: Sequence[str]) -> dict[str, InvoiceBalance]:
    """The invoices' balances, one query per IN_CHUNK ids (≤ QBO's default of 100 results); a deleted invoice is
    left out (sync/reconcile.py sets its SO back). QboError when QBO fails."""
    ids = _unique(invoice_ids)
    found: dict[str, InvoiceBalance] = {}
    for start in range(0, len(ids), IN_CHUNK):
        listed = ", ".join(quote(i) for i in ids[start : start + IN_CHUNK])
        text = f"select Id, Balance, TotalAmt, SyncToken from Invoice where Id in ({listed})"
        found.update(balances_of(entity_rows(client.query(text), INVOICE)))
    return found


def balances_of(invoices: Iterable[Mapping[str, Any]]) -> dict[str, InvoiceBalance]:
    """QBO id → balance of invoices as QBO answers with them; one without a readable Balance or TotalAmt is
    left out (and logged): a status is never derived from a guess."""
    found: dict[str, InvoiceBalance] = {}
    for invoice in invoices:
        try:
            total, balance = Decimal(str(invoice["TotalAmt"])), Decimal(str(invoice["Balance"]))
            token = invoice.get("SyncToken")
            found[str(invoice["Id"])] = InvoiceBalance(total, balance, None if token is None else str(token))
        except (KeyError, InvalidOperation, ValueError):
            log.warning("QuickBooks invoice without a readable balance: %r", {k: invoice.get(k) for k in ("Id",)})
    return found


def paid_invoice_ids(payments: Iterable[Mapping[str, Any]]) -> list[str]:
    """The invoices these payments apply money to (`Line[].LinkedTxn` of type Invoice), each once."""
    return _unique(
        str(linked["TxnId"])
        for payment in payments
        for line in payment.get("Line") or []
        for linked in line.get("LinkedTxn") or []
        if linked.get("TxnType") == INVOICE and linked.get("TxnId") is not None
    )


def _unique(values: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(values))
