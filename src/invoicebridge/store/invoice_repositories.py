"""An SO's invoices (partial invoicing). Three things make the rules of domain/order_invoices.py hold under
concurrency, not only in a check:

- `lock_order` bumps the SO's `invoice_lock` as the first write of every transaction that adds an invoice,
  records its outcome or deletes it: PostgreSQL then holds the SO's row lock until commit, and SQLite its one
  write lock, so those transactions run one after the other and each reads what the previous one committed;
- `invoiced_deliveries` has the delivery as its primary key: a delivery is on at most one live invoice;
- a partial unique index gives each DocNumber slot at most one live invoice, and (SO, number) is unique.

The SO's `invoice_scope` and `invoice_status` are recomputed from its invoices whenever one is added, invoiced
or deleted, in the same transaction, so lists can filter on them.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from invoicebridge.domain import (
    Conflict,
    InvoiceLink,
    InvoiceState,
    NotFound,
    OrderInvoices,
)
from invoicebridge.domain.checks import is_id
from invoicebridge.store import mapping
from invoicebridge.store.repositories import _scoped, flush_or_conflict
from invoicebridge.store.tables import InvoicedDeliveryRow, InvoiceLinkRow, SalesOrderRow

CHANGED = "This order's invoice was changed at the same time; try again."
# States after which the SO's stored scope or status may differ.
REFRESHING = (InvoiceState.INVOICED, InvoiceState.DELETED)


class SqlInvoiceLinks:
    def __init__(self, session: Session) -> None:
        self._s = session

    def lock_order(self, company_id: int, sales_order_id: int) -> None:
        """Take the SO's invoicing lock for the rest of the transaction. NotFound for another company's SO."""
        if not is_id(sales_order_id):
            raise NotFound("sales order", sales_order_id)
        bumped = self._s.execute(
            update(SalesOrderRow)
            .where(SalesOrderRow.company_id == company_id, SalesOrderRow.id == sales_order_id)
            .values(invoice_lock=SalesOrderRow.invoice_lock + 1)
            .execution_options(synchronize_session=False)
        )
        if bumped.rowcount != 1:  # type: ignore[attr-defined]
            raise NotFound("sales order", sales_order_id)

    def of_order(self, company_id: int, sales_order_id: int) -> OrderInvoices:
        """The SO and every invoice it has had, read fresh (NotFound for another company's SO)."""
        row = _scoped(self._s, SalesOrderRow, company_id, sales_order_id, "sales order")
        self._s.refresh(row)  # another transaction may have recorded deliveries since this session read it
        return OrderInvoices(mapping.sales_order(row), self._links(company_id, [sales_order_id])[sales_order_id])

    def of_orders(self, company_id: int, sales_order_ids: Sequence[int]) -> dict[int, tuple[InvoiceLink, ...]]:
        """Every invoice of each of these SOs, oldest first (an empty tuple for an SO without any)."""
        return self._links(company_id, sales_order_ids)

    def get(self, company_id: int, sales_order_id: int, number: int) -> InvoiceLink:
        row = self._row(company_id, sales_order_id, number)
        if row is None:
            raise NotFound("invoice", number)
        return mapping.invoice_link(row)

    def find_by_qbo_invoice(self, company_id: int, qbo_invoice_id: str) -> InvoiceLink | None:
        """The invoice pointing at this QBO invoice: the live one if any, else the newest deleted one."""
        query = (
            select(InvoiceLinkRow)
            .where(InvoiceLinkRow.company_id == company_id, InvoiceLinkRow.qbo_invoice_id == qbo_invoice_id)
            .order_by((InvoiceLinkRow.state == InvoiceState.DELETED.value), InvoiceLinkRow.id.desc())
        )
        row = self._s.scalars(query).first()
        return mapping.invoice_link(row) if row else None

    def add(self, company_id: int, link: InvoiceLink) -> InvoiceLink:
        """Store a new invoice of an SO with the deliveries it covers. Conflict when a constraint refuses it (the
        number, slot or a delivery was taken by a concurrent request). Call lock_order first."""
        _scoped(self._s, SalesOrderRow, company_id, link.sales_order_id, "sales order")
        row = InvoiceLinkRow()
        mapping.fill_invoice_link(row, company_id, link)
        row.covers = [InvoicedDeliveryRow(delivery_id=d) for d in link.delivery_ids]
        self._s.add(row)
        flush_or_conflict(self._s, Conflict("invoice", "This part of the order is being invoiced already."))
        self._refresh_order(company_id, link.sales_order_id)
        return mapping.invoice_link(row)

    def save(self, company_id: int, link: InvoiceLink) -> InvoiceLink:
        """Store a transition of an existing invoice; Conflict when it changed since `link` was read. A deleted
        invoice gives its deliveries back."""
        row = self._row(company_id, link.sales_order_id, link.number)
        if row is None or row.version != link.version:
            raise Conflict("invoice", CHANGED)  # changed (or gone) since this link was read: optimistic concurrency
        if link.state in REFRESHING:
            self.lock_order(company_id, link.sales_order_id)
        mapping.fill_invoice_link(row, company_id, link)
        if not link.live:
            row.covers = []
        flush_or_conflict(self._s, Conflict("invoice", CHANGED))
        if link.state in REFRESHING:
            self._refresh_order(company_id, link.sales_order_id)
        return mapping.invoice_link(row)

    # -- helpers ---------------------------------------------------------------------------------------------
    def _links(self, company_id: int, sales_order_ids: Sequence[int]) -> dict[int, tuple[InvoiceLink, ...]]:
        ids = [i for i in sales_order_ids if is_id(i)]
        query = (
            select(InvoiceLinkRow)
            .where(InvoiceLinkRow.company_id == company_id, InvoiceLinkRow.sales_order_id.in_(ids))
            .order_by(InvoiceLinkRow.sales_order_id, InvoiceLinkRow.number)
            .execution_options(populate_existing=True)
        )
        found: dict[int, list[InvoiceLink]] = {so_id: [] for so_id in sales_order_ids}
        for row in self._s.scalars(query):
            found[row.sales_order_id].append(mapping.invoice_link(row))
        return {so_id: tuple(links) for so_id, links in found.items()}

    def _row(self, company_id: int, sales_order_id: int, number: int) -> InvoiceLinkRow | None:
        if not is_id(sales_order_id) or not is_id(number):
            return None
        query = select(InvoiceLinkRow).where(
            InvoiceLinkRow.company_id == company_id,
            InvoiceLinkRow.sales_order_id == sales_order_id,
            InvoiceLinkRow.number == number,
        )
        return self._s.scalars(query).one_or_none()

    def _refresh_order(self, company_id: int, sales_order_id: int) -> None:
        invoices = self.of_order(company_id, sales_order_id)
        scope = invoices.scope
        self._s.execute(
            update(SalesOrderRow)
            .where(SalesOrderRow.company_id == company_id, SalesOrderRow.id == sales_order_id)
            .values(invoice_scope=scope.value if scope else None, invoice_status=invoices.status.value)
            .execution_options(synchronize_session=False)
        )
