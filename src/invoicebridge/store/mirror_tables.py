"""The mirror of QBO customers and items per company (domain/qbo_mirror.py). Look-up keys are stored lower-case,
as QBO compares names, e-mails and SKUs without case."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from invoicebridge.store.tables import Base, company_fk


class MirrorStateRow(Base):
    __tablename__ = "qbo_mirror_state"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    company_id: Mapped[int] = company_fk()
    realm_id: Mapped[str] = mapped_column(String(32))
    loaded_at: Mapped[datetime]
    __table_args__ = (UniqueConstraint("company_id", name="uq_qbo_mirror_state_company"),)


class MirrorCustomerRow(Base):
    __tablename__ = "qbo_mirror_customers"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    company_id: Mapped[int] = company_fk()
    qbo_id: Mapped[str] = mapped_column(String(32))
    display_name: Mapped[str] = mapped_column(String(500))
    name_key: Mapped[str] = mapped_column(String(500))
    email: Mapped[str | None] = mapped_column(String(254))
    email_key: Mapped[str | None] = mapped_column(String(254))
    currency: Mapped[str | None] = mapped_column(String(3))
    terms_id: Mapped[str | None] = mapped_column(String(32))
    active: Mapped[bool] = mapped_column(Boolean)
    updated_at: Mapped[datetime | None]
    __table_args__ = (
        UniqueConstraint("company_id", "qbo_id", name="uq_qbo_mirror_customers_company_qbo"),
        Index("ix_qbo_mirror_customers_company_email", "company_id", "email_key"),
        Index("ix_qbo_mirror_customers_company_name", "company_id", "name_key"),
    )


class MirrorItemRow(Base):
    __tablename__ = "qbo_mirror_items"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    company_id: Mapped[int] = company_fk()
    qbo_id: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(100))
    sku: Mapped[str | None] = mapped_column(String(100))
    sku_key: Mapped[str | None] = mapped_column(String(100))
    active: Mapped[bool] = mapped_column(Boolean)
    updated_at: Mapped[datetime | None]
    __table_args__ = (
        UniqueConstraint("company_id", "qbo_id", name="uq_qbo_mirror_items_company_qbo"),
        Index("ix_qbo_mirror_items_company_sku", "company_id", "sku_key"),
    )
