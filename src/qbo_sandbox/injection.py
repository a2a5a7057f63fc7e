"""Fault injection and the request log, per company: what the control API configures and the API layer consults.

A rule says what to do to the matching requests of one realm:

* ``drop_after_commit`` — do the work, then close the connection before the answer is sent (a timeout whose
  request did reach QBO: the case idempotency keys exist for);
* ``fail_before_commit`` — answer a 5xx System Fault without doing anything;
* ``latency`` — wait ``seconds`` before doing the work (inside the throttle's concurrency window);
* ``throttle`` — answer 429 with QBO's throttling Fault;
* ``ignore_requestid`` — do the work as if no ``requestid`` had been sent (QBO has been seen to create
  duplicates despite one; clients prove their look-up backstop with this).

A rule matches by HTTP method and by a case-insensitive substring of the path below ``/v3/company/{realm}``
(``"invoice"`` matches ``/invoice`` and ``/invoice/12``; a query matches on its text too), skips the first
``skip`` matches, then applies to the next ``count`` (``None``: until cleared). No HTTP here.
"""

from __future__ import annotations

import itertools
import threading
from collections import deque
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any, Literal, get_args

Kind = Literal["drop_after_commit", "fail_before_commit", "latency", "throttle", "ignore_requestid"]
KINDS: tuple[str, ...] = get_args(Kind)
LOG_LIMIT = 10_000  # per realm; old entries fall off so a long-running sandbox keeps bounded memory


@dataclass
class Rule:
    id: int
    kind: Kind
    method: str | None = None  # "POST", "GET"; None = any
    match: str = ""  # substring of the path (or query text), lower case
    skip: int = 0
    count: int | None = 1
    status: int = 503  # fail_before_commit
    seconds: float = 0.0  # latency
    applied: int = 0

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class LoggedRequest:
    method: str
    path: str
    status: int
    time: datetime
    operation: str = ""  # create / update / delete / void / read / query / batch / cdc
    request_id: str | None = None
    intuit_tid: str = ""
    injected: str | None = None  # the rule kind applied, if any
    client_id: str | None = None  # the app that called (None: not authenticated)
    meter: str | None = None  # "Core" / "CorePlus" when the call counted (metering.py), else None

    def to_json(self) -> dict[str, Any]:
        body = asdict(self)
        body["time"] = self.time.isoformat()
        return body


@dataclass
class _Realm:
    rules: list[Rule] = field(default_factory=list)
    seen: dict[int, int] = field(default_factory=dict)  # rule id -> matching requests so far
    log: deque[LoggedRequest] = field(default_factory=lambda: deque(maxlen=LOG_LIMIT))


class Injector:
    """Thread-safe rules and request logs of every realm."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._realms: dict[str, _Realm] = {}
        self._ids = itertools.count(1)

    def add(self, realm_id: str, kind: str, **options: Any) -> Rule:
        """A new rule; raises ValueError with a sentence for bad options."""
        rule = _rule(next(self._ids), kind, options)
        with self._lock:
            self._realms.setdefault(realm_id, _Realm()).rules.append(rule)
        return rule

    def rules(self, realm_id: str) -> list[Rule]:
        with self._lock:
            return list(self._realms.get(realm_id, _Realm()).rules)

    def clear(self, realm_id: str) -> None:
        with self._lock:
            realm = self._realms.setdefault(realm_id, _Realm())
            realm.rules.clear()
            realm.seen.clear()

    def take(self, realm_id: str, method: str, path: str) -> list[Rule]:
        """The rules that apply to this request (each counted as applied once)."""
        hits = []
        with self._lock:
            realm = self._realms.get(realm_id)
            if realm is None:
                return []
            for rule in realm.rules:
                if rule.method not in (None, method.upper()) or rule.match not in path.lower():
                    continue
                seen = realm.seen.get(rule.id, 0)
                realm.seen[rule.id] = seen + 1
                if seen < rule.skip or (rule.count is not None and rule.applied >= rule.count):
                    continue
                rule.applied += 1
                hits.append(rule)
        return hits

    def record(self, realm_id: str, entry: LoggedRequest) -> None:
        with self._lock:
            self._realms.setdefault(realm_id, _Realm()).log.append(entry)

    def requests(self, realm_id: str) -> list[LoggedRequest]:
        with self._lock:
            return list(self._realms.get(realm_id, _Realm()).log)

    def clear_requests(self, realm_id: str) -> None:
        with self._lock:
            self._realms.setdefault(realm_id, _Realm()).log.clear()

    def reset(self) -> None:
        with self._lock:
            self._realms.clear()


def _rule(rule_id: int, kind: str, options: dict[str, Any]) -> Rule:
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {', '.join(KINDS)}")
    unknown = set(options) - {"method", "match", "skip", "count", "status", "seconds"}
    if unknown:
        raise ValueError(f"unknown option(s): {', '.join(sorted(unknown))}")
    method = options.get("method")
    if method is not None and (not isinstance(method, str) or method.upper() not in ("GET", "POST")):
        raise ValueError("method must be GET or POST")
    skip, count = options.get("skip", 0), options.get("count", 1)
    if not _whole(skip) or skip < 0:
        raise ValueError("skip must be a whole number ≥ 0")
    if count is not None and (not _whole(count) or count < 1):
        raise ValueError("count must be a whole number ≥ 1, or null for every matching request")
    status = options.get("status", 503)
    if not _whole(status) or not 500 <= status <= 599:
        raise ValueError("status must be a 5xx HTTP status")
    seconds = options.get("seconds", 0.0)
    if isinstance(seconds, bool) or not isinstance(seconds, int | float) or not 0 <= seconds <= 60:
        raise ValueError("seconds must be a number from 0 to 60")
    match = options.get("match", "")
    if not isinstance(match, str):
        raise ValueError("match must be a string")
    return Rule(rule_id, kind, method.upper() if method else None, match.lower(), skip, count, status, float(seconds))  # type: ignore[arg-type]


def _whole(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)
