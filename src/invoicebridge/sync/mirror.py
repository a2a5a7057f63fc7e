"""A company's mirror of its QBO customers and items (DESIGN §3, "Few API calls"): loaded whole once, then kept
current by what QBO tells us anyway — the answers to our own creates, the CDC poll and webhooks — so matching
reads no QBO in the steady state. QBO stays the truth: when a create is refused as a duplicate, or an invoice as
naming an inactive or deleted object, the entries concerned are read again (``refresh_*``) and matching runs
again; and before anything is created, the names it would take are looked up once, so a stale mirror never
leads to a second customer or item."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from invoicebridge.domain.qbo_mirror import MirrorCustomer, MirrorItem
from invoicebridge.qbo.client import QboClient
from invoicebridge.sync.ports import UnitOfWorkFactory

log = logging.getLogger(__name__)
CUSTOMER, ITEM = "Customer", "Item"
IN_CHUNK = 100  # values per IN (…) in one QBO query: well under its statement and URL limits
ANY_ACTIVE = "Active IN (true, false)"  # QBO hides inactive objects unless a query asks for them


def quote(value: str) -> str:
    """A QBO query string literal: single quotes, backslash-escaped."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


class Mirror:
    def __init__(self, uow: UnitOfWorkFactory, now: Callable[[], datetime]) -> None:
        self._uow, self._now = uow, now

    def ensure_loaded(self, company_id: int, realm_id: str, client: QboClient) -> bool:
        """Load the mirror whole (every active customer and item, 1,000 a read) unless it is loaded for this
        realm. True when it loaded now."""
        with self._uow() as uow:
            state = uow.qbo_mirror.state(company_id)
        if state is not None and state.realm_id == realm_id:
            return False
        started = self._now()
        customers = [customer_of(row) for row in client.query_all(CUSTOMER)]
        items = [item_of(row) for row in client.query_all(ITEM)]
        try:
            with self._uow() as uow:
                uow.qbo_mirror.clear(company_id)
                uow.qbo_mirror.put_customers(company_id, customers)
                uow.qbo_mirror.put_items(company_id, items)
                uow.qbo_mirror.mark_loaded(company_id, realm_id, started)
                uow.commit()
        except Exception:
            with self._uow() as uow:
                state = uow.qbo_mirror.state(company_id)
            if state is None or state.realm_id != realm_id:
                raise
            return False  # another worker loaded it at the same moment
        log.info("QBO mirror of company %s loaded: %d customers, %d items", company_id, len(customers), len(items))
        return True

    def apply(self, company_id: int, entity: str, rows: Iterable[Mapping[str, Any]]) -> None:
        """What QBO answered or announced about customers or items (create answers, CDC, reads); a tombstone
        (``{"status": "Deleted", "Id": …}``) makes the entry inactive. Other entities are ignored."""
        rows = list(rows)
        if entity not in (CUSTOMER, ITEM) or not rows:
            return
        gone = [str(row["Id"]) for row in rows if row.get("status") == "Deleted"]
        live = [row for row in rows if row.get("status") != "Deleted"]
        with self._uow() as uow:
            mirror = uow.qbo_mirror
            if entity == CUSTOMER:
                mirror.put_customers(company_id, [customer_of(row) for row in live])
                known = mirror.customers(company_id, qbo_ids=gone)
                mirror.put_customers(company_id, [replace(c, active=False, updated_at=None) for c in known])
            else:
                mirror.put_items(company_id, [item_of(row) for row in live])
                known_items = mirror.items(company_id, qbo_ids=gone)
                mirror.put_items(company_id, [replace(i, active=False, updated_at=None) for i in known_items])
            uow.commit()

    def knows(self, company_id: int, entity: str, qbo_id: str, changed_at: datetime) -> bool:
        """Whether the mirror already holds the object as of ``changed_at`` (a webhook about our own create)."""
        with self._uow() as uow:
            if entity == CUSTOMER:
                found: MirrorCustomer | MirrorItem | None = uow.qbo_mirror.customer(company_id, qbo_id)
            else:
                found = uow.qbo_mirror.item(company_id, qbo_id)
        return found is not None and found.updated_at is not None and found.updated_at >= changed_at

    def refresh_customers(
        self, company_id: int, client: QboClient, *, emails: Sequence[str] = (), names: Sequence[str] = (),
        qbo_ids: Sequence[str] = (),
    ) -> None:  # fmt: skip
        """Read these customers from QBO (active or not) into the mirror; ids QBO no longer has become inactive."""
        rows = _look_up(client, CUSTOMER, "PrimaryEmailAddr", emails) + _look_up(client, CUSTOMER, "DisplayName", names)
        by_id = _look_up(client, CUSTOMER, "Id", qbo_ids)
        self.apply(company_id, CUSTOMER, rows + by_id + _tombstones(qbo_ids, by_id))

    def refresh_items(
        self, company_id: int, client: QboClient, *, skus: Sequence[str] = (), names: Sequence[str] = (),
        qbo_ids: Sequence[str] = (),
    ) -> None:  # fmt: skip
        """Read these items from QBO (active or not) into the mirror; ids QBO no longer has become inactive."""
        rows = _look_up(client, ITEM, "Sku", skus) + _look_up(client, ITEM, "Name", names)
        by_id = _look_up(client, ITEM, "Id", qbo_ids)
        self.apply(company_id, ITEM, rows + by_id + _tombstones(qbo_ids, by_id))

    def item_named(self, company_id: int, client: QboClient, name: str) -> MirrorItem | None:
        """The QBO item with this name, active or not (QBO keeps item names unique), read from QBO (one query) into
        the mirror — which indexes items by SKU only; None when QBO has none."""
        rows = _look_up(client, ITEM, "Name", [name])
        self.apply(company_id, ITEM, rows)
        found = [item_of(row) for row in rows if str(row.get("Name") or "").lower() == name.lower()]
        return min(found, key=lambda item: not item.active) if found else None


