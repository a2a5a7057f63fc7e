"""The order book's domain: pure rules, no frameworks. Money is Decimal; times are timezone-aware."""

from __future__ import annotations

from invoicebridge.domain.catalog import ProductVariant, TaxRate, new_product, new_tax_rate
from invoicebridge.domain.company import Company, new_company
from invoicebridge.domain.customers import Address, Customer, new_customer, parse_address
from invoicebridge.domain.deliveries import Delivery
from invoicebridge.domain.errors import (
    Conflict,
    Forbidden,
    InvalidTransition,
    InvoiceBridgeError,
    NotConnected,
    NotFound,
    Problem,
    TooManyAttempts,
    Unauthenticated,
    ValidationError,
)
from invoicebridge.domain.invoice_link import (
    InvoiceLink,
    InvoiceScope,
    InvoiceState,
    InvoiceStatus,
    LinkEvent,
    new_link,
    request_id_for,
)
from invoicebridge.domain.money import Money, parse_amount, parse_currency
from invoicebridge.domain.order_invoices import OrderInvoices
from invoicebridge.domain.orders import (
    DeliveryStatus,
    OrderFilter,
    OrderRow,
    RowInput,
    SalesOrder,
    new_sales_order,
)
from invoicebridge.domain.paging import Page, PageRequest

__all__ = [
    "Address",
    "Company",
    "Conflict",
    "Customer",
    "Delivery",
    "DeliveryStatus",
    "Forbidden",
    "InvalidTransition",
    "InvoiceBridgeError",
    "InvoiceLink",
    "InvoiceScope",
    "InvoiceState",
    "InvoiceStatus",
    "LinkEvent",
    "Money",
    "NotConnected",
    "NotFound",
    "OrderFilter",
    "OrderInvoices",
    "OrderRow",
    "Page",
    "PageRequest",
    "Problem",
    "ProductVariant",
    "RowInput",
    "SalesOrder",
    "TaxRate",
    "TooManyAttempts",
    "Unauthenticated",
    "ValidationError",
    "new_company",
    "new_customer",
    "new_link",
    "new_product",
    "new_sales_order",
    "new_tax_rate",
    "parse_address",
    "parse_amount",
    "parse_currency",
    "request_id_for",
]
