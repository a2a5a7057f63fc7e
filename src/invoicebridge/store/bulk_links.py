"""Invoice links read and written many at a time with plain statements, for store/invoice_repositories.py: what
the session did object by object — load each link with its events and deliveries, flush a versioned UPDATE per
link and an INSERT per event — in a few statements, without building and tracking a mapped object per row. A
bulk action's batch of 30 invoices is queued, claimed and recorded in a handful of statements (issue 12: the
engine's CPU per invoice).

The session's rules are kept:
- optimistic locking: each UPDATE is guarded by the version the link was read at and bumps it; when one row is not
  updated (another transaction changed it since), the call's Conflict, and nothing of the call is kept (a
  savepoint, so the transaction stays usable);
- only the columns a link changed are written, as a flush writes only changed attributes: a column another writer
  keeps current without bumping the version (the SyncToken stored with a payment balance,
  store/payment_repositories.py) is never set back to what this transaction read; total_amount and balance are
  not written at all;
- the history only grows: the events a link has beyond those it was read with are inserted;
- a unique constraint refusing a new link is the call's Conflict, with nothing added.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from functools import lru_cache
from typing import Any

from sqlalchemy import Table, Update, bindparam, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from invoicebridge.domain import Conflict, InvoiceLink, InvoiceState, LinkEvent
from invoicebridge.store import mapping
from invoicebridge.store.tables import InvoicedDeliveryRow, InvoiceLinkEventRow, InvoiceLinkRow

_LINKS: Table = InvoiceLinkRow.__table__  # type: ignore[assignment]
_EVENTS: Table = InvoiceLinkEventRow.__table__  # type: ignore[assignment]
_COVERS: Table = InvoicedDeliveryRow.__table__  # type: ignore[assignment]
Read = tuple[int, InvoiceLink]  # a link's row id and the link as read (or last written) in this transaction


def read_links(session: Session, company_id: int, sales_order_ids: Sequence[int]) -> list[Read]:
    """Every link of these SOs of the company with its history, ordered by SO and number (two queries)."""
    if not sales_order_ids:
        return []
    mine = (_LINKS.c.company_id == company_id, _LINKS.c.sales_order_id.in_(sales_order_ids))
    rows = session.execute(select(_LINKS).where(*mine).order_by(_LINKS.c.sales_order_id, _LINKS.c.number)).all()
    history: dict[int, list[LinkEvent]] = {}
    events = (
        select(_EVENTS.c.link_id, _EVENTS.c.at, _EVENTS.c.state, _EVENTS.c.note)
        .join(_LINKS, _LINKS.c.id == _EVENTS.c.link_id)
        .where(*mine)
        .order_by(_EVENTS.c.link_id, _EVENTS.c.id)
    )
    for link_id, at, state, note in session.execute(events):
        history.setdefault(link_id, []).append(LinkEvent(at, InvoiceState(state), note))
    return [(row.id, mapping.invoice_link_with(row, tuple(history.get(row.id, ())))) for row in rows]


def update_links(
    session: Session, company_id: int, links: Sequence[InvoiceLink], read: Mapping[tuple[int, int], Read],
    conflict: Conflict,
) -> None:  # fmt: skip
    """Store these transitions of stored links; `read` holds each one's row id and the link as this transaction
    read it, keyed by (SO id, number) (its version is the one the new link was read at). Raises `conflict`, with
    nothing written, when one changed meanwhile."""
    if not links:
        return
    groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    events: list[dict[str, Any]] = []
    for link in links:
        link_id, before = read[(link.sales_order_id, link.number)]
        old = mapping.invoice_link_columns(company_id, before)
        changed = {name: value for name, value in mapping.invoice_link_columns(company_id, link).items()
                   if old[name] != value}  # fmt: skip
        values = {f"v_{name}": value for name, value in changed.items()}
        groups.setdefault(tuple(changed), []).append({**values, "k_id": link_id, "k_version": link.version})
        events.extend(_events(link_id, link, len(before.history)))
    with _savepoint(session, conflict):
        written = sum(session.execute(_update(names), rows).rowcount for names, rows in groups.items())  # type: ignore[attr-defined]
        if written != len(links):  # a row's version moved on: another transaction changed it since it was read
            raise conflict
        if events:
            session.execute(insert(_EVENTS), events)


def insert_links(session: Session, company_id: int, links: Sequence[InvoiceLink], conflict: Conflict) -> list[int]:
    """Store these new links (version 1) with their history and the deliveries they cover; their row ids. Raises
    `conflict`, with nothing added, when a unique constraint refuses one (its number, DocNumber slot or a delivery
    is taken)."""
    if not links:
        return []
    values = [{**mapping.invoice_link_columns(company_id, link), "version": 1} for link in links]
    with _savepoint(session, conflict):
        ids = list(session.scalars(insert(_LINKS).returning(_LINKS.c.id, sort_by_parameter_order=True), values))
        events = [event for link_id, link in zip(ids, links, strict=True) for event in _events(link_id, link, 0)]
        covers = [
            {"delivery_id": delivery_id, "link_id": link_id}
            for link_id, link in zip(ids, links, strict=True)
            for delivery_id in link.delivery_ids
        ]
        if events:
            session.execute(insert(_EVENTS), events)
        if covers:
            session.execute(insert(_COVERS), covers)
    return ids


def _events(link_id: int, link: InvoiceLink, stored: int) -> Iterator[dict[str, Any]]:
    for event in link.history[stored:]:
        yield {"link_id": link_id, "at": event.at, "state": event.state.value, "note": event.note}


@lru_cache(maxsize=64)
def _update(names: tuple[str, ...]) -> Update:
    """UPDATE of these columns of one link, guarded by its version and bumping it (built once per set of columns:
    a batch's links mostly change the same ones)."""
    values: dict[str, Any] = {name: bindparam(f"v_{name}", type_=_LINKS.c[name].type) for name in names}
    return (
        update(_LINKS)
        .where(_LINKS.c.id == bindparam("k_id"), _LINKS.c.version == bindparam("k_version"))
        .values(**values, version=_LINKS.c.version + 1)
    )


@contextmanager
def _savepoint(session: Session, conflict: Conflict) -> Iterator[None]:
    """All or nothing, and the transaction stays usable: as store/repositories.py's flush_or_conflict, a unique
    constraint's refusal becomes `conflict`."""
    try:
        with session.begin_nested():
            yield
    except IntegrityError as error:
        if "unique" in str(error.orig).lower() or "duplicate" in str(error.orig).lower():
            raise conflict from None
        raise
