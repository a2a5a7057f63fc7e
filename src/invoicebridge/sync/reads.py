"""Small reads several use cases share."""

from __future__ import annotations

from invoicebridge.domain import PageRequest, TaxRate
from invoicebridge.sync.ports import UnitOfWork


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
