"""One limiter per company, shared by every thread and process: QBO's request limits kept on our side.

QBO allows, per realm and app, 500 requests in any sliding minute (batch requests count too), 40 batch
requests in any sliding minute and 10 requests at once, and answers 429 past them (qbo-reference.md, "Limits").
:class:`QboClient` passes every HTTP attempt through a :class:`Limiter`, which blocks until the request may go
and holds a concurrency slot while it runs.

Why our own ledger and not pyrate-limiter (DESIGN §3b names both; pyrate-limiter 4.5.1 was evaluated): its
buckets log each item at the moment it is *acquired*, per bucket; it has no concurrency slots, no leases, and
no way to take a request slot and a batch slot in one atomic step (a refused batch would still have spent a
request). A request is admitted on our side *before* QBO sees it, so a window counted from admission can let
the 501st request reach QBO while the 1st is still in QBO's window (it arrived a little later than we counted
it). This ledger counts each request until ``window + margin`` after it *finished*, which is never earlier than
when QBO received it, so no sliding window QBO draws can hold more than the limit — and it keeps the request
slot, the batch slot and the concurrency slot in one row written atomically (one SQLite transaction, one Redis
Lua script). A process killed mid-request frees its concurrency slot when the row's lease runs out; until then
the row also counts in the windows as if the request had ended at the lease's end (the latest it can have
reached QBO, the lease being longer than any HTTP timeout).

The rule every backend implements (:class:`MemoryLedger` here; SQLite and Redis in ``invoicebridge.store``),
one row per admitted request ``(realm, ticket, batch, open, until)``:

* counted in the windows while ``until > now - span`` (``span`` = window + margin);
* holding a concurrency slot while ``open`` and ``until > now`` (``until`` is the lease's end while open);
* admitted only if fewer than ``per_minute`` rows (``batch_per_minute`` batch rows, for a batch) are counted
  and fewer than ``concurrent`` hold a slot; the new row is ``open``, ``until = now + lease``;
* released: ``open`` cleared, ``until = now``.
"""

from __future__ import annotations

import random
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass, field
from typing import Protocol

__all__ = ["Ledger", "LimitRules", "Limiter", "MemoryLedger", "SharedLimiter", "Unlimited", "memory_limiter"]


@dataclass(frozen=True)
class LimitRules:
    """The numbers a limiter keeps per realm. Defaults are QBO's (Intuit developer blog, 2016-08-08).

    ``margin_seconds`` is added to the window: a request counts for window + margin after it finished, which
    absorbs a clock that runs a little fast against QBO's. ``lease_seconds`` is how long a concurrency slot
    stays taken by a process that never gives it back (killed mid-request): longer than any HTTP timeout."""

    per_minute: int = 500
    concurrent: int = 10
    batch_per_minute: int = 40
    window_seconds: float = 60.0
    margin_seconds: float = 1.0
    lease_seconds: float = 90.0

    def __post_init__(self) -> None:
        if min(self.per_minute, self.concurrent, self.batch_per_minute) < 1:
            raise ValueError("request limits must be at least 1")
        if self.batch_per_minute > self.per_minute:
            raise ValueError("batch_per_minute cannot exceed per_minute (a batch request is a request too)")
        if self.window_seconds <= 0 or self.margin_seconds < 0 or self.lease_seconds <= 0:
            raise ValueError("window and lease must be positive and the margin not negative")

    @property
    def span_seconds(self) -> float:
        """How long after it finished a request still counts."""
        return self.window_seconds + self.margin_seconds


class Limiter(Protocol):
    """Admits requests to QBO within the limits of each realm, across every thread and process sharing it."""

    def admit(self, realm_id: str, *, batch: bool) -> AbstractContextManager[None]:
        """Block until one request (a ``batch`` request counts in both windows) may go to ``realm_id``; the
        context holds its concurrency slot until it exits. Raises only what the backend raises (e.g. Redis
        unreachable); never gives up waiting on its own."""
        ...


class Ledger(Protocol):
    """The atomic part of a shared limiter: one backend's rows (see the module docstring for the rule)."""

    def try_admit(self, realm_id: str, ticket: str, batch: bool) -> float | None:
        """Admit ``ticket`` and return None, or refuse and return seconds worth waiting before trying again
        (always > 0)."""
        ...

    def release(self, realm_id: str, ticket: str) -> None:
        """Free the ticket's concurrency slot; it keeps counting in the windows for a span from now."""
        ...


