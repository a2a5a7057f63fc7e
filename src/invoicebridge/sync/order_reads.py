"""The order book's read side: SOs with their invoices, as screens and API responses show them. OrderBook (the
use cases, orderbook.py) inherits it, so callers keep one object."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from invoicebridge.domain import (
    InvoiceLink,
    NotFound,
    OrderFilter,
    OrderInvoices,
    Page,
    PageRequest,
    SalesOrder,
)
from invoicebridge.sync.ports import UnitOfWorkFactory


@dataclass(frozen=True)
class OrderView:
    """An SO with where it stands in QBO: what every screen and API response shows."""

    invoices: OrderInvoices

    @property
    def order(self) -> SalesOrder:
        return self.invoices.order

    @property
    def link(self) -> InvoiceLink:
        """The invoice to show for the SO as a whole (its newest live one, else the next one)."""
        return self.invoices.current


class OrderReads:
    _uow: UnitOfWorkFactory

    def get_sales_order(self, company_id: int, order_id: int) -> OrderView:
        with self._uow() as uow:
            return OrderView(uow.invoice_links.of_order(company_id, order_id))

    def get_sales_order_by_number(self, company_id: int, number: str) -> OrderView:
        with self._uow() as uow:
            order = uow.sales_orders.get_by_number(company_id, number)
            if order is None or order.id is None:
                raise NotFound("sales order", number)
            return OrderView(uow.invoice_links.of_order(company_id, order.id))

    def list_sales_orders(self, company_id: int, filters: OrderFilter, page: PageRequest) -> Page[OrderView]:
        with self._uow() as uow:
            uow.companies.get(company_id)
            orders = uow.sales_orders.list(company_id, filters, page)
            links = uow.invoice_links.of_orders(company_id, [o.id for o in orders.items if o.id is not None])
            views = tuple(OrderView(OrderInvoices(o, links[o.id])) for o in orders.items if o.id is not None)
            return Page(views, orders.next_after)

    def views(self, company_id: int, order_ids: Sequence[int]) -> list[OrderView]:
        """These SOs of the company with their invoices (ids of other companies' SOs are left out)."""
        with self._uow() as uow:
            orders = uow.sales_orders.get_many(company_id, order_ids)
            links = uow.invoice_links.of_orders(company_id, [o.id or 0 for o in orders])
            return [OrderView(OrderInvoices(o, links[o.id or 0])) for o in orders]

    def matching_ids(self, company_id: int, filters: OrderFilter, limit: int) -> list[int]:
        """Ids of up to `limit` SOs matching `filters`, oldest first (a bulk action on "all matching")."""
        ids: list[int] = []
        after: int | None = None
        with self._uow() as uow:
            while len(ids) < limit:
                page = uow.sales_orders.list(company_id, filters, PageRequest(min(500, limit - len(ids)), after))
                ids += [o.id for o in page.items if o.id is not None]
                if page.next_after is None:
                    break
                after = page.next_after
        return ids

    def customer_names(self, company_id: int, customer_ids: Iterable[int]) -> dict[int, str]:
        """Display names of these customers of the company (a list page's rows)."""
        with self._uow() as uow:
            return uow.customers.names(company_id, customer_ids)

    def invoice_link(self, company_id: int, order_id: int, number: int | None = None) -> InvoiceLink:
        """The SO's invoice `number`; without one, the invoice that stands for the SO as a whole (OrderView.link)."""
        with self._uow() as uow:
            if number is None:
                return uow.invoice_links.of_order(company_id, order_id).current
            uow.sales_orders.get(company_id, order_id)  # NotFound for another company's SO
            return uow.invoice_links.get(company_id, order_id, number)

    def invoices(self, company_id: int, order_id: int) -> OrderInvoices:
        """The SO with every invoice it has had."""
        with self._uow() as uow:
            return uow.invoice_links.of_order(company_id, order_id)
