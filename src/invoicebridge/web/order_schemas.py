"""The JSON shapes of a sales order as the API answers it: its rows, its invoices with their history, its
deliveries and which invoice covers each, and the SO itself with its invoice and payment status."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, Field

from invoicebridge.domain import (
    Delivery,
    DeliveryStatus,
    InvoiceLink,
    InvoiceScope,
    InvoiceState,
    InvoiceStatus,
    OrderInvoices,
    OrderRow,
)
from invoicebridge.domain.payments import PaymentStatus
from invoicebridge.sync.order_reads import OrderView
from invoicebridge.web.schemas import AddressBody, MoneyOut, QuantityOut

__all__ = ["DeliveryOut", "DeliveryRowOut", "InvoiceOut", "LinkEventOut", "RowOut", "SalesOrderOut"]


class RowOut(BaseModel):
    id: int
    variant_id: int
    quantity: QuantityOut
    unit_price: MoneyOut
    tax_rate_id: int | None
    unit_cost: MoneyOut
    delivered_quantity: QuantityOut
    amount: MoneyOut
    description: str

    @classmethod
    def of(cls, r: OrderRow) -> RowOut:
        return cls(
            id=r.id or 0, variant_id=r.variant_id, quantity=r.quantity, unit_price=r.unit_price,
            tax_rate_id=r.tax_rate_id, unit_cost=r.unit_cost, delivered_quantity=r.delivered_quantity,
            amount=r.amount, description=r.description,
        )  # fmt: skip


class LinkEventOut(BaseModel):
    at: datetime
    state: InvoiceState
    note: str


class InvoiceOut(BaseModel):
    state: InvoiceState
    status: str = Field(description='what users see: "Not invoiced", "Invoice created (QBO)", …')
    number: int = Field(description="counts the SO's invoices from 1 (deleted ones included)")
    scope: InvoiceScope = Field(description="whole: the whole SO; deliveries: the deliveries in delivery_ids")
    delivery_ids: list[int]
    qbo_invoice_id: str | None
    doc_number: str | None
    error_code: str | None
    error_message: str | None
    error_detail: str | None
    history: list[LinkEventOut]
    carries_shipping: bool = Field(False, description="this invoice carries the SO's shipping fee")

    @classmethod
    def of(cls, link: InvoiceLink) -> InvoiceOut:
        return cls(
            state=link.state, status=link.status_text, number=link.number, scope=link.scope,
            delivery_ids=list(link.delivery_ids), qbo_invoice_id=link.qbo_invoice_id, doc_number=link.doc_number,
            error_code=link.error_code, error_message=link.error_message, error_detail=link.error_detail,
            history=[LinkEventOut(at=e.at, state=e.state, note=e.note) for e in link.history],
            carries_shipping=link.carries_shipping,
        )  # fmt: skip


class DeliveryRowOut(BaseModel):
    row_id: int
    quantity: QuantityOut


class DeliveryOut(BaseModel):
    id: int
    number: int = Field(description="counts the SO's deliveries from 1")
    delivered_at: datetime
    rows: list[DeliveryRowOut]
    invoice_number: int | None = Field(description="the live invoice covering this delivery, if any")

    @classmethod
    def of(cls, delivery: Delivery, invoices: OrderInvoices) -> DeliveryOut:
        covering = invoices.invoice_of(delivery.id or 0)
        rows = [DeliveryRowOut(row_id=r, quantity=q) for r, q in delivery.quantities.items()]
        return cls(id=delivery.id or 0, number=delivery.number, delivered_at=delivery.delivered_at, rows=rows,
                   invoice_number=covering.number if covering else None)  # fmt: skip


class SalesOrderOut(BaseModel):
    id: int
    number: str
    customer_id: int
    billing_address: AddressBody
    shipping_address: AddressBody
    created_at: datetime
    delivery_deadline: date | None
    currency: str
    total: MoneyOut = Field(description="Σ quantity × price over the rows, before tax (shipping fee apart)")
    shipping_fee: MoneyOut | None = Field(None, description="charged once, on the SO's first invoice")
    shipping_tax_rate_id: int | None = None
    delivery_status: DeliveryStatus
    delivered_at: datetime | None
    rows: list[RowOut]
    invoice: InvoiceOut = Field(description="the invoice standing for the SO: its newest live one, else the next")
    invoice_status: InvoiceStatus = Field(description="how much of the SO is on invoices in QuickBooks")
    invoice_status_text: str = Field(description='"Not invoiced", "Partly invoiced (1 of 3 rows, …)", …')
    invoiced_amount: MoneyOut = Field(description="Σ quantity × price on invoices in QuickBooks, before tax")
    invoices: list[InvoiceOut] = Field(description="every invoice of the SO, oldest first (deleted ones too)")
    deliveries: list[DeliveryOut]
    payment_status: PaymentStatus | None = Field(
        None, description="from its invoices' balances in QuickBooks; null unless the company tracks payments "
                          "(QuickBooks settings: track_payments) and the SO has an invoice there"
    )  # fmt: skip
    payment_status_text: str | None = Field(None, description='"Unpaid", "Partly paid" or "Paid"')

    @classmethod
    def of(cls, view: OrderView) -> SalesOrderOut:
        so = view.order
        return cls(
            id=so.id or 0, number=so.number, customer_id=so.customer_id,
            billing_address=AddressBody.of(so.billing_address), shipping_address=AddressBody.of(so.shipping_address),
            created_at=so.created_at, delivery_deadline=so.delivery_deadline, currency=so.currency, total=so.total,
            delivery_status=so.delivery_status, delivered_at=so.delivered_at, rows=[RowOut.of(r) for r in so.rows],
            invoice=InvoiceOut.of(view.link), invoice_status=view.invoices.status,
            invoice_status_text=view.invoices.status_text, invoiced_amount=view.invoices.invoiced_amount,
            invoices=[InvoiceOut.of(link) for link in view.invoices.links],
            deliveries=[DeliveryOut.of(d, view.invoices) for d in so.deliveries],
            payment_status=so.payment_status,
            shipping_fee=so.shipping_fee, shipping_tax_rate_id=so.shipping_tax_rate_id,
            payment_status_text=so.payment_status.text if so.payment_status else None,
        )  # fmt: skip
