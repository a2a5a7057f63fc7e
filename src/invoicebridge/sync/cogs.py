"""Accounting with inventory: one journal entry per SO — debit cost of goods sold, credit inventory asset,
Σ quantity × unit cost, dated the delivery date — once the SO is both fully delivered and invoiced, in
whichever order those happen. A company may choose one entry per delivery instead: Σ delivered quantity × unit
cost, dated that delivery, once the delivery is on an invoice in QBO (its own, or the whole SO's). The two
rules never both post for one SO: an SO with an entry of one kind gets none of the other.

Exactly once: each entry is claimed in a versioned row and created with a request id fixed per SO (and
delivery), so retries replay and a second worker's claim fails. As for invoices, the request id is not
trusted alone: an entry already `posting` (an earlier attempt may have made it) and an unanswered create are
looked up by the marker in the entry's PrivateNote before anything is created again."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from zoneinfo import ZoneInfo

from invoicebridge.domain import Conflict, Delivery, DeliveryStatus, InvoiceState, InvoiceStatus, SalesOrder
from invoicebridge.domain.connection import AccountingMode, Connection
from invoicebridge.domain.records import CogsEntry, CogsState, cogs_request_id
from invoicebridge.qbo.client import QboClient, entity_rows
from invoicebridge.qbo.errors import OutcomeUnknown, QboError, ServerError
from invoicebridge.sync.gateway import AuditTrail, ClientFactory
from invoicebridge.sync.matching import quote
from invoicebridge.sync.ports import UnitOfWorkFactory

CENT = Decimal("0.01")


def cogs_amount(order: SalesOrder, delivery: Delivery | None = None) -> Decimal:
    """Σ quantity × unit cost of the SO, or of what one delivery took out, in cents."""
    if delivery is None:
        return sum((row.quantity * row.unit_cost for row in order.rows), Decimal(0)).quantize(CENT, ROUND_HALF_UP)
    costs = {row.id: row.unit_cost for row in order.rows}
    total = sum((q * costs[row_id] for row_id, q in delivery.quantities.items()), Decimal(0))
    return total.quantize(CENT, ROUND_HALF_UP)


def cogs_marker(order: SalesOrder, request_id: str, delivery: Delivery | None = None) -> str:
    """Written to the entry's PrivateNote: how an attempt whose outcome is unknown finds it again."""
    which = f"{order.number} delivery {delivery.number}" if delivery else order.number
    return f"invoicebridge COGS {which} [{request_id}]"


def journal_entry(
    order: SalesOrder, connection: Connection, amount: Decimal, zone: ZoneInfo, request_id: str,
    delivery: Delivery | None = None,
) -> dict[str, Any]:  # fmt: skip
    settings = connection.settings
    delivered = delivery.delivered_at if delivery else (order.delivered_at or order.created_at)
    what = f"{order.number}, delivery {delivery.number}" if delivery else order.number

    def line(posting: str, account: str | None) -> dict[str, Any]:
        detail = {"PostingType": posting, "AccountRef": {"value": account}}
        description = f"Cost of goods sold, {what}"
        return {"DetailType": "JournalEntryLineDetail", "Amount": amount, "Description": description,
                "JournalEntryLineDetail": detail}  # fmt: skip

    return {
        "TxnDate": delivered.astimezone(zone).date().isoformat(),
        "PrivateNote": cogs_marker(order, request_id, delivery),
        "Line": [line("Debit", settings.cogs_account_id), line("Credit", settings.inventory_asset_account_id)],
    }


