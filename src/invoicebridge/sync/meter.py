"""The meter: every QBO call counted per company and calendar month (UTC) as Core or CorePlus.

Intuit meters its Accounting API in two classes (qbo-reference.md, "Metering"; Intuit developer blog, "Best
practices for Intuit API optimization, part 1", 2025-08-11):

- **Core**, data in: create, update (full or sparse), delete, void — a POST to an entity. Not metered.
- **CorePlus**, data out: reads (GET of an entity), queries, CDC, Preferences, CompanyInfo. Metered: on the free
  Builder tier an app gets 500,000 a month across all its companies, then every CorePlus call is blocked until
  the next month and the app shows as "Offline" inside QuickBooks.
- A batch request is CorePlus when any of its items is a ``Query``, else Core. Intuit does not say how it meters
  batch and CDC; counting a read inside a batch, and CDC, as CorePlus is the cautious reading.
- OAuth (token, refresh, revoke, discovery) is not metered. Those calls never pass through ``QboClient``, and a
  path outside ``/company/{realm}/`` is not counted here either.

Which attempts count — every attempt QBO may have served, retries included, each on its own:

- an answer with any status but **429** (throttled: QBO refused to serve it) and **401** (the token was refused
  before the request reached the accounting API). Refusals (400, 404, …) and 5xx answers count: Intuit does not
  say it leaves them out, and under a cap that takes the app offline, counting one too many is the safe side;
- no answer after the request was sent (timeout, connection dropped mid-answer): QBO may have served it;
- not an attempt whose connection never opened (``ConnectError``, ``ConnectTimeout``): nothing reached QBO.

The :class:`Meter` adds each counted attempt to the store in its own short transaction (one small write a call,
nothing at QBO's rates), apart from any transaction of the caller. Counting never fails a QBO call: a failure to
count is logged and the call goes on. Past ``warn_percent`` of the monthly CorePlus budget — the deployment's
total, since Intuit's cap is per app — the usage says so wherever it is shown, and each process logs a warning
once a month (it looks at the total at most once a minute).
"""

from __future__ import annotations

import json
import logging
import re
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import Enum

from invoicebridge.qbo.client import Exchange
from invoicebridge.sync.gateway import Recorder
from invoicebridge.sync.ports import UnitOfWorkFactory

__all__ = [
    "Budget",
    "CallClass",
    "Meter",
    "MonthUsage",
    "Usage",
    "call_class",
    "counted",
    "metered",
    "month_of",
    "valid_month",
]

log = logging.getLogger(__name__)
Clock = Callable[[], datetime]

CHECK_EVERY = timedelta(minutes=1)  # how often one process looks at the deployment's total after a CorePlus call
_MONTH = re.compile(r"[0-9]{4}-(0[1-9]|1[0-2])", re.ASCII)
_NEVER_SENT = ("(ConnectError)", "(ConnectTimeout)")  # how QboClient names a connection that never opened


class CallClass(Enum):
    CORE = "core"
    COREPLUS = "coreplus"


# -- the rule ----------------------------------------------------------------------------------------------------
def call_class(method: str, path: str, params: Mapping[str, str], request_body: str | None) -> CallClass | None:
    """The metering class of a QBO request; None for one Intuit does not meter (not under /company/{realm}/).
    ``params`` never changes the class: ``?operation=update|delete|void`` are all data in."""
    parts = [part for part in path.split("/") if part]
    if "company" not in parts or len(parts) < parts.index("company") + 3:
        return None
    head = parts[parts.index("company") + 2].lower()
    if head in ("query", "cdc") or method.upper() == "GET":
        return CallClass.COREPLUS
    if head == "batch":
        return CallClass.COREPLUS if _batch_reads(request_body) else CallClass.CORE
    return CallClass.CORE  # a POST to an entity: create, update, delete, void (?operation=…)


def _batch_reads(body: str | None) -> bool:
    """Whether a batch request holds a Query item. A body we cannot read counts as reading (the cautious side)."""
    if body is None:
        return True
    if '"Query"' not in body:
        return False  # the common case, decided without parsing a body of up to 30 invoices
    try:
        items = json.loads(body).get("BatchItemRequest")
    except (ValueError, AttributeError):
        return True
    return not isinstance(items, list) or any(not isinstance(i, dict) or "Query" in i for i in items)


def counted(exchange: Exchange) -> bool:
    """Whether the attempt counts: QBO may have served it (see the module docstring)."""
    if exchange.status is None:
        return not any(marker in (exchange.error or "") for marker in _NEVER_SENT)
    return exchange.status not in (401, 429)


def metered(exchange: Exchange) -> CallClass | None:
    """The class the attempt counts in, or None when it does not count."""
    if not counted(exchange):
        return None
    return call_class(exchange.method, exchange.path, exchange.params, exchange.request_body)


