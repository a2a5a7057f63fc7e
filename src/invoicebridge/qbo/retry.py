"""When to try a QBO call again, and how long to wait first.

Policy (``QboClient`` applies it): a 429 is always retried — QBO did nothing. A 5xx or an unknown outcome is
retried only when repeating the request is safe: reads, queries, CDC, and writes carrying a ``requestid`` (QBO
answers a replayed request id with the original response). Everything else fails at once.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

from invoicebridge.qbo.errors import QboError, Throttled

__all__ = ["backoff_delay", "parse_retry_after", "should_retry"]


def should_retry(error: QboError, replay_safe: bool) -> bool:
    """Whether ``error`` may be answered by sending the same request again."""
    if isinstance(error, Throttled):
        return True
    return error.retryable and replay_safe


def backoff_delay(error: QboError, attempt: int, base: float, ceiling: float, random: Callable[[], float]) -> float:
    """Seconds to wait before attempt ``attempt + 1``: QBO's Retry-After when it sent one, else exponential
    backoff (``base * 2**(attempt-1)``, at most ``ceiling``) with jitter between half and all of it."""
    if isinstance(error, Throttled) and error.retry_after is not None:
        return max(error.retry_after, 0.0)
    delay = min(ceiling, base * 2.0 ** (attempt - 1))
    return delay * (0.5 + 0.5 * random())


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """A Retry-After header (seconds or an HTTP date) in seconds; None when absent or unreadable."""
    if not value:
        return None
    try:
        return max(float(value), 0.0)
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max((when - (now or datetime.now(UTC))).total_seconds(), 0.0)
