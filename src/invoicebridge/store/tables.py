"""The schema (SQLAlchemy 2). Every table but `companies` carries company_id; the unique constraints here are
what make SO numbers, SKUs, one live invoice per delivery and one live invoice per DocNumber slot hold even under
concurrent writers."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Numeric,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    text,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class ExactNumeric(TypeDecorator[Decimal]):
    """NUMERIC(precision, scale) that keeps every digit on every backend.

    PostgreSQL's NUMERIC is exact. SQLite has no decimal type: a NUMERIC column holds a REAL (about 16 significant
    digits), so 12345678901234.5678 came back as 12345678901234.5684. On SQLite the value is therefore stored as
    an integer count of the smallest unit (10⁻scale: 12.5 at scale 4 is 125000) — exact in SQLite's 64-bit
    INTEGER for precision ≤ 18, and still ordered, compared and summed as numbers in SQL. The declared type stays
    NUMERIC(precision, scale) everywhere, so schemas and the migration drift test agree. Both backends read back
    the value at the column's scale (Decimal("12.5000")); a value with more decimals is rounded half up, as
    PostgreSQL rounds; one with too many digits is refused (ValueError), as PostgreSQL refuses it.
    """

    impl = Numeric
    cache_ok = True

    def __init__(self, precision: int, scale: int) -> None:
        super().__init__(precision, scale, asdecimal=True)
        self.precision, self.scale = precision, scale

    def load_dialect_impl(self, dialect: Dialect) -> Any:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(_ScaledNumeric(self.precision, self.scale))
        return dialect.type_descriptor(Numeric(self.precision, self.scale, asdecimal=True))

    def process_bind_param(self, value: Decimal | None, dialect: Dialect) -> Decimal | int | None:
        if value is None:
            return None
        exact = self.fit(value)
        return int(exact.scaleb(self.scale)) if dialect.name == "sqlite" else exact

    def process_result_value(self, value: object, dialect: Dialect) -> Decimal | None:
        if value is None:
            return None
        if dialect.name != "sqlite":
            assert isinstance(value, Decimal)
            return value
        if isinstance(value, int):
            return Decimal(value).scaleb(-self.scale)
        raise ValueError(f"an amount column holds {value!r}, not a scaled integer: run `invoicebridge db upgrade`")

    def fit(self, value: Decimal) -> Decimal:
        """`value` at the column's scale; ValueError when it has more digits before the point than fit."""
        if not isinstance(value, Decimal) or not value.is_finite():
            raise ValueError(f"{value!r} is not a finite Decimal")
        bound = Decimal(10) ** (self.precision - self.scale)
        too_large = ValueError(f"{value} does not fit NUMERIC({self.precision}, {self.scale})")
        if value.copy_abs() >= bound:  # before quantize, which fails past the context's 28 digits
            raise too_large
        exact = value.quantize(Decimal(1).scaleb(-self.scale), rounding=ROUND_HALF_UP)
        if exact.copy_abs() >= bound:  # rounding may carry 99.99995 up to 100.0000
            raise too_large
        return exact


class _ScaledNumeric(Numeric[Decimal]):
    """NUMERIC(p, s) in DDL, handed scaled integers as they are (Numeric alone would turn them into floats)."""

    def bind_processor(self, dialect: Dialect) -> None:
        return None

    def result_processor(self, dialect: Dialect, coltype: object) -> None:
        return None


AMOUNT = ExactNumeric(18, 4)