def month_of(moment: datetime) -> str:
    """The calendar month (UTC) of an aware time, as "YYYY-MM"."""
    if moment.tzinfo is None:
        raise ValueError("month_of needs a timezone-aware time")
    return moment.astimezone(UTC).strftime("%Y-%m")


def valid_month(text: str) -> bool:
    return _MONTH.fullmatch(text) is not None


# -- what is shown -----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Budget:
    """The deployment's monthly CorePlus budget (0: none) and the share of it that raises the warning."""

    monthly: int = 500_000  # Intuit's free Builder tier
    warn_percent: int = 80

    @property
    def warn_at(self) -> int | None:
        """The CorePlus count from which the warning is on; None without a budget."""
        return -(-self.monthly * self.warn_percent // 100) if self.monthly else None

    def warns(self, coreplus: int) -> bool:
        return self.warn_at is not None and coreplus >= self.warn_at


@dataclass(frozen=True)
class Usage:
    """Counted QBO calls of one company (or of all together) in one month."""

    core: int = 0
    coreplus: int = 0

    @classmethod
    def of(cls, pair: tuple[int, int]) -> Usage:
        return cls(*pair)


@dataclass(frozen=True)
class MonthUsage:
    """A month's figures as the API, the CLI and the QuickBooks screen show them."""

    month: str
    companies: dict[int, Usage]  # the companies asked about (or every company that made a call)
    deployment: Usage  # every company together: what Intuit's cap counts
    budget: Budget

    @property
    def warning(self) -> bool:
        return self.budget.warns(self.deployment.coreplus)

    def of(self, company_id: int) -> Usage:
        return self.companies.get(company_id, Usage())


# -- the meter ---------------------------------------------------------------------------------------------------
class Meter:
    """Counts each company's QBO calls into the store; shared by every client of a process (thread-safe)."""

    def __init__(self, uow: UnitOfWorkFactory, budget: Budget, now: Clock) -> None:
        self._uow, self.budget, self._now = uow, budget, now
        self._lock = threading.Lock()
        self._checked_at: datetime | None = None
        self._warned: set[str] = set()

    def recorder(self, company_id: int, then: Recorder | None = None) -> Recorder:
        """An ``on_exchange`` for a client of the company: counts the attempt, then hands it to ``then`` (the use
        case's audit trail)."""

        def record(exchange: Exchange) -> None:
            self.count(company_id, exchange)
            if then is not None:
                then(exchange)

        return record

    def count(self, company_id: int, exchange: Exchange) -> None:
        """Add the attempt to the company's month. Never raises: a failure to count is logged, the call goes on."""
        try:
            kind = metered(exchange)
            if kind is None:
                return
            month = month_of(exchange.started_at)
            with self._uow() as uow:
                plus = int(kind is CallClass.COREPLUS)
                uow.qbo_usage.add(company_id, month, 1 - plus, plus)
                uow.commit()
            if kind is CallClass.COREPLUS:
                self._watch_budget(month)
        except Exception:
            log.exception("QBO call of company %s not counted (%s %s)", company_id, exchange.method, exchange.path)

    def usage(self, month: str | None = None, company_ids: list[int] | None = None) -> MonthUsage:
        """The month's figures (default: this month) of ``company_ids``, or of every company that made a call."""
        month = month or month_of(self._now())
        if not valid_month(month):
            raise ValueError(f"not a month: {month!r} (YYYY-MM)")
        with self._uow() as uow:
            if company_ids is None:
                companies = {cid: Usage.of(pair) for cid, pair in uow.qbo_usage.of_month(month).items()}
            else:
                companies = {cid: Usage.of(uow.qbo_usage.of_company(cid, month)) for cid in company_ids}
            deployment = Usage.of(uow.qbo_usage.total(month))
        return MonthUsage(month, companies, deployment, self.budget)

    def _watch_budget(self, month: str) -> None:
        """Log the warning once a month per process, looking at the total at most once a minute."""
        now = self._now()
        with self._lock:
            if month in self._warned or self.budget.warn_at is None:
                return
            if self._checked_at is not None and now - self._checked_at < CHECK_EVERY:
                return
            self._checked_at = now
        with self._uow() as uow:
            coreplus = uow.qbo_usage.total(month)[1]
        if not self.budget.warns(coreplus):
            return
        with self._lock:
            if month in self._warned:
                return
            self._warned.add(month)
        log.warning(
            "QuickBooks CorePlus calls in %s: %s of the monthly budget of %s (%s %%). Past the budget Intuit blocks "
            "every read until next month and shows the app as Offline in QuickBooks.",
            month, coreplus, self.budget.monthly, coreplus * 100 // self.budget.monthly,
        )  # fmt: skip
