"""The QBO side of the schema: each company's connection (settings, cached preferences, webhook health), its
tokens at rest, the QBO ids remembered for our records, the audit trail of QBO requests, the webhook events
already handled and the meter's monthly counts. Imported at the end of store/tables.py, so these tables are on
Base.metadata for every user of the schema."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from invoicebridge.store.tables import Base, company_fk


class ConnectionRow(Base):
    """A company's QBO connection; settings and cached preferences as JSON (read and written whole)."""

    __tablename__ = "qbo_connections"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("companies.id", ondelete="CASCADE"), unique=True)
    realm_id: Mapped[str] = mapped_column(String(32), index=True)
    health: Mapped[str] = mapped_column(String(24))
    connected_at: Mapped[datetime]
    refresh_expires_at: Mapped[datetime | None]
    last_refresh_error: Mapped[str | None] = mapped_column(Text)
    settings: Mapped[dict[str, Any]] = mapped_column(JSON)
    preferences: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    cdc_checked_at: Mapped[datetime | None]
    # Webhook health, pacing the CDC poll (sync/pacing.py); written only by their own UPDATEs, never by save.
    webhook_seen_at: Mapped[datetime | None]
    echo_due_since: Mapped[datetime | None]
    polled_at: Mapped[datetime | None]


class TokenRow(Base):
    """OAuth tokens, Fernet-encrypted; one row per company, locked while refreshing."""

    __tablename__ = "qbo_tokens"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    company_id: Mapped[int] = mapped_column(ForeignKey("companies.id", ondelete="CASCADE"), unique=True)
    ciphertext: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime]


class QboRefRow(Base):
    """A remembered QBO id of one of our records (customer → QBO Customer, product → QBO Item)."""

    __tablename__ = "qbo_refs"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    company_id: Mapped[int] = company_fk()
    kind: Mapped[str] = mapped_column(String(16))
    local_id: Mapped[int]
    qbo_id: Mapped[str] = mapped_column(String(32))
    __table_args__ = (UniqueConstraint("company_id", "kind", "local_id", name="uq_qbo_refs_company_kind_local"),)


class AuditRow(Base):
    __tablename__ = "qbo_audit"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    company_id: Mapped[int] = company_fk()
    sales_order_id: Mapped[int | None] = mapped_column(Integer)
    at: Mapped[datetime]
    method: Mapped[str] = mapped_column(String(8))
    path: Mapped[str] = mapped_column(Text)
    status: Mapped[int | None] = mapped_column(Integer)
    request_body: Mapped[str | None] = mapped_column(Text)
    response_body: Mapped[str | None] = mapped_column(Text)
    intuit_tid: Mapped[str | None] = mapped_column(String(64))
    duration_ms: Mapped[int]
    error: Mapped[str | None] = mapped_column(Text)
    __table_args__ = (Index("ix_qbo_audit_company_order", "company_id", "sales_order_id"),)


class ProcessedEventRow(Base):
    """Webhook event ids already handled (Intuit may deliver one event twice); forgotten after
    sync/reconcile.EVENT_MEMORY, far longer than any redelivery."""

    __tablename__ = "processed_events"
    event_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    at: Mapped[datetime] = mapped_column(index=True)


class QboUsageRow(Base):
    """QBO calls of one company in one calendar month (UTC), by Intuit's metering class (sync/meter.py). Only ever
    incremented in place (INSERT … ON CONFLICT DO UPDATE), so concurrent workers never lose a count."""

    __tablename__ = "qbo_usage"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # No index of its own: the unique (company_id, month) below serves look-ups by company.
    company_id: Mapped[int] = mapped_column(ForeignKey("companies.id", ondelete="CASCADE"))
    month: Mapped[str] = mapped_column(String(7))  # "2026-03"
    core: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    coreplus: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    __table_args__ = (
        UniqueConstraint("company_id", "month", name="uq_qbo_usage_company_month"),
        Index("ix_qbo_usage_month", "month"),  # the deployment's total of a month
    )