class UtcDateTime(TypeDecorator[datetime]):
    """Stores UTC, returns timezone-aware datetimes on every backend (SQLite forgets the zone otherwise)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map: ClassVar[dict[Any, Any]] = {datetime: UtcDateTime(), Decimal: AMOUNT, date: Date()}


class CompanyRow(Base):
    __tablename__ = "companies"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    home_currency: Mapped[str] = mapped_column(String(3))
    timezone: Mapped[str] = mapped_column(String(64))


def company_fk() -> Mapped[int]:
    return mapped_column(ForeignKey("companies.id", ondelete="CASCADE"), index=True)


class CustomerRow(Base):
    __tablename__ = "customers"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    company_id: Mapped[int] = company_fk()
    display_name: Mapped[str] = mapped_column(String(500))
    email: Mapped[str | None] = mapped_column(String(100))
    billing_address: Mapped[dict[str, str]] = mapped_column(JSON)
    shipping_address: Mapped[dict[str, str]] = mapped_column(JSON)
    currency: Mapped[str] = mapped_column(String(3))
    __table_args__ = (Index("ix_customers_company_email", "company_id", "email"),)


class ProductRow(Base):
    __tablename__ = "product_variants"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    company_id: Mapped[int] = company_fk()
    sku: Mapped[str] = mapped_column(String(100))
    name: Mapped[str] = mapped_column(String(100))
    sales_price: Mapped[Decimal]
    unit_cost: Mapped[Decimal]
    category: Mapped[str | None] = mapped_column(String(100))  # picks the QBO income account of its item
    __table_args__ = (UniqueConstraint("company_id", "sku", name="uq_product_variants_company_sku"),)


class TaxRateRow(Base):
    __tablename__ = "tax_rates"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    company_id: Mapped[int] = company_fk()
    name: Mapped[str] = mapped_column(String(100))
    percent: Mapped[Decimal] = mapped_column(ExactNumeric(9, 4))


class SalesOrderRow(Base):
    __tablename__ = "sales_orders"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    company_id: Mapped[int] = company_fk()
    number: Mapped[str] = mapped_column(String(21))
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    billing_address: Mapped[dict[str, str]] = mapped_column(JSON)
    shipping_address: Mapped[dict[str, str]] = mapped_column(JSON)
    created_at: Mapped[datetime]
    delivery_deadline: Mapped[date | None]
    currency: Mapped[str] = mapped_column(String(3))
    delivery_status: Mapped[str] = mapped_column(String(24))  # derived from rows; stored so lists can filter on it
    delivered_at: Mapped[datetime | None]
    # Partial invoicing: how the SO is being invoiced ("whole", "deliveries" or NULL) and how much of it is on
    # invoices in QBO (InvoiceStatus), kept with the invoices so lists can filter on them. `invoice_lock` is bumped
    # first by every transaction that adds, records or deletes an invoice of the SO: the row lock it takes puts
    # them one after the other (PostgreSQL), and a stale writer's compare-and-set fails (both backends).
    invoice_scope: Mapped[str | None] = mapped_column(String(16))
    invoice_status: Mapped[str] = mapped_column(String(24), default="not_invoiced", server_default="not_invoiced")
    invoice_lock: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # A shipping fee charged once, on the SO's first invoice (NULL: none).
    shipping_fee: Mapped[Decimal | None]
    # No foreign key: SQLite cannot drop a column one uses, so 0010 could not be undone (the order book checks
    # that the rate is the company's own, and tax rates are never deleted).
    shipping_tax_rate_id: Mapped[int | None] = mapped_column(Integer)
    # Paid, partly paid or unpaid, from the balances of its invoices in QBO; NULL while not tracked (opt-in).
    payment_status: Mapped[str | None] = mapped_column(String(16))
    rows: Mapped[list[OrderLineRow]] = relationship(
        cascade="all, delete-orphan", order_by="OrderLineRow.position", lazy="selectin"
    )
    deliveries: Mapped[list[DeliveryRow]] = relationship(
        cascade="all, delete-orphan", order_by="DeliveryRow.number", lazy="selectin"
    )
    __table_args__ = (
        UniqueConstraint("company_id", "number", name="uq_sales_orders_company_number"),
        Index("ix_sales_orders_company_created", "company_id", "created_at"),
    )


class OrderLineRow(Base):
    __tablename__ = "sales_order_rows"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    company_id: Mapped[int] = company_fk()
    sales_order_id: Mapped[int] = mapped_column(ForeignKey("sales_orders.id", ondelete="CASCADE"), index=True)
    position: Mapped[int]
    variant_id: Mapped[int] = mapped_column(ForeignKey("product_variants.id"))
    quantity: Mapped[Decimal]
    unit_price: Mapped[Decimal]
    tax_rate_id: Mapped[int | None] = mapped_column(ForeignKey("tax_rates.id"))
    unit_cost: Mapped[Decimal]
    delivered_quantity: Mapped[Decimal]
    description: Mapped[str] = mapped_column(Text)


class DeliveryRow(Base):
    """One shipment of an SO; its lines say how much of each row went out."""

    __tablename__ = "deliveries"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    company_id: Mapped[int] = company_fk()
    sales_order_id: Mapped[int] = mapped_column(ForeignKey("sales_orders.id", ondelete="CASCADE"))
    number: Mapped[int]
    delivered_at: Mapped[datetime]
    lines: Mapped[list[DeliveryLineRow]] = relationship(
        cascade="all, delete-orphan", order_by="DeliveryLineRow.id", lazy="selectin"
    )
    __table_args__ = (UniqueConstraint("sales_order_id", "number", name="uq_deliveries_order_number"),)


class DeliveryLineRow(Base):
    __tablename__ = "delivery_lines"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    delivery_id: Mapped[int] = mapped_column(ForeignKey("deliveries.id", ondelete="CASCADE"), index=True)
    row_id: Mapped[int] = mapped_column(ForeignKey("sales_order_rows.id", ondelete="CASCADE"))
    quantity: Mapped[Decimal]


class InvoiceLinkRow(Base):
    """One invoice of an SO (DESIGN §3). `number` counts the SO's invoices from 1; `slot` is the DocNumber slot
    (1: the SO number, k: "-k"), unique among the SO's live invoices."""

    __tablename__ = "invoice_links"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    company_id: Mapped[int] = company_fk()
    sales_order_id: Mapped[int] = mapped_column(ForeignKey("sales_orders.id", ondelete="CASCADE"))
    number: Mapped[int]
    scope: Mapped[str] = mapped_column(String(16))
    slot: Mapped[int]
    # The deliveries it covers, kept for its history (invoiced_deliveries holds them only while it is live).
    delivery_ids: Mapped[list[int] | None] = mapped_column(JSON)
    state: Mapped[str] = mapped_column(String(16))
    request_id: Mapped[str | None] = mapped_column(String(64))
    qbo_invoice_id: Mapped[str | None] = mapped_column(String(32))
    doc_number: Mapped[str | None] = mapped_column(String(21))
    sync_token: Mapped[str | None] = mapped_column(String(16))
    error_code: Mapped[str | None] = mapped_column(String(32))
    error_message: Mapped[str | None] = mapped_column(Text)
    error_detail: Mapped[str | None] = mapped_column(Text)
    carries_shipping: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))
    # The invoice's TotalAmt and Balance as QBO last reported them (payment status; NULL: not read yet).
    total_amount: Mapped[Decimal | None]
    balance: Mapped[Decimal | None]
    version: Mapped[int] = mapped_column(Integer, default=1)  # optimistic lock: two workers cannot both claim
    events: Mapped[list[InvoiceLinkEventRow]] = relationship(
        cascade="all, delete-orphan", order_by="InvoiceLinkEventRow.id", lazy="selectin"
    )
    covers: Mapped[list[InvoicedDeliveryRow]] = relationship(
        cascade="all, delete-orphan", order_by="InvoicedDeliveryRow.delivery_id", lazy="selectin"
    )
    __table_args__ = (
        UniqueConstraint("company_id", "sales_order_id", "number", name="uq_invoice_links_company_order_number"),
        Index("ix_invoice_links_company_order", "company_id", "sales_order_id"),
        Index("ix_invoice_links_company_state", "company_id", "state"),
        Index("ix_invoice_links_company_qbo_invoice", "company_id", "qbo_invoice_id"),
        # One QBO invoice is the invoice of at most one of our invoices (linking an existing one could race).
        Index(
            "uq_invoice_links_invoiced_qbo_invoice",
            "company_id",
            "qbo_invoice_id",
            unique=True,
            sqlite_where=text("state = 'invoiced'"),
            postgresql_where=text("state = 'invoiced'"),
        ),
        # One live invoice per DocNumber slot of an SO (a deleted one frees its slot).
        Index(
            "uq_invoice_links_live_slot",
            "sales_order_id",
            "slot",
            unique=True,
            sqlite_where=text("state != 'deleted'"),
            postgresql_where=text("state != 'deleted'"),
        ),
    )
    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012 — SQLAlchemy reads it once, at mapping