def _look_up(client: QboClient, entity: str, field: str, values: Sequence[str]) -> list[dict[str, Any]]:
    unique = sorted(set(values))
    found: list[dict[str, Any]] = []
    for start in range(0, len(unique), IN_CHUNK):
        listed = ", ".join(quote(value) for value in unique[start : start + IN_CHUNK])
        found.extend(client.query_all(entity, f"{field} IN ({listed}) AND {ANY_ACTIVE}"))
    return found


def _tombstones(asked: Sequence[str], found: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    present = {str(row.get("Id")) for row in found}
    return [{"status": "Deleted", "Id": qbo_id} for qbo_id in set(asked) - present]


def customer_of(row: Mapping[str, Any]) -> MirrorCustomer:
    return MirrorCustomer(
        qbo_id=str(row["Id"]),
        display_name=str(row.get("DisplayName") or ""),
        email=_text((row.get("PrimaryEmailAddr") or {}).get("Address")),
        currency=_text((row.get("CurrencyRef") or {}).get("value")),
        terms_id=_text((row.get("SalesTermRef") or {}).get("value")),
        active=row.get("Active", True) is not False,
        updated_at=_updated(row),
    )


def item_of(row: Mapping[str, Any]) -> MirrorItem:
    return MirrorItem(
        qbo_id=str(row["Id"]),
        name=str(row.get("Name") or "")[:100],
        sku=_text(row.get("Sku")),
        active=row.get("Active", True) is not False,
        updated_at=_updated(row),
    )


def _text(value: object) -> str | None:
    return str(value) if value not in (None, "") else None


def _updated(row: Mapping[str, Any]) -> datetime | None:
    stamp = (row.get("MetaData") or {}).get("LastUpdatedTime")
    try:
        parsed = datetime.fromisoformat(str(stamp)) if stamp else None
    except ValueError:
        return None
    return parsed if parsed is None or parsed.tzinfo is not None else None
