"""The month at a glance (the overview screen): SOs invoiced and failed per day of the current month, the
invoices failed now grouped by reason, and the company's QBO requests this month counted by method.

Read-only. "This month" and "per day" are the company's calendar (its time zone), not UTC. Every read goes
through the unit of work's `overview` repository, which is scoped by company: another company's invoices and
requests never count.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

from invoicebridge.domain import InvoiceLink, InvoiceState, LinkEvent
from invoicebridge.sync.ports import UnitOfWorkFactory

Clock = Callable[[], datetime]
FAILED_SHOWN = 200  # failed invoices listed by reason; the counts cover every one of them


class OverviewRepository(Protocol):
    """Aggregate reads for the overview, every one scoped by company (the store's overview_queries)."""

    def outcomes(self, company_id: int, start: datetime, end: datetime) -> list[tuple[int, LinkEvent]]:
        """(SO id, event) of every `invoiced` and `failed` step of the company's invoices in [start, end)."""
        ...

    def failed_invoices(self, company_id: int, limit: int) -> list[tuple[str, InvoiceLink]]:
        """(SO number, invoice) of the invoices whose last attempt failed, latest failures first, at most `limit`."""
        ...

    def failure_counts(self, company_id: int) -> dict[str, int]:
        """How many invoices are failed now, by error code."""
        ...

    def calls(self, company_id: int, start: datetime, end: datetime) -> dict[str, tuple[int, int]]:
        """QBO requests in [start, end) from the audit trail: method → (requests, refused or unanswered)."""
        ...


@dataclass(frozen=True)
class Day:
    day: date
    invoiced: int  # SOs with an invoice created in QBO that day
    failed: int  # SOs with an invoicing attempt that failed that day


@dataclass(frozen=True)
class FailedInvoice:
    sales_order_id: int
    number: str  # the SO's number
    message: str
    failed_at: datetime | None


@dataclass(frozen=True)
class Reason:
    """The invoices failed now for one reason (error code)."""

    code: str
    message: str | None  # the sentence, when every failure listed says the same; else each invoice has its own
    count: int  # every invoice failed for this reason (more than `invoices` may list)
    invoices: tuple[FailedInvoice, ...]

    @property
    def more(self) -> int:
        return self.count - len(self.invoices)


@dataclass(frozen=True)
class Calls:
    method: str
    count: int
    refused: int  # answered with an error status, or not answered at all


@dataclass(frozen=True)
class Month:
    first: date  # the month's first day
    today: date
    days: tuple[Day, ...]  # every day of the month, the 1st to the last (days after today count nothing)
    invoiced: int  # distinct SOs with an invoice created this month
    failed: int  # distinct SOs with an attempt failed this month
    reasons: tuple[Reason, ...]  # invoices failed now, most frequent reason first
    calls: tuple[Calls, ...]  # by method

    @property
    def failing_now(self) -> int:
        return sum(reason.count for reason in self.reasons)

    @property
    def total_calls(self) -> int:
        return sum(c.count for c in self.calls)

    @property
    def busy_days(self) -> tuple[Day, ...]:
        """The days with an SO invoiced or failed, and today."""
        return tuple(d for d in self.days if d.invoiced or d.failed or d.day == self.today)


class Overview:
    def __init__(self, uow: UnitOfWorkFactory, now: Clock) -> None:
        self._uow, self._now = uow, now

    def month(self, company_id: int) -> Month:
        """The current month (in the company's time zone) at a glance. Raises NotFound for no such company."""
        with self._uow() as uow:
            zone = uow.companies.get(company_id).zone
            today = self._now().astimezone(zone).date()
            first = today.replace(day=1)
            start, end = _midnight(first, zone), _midnight(_next_month(first), zone)
            outcomes = uow.overview.outcomes(company_id, start, end)
            failed = uow.overview.failed_invoices(company_id, FAILED_SHOWN)
            counts = uow.overview.failure_counts(company_id)
            calls = uow.overview.calls(company_id, start, end)
        invoiced = {so for so, event in outcomes if event.state is InvoiceState.INVOICED}
        failed_sos = {so for so, event in outcomes if event.state is InvoiceState.FAILED}
        return Month(
            first, today, _days(first, outcomes, zone), len(invoiced), len(failed_sos), _reasons(failed, counts),
            tuple(Calls(method, n, bad) for method, (n, bad) in sorted(calls.items())),
        )  # fmt: skip


def _midnight(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(), tzinfo=zone).astimezone(UTC)


def _next_month(first: date) -> date:
    return (first + timedelta(days=32)).replace(day=1)


def _days(first: date, outcomes: Sequence[tuple[int, LinkEvent]], zone: ZoneInfo) -> tuple[Day, ...]:
    """Per day of the month: how many SOs were invoiced and how many failed (an SO counts once a day each)."""
    seen: dict[tuple[date, InvoiceState], set[int]] = defaultdict(set)
    for so_id, event in outcomes:
        seen[(event.at.astimezone(zone).date(), event.state)].add(so_id)
    last = _next_month(first) - timedelta(days=1)
    days = (first + timedelta(days=n) for n in range((last - first).days + 1))
    return tuple(
        Day(d, len(seen.get((d, InvoiceState.INVOICED), ())), len(seen.get((d, InvoiceState.FAILED), ()))) for d in days
    )


def _reasons(failed: Sequence[tuple[str, InvoiceLink]], counts: dict[str, int]) -> tuple[Reason, ...]:
    listed: dict[str, list[FailedInvoice]] = defaultdict(list)
    for number, link in failed:
        at = link.history[-1].at if link.history else None
        listed[link.error_code or "error"].append(
            FailedInvoice(link.sales_order_id, number, link.error_message or "", at)
        )
    reasons = []
    for code, count in counts.items():
        invoices = tuple(sorted(listed.get(code, ()), key=lambda f: f.number))
        sentences = {f.message for f in invoices}
        reasons.append(Reason(code, sentences.pop() if len(sentences) == 1 else None, count, invoices))
    return tuple(sorted(reasons, key=lambda r: (-r.count, r.code)))
