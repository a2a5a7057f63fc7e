"""Payment status (domain/payments.py) as the store keeps it: each invoice's `TotalAmt` and `Balance` as QBO last
reported them (invoice_links.total_amount, balance; NULL: not read yet) and each SO's status derived from its live
invoices (sales_orders.payment_status, so lists can filter on it; NULL: the company does not track payments, or
the SO has no invoice in QBO).

Balances are written by their own UPDATEs, never through an invoice link's save, and do not bump the link's
version: a link saved from an older copy does not carry balances (store/mapping.py leaves them alone), and a
balance read must not make a concurrent invoicing or deletion fail its version check. A balance is replaced only
by one QBO reported at the same or a later SyncToken, so two readers finishing out of order keep the newer one.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Table, bindparam, select, update
from sqlalchemy.orm import Session

from invoicebridge.domain import InvoiceState
from invoicebridge.domain.payments import InvoiceBalance, payment_status_of
from invoicebridge.store.tables import ConnectionRow, InvoiceLinkRow, SalesOrderRow

CHUNK = 500  # ids per IN (…)
_ORDERS: Table = SalesOrderRow.__table__  # type: ignore[assignment]
_LINKS: Table = InvoiceLinkRow.__table__  # type: ignore[assignment]
_INVOICED = InvoiceState.INVOICED.value


class SqlPayments:
    def __init__(self, session: Session) -> None:
        self._s = session

    def tracked(self, company_id: int) -> bool:
        """Whether the company opted in to payment status (its QuickBooks settings)."""
        return tracks_payments(self._s, company_id)

    def ours(self, company_id: int, qbo_invoice_ids: Sequence[str]) -> set[str]:
        """Which of these QBO invoices are invoices of the company's SOs that exist in QBO (`invoiced`)."""
        found: set[str] = set()
        ids = sorted({str(i) for i in qbo_invoice_ids})
        for start in range(0, len(ids), CHUNK):
            query = select(InvoiceLinkRow.qbo_invoice_id).where(
                InvoiceLinkRow.company_id == company_id, InvoiceLinkRow.state == _INVOICED,
                InvoiceLinkRow.qbo_invoice_id.in_(ids[start : start + CHUNK]),
            )  # fmt: skip
            found.update(str(i) for i in self._s.scalars(query))
        return found

    def unread(self, company_id: int, limit: int) -> list[str]:
        """QBO ids of up to `limit` of the company's invoices in QBO whose balance was never read, oldest first."""
        query = (
            select(InvoiceLinkRow.qbo_invoice_id)
            .where(InvoiceLinkRow.company_id == company_id, InvoiceLinkRow.state == _INVOICED,
                   InvoiceLinkRow.balance.is_(None), InvoiceLinkRow.qbo_invoice_id.is_not(None))
            .order_by(InvoiceLinkRow.id)
            .limit(limit)
        )  # fmt: skip
        return [str(i) for i in self._s.scalars(query)]

    def record(self, company_id: int, balances: Mapping[str, InvoiceBalance]) -> list[int]:
        """Store what QBO reported for these invoices (QBO id → balance) and their SOs' payment status; invoices
        that are not the company's, and reports older than the stored one (SyncToken), change nothing. Returns
        the SOs whose payment status changed."""
        touched: set[int] = set()
        ids = sorted(balances)
        for start in range(0, len(ids), CHUNK):
            query = select(_LINKS.c.id, _LINKS.c.sales_order_id, _LINKS.c.qbo_invoice_id, _LINKS.c.sync_token).where(
                _LINKS.c.company_id == company_id, _LINKS.c.state == _INVOICED,
                _LINKS.c.qbo_invoice_id.in_(ids[start : start + CHUNK]),
            )  # fmt: skip
            for row in self._s.execute(query).all():
                if self._write(row, balances[str(row.qbo_invoice_id)]):
                    touched.add(row.sales_order_id)
        return recompute(self._s, company_id, sorted(touched)) if touched and self.tracked(company_id) else []

    def track(self, company_id: int, on: bool) -> None:
        """Tracking turned on: every SO's status from the balances known (unread invoices count as unpaid until
        they are read); off: every status and balance forgotten — they would only go stale."""
        if on:
            query = select(_LINKS.c.sales_order_id).where(_LINKS.c.company_id == company_id).distinct()
            recompute(self._s, company_id, sorted(self._s.scalars(query)))
            return
        self._s.execute(update(_ORDERS).where(_ORDERS.c.company_id == company_id).values(payment_status=None))
        self._s.execute(update(_LINKS).where(_LINKS.c.company_id == company_id).values(total_amount=None, balance=None))

    def _write(self, row: Any, reported: InvoiceBalance) -> bool:
        """One invoice's balance, unless the stored SyncToken is newer (compare-and-set on the token read)."""
        stored, new = row.sync_token, reported.sync_token
        if not _not_older(new, stored):
            return False
        same_token = _LINKS.c.sync_token.is_(None) if stored is None else _LINKS.c.sync_token == stored
        written = self._s.execute(
            update(_LINKS)
            .where(_LINKS.c.id == row.id, same_token)
            .values(total_amount=reported.total, balance=reported.balance, sync_token=new or stored)
        )
        return bool(written.rowcount)  # type: ignore[attr-defined]


