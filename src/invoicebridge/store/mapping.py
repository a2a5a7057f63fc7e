"""Rows ↔ domain objects. Kept apart from the queries so each stays short."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from sqlalchemy import Row

from invoicebridge.domain import (
    Address,
    Company,
    Customer,
    Delivery,
    DeliveryStatus,
    InvoiceLink,
    InvoiceScope,
    InvoiceState,
    LinkEvent,
    OrderRow,
    ProductVariant,
    SalesOrder,
    TaxRate,
)
from invoicebridge.domain.payments import PaymentStatus
from invoicebridge.store.bulk_orders import OrderRows
from invoicebridge.store.tables import (
    CompanyRow,
    CustomerRow,
    DeliveryLineRow,
    DeliveryRow,
    InvoiceLinkEventRow,
    InvoiceLinkRow,
    OrderLineRow,
    ProductRow,
    SalesOrderRow,
    TaxRateRow,
)


def company(row: CompanyRow) -> Company:
    return Company(row.id, row.name, row.home_currency, row.timezone)


def address(data: dict[str, str]) -> Address:
    return Address(**data)


def customer(row: CustomerRow) -> Customer:
    return Customer(
        row.id, row.company_id, row.display_name, row.email, address(row.billing_address),
        address(row.shipping_address), row.currency,
    )  # fmt: skip


def fill_customer(row: CustomerRow, c: Customer) -> CustomerRow:
    row.company_id, row.display_name, row.email, row.currency = c.company_id, c.display_name, c.email, c.currency
    row.billing_address, row.shipping_address = asdict(c.billing_address), asdict(c.shipping_address)
    return row


def product(row: ProductRow) -> ProductVariant:
    return ProductVariant(row.id, row.company_id, row.sku, row.name, row.sales_price, row.unit_cost, row.category)


def fill_product(row: ProductRow, p: ProductVariant) -> ProductRow:
    row.company_id, row.sku, row.name, row.sales_price, row.unit_cost = (
        p.company_id, p.sku, p.name, p.sales_price, p.unit_cost,
    )  # fmt: skip
    row.category = p.category
    return row


def tax_rate(row: TaxRateRow) -> TaxRate:
    return TaxRate(row.id, row.company_id, row.name, row.percent)


def sales_order(row: SalesOrderRow | OrderRows) -> SalesOrder:
    rows = tuple(
        OrderRow(
            r.id,
            r.variant_id,
            r.quantity,
            r.unit_price,
            r.tax_rate_id,
            r.unit_cost,
            r.delivered_quantity,
            r.description,
        )
        for r in row.rows
    )
    deliveries = tuple(
        Delivery(d.id, d.number, d.delivered_at, {line.row_id: line.quantity for line in d.lines})
        for d in row.deliveries
    )
    return SalesOrder(
        row.id, row.company_id, row.number, row.customer_id, address(row.billing_address),
        address(row.shipping_address), row.created_at, row.delivery_deadline, row.currency, rows, row.delivered_at,
        deliveries, shipping_fee=row.shipping_fee, shipping_tax_rate_id=row.shipping_tax_rate_id,
        payment_status=PaymentStatus(row.payment_status) if row.payment_status else None,
    )  # fmt: skip


def fill_sales_order(row: SalesOrderRow, so: SalesOrder) -> SalesOrderRow:
    row.company_id, row.number, row.customer_id, row.currency = so.company_id, so.number, so.customer_id, so.currency
    row.billing_address, row.shipping_address = asdict(so.billing_address), asdict(so.shipping_address)
    row.created_at, row.delivery_deadline, row.delivered_at = so.created_at, so.delivery_deadline, so.delivered_at
    row.shipping_fee, row.shipping_tax_rate_id = so.shipping_fee, so.shipping_tax_rate_id
    row.delivery_status = DeliveryStatus(so.delivery_status).value
    existing = {line.id: line for line in row.rows}
    lines = []
    for position, r in enumerate(so.rows):
        line = existing.get(r.id) if r.id is not None else None
        line = line or OrderLineRow()
        line.company_id, line.position, line.variant_id = so.company_id, position, r.variant_id
        line.quantity, line.unit_price, line.tax_rate_id = r.quantity, r.unit_price, r.tax_rate_id
        line.unit_cost, line.delivered_quantity, line.description = r.unit_cost, r.delivered_quantity, r.description
        lines.append(line)
    row.rows = lines
    stored = {d.id for d in row.deliveries}
    for delivery in so.deliveries:  # deliveries are only ever added
        if delivery.id is None or delivery.id not in stored:
            made = DeliveryRow(company_id=so.company_id, number=delivery.number, delivered_at=delivery.delivered_at)
            made.lines = [DeliveryLineRow(row_id=r, quantity=q) for r, q in delivery.quantities.items()]
            row.deliveries.append(made)
    return row


def invoice_link(row: InvoiceLinkRow) -> InvoiceLink:
    return invoice_link_with(row, tuple(LinkEvent(e.at, InvoiceState(e.state), e.note) for e in row.events))


def invoice_link_with(row: InvoiceLinkRow | Row[Any], history: tuple[LinkEvent, ...]) -> InvoiceLink:
    """A link from its row — a mapped row, or a row of a Core select of invoice_links — and its history."""
    return InvoiceLink(
        row.sales_order_id, InvoiceState(row.state), row.number, InvoiceScope(row.scope),
        tuple(row.delivery_ids or ()), row.slot, row.request_id, row.qbo_invoice_id, row.doc_number, row.sync_token,
        row.error_code, row.error_message, row.error_detail, history, row.version,
        carries_shipping=bool(row.carries_shipping),
    )  # fmt: skip


def invoice_link_columns(company_id: int, link: InvoiceLink) -> dict[str, object]:
    """The invoice_links columns a link sets — every one the store writes for it (its history and version
    aside): fill_invoice_link sets them on a row, the bulk writes of store/invoice_repositories.py put them in
    their statements. Columns kept by other writers (total_amount, balance) are not among them."""
    return {
        "company_id": company_id, "sales_order_id": link.sales_order_id, "state": link.state.value,
        "number": link.number, "scope": link.scope.value, "slot": link.slot, "delivery_ids": list(link.delivery_ids),
        "request_id": link.request_id, "qbo_invoice_id": link.qbo_invoice_id, "doc_number": link.doc_number,
        "sync_token": link.sync_token, "error_code": link.error_code, "error_message": link.error_message,
        "error_detail": link.error_detail, "carries_shipping": link.carries_shipping,
    }  # fmt: skip


def fill_invoice_link(row: InvoiceLinkRow, company_id: int, link: InvoiceLink) -> InvoiceLinkRow:
    for name, value in invoice_link_columns(company_id, link).items():
        setattr(row, name, value)
    # History only grows: append the events the row does not have yet.
    for event in link.history[len(row.events) :]:
        row.events.append(InvoiceLinkEventRow(at=event.at, state=event.state.value, note=event.note))
    return row
