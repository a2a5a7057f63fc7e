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

from sqlalchemy import Table, bindparam, select, update
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
CHUNK = 500  # SO ids per IN (…)
_ORDERS: Table = SalesOrderRow.__table__  # type: ignore[assignment]


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

    def lock_orders(self, company_id: int, sales_order_ids: Sequence[int]) -> None:
        """lock_order for many SOs in one statement, in id order (as every caller locks them: no deadlock).
        NotFound when one is not an SO of this company."""
        ids = sorted(set(sales_order_ids))
        for start in range(0, len(ids), CHUNK):
            chunk = ids[start : start + CHUNK]
            if not all(is_id(i) for i in chunk):
                raise NotFound("sales order", next(i for i in chunk if not is_id(i)))
            bumped = self._s.execute(
                update(SalesOrderRow)
                .where(SalesOrderRow.company_id == company_id, SalesOrderRow.id.in_(chunk))
                .values(invoice_lock=SalesOrderRow.invoice_lock + 1)
                .execution_options(synchronize_session=False)
            )
            if bumped.rowcount != len(chunk):  # type: ignore[attr-defined]
                raise NotFound("sales order", chunk[0])

    def of_orders_whole(self, company_id: int, sales_order_ids: Sequence[int]) -> dict[int, OrderInvoices]:
        """of_order for many SOs: each SO with every invoice it has had, read fresh, in a few queries (SOs of
        other companies are left out)."""
        ids = [i for i in dict.fromkeys(sales_order_ids) if is_id(i)]
        found: dict[int, OrderInvoices] = {}
        for start in range(0, len(ids), CHUNK):
            chunk = ids[start : start + CHUNK]
            query = (
                select(SalesOrderRow)
                .where(SalesOrderRow.company_id == company_id, SalesOrderRow.id.in_(chunk))
                .execution_options(populate_existing=True)
            )
            orders = {row.id: mapping.sales_order(row) for row in self._s.scalars(query)}
            links = self._links(company_id, list(orders))
            found.update((so_id, OrderInvoices(order, links[so_id])) for so_id, order in orders.items())
        return found

    def save_many(self, company_id: int, links: Sequence[InvoiceLink]) -> list[InvoiceLink]:
        """save for many invoices in one flush; Conflict (nothing saved) when one changed since it was read. Take
        the SOs' locks first (lock_orders) when one becomes invoiced or deleted."""
        rows = self._rows(company_id, [(link.sales_order_id, link.number) for link in links])
        for link in links:
            row = rows.get((link.sales_order_id, link.number))
            if row is None or row.version != link.version:
                raise Conflict("invoice", CHANGED)
            mapping.fill_invoice_link(row, company_id, link)
            if not link.live:
                row.covers = []
        flush_or_conflict(self._s, Conflict("invoice", CHANGED))
        self._refresh_orders(company_id, [link.sales_order_id for link in links if link.state in REFRESHING])
        return [mapping.invoice_link(rows[(link.sales_order_id, link.number)]) for link in links]

    def add_many(self, company_id: int, links: Sequence[InvoiceLink]) -> list[InvoiceLink]:
        """add for many new invoices in one flush (take lock_orders first); Conflict when a constraint refuses."""
        rows = []
        for link in links:
            row = InvoiceLinkRow()
            mapping.fill_invoice_link(row, company_id, link)
            row.covers = [InvoicedDeliveryRow(delivery_id=d) for d in link.delivery_ids]
            self._s.add(row)
            rows.append(row)
        flush_or_conflict(self._s, Conflict("invoice", "This part of the order is being invoiced already."))
        self._refresh_orders(company_id, [link.sales_order_id for link in links])
        return [mapping.invoice_link(row) for row in rows]

    def of_orders(self, company_id: int, sales_order_ids: Sequence[int]) -> dict[int, tuple[InvoiceLink, ...]]:
        """Every invoice of each of these SOs, oldest first (an empty tuple for an SO without any)."""
        return self._links(company_id, sales_order_ids)

    def get(self, company_id: int, sales_order_id: int, number: int) -> InvoiceLink:
        row = self._row(company_id, sales_order_id, number)
        if row is None:
            raise NotFound("invoice", number)
        return mapping.invoice_link(row)

    def queued(self, company_id: int, limit: int) -> list[tuple[int, int]]:
        query = (
            select(InvoiceLinkRow.sales_order_id, InvoiceLinkRow.number)
            .where(InvoiceLinkRow.company_id == company_id, InvoiceLinkRow.state == InvoiceState.QUEUED.value)
            .order_by(InvoiceLinkRow.id)
            .limit(limit)
        )
        return [(so_id, number) for so_id, number in self._s.execute(query)]

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

    def _rows(self, company_id: int, keys: Sequence[tuple[int, int]]) -> dict[tuple[int, int], InvoiceLinkRow]:
        wanted = set(keys)
        so_ids = sorted({so_id for so_id, _ in wanted if is_id(so_id)})
        found: dict[tuple[int, int], InvoiceLinkRow] = {}
        for start in range(0, len(so_ids), CHUNK):
            query = select(InvoiceLinkRow).where(
                InvoiceLinkRow.company_id == company_id,
                InvoiceLinkRow.sales_order_id.in_(so_ids[start : start + CHUNK]),
            )
            for row in self._s.scalars(query):
                if (row.sales_order_id, row.number) in wanted:
                    found[(row.sales_order_id, row.number)] = row
        return found

    def _refresh_orders(self, company_id: int, sales_order_ids: Sequence[int]) -> None:
        """The SOs' stored invoice scope and status, from their invoices as they are now (the lists filter on it)."""
        if not sales_order_ids:
            return
        values = [
            {"so_id": so_id, "scope": invoices.scope.value if invoices.scope else None,
             "status": invoices.status.value}
            for so_id, invoices in self.of_orders_whole(company_id, sales_order_ids).items()
        ]  # fmt: skip
        self._s.connection().execute(
            update(_ORDERS)
            .where(_ORDERS.c.id == bindparam("so_id"))
            .values(invoice_scope=bindparam("scope"), invoice_status=bindparam("status")),
            values,
        )

    def _refresh_order(self, company_id: int, sales_order_id: int) -> None:
        invoices = self.of_order(company_id, sales_order_id)
        scope = invoices.scope
        self._s.execute(
            update(SalesOrderRow)
            .where(SalesOrderRow.company_id == company_id, SalesOrderRow.id == sales_order_id)
            .values(invoice_scope=scope.value if scope else None, invoice_status=invoices.status.value)
            .execution_options(synchronize_session=False)
        )
