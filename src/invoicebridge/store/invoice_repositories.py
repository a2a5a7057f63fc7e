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
from dataclasses import replace
from datetime import datetime

from sqlalchemy import Table, bindparam, insert, select, tuple_, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.util import identity_key

from invoicebridge.domain import (
    Conflict,
    InvoiceLink,
    InvoiceState,
    NotFound,
    OrderInvoices,
    SalesOrder,
)
from invoicebridge.domain.checks import is_id
from invoicebridge.domain.invoice_link import InvoiceScope, InvoiceStatus
from invoicebridge.domain.order_invoices import status_without_rows
from invoicebridge.store import bulk_links, bulk_orders, mapping
from invoicebridge.store import payment_repositories as payments
from invoicebridge.store.repositories import _scoped, flush_or_conflict
from invoicebridge.store.tables import InvoicedDeliveryRow, InvoiceLinkEventRow, InvoiceLinkRow, SalesOrderRow

CHANGED = "This order's invoice was changed at the same time; try again."
# States after which the SO's stored scope or status may differ.
REFRESHING = (InvoiceState.INVOICED, InvoiceState.DELETED, InvoiceState.VOIDED)
CHUNK = 500  # SO ids per IN (…)
_ORDERS: Table = SalesOrderRow.__table__  # type: ignore[assignment]
_EVENTS: Table = InvoiceLinkEventRow.__table__  # type: ignore[assignment]


