"""Records the QBO side keeps per SO: the audit trail of QBO calls and the COGS journal entry's state."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from decimal import Decimal
from enum import StrEnum

from invoicebridge.domain.errors import InvalidTransition


@dataclass(frozen=True)
class AuditEntry:
    """One QBO request and its answer (tokens never recorded)."""

    at: datetime
    method: str
    path: str
    status: int | None
    request_body: str | None
    response_body: str | None
    intuit_tid: str | None
    duration_ms: int
    error: str | None = None
    sales_order_id: int | None = None


class CogsState(StrEnum):
    NONE = "none"
    POSTING = "posting"
    POSTED = "posted"


@dataclass(frozen=True)
class CogsEntry:
    """A cost-of-goods-sold journal entry (accounting with inventory): the SO's one entry (`delivery_number`
    0, the default rule) or, when the company posts per delivery, the entry of its delivery `delivery_number`."""

    sales_order_id: int
    state: CogsState = CogsState.NONE
    request_id: str | None = None
    journal_entry_id: str | None = None
    amount: Decimal | None = None
    posted_at: datetime | None = None
    last_error: str | None = None
    version: int = 0  # the stored version this entry was read at (0: never stored)
    delivery_number: int = 0
    claimed_at: datetime | None = None  # a worker is posting it since then (None: nobody is)

    def claimed_by_another(self, now: datetime, stale_after: timedelta) -> bool:
        """Whether a worker claimed it recently and may still be posting it (then it is left alone)."""
        return self.claimed_at is not None and now - self.claimed_at < stale_after

    def start(self, request_id: str, amount: Decimal, at: datetime) -> CogsEntry:
        if self.state is CogsState.POSTED:
            raise InvalidTransition("The cost of goods sold of this order is already posted.")
        return replace(
            self, state=CogsState.POSTING, request_id=self.request_id or request_id, amount=amount, claimed_at=at
        )

    def posted(self, journal_entry_id: str, at: datetime) -> CogsEntry:
        return replace(
            self, state=CogsState.POSTED, journal_entry_id=journal_entry_id, posted_at=at, last_error=None,
            claimed_at=None,
        )  # fmt: skip

    def failed(self, error: str) -> CogsEntry:
        """Posting failed, its outcome maybe unknown: it stays `posting` (the next attempt looks first) and is
        released at once for that attempt."""
        return replace(self, last_error=error, claimed_at=None)


def cogs_request_id(company_id: int, sales_order_id: int, delivery_number: int = 0) -> str:
    """One journal entry per SO (or per delivery), ever: the request id does not change with the SO's invoices."""
    return f"ib-{company_id}-cogs-{sales_order_id}" + (f"-d{delivery_number}" if delivery_number else "")
