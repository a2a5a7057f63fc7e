"""Metering as in Intuit's App Partner Program: every API call of an app is Core (data in: create, update, delete,
void) or CorePlus (data out: reads, queries, CDC — metered), counted per app and calendar month across all its
companies; an optional monthly CorePlus cap per app blocks CorePlus calls past it until the next month, as Intuit
blocks a Builder-tier app past 500,000 (qbo-reference.md, "Metering").

Choices where Intuit is silent (unconfirmed — COVERAGE.md):
- CDC and a batch holding at least one query are CorePlus; a batch of writes only is Core (one call either way).
- A call counts once the app is authenticated and the throttle let it through, whatever its answer (a Fault
  included); a call refused by the throttle or by the cap does not count.
- Months are calendar months in UTC on the sandbox clock (``POST /_sandbox/clock/advance`` reaches the next one).
- A blocked call is answered HTTP 403, an ``AuthorizationFault`` with code 3100 and a Detail naming the cap and
  when it lifts — not 429: every QBO client retries a 429 (honouring Retry-After), which would never end this
  month, while a 403 stops the client, as an app Intuit flags "Offline" is stopped.

No HTTP here; thread-safe.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from qbo_sandbox import faults

Kind = Literal["Core", "CorePlus"]
CORE: Kind = "Core"
CORE_PLUS: Kind = "CorePlus"
DATA_OUT = frozenset({"read", "query", "cdc"})
DATA_IN = frozenset({"create", "update", "delete", "void"})


def classify(operation: str) -> Kind | None:
    """The class of a call by its operation (api.py's names); None for what is not metered."""
    if operation in DATA_OUT:
        return CORE_PLUS
    return CORE if operation in DATA_IN else None


def batch_kind(body: object) -> Kind:
    """A batch is CorePlus when any of its items is a query (it takes data out), else Core."""
    items = body.get("BatchItemRequest") if isinstance(body, dict) else None
    reads = isinstance(items, list) and any(isinstance(item, dict) and "Query" in item for item in items)
    return CORE_PLUS if reads else CORE


@dataclass
class _Month:
    core: int = 0
    core_plus: int = 0
    realms: dict[str, list[int]] = field(default_factory=dict)  # realm -> [core, core_plus]


@dataclass
class _App:
    cap: int | None = None  # CorePlus calls a month; None: no cap
    months: dict[str, _Month] = field(default_factory=dict)


class Meter:
    """Core and CorePlus calls per app and month, and each app's optional CorePlus cap."""

    def __init__(self, now: Callable[[], datetime]) -> None:
        self._now = now
        self._lock = threading.Lock()
        self._apps: dict[str, _App] = {}

    def charge(self, client_id: str, realm_id: str, kind: Kind) -> None:
        """Count one call; raises the cap's AuthorizationFault (403) instead for a CorePlus call past the cap."""
        now = self._now()
        with self._lock:
            app = self._apps.setdefault(client_id, _App())
            month = app.months.setdefault(_month(now), _Month())
            if kind == CORE_PLUS and app.cap is not None and month.core_plus >= app.cap:
                raise _blocked(app.cap, now)
            per_realm = month.realms.setdefault(realm_id, [0, 0])
            if kind == CORE_PLUS:
                month.core_plus += 1
                per_realm[1] += 1
            else:
                month.core += 1
                per_realm[0] += 1

    def set_cap(self, client_id: str, cap: int | None) -> None:
        """From now on, block the app's CorePlus calls once ``cap`` were made this month (None: never)."""
        with self._lock:
            self._apps.setdefault(client_id, _App()).cap = cap

    def usage(self, client_id: str) -> dict[str, Any]:
        """The app's counts: this month's, whether it is blocked, its cap, and every month seen (with each
        company's share)."""
        current = _month(self._now())
        with self._lock:
            app = self._apps.get(client_id, _App())
            this = app.months.get(current, _Month())
            return {
                "client_id": client_id, "month": current, "core": this.core, "coreplus": this.core_plus,
                "coreplus_cap": app.cap, "blocked": app.cap is not None and this.core_plus >= app.cap,
                "months": {key: _month_json(value) for key, value in sorted(app.months.items())},
            }  # fmt: skip

    def reset(self) -> None:
        with self._lock:
            self._apps.clear()


def _month(moment: datetime) -> str:
    """The calendar month, in UTC, of a time-zone-aware moment (the sandbox clock's)."""
    return moment.astimezone(UTC).strftime("%Y-%m")


def _next_month(moment: datetime) -> str:
    utc = moment.astimezone(UTC)
    return f"{utc.year + utc.month // 12}-{utc.month % 12 + 1:02d}-01"


def _month_json(month: _Month) -> dict[str, Any]:
    realms = {realm: {"core": c, "coreplus": p} for realm, (c, p) in sorted(month.realms.items())}
    return {"core": month.core, "coreplus": month.core_plus, "realms": realms}


def _blocked(cap: int, now: datetime) -> faults.AuthorizationFault:
    detail = (
        f"This app reached its limit of {cap} CorePlus calls this month (App Partner Program); CorePlus calls "
        f"(reads, queries, CDC) are blocked until {_next_month(now)} UTC. Core calls (writes) still work."
    )
    message = "message=ApplicationAuthorizationFailed; errorCode=003100; statusCode=403"
    return faults.AuthorizationFault([faults.ErrorEntry(message, detail, faults.AUTHORIZATION_FAILED, "CorePlus")])
