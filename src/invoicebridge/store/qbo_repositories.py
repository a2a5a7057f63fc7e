"""Repositories of the QBO side: the connection, remembered QBO ids, the audit trail, COGS entries and the
webhook events already handled. Every query filters by company."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from sqlalchemy import case, delete, insert, null, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from invoicebridge.domain import Conflict, NotFound
from invoicebridge.domain.bulk import BulkRun
from invoicebridge.domain.checks import is_id
from invoicebridge.domain.connection import (
    AccountingMode,
    Connection,
    ConnectionSettings,
    Health,
    QboPreferences,
    TaxModel,
)
from invoicebridge.domain.records import AuditEntry, CogsEntry, CogsState
from invoicebridge.store.repositories import flush_or_conflict
from invoicebridge.store.tables import AuditRow, BulkRunRow, CogsRow, ConnectionRow, ProcessedEventRow, QboRefRow


class SqlConnections:
    def __init__(self, session: Session) -> None:
        self._s = session

    def get(self, company_id: int) -> Connection | None:
        row = self._s.scalars(select(ConnectionRow).where(ConnectionRow.company_id == company_id)).one_or_none()
        return _connection(row) if row else None

    def by_realm(self, realm_id: str) -> list[Connection]:
        rows = self._s.scalars(select(ConnectionRow).where(ConnectionRow.realm_id == realm_id))
        return [_connection(row) for row in rows]

    def connected(self) -> list[Connection]:
        rows = self._s.scalars(select(ConnectionRow).where(ConnectionRow.health == Health.CONNECTED.value))
        return [_connection(row) for row in rows]

    def save(self, connection: Connection) -> Connection:
        row = self._s.scalars(
            select(ConnectionRow).where(ConnectionRow.company_id == connection.company_id)
        ).one_or_none()
        if row is None:
            row = ConnectionRow(company_id=connection.company_id)
            self._s.add(row)
        row.realm_id, row.health, row.connected_at = (
            connection.realm_id,
            connection.health.value,
            connection.connected_at,
        )
        row.refresh_expires_at, row.last_refresh_error = connection.refresh_expires_at, connection.last_refresh_error
        row.settings = _settings_json(connection.settings)
        row.preferences = _prefs_json(connection.preferences) if connection.preferences else None
        row.cdc_checked_at = connection.cdc_checked_at
        flush_or_conflict(self._s, Conflict("connection", "The connection was changed at the same time; try again."))
        return _connection(row)

    def delete(self, company_id: int) -> None:
        self._s.execute(delete(ConnectionRow).where(ConnectionRow.company_id == company_id))

    # -- webhook health (sync/pacing.py): single UPDATEs, so concurrent workers never undo each other ---------------
    def note_write(self, company_id: int, at: datetime) -> None:
        """Our write to the company's QBO, made at `at`, now waits for its echo — unless an older write is waiting
        already (the oldest counts) or a webhook event arrived after `at` (the echo came first)."""
        seen = ConnectionRow.webhook_seen_at
        self._s.execute(
            update(ConnectionRow)
            .where(ConnectionRow.company_id == company_id, ConnectionRow.echo_due_since.is_(None))
            .where(or_(seen.is_(None), seen < at))
            .values(echo_due_since=at)
            .execution_options(synchronize_session=False)
        )

    def webhook_arrived(self, realm_id: str, at: datetime) -> None:
        """A webhook event for the realm arrived at `at`: every write made up to then counts as echoed."""
        seen, due = ConnectionRow.webhook_seen_at, ConnectionRow.echo_due_since
        self._s.execute(
            update(ConnectionRow)
            .where(ConnectionRow.realm_id == realm_id)
            .values(
                webhook_seen_at=case((seen > at, seen), else_=at),  # deliveries may be handled out of order
                echo_due_since=case((due <= at, null()), else_=due),
            )
            .execution_options(synchronize_session=False)
        )

    def swap_polled_at(self, company_id: int, expected: datetime | None, value: datetime | None) -> bool:
        """Compare-and-set of `polled_at`: True when it was `expected` and is now `value` (this worker claimed the
        poll, or gave its claim back); False when another worker changed it first."""
        current = ConnectionRow.polled_at
        result = self._s.execute(
            update(ConnectionRow)
            .where(ConnectionRow.company_id == company_id)
            .where(current.is_(None) if expected is None else current == expected)
            .values(polled_at=value)
            .execution_options(synchronize_session=False)
        )
        return bool(getattr(result, "rowcount", 0) == 1)


class SqlQboRefs:
    def __init__(self, session: Session) -> None:
        self._s = session

    def get(self, company_id: int, kind: str, local_id: int) -> str | None:
        row = self._row(company_id, kind, local_id)
        return row.qbo_id if row else None

    def get_many(self, company_id: int, kind: str, local_ids: Sequence[int]) -> dict[int, str]:
        wanted = sorted(set(local_ids))
        found: dict[int, str] = {}
        for start in range(0, len(wanted), 500):
            query = select(QboRefRow.local_id, QboRefRow.qbo_id).where(
                QboRefRow.company_id == company_id, QboRefRow.kind == kind,
                QboRefRow.local_id.in_(wanted[start : start + 500]),
            )  # fmt: skip
            found.update((local_id, qbo_id) for local_id, qbo_id in self._s.execute(query))
        return found

    def put(self, company_id: int, kind: str, local_id: int, qbo_id: str) -> None:
        row = self._row(company_id, kind, local_id)
        if row is not None:
            row.qbo_id = qbo_id
            self._s.flush()
            return
        values = {"company_id": company_id, "kind": kind, "local_id": local_id, "qbo_id": qbo_id}
        try:  # a Core insert: a refused row leaves no ORM object behind to trip the session
            with self._s.begin_nested():
                self._s.execute(insert(QboRefRow).values(**values))
        except IntegrityError:  # remembered by a concurrent worker; the same QBO object either way
            pass

    def forget_all(self, company_id: int) -> None:
        self._s.execute(delete(QboRefRow).where(QboRefRow.company_id == company_id))

    def _row(self, company_id: int, kind: str, local_id: int) -> QboRefRow | None:
        query = select(QboRefRow).where(
            QboRefRow.company_id == company_id, QboRefRow.kind == kind, QboRefRow.local_id == local_id
        )
        return self._s.scalars(query).one_or_none()


class SqlAudit:
    def __init__(self, session: Session) -> None:
        self._s = session

    def add(self, company_id: int, entries: Sequence[AuditEntry]) -> None:
        """Store the entries, in their order, with one statement (a batch of 30 invoices brings 30 and more)."""
        if not entries:
            return
        self._s.execute(insert(AuditRow), [
            {"company_id": company_id, "sales_order_id": e.sales_order_id, "at": e.at, "method": e.method,
             "path": e.path, "status": e.status, "request_body": e.request_body, "response_body": e.response_body,
             "intuit_tid": e.intuit_tid, "duration_ms": e.duration_ms, "error": e.error}
            for e in entries
        ])  # fmt: skip

    def for_order(self, company_id: int, sales_order_id: int) -> list[AuditEntry]:
        if not is_id(sales_order_id):  # no order has it, and SQLite cannot compare an id past 64 bits
            return []
        query = (
            select(AuditRow)
            .where(AuditRow.company_id == company_id, AuditRow.sales_order_id == sales_order_id)
            .order_by(AuditRow.id)
        )
        return [
            AuditEntry(r.at, r.method, r.path, r.status, r.request_body, r.response_body, r.intuit_tid,
                       r.duration_ms, r.error, r.sales_order_id)
            for r in self._s.scalars(query)
        ]  # fmt: skip


class SqlCogs:
    def __init__(self, session: Session) -> None:
        self._s = session

    def get(self, company_id: int, sales_order_id: int, delivery_number: int = 0) -> CogsEntry:
        row = self._row(company_id, sales_order_id, delivery_number)
        return _cogs(row) if row else CogsEntry(sales_order_id, delivery_number=delivery_number)

    def of_order(self, company_id: int, sales_order_id: int) -> list[CogsEntry]:
        """Every entry of the SO (its one entry, or one per delivery), in delivery order."""
        if not is_id(sales_order_id):
            return []
        query = select(CogsRow).where(CogsRow.company_id == company_id, CogsRow.sales_order_id == sales_order_id)
        return [_cogs(row) for row in self._s.scalars(query.order_by(CogsRow.delivery_number))]

    def save(self, company_id: int, entry: CogsEntry) -> CogsEntry:
        row = self._row(company_id, entry.sales_order_id, entry.delivery_number)
        if (row.version if row else 0) != entry.version:
            raise Conflict("cogs", "The cost of goods sold entry was changed at the same time.")
        if row is None:
            row = CogsRow(
                company_id=company_id, sales_order_id=entry.sales_order_id, delivery_number=entry.delivery_number
            )
            self._s.add(row)
        row.state, row.request_id, row.journal_entry_id = entry.state.value, entry.request_id, entry.journal_entry_id
        row.amount, row.posted_at, row.last_error = entry.amount, entry.posted_at, entry.last_error
        row.claimed_at = entry.claimed_at
        flush_or_conflict(self._s, Conflict("cogs", "The cost of goods sold entry was changed at the same time."))
        return replace(entry, version=row.version)

    def _row(self, company_id: int, sales_order_id: int, delivery_number: int) -> CogsRow | None:
        if not is_id(sales_order_id):
            return None
        query = select(CogsRow).where(
            CogsRow.company_id == company_id,
            CogsRow.sales_order_id == sales_order_id,
            CogsRow.delivery_number == delivery_number,
        )
        return self._s.scalars(query).one_or_none()


def _cogs(row: CogsRow) -> CogsEntry:
    return CogsEntry(
        row.sales_order_id, CogsState(row.state), row.request_id, row.journal_entry_id, row.amount,
        row.posted_at, row.last_error, row.version, row.delivery_number, row.claimed_at,
    )  # fmt: skip


class SqlProcessedEvents:
    def __init__(self, session: Session) -> None:
        self._s = session

    def seen(self, event_id: str) -> bool:
        return self._s.get(ProcessedEventRow, event_id) is not None

    def first_time(self, event_id: str, at: datetime) -> bool:
        """Record the event id; False when it was recorded before (a duplicate delivery, or a concurrent
        worker). A Core insert in a savepoint: a refused row leaves no ORM object behind to trip the session."""
        if self.seen(event_id):
            return False
        try:
            with self._s.begin_nested():
                self._s.execute(insert(ProcessedEventRow).values(event_id=event_id, at=at))
        except IntegrityError:
            return False
        return True

    def forget_before(self, moment: datetime) -> int:
        result = self._s.execute(delete(ProcessedEventRow).where(ProcessedEventRow.at < moment))
        return int(getattr(result, "rowcount", 0) or 0)


def _settings_json(settings: ConnectionSettings) -> dict[str, Any]:
    return {
        "revenue_account_id": settings.revenue_account_id,
        "tax_mapping": {str(rate): code for rate, code in settings.tax_mapping.items()},
        "mode": settings.mode.value,
        "cogs_account_id": settings.cogs_account_id,
        "inventory_asset_account_id": settings.inventory_asset_account_id,
        "cogs_per_delivery": settings.cogs_per_delivery,
        "track_payments": settings.track_payments,
        "invoice_number_prefix": settings.invoice_number_prefix,
        "offer_link_duplicates": settings.offer_link_duplicates,
        "category_accounts": dict(settings.category_accounts),
        "no_tax_code_id": settings.no_tax_code_id,
    }


def _settings(data: dict[str, Any]) -> ConnectionSettings:
    return ConnectionSettings(
        data.get("revenue_account_id"),
        {int(rate): str(code) for rate, code in (data.get("tax_mapping") or {}).items()},
        AccountingMode(data.get("mode", "plain")),
        data.get("cogs_account_id"),
        data.get("inventory_asset_account_id"),
        bool(data.get("cogs_per_delivery", False)),
        track_payments=bool(data.get("track_payments", False)),
        invoice_number_prefix=str(data.get("invoice_number_prefix") or ""),
        offer_link_duplicates=bool(data.get("offer_link_duplicates", False)),
        category_accounts={str(k): str(v) for k, v in (data.get("category_accounts") or {}).items()},
        no_tax_code_id=data.get("no_tax_code_id"),
    )


def _prefs_json(prefs: QboPreferences) -> dict[str, Any]:
    return {
        "custom_txn_numbers": prefs.custom_txn_numbers, "multicurrency": prefs.multicurrency,
        "home_currency": prefs.home_currency, "default_terms_id": prefs.default_terms_id,
        "tax_model": prefs.tax_model.value, "country": prefs.country, "read_at": prefs.read_at.isoformat(),
        "allow_shipping": prefs.allow_shipping,
    }  # fmt: skip


def _prefs(data: dict[str, Any]) -> QboPreferences:
    return QboPreferences(
        bool(data["custom_txn_numbers"]), bool(data["multicurrency"]), str(data["home_currency"]),
        data.get("default_terms_id"), TaxModel(data["tax_model"]), str(data["country"]),
        datetime.fromisoformat(data["read_at"]), bool(data.get("allow_shipping", False)),
    )  # fmt: skip


def _connection(row: ConnectionRow) -> Connection:
    return Connection(
        row.company_id, row.realm_id, Health(row.health), row.connected_at, row.refresh_expires_at,
        row.last_refresh_error, _settings(row.settings), _prefs(row.preferences) if row.preferences else None,
        row.cdc_checked_at, row.webhook_seen_at, row.echo_due_since, row.polled_at,
    )  # fmt: skip


class SqlBulkRuns:
    def __init__(self, session: Session) -> None:
        self._s = session

    def add(self, run: BulkRun) -> BulkRun:
        row = BulkRunRow(company_id=run.company_id, started_at=run.started_at, started_by=run.started_by,
                         sales_order_ids=list(run.sales_order_ids))  # fmt: skip
        self._s.add(row)
        self._s.flush()
        return _bulk(row)

    def get(self, company_id: int, run_id: int) -> BulkRun:
        row = self._s.get(BulkRunRow, run_id) if is_id(run_id) else None
        if row is None or row.company_id != company_id:
            raise NotFound("bulk action", run_id)
        return _bulk(row)


def _bulk(row: BulkRunRow) -> BulkRun:
    return BulkRun(row.id, row.company_id, row.started_at, row.started_by, tuple(row.sales_order_ids))
