"""An SO's returns and the state of their credit memos (domain/returns.py). Every query filters by company; the
row's version makes a claim optimistic (two workers cannot both claim one return), the unique (SO, number) keeps
two concurrent returns from both being recorded on the same quantities."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from invoicebridge.domain import Conflict, NotFound, SalesOrder
from invoicebridge.domain.checks import is_id
from invoicebridge.domain.returns import Return, ReturnState
from invoicebridge.store.repositories import flush_or_conflict
from invoicebridge.store.return_tables import ReturnLineRow, ReturnRow
from invoicebridge.store.tables import SalesOrderRow

CHANGED = "This return was changed at the same time; look at it again."
TAKEN = "Another return of this order was recorded at the same time; look at what is left to return and try again."


class SqlReturns:
    def __init__(self, session: Session) -> None:
        self._s = session

    def of_order(self, company_id: int, sales_order_id: int) -> list[Return]:
        """Every return of the SO, oldest first (none for another company's SO)."""
        if not is_id(sales_order_id):
            return []
        query = (
            select(ReturnRow)
            .where(ReturnRow.company_id == company_id, ReturnRow.sales_order_id == sales_order_id)
            .order_by(ReturnRow.number)
            .execution_options(populate_existing=True)
        )
        return [_return(row) for row in self._s.scalars(query)]

    def get(self, company_id: int, sales_order_id: int, number: int) -> Return:
        """The SO's return `number`; NotFound (also for another company's)."""
        row = self._row(company_id, sales_order_id, number)
        if row is None:
            raise NotFound("return", number)
        return _return(row)

    def add(self, company_id: int, order: SalesOrder, ret: Return) -> Return:
        """Store a new return of `order` (which must be this company's). Conflict when its number was taken by a
        concurrent return: what is left to return must be worked out again."""
        if order.company_id != company_id or order.id != ret.sales_order_id:
            raise NotFound("sales order", ret.sales_order_id)
        row = ReturnRow(
            company_id=company_id, sales_order_id=ret.sales_order_id, number=ret.number, created_at=ret.created_at,
            lines=[ReturnLineRow(row_id=row_id, quantity=q) for row_id, q in sorted(ret.lines.items())],
        )  # fmt: skip
        _fill(row, ret)
        self._s.add(row)
        flush_or_conflict(self._s, Conflict("return", TAKEN))
        return _return(row)

    def save(self, company_id: int, ret: Return) -> Return:
        """A transition of a stored return; Conflict when it changed since `ret` was read."""
        row = self._row(company_id, ret.sales_order_id, ret.number)
        if row is None or row.version != ret.version:
            raise Conflict("return", CHANGED)
        _fill(row, ret)
        flush_or_conflict(self._s, Conflict("return", CHANGED))
        return _return(row)

    def unsettled(
        self, claimed_before: datetime, pending_before: datetime, failed_before: datetime,
        uncertain_codes: Iterable[str], limit: int,
    ) -> list[tuple[int, int, int]]:  # fmt: skip
        """(company id, SO id, number) of returns a sweeper must send again: claims left `creating` by a dead
        worker, `pending` ones whose job was lost, failures whose outcome is uncertain; oldest first."""
        stamp = ReturnRow.claimed_at  # the last attempt's time (a failure keeps it)
        since = func.coalesce(ReturnRow.claimed_at, ReturnRow.created_at)
        query = (
            select(ReturnRow.company_id, ReturnRow.sales_order_id, ReturnRow.number)
            .where(
                or_(
                    and_(ReturnRow.state == ReturnState.CREATING.value, stamp < claimed_before),
                    and_(ReturnRow.state == ReturnState.PENDING.value, since < pending_before),
                    and_(
                        ReturnRow.state == ReturnState.FAILED.value,
                        ReturnRow.error_code.in_(sorted(uncertain_codes)),
                        stamp < failed_before,
                    ),
                )
            )
            .order_by(ReturnRow.id)
            .limit(limit)
        )
        return [(company, order, number) for company, order, number in self._s.execute(query)]

    def _row(self, company_id: int, sales_order_id: int, number: int) -> ReturnRow | None:
        if not is_id(sales_order_id) or not is_id(number):
            return None
        query = (
            select(ReturnRow)
            .join(SalesOrderRow, SalesOrderRow.id == ReturnRow.sales_order_id)
            .where(
                ReturnRow.company_id == company_id,
                SalesOrderRow.company_id == company_id,
                ReturnRow.sales_order_id == sales_order_id,
                ReturnRow.number == number,
            )
            .execution_options(populate_existing=True)
        )
        return self._s.scalars(query).one_or_none()


def _fill(row: ReturnRow, ret: Return) -> None:
    row.state, row.request_id, row.claimed_at = ret.state.value, ret.request_id, ret.claimed_at
    row.qbo_credit_memo_id, row.doc_number, row.sync_token = ret.qbo_credit_memo_id, ret.doc_number, ret.sync_token
    row.error_code, row.error_message, row.error_detail = ret.error_code, ret.error_message, ret.error_detail


def _return(row: ReturnRow) -> Return:
    return Return(
        row.sales_order_id, row.number, row.created_at, {line.row_id: line.quantity for line in row.lines},
        ReturnState(row.state), row.request_id, row.claimed_at, row.qbo_credit_memo_id, row.doc_number,
        row.sync_token, row.error_code, row.error_message, row.error_detail, row.version, row.id,
    )  # fmt: skip
