"""SOs read many at a time with plain statements, for store/invoice_repositories.py's `of_orders_whole` (a bulk
action queues 500 SOs at once, each batch job claims 30): four queries — the SOs, their rows, their deliveries and
the deliveries' lines — and no mapped object per row to build and track (issue 12: the engine's CPU per
invoice). Each SO comes shaped as `mapping.sales_order` reads a mapped row (its columns as attributes, its
`rows` and `deliveries` in the mapped relationships' order), so the one mapping function turns both into domain
objects. Read fresh every time, as the session's `populate_existing` reads did.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Row, Table, select
from sqlalchemy.orm import Session

from invoicebridge.store.tables import DeliveryLineRow, DeliveryRow, OrderLineRow, SalesOrderRow

_ORDERS: Table = SalesOrderRow.__table__  # type: ignore[assignment]
_ROWS: Table = OrderLineRow.__table__  # type: ignore[assignment]
_DELIVERIES: Table = DeliveryRow.__table__  # type: ignore[assignment]
_LINES: Table = DeliveryLineRow.__table__  # type: ignore[assignment]


class _Shaped:
    """A Core row with the children a mapped row would hold; its columns read as attributes."""

    def __init__(self, row: Row[Any]) -> None:
        self._row = row

    def __getattr__(self, name: str) -> Any:
        return getattr(self._row, name)


class DeliveryRows(_Shaped):
    def __init__(self, row: Row[Any]) -> None:
        super().__init__(row)
        self.lines: list[Row[Any]] = []  # by id, as DeliveryRow.lines


class OrderRows(_Shaped):
    def __init__(self, row: Row[Any]) -> None:
        super().__init__(row)
        self.rows: list[Row[Any]] = []  # by position, as SalesOrderRow.rows
        self.deliveries: list[DeliveryRows] = []  # by number, as SalesOrderRow.deliveries


def read_orders(session: Session, company_id: int, sales_order_ids: Sequence[int]) -> list[OrderRows]:
    """These SOs of the company (others' ids left out) with their rows and deliveries."""
    if not sales_order_ids:
        return []
    orders = {
        row.id: OrderRows(row)
        for row in session.execute(
            select(_ORDERS).where(_ORDERS.c.company_id == company_id, _ORDERS.c.id.in_(sales_order_ids))
        )
    }
    if not orders:
        return []
    ids = list(orders)
    for line in session.execute(select(_ROWS).where(_ROWS.c.sales_order_id.in_(ids)).order_by(_ROWS.c.position)):
        orders[line.sales_order_id].rows.append(line)
    deliveries: dict[int, DeliveryRows] = {}
    query = select(_DELIVERIES).where(_DELIVERIES.c.sales_order_id.in_(ids)).order_by(_DELIVERIES.c.number)
    for row in session.execute(query):
        deliveries[row.id] = delivery = DeliveryRows(row)
        orders[row.sales_order_id].deliveries.append(delivery)
    if deliveries:
        lines = select(_LINES).where(_LINES.c.delivery_id.in_(list(deliveries))).order_by(_LINES.c.id)
        for line in session.execute(lines):
            deliveries[line.delivery_id].lines.append(line)
    return list(orders.values())