class Unlimited:
    """Lets every request through at once (a client without a limiter; QBO's 429s are still backed off)."""

    def admit(self, realm_id: str, *, batch: bool) -> AbstractContextManager[None]:
        return nullcontext()


class SharedLimiter:
    """A :class:`Limiter` over a :class:`Ledger`: tries, sleeps as long as the ledger says, tries again.

    ``poll_seconds`` is the wait when only a concurrency slot is missing (a slot frees when another request
    ends, which the ledger cannot foresee); waits get up to ``poll_seconds`` of jitter so that waiters woken by
    one event do not all try at the same instant."""

    def __init__(
        self,
        ledger: Ledger,
        sleep: Callable[[float], None] = time.sleep,
        jitter: Callable[[], float] = random.random,
        poll_seconds: float = 0.02,
    ) -> None:
        self.ledger = ledger
        self._sleep = sleep
        self._jitter = jitter
        self.poll_seconds = poll_seconds

    def admit(self, realm_id: str, *, batch: bool) -> AbstractContextManager[None]:
        return self._admitted(realm_id, batch)

    @contextmanager
    def _admitted(self, realm_id: str, batch: bool) -> Iterator[None]:
        ticket = uuid.uuid4().hex
        while (wait := self.ledger.try_admit(realm_id, ticket, batch)) is not None:
            self._sleep(wait + self.poll_seconds * self._jitter())
        try:
            yield
        finally:
            self.ledger.release(realm_id, ticket)


@dataclass
class _Row:
    batch: bool
    open: bool
    until: float


@dataclass
class _Realm:
    rows: dict[str, _Row] = field(default_factory=dict)


class MemoryLedger:
    """The rule in one process's memory (tests, immediate mode); thread-safe. ``now`` gives seconds."""

    def __init__(self, rules: LimitRules, now: Callable[[], float] = time.monotonic, poll_seconds: float = 0.02):
        self.rules = rules
        self._now = now
        self._poll = poll_seconds
        self._lock = threading.Lock()
        self._realms: dict[str, _Realm] = {}

    def try_admit(self, realm_id: str, ticket: str, batch: bool) -> float | None:
        rules = self.rules
        with self._lock:
            now = self._now()
            rows = self._realms.setdefault(realm_id, _Realm()).rows
            for gone in [key for key, row in rows.items() if row.until <= now - rules.span_seconds]:
                del rows[gone]
            wait = _refusal(rules, now, list(rows.values()), batch, self._poll)
            if wait is None:
                rows[ticket] = _Row(batch, True, now + rules.lease_seconds)
            return wait

    def release(self, realm_id: str, ticket: str) -> None:
        with self._lock:
            row = self._realms.get(realm_id, _Realm()).rows.get(ticket)
            if row is not None:
                row.open, row.until = False, self._now()

    def counts(self, realm_id: str) -> tuple[int, int, int]:
        """(requests counted, batch requests counted, slots held) for ``realm_id`` now."""
        with self._lock:
            now, span = self._now(), self.rules.span_seconds
            rows = [row for row in self._realms.get(realm_id, _Realm()).rows.values() if row.until > now - span]
            return len(rows), sum(row.batch for row in rows), sum(row.open and row.until > now for row in rows)


def _refusal(rules: LimitRules, now: float, rows: list[_Row], batch: bool, poll: float) -> float | None:
    """None when one more request fits among the counted ``rows``, else seconds worth waiting."""
    if len(rows) >= rules.per_minute:
        return _window_wait(rules, now, [row.until for row in rows], poll)
    batches = [row.until for row in rows if row.batch]
    if batch and len(batches) >= rules.batch_per_minute:
        return _window_wait(rules, now, batches, poll)
    if sum(row.open and row.until > now for row in rows) >= rules.concurrent:
        return poll
    return None


def _window_wait(rules: LimitRules, now: float, untils: list[float], poll: float) -> float:
    """Until the oldest finished request leaves the window; a poll when every counted one is still running
    (its row's end moves earlier when it finishes)."""
    oldest = min(untils)
    if oldest > now:
        return poll
    return max(poll, oldest + rules.span_seconds - now)


def memory_limiter(rules: LimitRules | None = None) -> SharedLimiter:
    """A limiter for one process (tests, immediate mode)."""
    return SharedLimiter(MemoryLedger(rules or LimitRules()))