class SqlInvoiceLinks:
    def __init__(self, session: Session) -> None:
        self._s = session
        # What this transaction has read already, kept current by its own writes: the bulk paths look here before
        # asking the database again. Links are read and written with plain statements (store/bulk_links.py).
        self._seen_links: dict[int, dict[int, bulk_links.Read]] = {}  # SO id → number → (row id, link)
        self._complete: set[int] = set()  # SOs whose every invoice is in _seen_links
        self._seen_orders: dict[int, SalesOrder] = {}

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
            orders = {row.id: mapping.sales_order(row) for row in bulk_orders.read_orders(self._s, company_id, chunk)}
            self._seen_orders.update(orders)
            links = self._links(company_id, list(orders))
            found.update((so_id, OrderInvoices(order, links[so_id])) for so_id, order in orders.items())
        return found

    def save_many(self, company_id: int, links: Sequence[InvoiceLink]) -> list[InvoiceLink]:
        """save for many invoices in a few statements; Conflict (nothing saved) when one changed since it was read.
        Take the SOs' locks first (lock_orders) when one becomes invoiced or deleted."""
        read = self._read(company_id, [(link.sales_order_id, link.number) for link in links])
        for link in links:
            found = read.get((link.sales_order_id, link.number))
            if found is None or found[1].version != link.version:
                raise Conflict("invoice", CHANGED)
        ids = [read[(link.sales_order_id, link.number)][0] for link in links]
        if all(link.live for link in links):  # the bulk paths: a few plain statements
            bulk_links.update_links(self._s, company_id, links, read, Conflict("invoice", CHANGED))
            saved = [replace(link, version=link.version + 1) for link in links]
        else:  # deliveries given back: through the session, which deletes their rows
            saved = self._save_through_session(company_id, links, ids)
        self._wrote(list(zip(ids, saved, strict=True)))
        self._refresh_orders(company_id, [link.sales_order_id for link in links if link.state in REFRESHING])
        return saved

    def add_many(self, company_id: int, links: Sequence[InvoiceLink]) -> list[InvoiceLink]:
        """add for many new invoices in a few statements (take lock_orders first); Conflict (nothing added) when a
        constraint refuses."""
        taken = Conflict("invoice", "This part of the order is being invoiced already.")
        ids = bulk_links.insert_links(self._s, company_id, links, taken)
        added = [replace(link, version=1) for link in links]
        self._wrote(list(zip(ids, added, strict=True)))
        self._refresh_orders(company_id, [link.sales_order_id for link in links])
        return added

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

    def mark_sending(
        self, company_id: int, claims: Sequence[tuple[int, int, str]], at: datetime, note: str
    ) -> set[tuple[int, int]]:
        """For each (SO id, invoice number, request id) still claimed with that request id (`creating`): note in its
        history that its create goes out now — a sweeper measures a claim's age from its last event, so it does not
        take over a claim whose worker was only waiting — and bump its version, so a sweeper that read it before
        cannot save over it. Returns the (SO id, number) still claimed; the others were taken over."""
        held: set[tuple[int, int]] = set()
        for first in range(0, len(claims), CHUNK):
            chunk = claims[first : first + CHUNK]
            rows = self._s.execute(
                update(InvoiceLinkRow)
                .where(
                    InvoiceLinkRow.company_id == company_id, InvoiceLinkRow.state == InvoiceState.CREATING.value,
                    tuple_(InvoiceLinkRow.sales_order_id, InvoiceLinkRow.number, InvoiceLinkRow.request_id).in_(chunk),
                )
                .values(version=InvoiceLinkRow.version + 1)
                .returning(InvoiceLinkRow.id, InvoiceLinkRow.sales_order_id, InvoiceLinkRow.number)
                .execution_options(synchronize_session=False)
            ).all()  # fmt: skip
            if rows:
                state = InvoiceState.CREATING.value
                self._s.execute(
                    insert(_EVENTS), [{"link_id": r.id, "at": at, "state": state, "note": note} for r in rows]
                )
            held.update((r.sales_order_id, r.number) for r in rows)
        return held

    def still_queued(self, company_id: int, keys: Sequence[tuple[int, int]]) -> list[tuple[int, int]]:
        wanted = set(keys)
        so_ids = sorted({so for so, _ in wanted if is_id(so)})
        queued: set[tuple[int, int]] = set()
        for start in range(0, len(so_ids), CHUNK):
            query = select(InvoiceLinkRow.sales_order_id, InvoiceLinkRow.number).where(
                InvoiceLinkRow.company_id == company_id, InvoiceLinkRow.state == InvoiceState.QUEUED.value,
                InvoiceLinkRow.sales_order_id.in_(so_ids[start : start + CHUNK]),
            )  # fmt: skip
            queued.update((so, number) for so, number in self._s.execute(query) if (so, number) in wanted)
        return [key for key in keys if key in queued]

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
        """Store a transition of an existing invoice; Conflict when it changed since `link` was read. A deleted or
        voided invoice gives its deliveries back (a voided one keeps its DocNumber slot: the index counts it)."""
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
        saved = mapping.invoice_link(row)
        if link.sales_order_id in self._seen_links:  # read in bulk already: what a bulk save checks against
            self._seen_links[link.sales_order_id][link.number] = (row.id, saved)
        return saved

    # -- helpers ---------------------------------------------------------------------------------------------
    def _links(self, company_id: int, sales_order_ids: Sequence[int]) -> dict[int, tuple[InvoiceLink, ...]]:
        ids = [i for i in dict.fromkeys(sales_order_ids) if is_id(i)]
        found: dict[int, list[InvoiceLink]] = {so_id: [] for so_id in sales_order_ids}
        for first in range(0, len(ids), CHUNK):
            chunk = ids[first : first + CHUNK]
            for so_id in chunk:
                self._seen_links[so_id] = {}
            for link_id, link in bulk_links.read_links(self._s, company_id, chunk):
                found[link.sales_order_id].append(link)
                self._seen_links[link.sales_order_id][link.number] = (link_id, link)
        self._complete.update(ids)
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

    def _read(self, company_id: int, keys: Sequence[tuple[int, int]]) -> dict[tuple[int, int], bulk_links.Read]:
        """These links as this transaction read or wrote them last (read now if not yet), with their row ids."""
        unread = sorted({so for so, n in keys if n not in self._seen_links.get(so, {}) and is_id(so)})
        if unread:
            self._links(company_id, unread)
        return {(so, n): read for so, n in keys if (read := self._seen_links.get(so, {}).get(n)) is not None}

    def _save_through_session(
        self, company_id: int, links: Sequence[InvoiceLink], link_ids: Sequence[int]
    ) -> list[InvoiceLink]:
        query = (
            select(InvoiceLinkRow)
            .where(InvoiceLinkRow.company_id == company_id, InvoiceLinkRow.id.in_(link_ids))
            .execution_options(populate_existing=True)
        )
        rows = {row.id: row for row in self._s.scalars(query)}
        for link, link_id in zip(links, link_ids, strict=True):
            row = rows.get(link_id)
            if row is None or row.version != link.version:
                raise Conflict("invoice", CHANGED)
            mapping.fill_invoice_link(row, company_id, link)
            if not link.live:
                row.covers = []
        flush_or_conflict(self._s, Conflict("invoice", CHANGED))
        return [mapping.invoice_link(rows[link_id]) for link_id in link_ids]

    def _wrote(self, written: Sequence[bulk_links.Read]) -> None:
        """Note links as just written; a mapped row of one in the session (read by `save`) is stale: expired."""
        for link_id, link in written:
            self._seen_links.setdefault(link.sales_order_id, {})[link.number] = (link_id, link)
            if (row := self._s.identity_map.get(identity_key(InvoiceLinkRow, link_id))) is not None:
                self._s.expire(row)

    def _refresh_orders(self, company_id: int, sales_order_ids: Sequence[int]) -> None:
        """The SOs' stored invoice scope and status, from their invoices as they are now (the lists filter on it)."""
        if not sales_order_ids:
            return
        values = [
            {"so_id": so_id, "scope": scope.value if scope else None, "status": status.value}
            for so_id, (scope, status) in self._as_written(company_id, sales_order_ids).items()
        ]
        self._s.connection().execute(
            update(_ORDERS)
            .where(_ORDERS.c.id == bindparam("so_id"))
            .values(invoice_scope=bindparam("scope"), invoice_status=bindparam("status")),
            values,
        )
        payments.refresh_statuses(self._s, company_id, sales_order_ids)  # when the company tracks payments

    def _as_written(
        self, company_id: int, sales_order_ids: Sequence[int]
    ) -> dict[int, tuple[InvoiceScope | None, InvoiceStatus]]:
        """Each SO's scope and status with its invoices as this transaction has just written them (it holds their
        locks): from what it read already where that decides them, the rest read again."""
        found: dict[int, tuple[InvoiceScope | None, InvoiceStatus]] = {}
        unknown = []
        for so_id in dict.fromkeys(sales_order_ids):
            links = self._written_links(so_id)
            if links is not None and (decided := status_without_rows(links)) is not None:
                found[so_id] = decided
            elif links is not None and so_id in self._seen_orders:
                invoices = OrderInvoices(self._seen_orders[so_id], links)
                found[so_id] = (invoices.scope, invoices.status)
            else:
                unknown.append(so_id)
        for so_id, invoices in self.of_orders_whole(company_id, unknown).items() if unknown else ():
            found[so_id] = (invoices.scope, invoices.status)
        return found

    def _written_links(self, sales_order_id: int) -> tuple[InvoiceLink, ...] | None:
        if sales_order_id not in self._complete:
            return None
        return tuple(link for _, (_, link) in sorted(self._seen_links.get(sales_order_id, {}).items()))

    def _refresh_order(self, company_id: int, sales_order_id: int) -> None:
        invoices = self.of_order(company_id, sales_order_id)
        scope = invoices.scope
        self._s.execute(
            update(SalesOrderRow)
            .where(SalesOrderRow.company_id == company_id, SalesOrderRow.id == sales_order_id)
            .values(invoice_scope=scope.value if scope else None, invoice_status=invoices.status.value)
            .execution_options(synchronize_session=False)
        )
        payments.refresh_statuses(self._s, company_id, [sales_order_id])  # when the company tracks payments
