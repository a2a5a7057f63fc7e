"""Small reads several use cases share."""

from __future__ import annotations

from collections.abc import Mapping

from invoicebridge.domain import NotConnected, PageRequest, TaxRate
from invoicebridge.domain.connection import RECONNECT_MESSAGE, Connection
from invoicebridge.sync.ports import UnitOfWork


def usable_connection(uow: UnitOfWork, company_id: int) -> tuple[Connection, dict[int, TaxRate]]:
    """The company's QBO connection, ready to invoice, and its tax rates: NotConnected when there is none or it
    must be reconnected; ValidationError when the settings do not map every tax rate yet."""
    connection = uow.connections.get(company_id)
    if connection is None:
        raise NotConnected("QuickBooks is not connected for this company: connect QuickBooks first.")
    if not connection.usable:
        raise NotConnected(RECONNECT_MESSAGE)
    rates = all_tax_rates(uow, company_id)
    connection.settings.require_complete(sorted(rates), zero_rate_ids(rates))
    return connection, rates


def zero_rate_ids(rates: Mapping[int, TaxRate]) -> set[int]:
    """The 0 % rates among `rates` (a 0 % rate maps to the no-tax code unless mapped itself)."""
    return {rate_id for rate_id, rate in rates.items() if rate.percent == 0}


def all_tax_rates(uow: UnitOfWork, company_id: int) -> dict[int, TaxRate]:
    """Every tax rate of the company, by id (paging through the repository)."""
    rates: dict[int, TaxRate] = {}
    after: int | None = None
    while True:
        page = uow.tax_rates.list(company_id, PageRequest(limit=200, after=after))
        rates.update({rate.id: rate for rate in page.items if rate.id is not None})
        if page.next_after is None:
            return rates
        after = page.next_after
