"""The QBO mirror's repository (sync.ports.QboMirrorRepository): upserts by QBO id, look-ups by the lower-cased
keys QBO matches on. One query answers a whole batch's look-ups."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Table, delete, or_, select
from sqlalchemy.orm import Session

from invoicebridge.domain.qbo_mirror import MirrorCustomer, MirrorItem, MirrorState
from invoicebridge.store.db import upsert_insert
from invoicebridge.store.mirror_tables import MirrorCustomerRow, MirrorItemRow, MirrorStateRow

IN_CHUNK = 500  # values per IN (…), rows per INSERT: well under every backend's parameter limit
_CUSTOMERS: Table = MirrorCustomerRow.__table__  # type: ignore[assignment]
_ITEMS: Table = MirrorItemRow.__table__  # type: ignore[assignment]


class SqlQboMirror:
    def __init__(self, session: Session) -> None:
        self._s = session

    def state(self, company_id: int) -> MirrorState | None:
        row = self._s.scalar(select(MirrorStateRow).where(MirrorStateRow.company_id == company_id))
        return None if row is None else MirrorState(row.realm_id, row.loaded_at)

    def mark_loaded(self, company_id: int, realm_id: str, at: datetime) -> None:
        row = self._s.scalar(select(MirrorStateRow).where(MirrorStateRow.company_id == company_id))
        if row is None:
            self._s.add(MirrorStateRow(company_id=company_id, realm_id=realm_id, loaded_at=at))
        else:
            row.realm_id, row.loaded_at = realm_id, at
        self._s.flush()

    def clear(self, company_id: int) -> None:
        """Forget everything mirrored for the company (its next use loads the mirror again)."""
        for table in (MirrorStateRow, MirrorCustomerRow, MirrorItemRow):
            self._s.execute(delete(table).where(table.company_id == company_id))

    # -- customers -------------------------------------------------------------------------------------
    def put_customers(self, company_id: int, customers: Sequence[MirrorCustomer]) -> None:
        self._upsert(_CUSTOMERS, [_customer_values(company_id, c) for c in customers])

    def customers(
        self, company_id: int, *, emails: Iterable[str] = (), qbo_ids: Iterable[str] = (), names: Iterable[str] = ()
    ) -> list[MirrorCustomer]:
        """Mirrored customers (active or not) with any of these e-mails, ids or display names (case-insensitive)."""
        email_keys = sorted({e.lower() for e in emails})
        ids, name_keys = sorted(set(qbo_ids)), sorted({n.lower() for n in names})
        found: dict[str, MirrorCustomerRow] = {}
        for column, values in (
            (MirrorCustomerRow.email_key, email_keys), (MirrorCustomerRow.qbo_id, ids),
            (MirrorCustomerRow.name_key, name_keys),
        ):  # fmt: skip
            for chunk in _chunks(values):
                query = select(MirrorCustomerRow).where(MirrorCustomerRow.company_id == company_id, column.in_(chunk))
                found.update((row.qbo_id, row) for row in self._s.scalars(query))
        return [_customer(row) for row in found.values()]

    def customer(self, company_id: int, qbo_id: str) -> MirrorCustomer | None:
        row = self._customer_rows(company_id, [qbo_id]).get(qbo_id)
        return None if row is None else _customer(row)

    # -- items -----------------------------------------------------------------------------------------
    def put_items(self, company_id: int, items: Sequence[MirrorItem]) -> None:
        self._upsert(_ITEMS, [_item_values(company_id, i) for i in items])

    def items(self, company_id: int, *, skus: Iterable[str] = (), qbo_ids: Iterable[str] = ()) -> list[MirrorItem]:
        """Mirrored items (active or not) with any of these SKUs (case-insensitive) or ids."""
        found: dict[str, MirrorItemRow] = {}
        for column, values in (
            (MirrorItemRow.sku_key, sorted({s.lower() for s in skus})), (MirrorItemRow.qbo_id, sorted(set(qbo_ids))),
        ):  # fmt: skip
            for chunk in _chunks(values):
                query = select(MirrorItemRow).where(MirrorItemRow.company_id == company_id, column.in_(chunk))
                found.update((row.qbo_id, row) for row in self._s.scalars(query))
        return [_item(row) for row in found.values()]

    def item(self, company_id: int, qbo_id: str) -> MirrorItem | None:
        row = self._item_rows(company_id, [qbo_id]).get(qbo_id)
        return None if row is None else _item(row)

    # -- rows ------------------------------------------------------------------------------------------
    def _upsert(self, table: Table, rows: list[dict[str, Any]]) -> None:
        """Insert or update by (company, QBO id) in one statement per chunk: two workers mirroring the same object
        at once both succeed (INSERT … ON CONFLICT DO UPDATE), and an answer older than the stored one (by QBO's
        LastUpdatedTime) never overwrites it."""
        newest: dict[str, dict[str, Any]] = {}
        for row in rows:
            kept = newest.get(row["qbo_id"])
            if kept is None or not _older(row["updated_at"], kept["updated_at"]):
                newest[row["qbo_id"]] = row
        values = [newest[qbo_id] for qbo_id in sorted(newest)]  # one order for every writer: no deadlock
        for start in range(0, len(values), IN_CHUNK):
            statement = upsert_insert(self._s)(table).values(values[start : start + IN_CHUNK])
            fresh = statement.excluded
            changed = {name: fresh[name] for name in values[0] if name not in ("company_id", "qbo_id")}
            not_older = or_(
                fresh.updated_at.is_(None), table.c.updated_at.is_(None), fresh.updated_at >= table.c.updated_at
            )
            self._s.execute(
                statement.on_conflict_do_update(
                    index_elements=[table.c.company_id, table.c.qbo_id], set_=changed, where=not_older
                )
            )

    def _customer_rows(self, company_id: int, qbo_ids: Sequence[str]) -> dict[str, MirrorCustomerRow]:
        rows: dict[str, MirrorCustomerRow] = {}
        for chunk in _chunks(sorted(set(qbo_ids))):
            query = select(MirrorCustomerRow).where(
                MirrorCustomerRow.company_id == company_id, MirrorCustomerRow.qbo_id.in_(chunk)
            )
            rows.update((row.qbo_id, row) for row in self._s.scalars(query))
        return rows

    def _item_rows(self, company_id: int, qbo_ids: Sequence[str]) -> dict[str, MirrorItemRow]:
        rows: dict[str, MirrorItemRow] = {}
        for chunk in _chunks(sorted(set(qbo_ids))):
            query = select(MirrorItemRow).where(MirrorItemRow.company_id == company_id, MirrorItemRow.qbo_id.in_(chunk))
            rows.update((row.qbo_id, row) for row in self._s.scalars(query))
        return rows


def _chunks(values: Sequence[str]) -> Iterable[list[str]]:
    for start in range(0, len(values), IN_CHUNK):
        yield list(values[start : start + IN_CHUNK])


def _older(new: datetime | None, stored: datetime | None) -> bool:
    return new is not None and stored is not None and new < stored


def _customer_values(company_id: int, customer: MirrorCustomer) -> dict[str, Any]:
    return {
        "company_id": company_id, "qbo_id": customer.qbo_id, "display_name": customer.display_name,
        "name_key": customer.display_name.lower(), "email": customer.email,
        "email_key": customer.email.lower() if customer.email else None, "currency": customer.currency,
        "terms_id": customer.terms_id, "active": customer.active, "updated_at": customer.updated_at,
    }  # fmt: skip


def _item_values(company_id: int, item: MirrorItem) -> dict[str, Any]:
    return {
        "company_id": company_id, "qbo_id": item.qbo_id, "name": item.name, "sku": item.sku,
        "sku_key": item.sku.lower() if item.sku else None, "active": item.active, "updated_at": item.updated_at,
    }  # fmt: skip


def _customer(row: MirrorCustomerRow) -> MirrorCustomer:
    return MirrorCustomer(
        row.qbo_id, row.display_name, row.email, row.currency, row.terms_id, row.active, row.updated_at
    )


def _item(row: MirrorItemRow) -> MirrorItem:
    return MirrorItem(row.qbo_id, row.name, row.sku, row.active, row.updated_at)


__all__ = ["SqlQboMirror"]
