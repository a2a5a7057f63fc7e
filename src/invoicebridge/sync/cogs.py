"""Accounting with inventory: one journal entry per SO — debit cost of goods sold, credit inventory asset,
Σ quantity × unit cost, dated the delivery date — once the SO is both fully delivered and invoiced, in
whichever order those happen. Exactly once: the entry is claimed in a versioned row and created with a request
id fixed per SO, so retries replay and a second worker's claim fails. As for invoices, the request id is not
trusted alone: an entry already `posting` (an earlier attempt may have made it) and an unanswered create are
looked up by the marker in the entry's PrivateNote before anything is created again."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from zoneinfo import ZoneInfo

from invoicebridge.domain import Conflict, DeliveryStatus, InvoiceState, SalesOrder
from invoicebridge.domain.connection import AccountingMode, Connection
from invoicebridge.domain.records import CogsEntry, CogsState, cogs_request_id
from invoicebridge.qbo.client import QboClient, entity_rows
from invoicebridge.qbo.errors import OutcomeUnknown, QboError, ServerError
from invoicebridge.sync.gateway import AuditTrail, ClientFactory
from invoicebridge.sync.matching import quote
from invoicebridge.sync.ports import UnitOfWorkFactory

CENT = Decimal("0.01")


def cogs_amount(order: SalesOrder) -> Decimal:
    return sum((row.quantity * row.unit_cost for row in order.rows), Decimal(0)).quantize(CENT, ROUND_HALF_UP)


def cogs_marker(order: SalesOrder, request_id: str) -> str:
    """Written to the entry's PrivateNote: how an attempt whose outcome is unknown finds it again."""
    return f"invoicebridge COGS {order.number} [{request_id}]"


def journal_entry(
    order: SalesOrder, connection: Connection, amount: Decimal, zone: ZoneInfo, request_id: str
) -> dict[str, Any]:
    settings = connection.settings
    delivered = order.delivered_at or order.created_at

    def line(posting: str, account: str | None) -> dict[str, Any]:
        detail = {"PostingType": posting, "AccountRef": {"value": account}}
        description = f"Cost of goods sold, {order.number}"
        return {"DetailType": "JournalEntryLineDetail", "Amount": amount, "Description": description,
                "JournalEntryLineDetail": detail}  # fmt: skip

    return {
        "TxnDate": delivered.astimezone(zone).date().isoformat(),
        "PrivateNote": cogs_marker(order, request_id),
        "Line": [line("Debit", settings.cogs_account_id), line("Credit", settings.inventory_asset_account_id)],
    }


class Cogs:
    def __init__(self, uow: UnitOfWorkFactory, clients: ClientFactory, now: Callable[[], datetime]) -> None:
        self._uow, self._clients, self._now = uow, clients, now

    def unsettled(self, limit: int = 500) -> list[tuple[int, int]]:
        """(company id, SO id) whose entry is due but not posted — its job lost with a killed worker, or out of
        retries — in the connected companies that keep inventory. For the sweeper, when the queue is idle (then no
        job for them is waiting); posting looks the entry up first when it was started before."""
        with self._uow() as uow:
            keeping = [c.company_id for c in uow.connections.connected() if c.settings.mode is AccountingMode.INVENTORY]
            return uow.unsettled.cogs_due(keeping, limit)

    def post_if_due(self, company_id: int, sales_order_id: int) -> CogsEntry | None:
        """Post the SO's COGS entry if it is due and not posted; None when nothing is due."""
        claimed = self._claim(company_id, sales_order_id)
        if claimed is None:
            return None
        entry, order, connection, zone, look_first = claimed
        trail = AuditTrail(sales_order_id)
        try:
            client = self._clients(connection, trail)
            assert entry.request_id is not None and entry.amount is not None
            body = journal_entry(order, connection, entry.amount, zone, entry.request_id)
            made = (look_first and _find(client, body)) or _create(client, body, entry.request_id)
            done = entry.posted(str(made["Id"]), self._now())
        except QboError as error:
            done = entry.failed(str(error))  # stays "posting": the next attempt looks first, then replays
        with self._uow() as uow:
            uow.audit.add(company_id, trail.take())
            saved = uow.cogs.save(company_id, done)
            uow.commit()
        return saved

    def _claim(
        self, company_id: int, sales_order_id: int
    ) -> tuple[CogsEntry, SalesOrder, Connection, ZoneInfo, bool] | None:
        """The claimed entry, what it needs, and whether an earlier attempt may have made it already."""
        try:
            with self._uow() as uow:
                connection = uow.connections.get(company_id)
                if connection is None or connection.settings.mode is not AccountingMode.INVENTORY:
                    return None
                order = uow.sales_orders.get(company_id, sales_order_id)
                link = uow.invoice_links.get(company_id, sales_order_id)
                entry = uow.cogs.get(company_id, sales_order_id)
                due = order.delivery_status is DeliveryStatus.DELIVERED and link.state is InvoiceState.INVOICED
                if not due or entry.state is CogsState.POSTED:
                    return None
                claimed = uow.cogs.save(
                    company_id, entry.start(cogs_request_id(company_id, sales_order_id), cogs_amount(order))
                )
                zone = ZoneInfo(uow.companies.get(company_id).timezone)
                uow.commit()
                return claimed, order, connection, zone, entry.state is CogsState.POSTING
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
