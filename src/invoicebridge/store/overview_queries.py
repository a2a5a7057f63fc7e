"""The overview's read-side queries: a company's invoicing outcomes over a period, its invoices failed now, and
its QBO requests counted by method. Aggregates only; every query filters by company. Satisfies
sync.overview.OverviewRepository structurally."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import case, func, or_, select
from sqlalchemy.orm import Session

from invoicebridge.domain import InvoiceLink, InvoiceState, LinkEvent
from invoicebridge.store import mapping
from invoicebridge.store.tables import AuditRow, InvoiceLinkEventRow, InvoiceLinkRow, SalesOrderRow

OUTCOMES = (InvoiceState.INVOICED.value, InvoiceState.FAILED.value)
NO_CODE = "error"  # a failed invoice always has a code; this only guards against a row written without one


class SqlOverview:
    def __init__(self, session: Session) -> None:
        self._s = session

    def outcomes(self, company_id: int, start: datetime, end: datetime) -> list[tuple[int, LinkEvent]]:
        """(SO id, event) of every `invoiced` and `failed` step of the company's invoices in [start, end),
        oldest first."""
        event = InvoiceLinkEventRow
        query = (
            select(InvoiceLinkRow.sales_order_id, event.at, event.state, event.note)
            .join(InvoiceLinkRow, InvoiceLinkRow.id == event.link_id)
            .where(
                InvoiceLinkRow.company_id == company_id,
                event.state.in_(OUTCOMES),
                event.at >= start,
                event.at < end,
            )
            .order_by(event.at, event.id)
        )
        return [(so_id, LinkEvent(at, InvoiceState(state), note)) for so_id, at, state, note in self._s.execute(query)]

    def failed_invoices(self, company_id: int, limit: int) -> list[tuple[str, InvoiceLink]]:
        """(SO number, invoice) of the company's invoices whose last attempt failed, the latest failures first,
        at most `limit`."""
        last = (
            select(InvoiceLinkEventRow.link_id, func.max(InvoiceLinkEventRow.at).label("at"))
            .join(InvoiceLinkRow, InvoiceLinkRow.id == InvoiceLinkEventRow.link_id)
            .where(InvoiceLinkRow.company_id == company_id, InvoiceLinkRow.state == InvoiceState.FAILED.value)
            .group_by(InvoiceLinkEventRow.link_id)
            .subquery()
        )
        query = (
            select(SalesOrderRow.number, InvoiceLinkRow)
            .join(SalesOrderRow, SalesOrderRow.id == InvoiceLinkRow.sales_order_id)
            .outerjoin(last, last.c.link_id == InvoiceLinkRow.id)
            .where(
                InvoiceLinkRow.company_id == company_id,
                SalesOrderRow.company_id == company_id,
                InvoiceLinkRow.state == InvoiceState.FAILED.value,
            )
            .order_by(last.c.at.desc(), InvoiceLinkRow.id.desc())
            .limit(limit)
        )
        return [(number, mapping.invoice_link(row)) for number, row in self._s.execute(query)]

    def failure_counts(self, company_id: int) -> dict[str, int]:
        """How many of the company's invoices are failed now, by error code."""
        code = func.coalesce(InvoiceLinkRow.error_code, NO_CODE)
        query = (
            select(code, func.count())
            .where(InvoiceLinkRow.company_id == company_id, InvoiceLinkRow.state == InvoiceState.FAILED.value)
            .group_by(code)
        )
        return {str(c): int(n) for c, n in self._s.execute(query)}

    def calls(self, company_id: int, start: datetime, end: datetime) -> dict[str, tuple[int, int]]:
        """The company's QBO requests in [start, end) from the audit trail: method → (requests, of which refused
        or unanswered — status 400 or more, or none)."""
        refused = func.sum(case((or_(AuditRow.status.is_(None), AuditRow.status >= 400), 1), else_=0))
        query = (
            select(AuditRow.method, func.count(), refused)
            .where(AuditRow.company_id == company_id, AuditRow.at >= start, AuditRow.at < end)
            .group_by(AuditRow.method)
        )
        return {str(method): (int(n), int(bad or 0)) for method, n, bad in self._s.execute(query)}
