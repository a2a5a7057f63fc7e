"""The invoice links a sweeper must pick up again: claims left `creating` by a worker that died, and failures
whose outcome is uncertain (the invoice may exist). One query over the links and their last event."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from invoicebridge.store.tables import CogsRow, InvoiceLinkEventRow, InvoiceLinkRow, SalesOrderRow


class SqlUnsettledLinks:
    def __init__(self, session: Session) -> None:
        self._s = session

    def find(
        self, claimed_before: datetime, queued_before: datetime, failed_before: datetime,
        uncertain_codes: Iterable[str], limit: int,
    ) -> list[tuple[int, int]]:  # fmt: skip
        """(company id, SO id) of links `creating` since before `claimed_before`, `queued` since before
        `queued_before`, and failed with an uncertain code since before `failed_before`; oldest first."""
        last = (
            select(InvoiceLinkEventRow.link_id, func.max(InvoiceLinkEventRow.at).label("at"))
            .group_by(InvoiceLinkEventRow.link_id)
            .subquery()
        )
        stale = or_(
            and_(InvoiceLinkRow.state == "creating", last.c.at < claimed_before),
            and_(InvoiceLinkRow.state == "queued", last.c.at < queued_before),
        )
        unsure = and_(
            InvoiceLinkRow.state == "failed",
            InvoiceLinkRow.error_code.in_(sorted(uncertain_codes)),
            last.c.at < failed_before,
        )
        query = (
            select(InvoiceLinkRow.company_id, InvoiceLinkRow.sales_order_id)
            .join(last, last.c.link_id == InvoiceLinkRow.id)
            .where(or_(stale, unsure))
            .order_by(last.c.at)
            .limit(limit)
        )
        return [(company_id, order_id) for company_id, order_id in self._s.execute(query)]

    def cogs_due(self, company_ids: Iterable[int], limit: int) -> list[tuple[int, int]]:
        """(company id, SO id) of SOs delivered and invoiced whose COGS entry is missing or not posted, among
        `company_ids` (those keeping inventory)."""
        companies = sorted(company_ids)
        if not companies:
            return []
        query = (
            select(SalesOrderRow.company_id, SalesOrderRow.id)
            .join(InvoiceLinkRow, and_(InvoiceLinkRow.sales_order_id == SalesOrderRow.id,
                                       InvoiceLinkRow.company_id == SalesOrderRow.company_id))
            .outerjoin(CogsRow, and_(CogsRow.sales_order_id == SalesOrderRow.id,
                                     CogsRow.company_id == SalesOrderRow.company_id))
            .where(
                SalesOrderRow.company_id.in_(companies),
                SalesOrderRow.delivery_status == "delivered",
                InvoiceLinkRow.state == "invoiced",
                or_(CogsRow.id.is_(None), CogsRow.state != "posted"),
            )
            .order_by(SalesOrderRow.id)
            .limit(limit)
        )  # fmt: skip
        return [(company_id, order_id) for company_id, order_id in self._s.execute(query)]
