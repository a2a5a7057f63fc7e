"""Returns of delivered quantities and the QBO credit memos they become (sync/returns.py). One row per return;
its lines say how much of each SO row came back. The unique (SO, number) is what keeps a return from being
recorded twice; `state` and `request_id` make its credit memo exactly-once, like an invoice's."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from invoicebridge.store.tables import Base, company_fk


class ReturnRow(Base):
    __tablename__ = "returns"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    company_id: Mapped[int] = company_fk()
    sales_order_id: Mapped[int] = mapped_column(ForeignKey("sales_orders.id", ondelete="CASCADE"))
    number: Mapped[int]  # counts the SO's returns from 1, never reused (the request id derives from it)
    created_at: Mapped[datetime]
    state: Mapped[str] = mapped_column(String(16))
    request_id: Mapped[str | None] = mapped_column(String(64))
    claimed_at: Mapped[datetime | None]
    qbo_credit_memo_id: Mapped[str | None] = mapped_column(String(32))
    doc_number: Mapped[str | None] = mapped_column(String(21))
    sync_token: Mapped[str | None] = mapped_column(String(16))
    error_code: Mapped[str | None] = mapped_column(String(32))
    error_message: Mapped[str | None] = mapped_column(Text)
    error_detail: Mapped[str | None] = mapped_column(Text)
    version: Mapped[int] = mapped_column(Integer, default=1)
    lines: Mapped[list[ReturnLineRow]] = relationship(
        cascade="all, delete-orphan", order_by="ReturnLineRow.id", lazy="selectin"
    )
    __table_args__ = (
        UniqueConstraint("sales_order_id", "number", name="uq_returns_order_number"),
        Index("ix_returns_company_state", "company_id", "state"),
    )
    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012 — SQLAlchemy reads it once, at mapping


class ReturnLineRow(Base):
    __tablename__ = "return_lines"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    return_id: Mapped[int] = mapped_column(ForeignKey("returns.id", ondelete="CASCADE"), index=True)
    row_id: Mapped[int] = mapped_column(ForeignKey("sales_order_rows.id", ondelete="CASCADE"))
    quantity: Mapped[Decimal]