def tracks_payments(session: Session, company_id: int) -> bool:
    settings = session.scalar(select(ConnectionRow.settings).where(ConnectionRow.company_id == company_id))
    return bool((settings or {}).get("track_payments", False))


def refresh_statuses(session: Session, company_id: int, sales_order_ids: Sequence[int]) -> None:
    """The SOs' payment status from their invoices as they are now, when the company tracks payments; called
    whenever an SO's invoices are added, invoiced or deleted (store/invoice_repositories.py)."""
    if sales_order_ids and tracks_payments(session, company_id):
        recompute(session, company_id, sales_order_ids)


def recompute(session: Session, company_id: int, sales_order_ids: Sequence[int]) -> list[int]:
    """Write the SOs' payment status from their live invoices' balances; returns those whose status changed."""
    changed: list[int] = []
    ids = sorted(set(sales_order_ids))
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        links = session.execute(
            select(_LINKS.c.sales_order_id, _LINKS.c.total_amount, _LINKS.c.balance).where(
                _LINKS.c.company_id == company_id, _LINKS.c.state == _INVOICED, _LINKS.c.sales_order_id.in_(chunk)
            )
        ).all()
        balances: dict[int, list[InvoiceBalance | None]] = {so_id: [] for so_id in chunk}
        for so_id, total, balance in links:
            known = total is not None and balance is not None
            balances[so_id].append(InvoiceBalance(total, balance) if known else None)
        current = dict(
            session.execute(
                select(_ORDERS.c.id, _ORDERS.c.payment_status).where(
                    _ORDERS.c.company_id == company_id, _ORDERS.c.id.in_(chunk)
                )
            ).all()
        )
        wanted = {so_id: payment_status_of(balances[so_id]) for so_id in chunk if so_id in current}
        moved = {
            so_id: s.value if s else None for so_id, s in wanted.items() if current[so_id] != (s.value if s else None)
        }
        if moved:
            session.connection().execute(
                update(_ORDERS).where(_ORDERS.c.id == bindparam("so_id")).values(payment_status=bindparam("status")),
                [{"so_id": so_id, "status": status} for so_id, status in moved.items()],
            )
            changed += list(moved)
    return changed


def _not_older(new: str | None, stored: str | None) -> bool:
    """Whether a report at SyncToken `new` may replace one at `stored` (QBO's tokens are counters; anything else,
    or a missing token, cannot be compared and is taken as new)."""
    if new is None or stored is None or not (new.isdigit() and stored.isdigit()):
        return True
    return int(new) >= int(stored)
