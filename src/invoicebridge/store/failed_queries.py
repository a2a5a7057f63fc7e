"""The company's failed invoices with their SOs' numbers (sync/failed_invoices.py), in one query."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from invoicebridge.domain import InvoiceScope, InvoiceState
from invoicebridge.domain.failed_invoices import FailedInvoice
from invoicebridge.store.tables import InvoiceLinkRow, SalesOrderRow


class SqlFailedInvoices:
    def __init__(self, session: Session) -> None:
        self._s = session

    def failed(self, company_id: int, limit: int) -> list[FailedInvoice]:
        """Up to `limit` of the company's invoices in state `failed`, in SO then invoice order."""
        query = (
            select(
                InvoiceLinkRow.sales_order_id, SalesOrderRow.number, InvoiceLinkRow.number, InvoiceLinkRow.scope,
                InvoiceLinkRow.error_code, InvoiceLinkRow.error_message,
            )
            .join(SalesOrderRow, SalesOrderRow.id == InvoiceLinkRow.sales_order_id)
            .where(InvoiceLinkRow.company_id == company_id, SalesOrderRow.company_id == company_id)
            .where(InvoiceLinkRow.state == InvoiceState.FAILED.value)
            .order_by(InvoiceLinkRow.sales_order_id, InvoiceLinkRow.number)
            .limit(limit)
        )  # fmt: skip
        return [
            FailedInvoice(so_id, so_number, number, InvoiceScope(scope), code or "error", message or "Invoice failed")
            for so_id, so_number, number, scope, code, message in self._s.execute(query).all()
        ]


__all__ = ["SqlFailedInvoices"]
