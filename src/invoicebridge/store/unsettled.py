"""What a sweeper must pick up again: invoice claims left `creating` by a worker that died, `queued` invoices whose
job was lost, failures whose outcome is uncertain (the invoice may exist), and COGS entries due but not posted."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import and_, exists, func, or_, select
from sqlalchemy.orm import Session

from invoicebridge.store.tables import (
    CogsRow,
    DeliveryRow,
    InvoicedDeliveryRow,
    InvoiceLinkEventRow,
    InvoiceLinkRow,
    SalesOrderRow,
)


class SqlUnsettledLinks:
    def __init__(self, session: Session) -> None:
        self._s = session

    def find(
        self, claimed_before: datetime, queued_before: datetime, failed_before: datetime,
        uncertain_codes: Iterable[str], limit: int,
    ) -> list[tuple[int, int, int]]:  # fmt: skip
        """(company id, SO id, invoice number) of links `creating` since before `claimed_before`, `queued` since before
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
            select(InvoiceLinkRow.company_id, InvoiceLinkRow.sales_order_id, InvoiceLinkRow.number)
            .join(last, last.c.link_id == InvoiceLinkRow.id)
            .where(or_(stale, unsure))
            .order_by(last.c.at)
            .limit(limit)
        )
        return [(company_id, order_id, number) for company_id, order_id, number in self._s.execute(query)]

    def queued_companies(self) -> list[int]:
        """Companies with an invoice `queued` (for the bulk path's batch jobs)."""
        query = select(InvoiceLinkRow.company_id).where(InvoiceLinkRow.state == "queued").distinct()
        return sorted(self._s.scalars(query))

    def cogs_due(self, per_order: Iterable[int], per_delivery: Iterable[int], limit: int) -> list[tuple[int, int]]:
        """(company id, SO id) whose COGS is due and not posted. Among `per_order` (the default rule): SOs fully
        delivered and invoiced without a posted entry. Among `per_delivery`: SOs with a delivery on an invoice in
        QBO (or the whole SO invoiced) and no posted entry for that delivery."""
        found = self._whole_orders_due(sorted(per_order), limit) + self._deliveries_due(sorted(per_delivery), limit)
        return sorted(set(found))[:limit]

    def _whole_orders_due(self, companies: list[int], limit: int) -> list[tuple[int, int]]:
        if not companies:
            return []
        posted = self._posted(CogsRow.delivery_number == 0)
        per_delivery = exists().where(  # begun per delivery before the company changed its choice: never both
            CogsRow.sales_order_id == SalesOrderRow.id, CogsRow.delivery_number != 0, CogsRow.state != "none"
        )
        query = (
            select(SalesOrderRow.company_id, SalesOrderRow.id)
            .where(
                SalesOrderRow.company_id.in_(companies),
                SalesOrderRow.delivery_status == "delivered",
                SalesOrderRow.invoice_status == "invoiced",
                ~posted,
                ~per_delivery,
            )
            .order_by(SalesOrderRow.id)
            .limit(limit)
        )
        return [(company_id, order_id) for company_id, order_id in self._s.execute(query)]

    def _deliveries_due(self, companies: list[int], limit: int) -> list[tuple[int, int]]:
        if not companies:
            return []
        on_invoice = (
            select(InvoicedDeliveryRow.delivery_id)
            .join(InvoiceLinkRow, InvoiceLinkRow.id == InvoicedDeliveryRow.link_id)
            .where(InvoiceLinkRow.state == "invoiced")
        )
        whole = exists().where(
            InvoiceLinkRow.sales_order_id == DeliveryRow.sales_order_id,
            InvoiceLinkRow.scope == "whole",
            InvoiceLinkRow.state == "invoiced",
        )
        posted = exists().where(
            CogsRow.sales_order_id == DeliveryRow.sales_order_id,
            CogsRow.delivery_number == DeliveryRow.number,
            CogsRow.state == "posted",
        )
        per_order = exists().where(  # the SO's one entry, begun before the company changed its choice: never both
            CogsRow.sales_order_id == DeliveryRow.sales_order_id, CogsRow.delivery_number == 0, CogsRow.state != "none"
        )
        query = (
            select(DeliveryRow.company_id, DeliveryRow.sales_order_id)
            .where(
                DeliveryRow.company_id.in_(companies),
                or_(DeliveryRow.id.in_(on_invoice), whole),
                ~posted,
                ~per_order,
            )
            .distinct()
            .order_by(DeliveryRow.sales_order_id)
            .limit(limit)
        )
        return [(company_id, order_id) for company_id, order_id in self._s.execute(query)]

    @staticmethod
    def _posted(which: Any) -> Any:
        return exists().where(CogsRow.sales_order_id == SalesOrderRow.id, CogsRow.state == "posted", which)