class InvoicedDeliveryRow(Base):
    """A delivery on a live invoice. The primary key on delivery_id is the constraint that no quantity is
    invoiced twice, whatever the concurrency; the row goes when its invoice is deleted in QBO."""

    __tablename__ = "invoiced_deliveries"
    delivery_id: Mapped[int] = mapped_column(ForeignKey("deliveries.id", ondelete="CASCADE"), primary_key=True)
    link_id: Mapped[int] = mapped_column(ForeignKey("invoice_links.id", ondelete="CASCADE"), index=True)


class InvoiceLinkEventRow(Base):
    __tablename__ = "invoice_link_events"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    link_id: Mapped[int] = mapped_column(ForeignKey("invoice_links.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime]
    state: Mapped[str] = mapped_column(String(16))
    note: Mapped[str] = mapped_column(Text)


class CogsRow(Base):
    __tablename__ = "cogs_entries"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    company_id: Mapped[int] = company_fk()
    sales_order_id: Mapped[int] = mapped_column(ForeignKey("sales_orders.id", ondelete="CASCADE"))
    delivery_number: Mapped[int] = mapped_column(Integer, default=0, server_default="0")  # 0: the SO's one entry
    claimed_at: Mapped[datetime | None]  # when a worker claimed it; another leaves a fresh claim alone
    state: Mapped[str] = mapped_column(String(16))
    request_id: Mapped[str | None] = mapped_column(String(64))
    journal_entry_id: Mapped[str | None] = mapped_column(String(32))
    amount: Mapped[Decimal | None]
    posted_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    version: Mapped[int] = mapped_column(Integer, default=1)
    __table_args__ = (
        UniqueConstraint(
            "company_id", "sales_order_id", "delivery_number", name="uq_cogs_entries_company_order_delivery"
        ),
    )
    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012 — SQLAlchemy reads it once, at mapping


class BulkRunRow(Base):
    """A bulk action of the Sell screen (domain/bulk.py)."""

    __tablename__ = "bulk_runs"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    company_id: Mapped[int] = company_fk()
    started_at: Mapped[datetime]
    started_by: Mapped[str] = mapped_column(String(254))
    sales_order_ids: Mapped[list[int]] = mapped_column(JSON)


# The access, mirror, returns and QBO tables live in their own modules; importing them here puts them on
# Base.metadata for every user of the schema (migrations, the drift test, create_all).
from invoicebridge.store import access_tables as _access_tables  # noqa: E402, F401
from invoicebridge.store import mirror_tables as _mirror_tables  # noqa: E402, F401
from invoicebridge.store import return_tables as _return_tables  # noqa: E402, F401
from invoicebridge.store.qbo_tables import AuditRow as AuditRow  # noqa: E402
from invoicebridge.store.qbo_tables import ConnectionRow as ConnectionRow  # noqa: E402
from invoicebridge.store.qbo_tables import ProcessedEventRow as ProcessedEventRow  # noqa: E402
from invoicebridge.store.qbo_tables import QboRefRow as QboRefRow  # noqa: E402
from invoicebridge.store.qbo_tables import QboUsageRow as QboUsageRow  # noqa: E402
from invoicebridge.store.qbo_tables import TokenRow as TokenRow  # noqa: E402
