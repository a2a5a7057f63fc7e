"""/api/companies/{company_id}/sales-orders/{order_id}/returns: returns of an invoiced SO's delivered quantities and
their QBO credit memos — record one (its credit memo is queued at once), list them, read one, retry one."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from fastapi import APIRouter, Response, status
from pydantic import BaseModel, Field

from invoicebridge.bootstrap import Container
from invoicebridge.domain.orders import MAX_ROWS
from invoicebridge.domain.returns import Return, ReturnState
from invoicebridge.sync.order_reads import OrderView
from invoicebridge.web.api import ERRORS
from invoicebridge.web.auth import App, MemberCompany, ObjectId
from invoicebridge.web.order_schemas import SalesOrderOut
from invoicebridge.web.row_quantities import quantities_by_row
from invoicebridge.web.schemas import AmountIn, Id, QuantityOut, Strict, ZonedTime

router = APIRouter(prefix="/api/companies/{company_id}/sales-orders/{order_id}", tags=["returns"], responses=ERRORS)


class ReturnLineIn(Strict):
    row_id: Id
    quantity: AmountIn


class ReturnIn(Strict):
    lines: list[ReturnLineIn] = Field(
        min_length=1, max_length=MAX_ROWS, description="rows that came back, and how many"
    )
    returned_at: ZonedTime | None = Field(
        None, description="when they came back (the credit memo's date); now if left out"
    )


class ReturnLineOut(BaseModel):
    row_id: int
    quantity: QuantityOut


class ReturnOut(BaseModel):
    number: int = Field(description="counts the SO's returns from 1")
    state: ReturnState
    status: str = Field(description='what users see: "Credit memo created (QBO)", "Credit memo failed", …')
    returned_at: datetime
    lines: list[ReturnLineOut]
    qbo_credit_memo_id: str | None
    doc_number: str | None = Field(description="the credit memo's number in QuickBooks, when it has one")
    url: str | None = Field(None, description="opens the credit memo in QuickBooks")
    error_code: str | None
    error_message: str | None
    error_detail: str | None

    @classmethod
    def of(cls, ret: Return, url: Callable[[str | None], str | None]) -> ReturnOut:
        return cls(
            number=ret.number, state=ret.state, status=ret.status_text, returned_at=ret.created_at,
            lines=[ReturnLineOut(row_id=row_id, quantity=q) for row_id, q in sorted(ret.lines.items())],
            qbo_credit_memo_id=ret.qbo_credit_memo_id, doc_number=ret.doc_number, url=url(ret.qbo_credit_memo_id),
            error_code=ret.error_code, error_message=ret.error_message, error_detail=ret.error_detail,
        )  # fmt: skip


class SalesOrderDetailOut(SalesOrderOut):
    """One SO as its own answer (created, read, changed, delivered): with its returns — left out of lists, which
    would read them for every SO."""

    returns: list[ReturnOut] = Field(description="the SO's returns and their credit memos, oldest first")

    @classmethod
    def detail(cls, app: Container, company_id: int, view: OrderView) -> SalesOrderDetailOut:
        returns = returns_out(app, company_id, app.returns.of_order(company_id, view.order.id or 0))
        return cls(**dict(SalesOrderOut.of(view)), returns=returns)


def returns_out(app: Container, company_id: int, returns: list[Return]) -> list[ReturnOut]:
    urls = app.credit_memo_urls(company_id)
    return [ReturnOut.of(ret, urls) for ret in returns]


def record_and_send(
    app: Container, company_id: int, order_id: int, lines: dict[int, object], at: datetime | None
) -> Return:
    """Record the return, queue its credit memo (a worker sends it; at once in immediate mode), and read it back."""
    recorded = app.returns.record(company_id, order_id, lines, at)
    app.jobs.credit_memo(company_id, order_id, recorded.number)
    return app.returns.get(company_id, order_id, recorded.number)


@router.post("/returns", status_code=status.HTTP_202_ACCEPTED, responses={201: {"model": ReturnOut}})
def create_return(
    company_id: MemberCompany, order_id: ObjectId, body: ReturnIn, app: App, response: Response
) -> ReturnOut:
    """Record a return of delivered, invoiced quantities; its QBO credit memo is made by a worker. 201 when the
    credit memo exists already, else 202 (pending, being made, or failed with its reason: retry it). Refused (422,
    nothing recorded) with a sentence per row: nothing of the SO is invoiced in QuickBooks, a row is unknown, or more
    than was delivered and invoiced (less earlier returns) is returned."""
    ret = record_and_send(app, company_id, order_id, _by_row(body.lines), body.returned_at)
    if ret.state is ReturnState.CREATED:
        response.status_code = status.HTTP_201_CREATED
    return ReturnOut.of(ret, app.credit_memo_urls(company_id))


def _by_row(lines: list[ReturnLineIn]) -> dict[int, object]:
    return quantities_by_row([(line.row_id, line.quantity) for line in lines], "lines", "came back")


@router.get("/returns")
def list_returns(company_id: MemberCompany, order_id: ObjectId, app: App) -> list[ReturnOut]:
    """Every return of the SO, oldest first."""
    return returns_out(app, company_id, app.returns.of_order(company_id, order_id))


@router.get("/returns/{number}")
def get_return(company_id: MemberCompany, order_id: ObjectId, number: ObjectId, app: App) -> ReturnOut:
    return ReturnOut.of(app.returns.get(company_id, order_id, number), app.credit_memo_urls(company_id))


@router.post("/returns/{number}/retry")
def retry_return(company_id: MemberCompany, order_id: ObjectId, number: ObjectId, app: App) -> ReturnOut:
    """Make the return's credit memo now (idempotent: a created one answers as it is; one being made is left to its
    worker)."""
    return ReturnOut.of(app.returns.send(company_id, order_id, number), app.credit_memo_urls(company_id))