class Cogs:
    def __init__(
        self, uow: UnitOfWorkFactory, clients: ClientFactory, now: Callable[[], datetime],
        stale_after: timedelta = timedelta(minutes=5),
    ) -> None:  # fmt: skip
        self._uow, self._clients, self._now, self._stale_after = uow, clients, now, stale_after

    def unsettled(self, limit: int = 500) -> list[tuple[int, int]]:
        """(company id, SO id) with an entry due but not posted — its job lost with a killed worker, or out of
        retries — in the connected companies that keep inventory. For the sweeper, when the queue is idle (then no
        job for them is waiting); posting looks the entry up first when it was started before."""
        with self._uow() as uow:
            keeping = [c for c in uow.connections.connected() if c.settings.mode is AccountingMode.INVENTORY]
            per_order = [c.company_id for c in keeping if not c.settings.cogs_per_delivery]
            per_delivery = [c.company_id for c in keeping if c.settings.cogs_per_delivery]
            return uow.unsettled.cogs_due(per_order, per_delivery, limit)

    def post_if_due(self, company_id: int, sales_order_id: int) -> CogsEntry | None:
        """Post the SO's due COGS entries (its one entry, or one per invoiced delivery) that are not posted yet;
        the last one handled, or None when nothing is due."""
        handled = [entry for number in self._due(company_id, sales_order_id)
                   if (entry := self._post(company_id, sales_order_id, number)) is not None]  # fmt: skip
        return handled[-1] if handled else None

    def _due(self, company_id: int, sales_order_id: int) -> list[int]:
        """Delivery numbers whose entry is due (0: the SO's one entry), posted ones left out."""
        with self._uow() as uow:
            connection = uow.connections.get(company_id)
            if connection is None or connection.settings.mode is not AccountingMode.INVENTORY:
                return []
            invoices = uow.invoice_links.of_order(company_id, sales_order_id)
            entries = uow.cogs.of_order(company_id, sales_order_id)
        posted = {e.delivery_number for e in entries if e.state is CogsState.POSTED}
        started = {e.delivery_number for e in entries if e.state is not CogsState.NONE}
        if not connection.settings.cogs_per_delivery:
            if started - {0}:
                return []  # posted per delivery before the company changed its choice: never both
            due = invoices.order.delivery_status is DeliveryStatus.DELIVERED
            return [0] if due and invoices.status is InvoiceStatus.INVOICED and 0 not in posted else []
        if 0 in started:
            return []  # the SO's one entry was posted (or begun) before the company changed its choice
        invoiced = [d.number for d in invoices.order.deliveries
                    if (link := invoices.invoice_of(d.id or 0)) and link.state is InvoiceState.INVOICED]  # fmt: skip
        return [number for number in invoiced if number not in posted]

    def _post(self, company_id: int, sales_order_id: int, number: int) -> CogsEntry | None:
        claimed = self._claim(company_id, sales_order_id, number)
        if claimed is None:
            return None
        entry, order, delivery, connection, zone, look_first = claimed
        trail = AuditTrail(sales_order_id)
        try:
            client = self._clients(connection, trail)
            assert entry.request_id is not None and entry.amount is not None
            body = journal_entry(order, connection, entry.amount, zone, entry.request_id, delivery)
            made = (look_first and _find(client, body)) or _create(client, body, entry.request_id)
            done = entry.posted(str(made["Id"]), self._now())
        except QboError as error:
            done = entry.failed(str(error))  # stays "posting": the next attempt looks first, then replays
        try:
            with self._uow() as uow:
                uow.audit.add(company_id, trail.take())
                saved = uow.cogs.save(company_id, done)
                uow.commit()
        except Conflict:  # another worker took over a claim it thought stale, and recorded first: keep its result
            with self._uow() as uow:
                return uow.cogs.get(company_id, sales_order_id, number)
        return saved

    def _claim(
        self, company_id: int, sales_order_id: int, number: int
    ) -> tuple[CogsEntry, SalesOrder, Delivery | None, Connection, ZoneInfo, bool] | None:
        """The claimed entry, what it needs, and whether an earlier attempt may have made it already."""
        try:
            with self._uow() as uow:
                connection = uow.connections.get(company_id)
                if connection is None:
                    return None
                order = uow.sales_orders.get(company_id, sales_order_id)
                delivery = next((d for d in order.deliveries if d.number == number), None) if number else None
                entry = uow.cogs.get(company_id, sales_order_id, number)
                now = self._now()
                if entry.state is CogsState.POSTED or entry.claimed_by_another(now, self._stale_after):
                    return None  # posted, or a worker is posting it right now
                request_id = cogs_request_id(company_id, sales_order_id, number)
                claimed = uow.cogs.save(company_id, entry.start(request_id, cogs_amount(order, delivery), now))
                zone = ZoneInfo(uow.companies.get(company_id).timezone)
                uow.commit()
                return claimed, order, delivery, connection, zone, entry.state is CogsState.POSTING
        except Conflict:
            return None


def _create(client: QboClient, body: dict[str, Any], request_id: str) -> dict[str, Any]:
    """Create the entry; after no answer (or a 5xx) look for it before sending once more with the same id."""
    for attempt in (1, 2):
        try:
            return client.create("JournalEntry", body, request_id, retry_unknown=False)
        except (OutcomeUnknown, ServerError):
            if (found := _find(client, body)) is not None:
                return found
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


def _find(client: QboClient, body: dict[str, Any]) -> dict[str, Any] | None:
    """Our entry if an earlier attempt made it: that day's journal entries carrying our marker (PrivateNote is
    not filterable in QBO's query language). A failing look-up raises: nobody knows, so nothing is created."""
    day = quote(body["TxnDate"])
    rows = entity_rows(
        client.query(f"SELECT * FROM JournalEntry WHERE TxnDate = {day} MAXRESULTS 1000"), "JournalEntry"
    )
    return next((row for row in rows if row.get("PrivateNote") == body["PrivateNote"]), None)
