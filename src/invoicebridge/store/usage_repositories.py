"""The meter's counts (sync/meter.py): QBO calls per company and calendar month, as (core, coreplus) pairs."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from invoicebridge.store.db import upsert_insert
from invoicebridge.store.tables import QboUsageRow

_USAGE = QboUsageRow.__table__


class SqlQboUsage:
    def __init__(self, session: Session) -> None:
        self._s = session

    def add(self, company_id: int, month: str, core: int, coreplus: int) -> None:
        """Add to the company's counts of `month` in one statement: INSERT … ON CONFLICT DO UPDATE adds to the row
        in place, so two workers counting at once both count (a read-then-write would lose one) and the first
        count of a month never collides with another's."""
        statement = upsert_insert(self._s)(_USAGE).values(
            company_id=company_id, month=month, core=core, coreplus=coreplus
        )
        self._s.execute(
            statement.on_conflict_do_update(
                index_elements=[_USAGE.c.company_id, _USAGE.c.month],
                set_={
                    "core": _USAGE.c.core + statement.excluded.core,
                    "coreplus": _USAGE.c.coreplus + statement.excluded.coreplus,
                },
            )
        )

    def of_company(self, company_id: int, month: str) -> tuple[int, int]:
        """(core, coreplus) of the company in `month`; (0, 0) before its first call."""
        row = self._s.execute(
            select(QboUsageRow.core, QboUsageRow.coreplus).where(
                QboUsageRow.company_id == company_id, QboUsageRow.month == month
            )
        ).one_or_none()
        return (row.core, row.coreplus) if row else (0, 0)

    def of_month(self, month: str) -> dict[int, tuple[int, int]]:
        """(core, coreplus) of every company that made a call in `month`, by company id."""
        rows = self._s.execute(
            select(QboUsageRow.company_id, QboUsageRow.core, QboUsageRow.coreplus).where(QboUsageRow.month == month)
        )
        return {row.company_id: (row.core, row.coreplus) for row in rows}

    def total(self, month: str) -> tuple[int, int]:
        """(core, coreplus) of every company together in `month`: what Intuit's monthly cap counts."""
        row = self._s.execute(
            select(func.coalesce(func.sum(QboUsageRow.core), 0), func.coalesce(func.sum(QboUsageRow.coreplus), 0))
            .where(QboUsageRow.month == month)
        ).one()  # fmt: skip
        return int(row[0]), int(row[1])
