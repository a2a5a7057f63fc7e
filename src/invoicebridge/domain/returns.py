"""Returns: delivered quantities of an invoiced SO that came back, each return becoming one QBO credit memo.

    pending ──start──▶ creating(request_id, claimed_at) ──succeed──▶ created(qbo id, doc number, sync token)
                          │  ▲ start again: a dead worker's stale claim, taken over (its credit memo looked up first)
                          ▼  │
                        failed(code, message, detail) ──start (retry)──▶ creating

What may be returned, per SO row: what was delivered *and* is on an invoice that exists in QBO, less what earlier
returns of the SO took — every earlier return, whatever its state. A failed return holds its quantities: it is not
given up but retried (its credit memo may even exist, when the failure left the outcome unknown), so letting a
second return take the same quantities could credit the customer twice.

`number` counts the SO's returns from 1 and is never reused, so the QBO request id derived from (company, SO,
number) is new for every return while a retry of one return replays. Pure rules; the store's unique (SO, number)
keeps two concurrent returns from both passing these checks on the same quantities.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from functools import partial

from invoicebridge.domain import checks
from invoicebridge.domain.errors import InvalidTransition, ValidationError
from invoicebridge.domain.money import plain
from invoicebridge.domain.order_invoices import OrderInvoices
from invoicebridge.domain.orders import SO_NUMBER_MAX

MAX_RETURN_LINES = 750  # a credit memo line per returned row; an SO has at most as many rows


class ReturnState(StrEnum):
    PENDING = "pending"
    CREATING = "creating"
    CREATED = "created"
    FAILED = "failed"


RETURN_STATUS_TEXT = {
    ReturnState.PENDING: "Credit memo queued…",
    ReturnState.CREATING: "Creating credit memo…",
    ReturnState.CREATED: "Credit memo created (QBO)",
    ReturnState.FAILED: "Credit memo failed",
}


@dataclass(frozen=True)
class Return:
    """One return of an SO and where its credit memo stands. Immutable: every transition returns a new one."""

    sales_order_id: int
    number: int
    created_at: datetime  # when the goods came back: the credit memo's date
    lines: Mapping[int, Decimal] = field(default_factory=dict)  # SO row id → quantity returned
    state: ReturnState = ReturnState.PENDING
    request_id: str | None = None
    claimed_at: datetime | None = None  # creating: claimed then; failed: when it failed
    qbo_credit_memo_id: str | None = None
    doc_number: str | None = None
    sync_token: str | None = None
    error_code: str | None = None
    error_message: str | None = None
    error_detail: str | None = None
    version: int = 0  # the stored version this return was read at (0: never stored); saving checks it
    id: int | None = None

    def __hash__(self) -> int:  # frozen, but holds a dict: hash by what identifies it
        return hash((self.sales_order_id, self.number, self.version))

    @property
    def status_text(self) -> str:
        return RETURN_STATUS_TEXT[self.state]

    def claimed_by_another(self, now: datetime, stale_after: timedelta) -> bool:
        """Whether a worker claimed it recently and may still be creating the credit memo (then leave it)."""
        return (
            self.state is ReturnState.CREATING and self.claimed_at is not None and now - self.claimed_at < stale_after
        )

    def start(self, request_id: str, at: datetime) -> Return:
        """Claim it to create the credit memo: first try, a retry after a failure, or taking over a stale claim."""
        self._require(at, ReturnState.PENDING, ReturnState.FAILED, ReturnState.CREATING)
        return replace(
            self, state=ReturnState.CREATING, request_id=request_id, claimed_at=at,
            error_code=None, error_message=None, error_detail=None,
        )  # fmt: skip

    def sending(self, at: datetime) -> Return:
        """Its worker is alive and sends now: the claim is renewed, so no sweeper takes it over meanwhile."""
        self._require(at, ReturnState.CREATING)
        return replace(self, claimed_at=at)

    def succeed(self, qbo_id: str, doc_number: str | None, sync_token: str, at: datetime) -> Return:
        self._require(at, ReturnState.CREATING)
        return replace(
            self, state=ReturnState.CREATED, qbo_credit_memo_id=qbo_id, doc_number=doc_number,
            sync_token=sync_token, claimed_at=None,
        )  # fmt: skip

    def fail(self, code: str, message: str, detail: str, at: datetime) -> Return:
        """Creating failed; the return keeps its lines and can be retried. `claimed_at` keeps the failure's time
        (nobody holds a failed return): a sweeper retries an uncertain failure a while after it."""
        self._require(at, ReturnState.CREATING)
        return replace(
            self, state=ReturnState.FAILED, error_code=code, error_message=message, error_detail=detail, claimed_at=at
        )

    def _require(self, at: datetime, *states: ReturnState) -> None:
        if at.tzinfo is None:
            raise ValueError("transition times must be timezone-aware")
        if self.state not in states:
            allowed = " or ".join(RETURN_STATUS_TEXT[s] for s in states)
            raise InvalidTransition(f"This return is '{self.status_text}'; this step needs '{allowed}'.")


def returned_quantities(returns: Iterable[Return]) -> dict[int, Decimal]:
    """Σ quantity per row id over these returns (every state: a failed return is retried, so it holds its part)."""
    total: dict[int, Decimal] = {}
    for earlier in returns:
        for row_id, quantity in earlier.lines.items():
            total[row_id] = total.get(row_id, Decimal(0)) + quantity
    return total


def returnable(invoices: OrderInvoices, returns: Iterable[Return]) -> dict[int, Decimal]:
    """Per row id, how much may still be returned: delivered and on an invoice in QBO, less earlier returns."""
    invoiced = invoices.invoiced_quantities()
    taken = returned_quantities(returns)
    left: dict[int, Decimal] = {}
    for row in invoices.order.rows:
        row_id = row.id or 0
        billed = min(row.delivered_quantity, invoiced.get(row_id, Decimal(0)))
        left[row_id] = max(billed - taken.get(row_id, Decimal(0)), Decimal(0))
    return left


def plan_return(
    invoices: OrderInvoices, earlier: Iterable[Return], lines: Mapping[int, object], at: datetime
) -> Return:
    """The SO's next return, of `lines` (row id → quantity), dated `at`. ValidationError naming every refused row
    (with nothing stored): the SO has nothing on an invoice in QBO, a row is unknown, a quantity is not more than
    0, or more than was delivered and invoiced and not returned yet."""
    earlier = tuple(earlier)
    order = invoices.order
    check = checks.Checker()
    if at.tzinfo is None or at.utcoffset() is None:
        check.refuse("returned_at", "The time must carry a time zone (for example 2026-05-01T09:30:00+02:00).")
    if not invoices.invoiced_quantities():
        raise ValidationError.single(
            "lines",
            f"{order.number} is not invoiced in QuickBooks: only delivered quantities on an invoice can be returned.",
        )
    if not lines:
        check.refuse("lines", "Say which rows came back and how many.")
    elif len(lines) > MAX_RETURN_LINES:
        check.refuse("lines", f"A return can have at most {MAX_RETURN_LINES} lines.")
    left = returnable(invoices, earlier)
    by_id = {row.id: row for row in order.rows}
    accepted: dict[int, Decimal] = {}
    for row_id, asked in lines.items():
        where = f"lines[{row_id}].quantity"
        row = by_id.get(row_id)
        if row is None:
            check.refuse(where, f"{order.number} has no row {row_id}.")
            continue
        what = f"The quantity returned of row {row_id}"
        quantity: Decimal | None = check.run(where, partial(checks.positive, asked, where, what), None)
        if quantity is None:
            continue
        if quantity > left[row_id]:
            check.refuse(where, _too_many(invoices, earlier, row_id, quantity))
        else:
            accepted[row_id] = quantity
    check.done()
    number = max((r.number for r in earlier), default=0) + 1
    return Return(order.id or 0, number, at, accepted)


def _too_many(invoices: OrderInvoices, earlier: tuple[Return, ...], row_id: int, quantity: Decimal) -> str:
    row = next(r for r in invoices.order.rows if r.id == row_id)
    invoiced = invoices.invoiced_quantities().get(row_id, Decimal(0))
    taken = returned_quantities(earlier).get(row_id, Decimal(0))
    if row.delivered_quantity == 0:
        return f"Nothing of row {row_id} is delivered, so nothing of it can be returned."
    if invoiced == 0:
        return f"Row {row_id} is not on an invoice in QuickBooks yet: invoice its delivery before returning it."
    billed = min(row.delivered_quantity, invoiced)
    already = f", {plain(taken)} of them already returned" if taken else ""
    return f"Cannot return {plain(quantity)} of row {row_id}: {plain(billed)} were delivered and invoiced{already}."


# -- QBO identifiers ---------------------------------------------------------------------------------------------
REQUEST_ID_MAX = 50  # as for invoices (domain/invoice_link.py): within what QBO is known to take
_READABLE = re.compile(r"^(ib-\d+-so-\d+-r\d+)(?:-a(\d+))?$")


def return_request_id(company_id: int, sales_order_id: int, number: int) -> str:
    """QBO `requestid` for the credit memo of the SO's return `number`: fixed per return, so a retry replays.
    Readable ("ib-3-so-42-r1") while it fits REQUEST_ID_MAX, else a digest of the same numbers. ValueError unless
    all three are positive integers."""
    parts = (company_id, sales_order_id, number)
    if any(isinstance(n, bool) or not isinstance(n, int) or n < 1 for n in parts):
        raise ValueError(f"request ids are made from positive integers, not {parts!r}")
    readable = f"ib-{company_id}-so-{sales_order_id}-r{number}"
    return readable if len(readable) <= REQUEST_ID_MAX else _digest(readable)


def after_refusal(request_id: str) -> str:
    """The request id for a corrected retry after QBO refused the credit memo (and so made none): QBO would replay
    its refusal to the same id. Deterministic: "…-r1" → "…-r1-a2" → "…-r1-a3", a digest chain past the limit."""
    match = _READABLE.match(request_id)
    if match is not None:
        attempt = int(match.group(2) or 1) + 1
        readable = f"{match.group(1)}-a{attempt}"
        if len(readable) <= REQUEST_ID_MAX:
            return readable
    return _digest(request_id + "/next")


def _digest(key: str) -> str:
    return "ib-h-" + hashlib.sha256(key.encode()).hexdigest()[: REQUEST_ID_MAX - 5]


def credit_memo_number(order_number: str, number: int) -> str | None:
    """The credit memo's DocNumber ("SO-1042-R1"), or None when it would pass QBO's 21 characters: then none is
    sent and QBO numbers the credit memo itself (an SO number shortened here could clash with another's)."""
    text = f"{order_number}-R{number}"
    return text if len(text) <= SO_NUMBER_MAX else None
