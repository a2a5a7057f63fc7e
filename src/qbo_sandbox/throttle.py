"""QBO's request limits, per company and app: sliding one-minute windows plus a concurrency cap.

Intuit's limits (developer blog, 2016-08-08, "QuickBooks Online API throttling changes"; in force since 2019):
500 requests a minute per realm and app (batch requests count too), 10 concurrent requests per realm and app,
40 batch requests a minute. Exceeding any answers HTTP 429 with Fault code 003001 (faults.throttled()).

A refused request does not count toward the window (it was never served). The fault carries a
``Retry-After`` hint in whole seconds: for a full window, when its oldest request leaves it; for the
concurrency cap, 1 s. Whether Intuit sends ``Retry-After`` is unconfirmed; clients should honour it when
present and back off otherwise, which this lets them prove.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field

from qbo_sandbox import faults

WINDOW_SECONDS = 60.0


@dataclass(frozen=True)
class Limits:
    """The numbers the throttle enforces; ``enabled=False`` lets everything through."""

    per_minute: int = 500
    concurrent: int = 10
    batch_per_minute: int = 40
    enabled: bool = True
    window_seconds: float = WINDOW_SECONDS  # QBO's minute; shorter only in tests that must not wait a minute

    @classmethod
    def real(cls) -> Limits:
        """Intuit's production limits."""
        return cls()

    @classmethod
    def off(cls) -> Limits:
        """No throttling at all (for load tests of the client itself)."""
        return cls(enabled=False)


@dataclass
class _Window:
    requests: deque[float] = field(default_factory=deque)
    batches: deque[float] = field(default_factory=deque)
    in_flight: int = 0


class Throttle:
    """Counts requests per ``(realm_id, client_id)``; thread-safe; ``now`` gives seconds (a monotonic clock, or the
    sandbox's clock so that advancing it lets a test skip a window's wait)."""

    def __init__(self, limits: Limits | None = None, now: Callable[[], float] = time.monotonic) -> None:
        self._limits = limits or Limits.real()
        self._now = now
        self._lock = threading.Lock()
        self._windows: dict[tuple[str, str], _Window] = {}

    @property
    def limits(self) -> Limits:
        return self._limits

    def configure(self, limits: Limits) -> None:
        """Enforce other numbers from now on (counts so far are kept)."""
        with self._lock:
            self._limits = limits

    def reset(self) -> None:
        """Forget every count."""
        with self._lock:
            self._windows.clear()

    def guard(self, realm_id: str, client_id: str, batch: bool = False) -> AbstractContextManager[None]:
        """Admit one request for its duration (a batch request also counts as a request).

        Raises faults.throttled() (HTTP 429, code 003001) when a limit would be exceeded; the fault's
        ``retry_after`` says how many seconds to wait."""
        return self._guard(realm_id, client_id, batch)

    @contextmanager
    def _guard(self, realm_id: str, client_id: str, batch: bool) -> Iterator[None]:
        key = (realm_id, client_id)
        self._admit(key, batch)
        try:
            yield
        finally:
            with self._lock:
                self._windows[key].in_flight -= 1

    def _admit(self, key: tuple[str, str], batch: bool) -> None:
        with self._lock:
            limits = self._limits
            window = self._windows.setdefault(key, _Window())
            if not limits.enabled:
                window.in_flight += 1
                return
            now = self._now()
            span = limits.window_seconds
            _expire(window.requests, now, span)
            _expire(window.batches, now, span)
            if len(window.requests) >= limits.per_minute:
                raise faults.throttled(_wait(window.requests, now, span))
            if batch and len(window.batches) >= limits.batch_per_minute:
                raise faults.throttled(_wait(window.batches, now, span))
            if window.in_flight >= limits.concurrent:
                raise faults.throttled(1)
            window.requests.append(now)
            if batch:
                window.batches.append(now)
            window.in_flight += 1


def _expire(stamps: deque[float], now: float, span: float) -> None:
    while stamps and stamps[0] <= now - span:
        stamps.popleft()


def _wait(stamps: deque[float], now: float, span: float) -> int:
    """Whole seconds until the oldest stamp leaves the window (at least 1)."""
    return max(1, math.ceil(stamps[0] + span - now))
