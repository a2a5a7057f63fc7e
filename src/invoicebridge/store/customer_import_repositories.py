"""What importing QBO customers (sync/customer_import.py) reads and locks: the company's active mirrored
customers page by page, the QBO customers already linked to ours, and our customers' e-mails — each a few
queries per page. Every query filters by company."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from invoicebridge.domain import NotFound
from invoicebridge.domain.qbo_mirror import MirrorCustomer
from invoicebridge.store.mirror_tables import MirrorCustomerRow
from invoicebridge.store.tables import CompanyRow, CustomerRow, QboRefRow

CHUNK = 500  # values per IN (…): well under every backend's parameter limit
CUSTOMER_KIND = "customer"  # the qbo_refs kind of our customers (sync/matching.py CUSTOMER)


class SqlCustomerImports:
    def __init__(self, session: Session) -> None:
        self._s = session

    def lock(self, company_id: int) -> None:
        """Take the company's import lock for the rest of the transaction: a write to its own row (a row lock on
        PostgreSQL that leaves foreign-key checks of other writers alone; the write lock on SQLite), so two imports
        of one company run one after the other and the second sees what the first created. NotFound for no
        such company."""
        bumped = self._s.execute(
            update(CompanyRow)
            .where(CompanyRow.id == company_id)
            .values(name=CompanyRow.name)
            .execution_options(synchronize_session=False)
        )
        if bumped.rowcount != 1:  # type: ignore[attr-defined]
            raise NotFound("company", company_id)

    def mirrored_customers(self, company_id: int, after: str | None, limit: int) -> list[MirrorCustomer]:
        """Active mirrored customers ordered by QBO id (as text), those after `after` (keyset paging)."""
        query = select(MirrorCustomerRow).where(
            MirrorCustomerRow.company_id == company_id, MirrorCustomerRow.active.is_(True)
        )
        if after is not None:
            query = query.where(MirrorCustomerRow.qbo_id > after)
        rows = self._s.scalars(query.order_by(MirrorCustomerRow.qbo_id).limit(limit))
        return [
            MirrorCustomer(r.qbo_id, r.display_name, r.email, r.currency, r.terms_id, r.active, r.updated_at)
            for r in rows
        ]

    def mirrored_count(self, company_id: int) -> int:
        """How many active customers the company's mirror holds."""
        query = (
            select(func.count())
            .select_from(MirrorCustomerRow)
            .where(MirrorCustomerRow.company_id == company_id, MirrorCustomerRow.active.is_(True))
        )
        return int(self._s.scalar(query) or 0)

    def linked(self, company_id: int, qbo_ids: Sequence[str]) -> dict[str, int]:
        """QBO customer id → our customer remembered for it, for those of `qbo_ids` that have one."""
        found: dict[str, int] = {}
        for chunk in _chunks(sorted(set(qbo_ids))):
            query = select(QboRefRow.qbo_id, QboRefRow.local_id).where(
                QboRefRow.company_id == company_id, QboRefRow.kind == CUSTOMER_KIND, QboRefRow.qbo_id.in_(chunk)
            )
            for qbo_id, local_id in self._s.execute(query).all():
                found.setdefault(qbo_id, local_id)
        return found

    def by_emails(self, company_id: int, emails: Iterable[str]) -> dict[str, int]:
        """Lower-cased e-mail → our first customer (lowest id) with it, ignoring case, for these e-mails."""
        found: dict[str, int] = {}
        for chunk in _chunks(sorted({e.lower() for e in emails})):
            key = func.lower(CustomerRow.email)
            query = (
                select(key, CustomerRow.id)
                .where(CustomerRow.company_id == company_id, key.in_(chunk))
                .order_by(CustomerRow.id)
            )
            for email, customer_id in self._s.execute(query).all():
                found.setdefault(email, customer_id)
        return found


def _chunks(values: Sequence[str]) -> Iterable[list[str]]:
    for start in range(0, len(values), CHUNK):
        yield list(values[start : start + CHUNK])


__all__ = ["SqlCustomerImports"]
