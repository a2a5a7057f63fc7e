"""The one way to call QuickBooks Online: CRUD, query, batch, CDC, preferences — with request ids and retries.

Every call goes to ``{api_base}/company/{realm_id}/{entity lower-case}…`` with ``minorversion``, a bearer token
from the :class:`~invoicebridge.qbo.auth.TokenSource` and ``Accept: application/json``; JSON is read with
``parse_float=Decimal``. Each attempt is reported to ``on_exchange`` as an :class:`Exchange` (never with the
token). Failures raise :mod:`invoicebridge.qbo.errors` classes carrying QBO's ``intuit_tid``.

Every attempt first waits for the company's :class:`~invoicebridge.qbo.limits.Limiter` (shared by every
worker, so QBO's 500/min, 40 batches/min and 10-at-once hold across processes) and holds its slot while it runs.

Retries (see :mod:`invoicebridge.qbo.retry`): 429 always (rare behind a limiter), honouring Retry-After; 5xx and
unknown outcomes only for reads, queries, CDC and writes with a request id; one forced token refresh and retry
after a 401.
When ``max_attempts`` are used up, the last error is raised.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx

from invoicebridge.qbo import jsonio
from invoicebridge.qbo.auth import TokenSource
from invoicebridge.qbo.errors import AuthenticationError, OutcomeUnknown, QboError, from_fault
from invoicebridge.qbo.limits import Limiter, Unlimited
from invoicebridge.qbo.retry import backoff_delay, parse_retry_after, should_retry

__all__ = ["BATCH_LIMIT", "Exchange", "QboClient", "QboConfig", "batch_error", "entity_rows"]

BATCH_LIMIT = 30  # Intuit: at most 30 operations in one batch request
_META_KEYS = {"startPosition", "maxResults", "totalCount"}


@dataclass(frozen=True)
class QboConfig:
    """Where QBO is and how patiently to call it."""

    api_base: str  # e.g. "https://quickbooks.api.intuit.com/v3" (no trailing slash needed)
    minor_version: int = 75  # Intuit retired everything below 75 in 2025
    timeout: float = 30.0
    max_attempts: int = 5
    backoff: float = 0.5
    max_backoff: float = 30.0

    def __post_init__(self) -> None:
        if self.minor_version < 75:
            raise ValueError("minor_version must be 75 or later: Intuit no longer serves older minor versions")
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")


@dataclass(frozen=True)
class Exchange:
    """One attempt of one call, for the audit log: no host, no token."""

    method: str
    path: str
    params: Mapping[str, str]
    request_body: str | None
    status: int | None
    response_body: str | None
    intuit_tid: str | None
    started_at: datetime
    duration_ms: float
    error: str | None


@dataclass(frozen=True)
class _Call:
    method: str
    path: str  # below /company/{realm}
    params: dict[str, str] = field(default_factory=dict)
    body: str | None = None
    content_type: str | None = None
    replay_safe: bool = True
    retry_unknown: bool = True  # resend after no answer (else the caller looks the object up itself)
    before_send: Callable[[], None] | None = None  # run once admitted, right before each attempt goes out


class QboClient:
    """A company's QBO API; thread-safe as far as its ``http`` client and ``tokens`` are."""

    def __init__(
        self,
        config: QboConfig,
        realm_id: str,
        tokens: TokenSource,
        http: httpx.Client,
        on_exchange: Callable[[Exchange], None] | None = None,
        sleep: Callable[[float], None] = time.sleep,
        jitter: Callable[[], float] = random.random,
        limiter: Limiter | None = None,
    ) -> None:
        self.config = config
        self.realm_id = realm_id
        self._tokens = tokens
        self._http = http
        self._on_exchange = on_exchange
        self._sleep = sleep
        self._jitter = jitter
        self._limiter: Limiter = limiter or Unlimited()  # shared with the company's other clients and processes

    # --- queries and reads -------------------------------------------------------------------------------

    def query(self, text: str) -> dict[str, Any]:
        """The ``QueryResponse`` object for a QBO query (entity key absent when nothing matched); QueryError."""
        body = self._call(_Call("POST", "query", body=text, content_type="application/text"))
        return dict(body.get("QueryResponse") or {})

    def query_all(self, entity: str, where: str = "", page: int = 1000) -> list[dict[str, Any]]:
        """Every ``entity`` matching ``where`` (a condition, with or without the WHERE keyword), paging with
        STARTPOSITION/MAXRESULTS ``page`` (≤ 1000) until a short page."""
        if not 1 <= page <= 1000:
            raise ValueError("page must be between 1 and 1000 (QBO's MAXRESULTS limit)")
        condition = where.strip()
        if condition and not condition.lower().startswith("where "):
            condition = f"WHERE {condition}"
        found: list[dict[str, Any]] = []
        start = 1
        while True:
            text = " ".join(p for p in (f"SELECT * FROM {entity}", condition, f"STARTPOSITION {start}") if p)
            rows = entity_rows(self.query(f"{text} MAXRESULTS {page}"), entity)
            found.extend(rows)
            if len(rows) < page:
                return found
            start += page

    def read(self, entity: str, entity_id: str) -> dict[str, Any]:
        """The object; ObjectNotFound when it does not exist (or was deleted)."""
        return _unwrap(self._call(_Call("GET", f"{entity.lower()}/{entity_id}")), entity)

    def preferences(self) -> dict[str, Any]:
        """The company's Preferences object."""
        return _unwrap(self._call(_Call("GET", "preferences")), "Preferences")

    def company_info(self) -> dict[str, Any]:
        """The company's CompanyInfo object."""
        return _unwrap(self._call(_Call("GET", f"companyinfo/{self.realm_id}")), "CompanyInfo")

    def cdc(self, entities: list[str], changed_since: datetime) -> dict[str, list[dict[str, Any]]]:
        """Objects of ``entities`` changed since ``changed_since`` (aware; QBO looks back 30 days), by entity name
        as given; deleted objects come as tombstones ``{"status": "Deleted", "Id": …}``."""
        if changed_since.tzinfo is None:
            raise ValueError("changed_since must be timezone-aware")
        if not entities:
            raise ValueError("cdc needs at least one entity")
        params = {"entities": ",".join(entities), "changedSince": changed_since.isoformat()}
        body = self._call(_Call("GET", "cdc", params=params))
        found: dict[str, list[dict[str, Any]]] = {name: [] for name in entities}
        names = {name.lower(): name for name in entities}
        for response in body.get("CDCResponse") or []:
            for query_response in response.get("QueryResponse") or []:
                for key, rows in query_response.items():
                    if key not in _META_KEYS and isinstance(rows, list):
                        found.setdefault(names.get(key.lower(), key), []).extend(rows)
        return found

    # --- writes --------------------------------------------------------------------------------------------

    def create(
        self, entity: str, body: Mapping[str, Any], request_id: str, retry_unknown: bool = True,
        before_send: Callable[[], None] | None = None,
    ) -> dict[str, Any]:  # fmt: skip
        """Create an object. ``request_id`` is required: a retry (or a replay after an unknown outcome) with
        the same id returns the original answer instead of creating a second object.

        ``retry_unknown=False`` raises OutcomeUnknown at once instead of resending: for callers that look the
        object up first, because QBO has been seen to create duplicates despite a repeated request id.
        ``before_send`` runs once the limiter admitted the request, right before each attempt is sent."""
        if not request_id:
            raise ValueError("create needs a request_id (QBO's idempotency key)")
        return self._write(entity, body, {}, request_id, retry_unknown, before_send)

    def update(self, entity: str, body: Mapping[str, Any], request_id: str | None = None) -> dict[str, Any]:
        """Full update (``body`` carries ``Id`` and ``SyncToken``); StaleObject when the SyncToken is old."""
        if "Id" not in body or "SyncToken" not in body:
            raise ValueError("update needs the object's Id and SyncToken (read it first)")
        return self._write(entity, body, {}, request_id)

    def sparse_update(
        self,
        entity: str,
        entity_id: str,
        sync_token: str,
        fields: Mapping[str, Any],
        request_id: str | None = None,
    ) -> dict[str, Any]:
        """Change only ``fields``; StaleObject when ``sync_token`` is old."""
        body = {**fields, "Id": entity_id, "SyncToken": sync_token, "sparse": True}
        return self._write(entity, body, {}, request_id)

    def delete(self, entity: str, entity_id: str, sync_token: str, request_id: str | None = None) -> dict[str, Any]:
        """Delete a transaction (``{"status": "Deleted", "Id": …}`` back); ObjectNotFound, StaleObject."""
        body = {"Id": entity_id, "SyncToken": sync_token}
        return self._write(entity, body, {"operation": "delete"}, request_id)

    def void(self, entity: str, entity_id: str, sync_token: str, request_id: str | None = None) -> dict[str, Any]:
        """Void a transaction (amounts zeroed, the object kept); ObjectNotFound, StaleObject."""
        body = {"Id": entity_id, "SyncToken": sync_token}
        return self._write(entity, body, {"operation": "void"}, request_id)

    def batch(
        self, items: list[dict[str, Any]], request_id: str | None = None, retry_unknown: bool = True,
        before_send: Callable[[], None] | None = None,
    ) -> list[dict[str, Any]]:  # fmt: skip
        """Run up to 30 ``BatchItemRequest`` items; the ``BatchItemResponse`` items come back, each with its
        result or its ``Fault`` (see :func:`batch_error`). Retried on 5xx/timeouts only with a request id or
        when every item is a query; ``retry_unknown=False`` raises OutcomeUnknown at once instead (as for
        :meth:`create`), for callers that look up what the batch may have made before sending anything again."""
        if not items or len(items) > BATCH_LIMIT:
            raise ValueError(f"a batch holds 1 to {BATCH_LIMIT} items, not {len(items)}")
        params = {"requestid": request_id} if request_id else {}
        safe = request_id is not None or all("Query" in item for item in items)
        body = jsonio.dumps({"BatchItemRequest": items})
        call = _Call("POST", "batch", params, body, "application/json", safe, retry_unknown, before_send)
        return list(self._call(call).get("BatchItemResponse") or [])

    def _write(
        self,
        entity: str,
        body: Mapping[str, Any],
        params: dict[str, str],
        request_id: str | None,
        retry_unknown: bool = True,
        before_send: Callable[[], None] | None = None,
    ) -> dict[str, Any]:
        if request_id:
            params = {**params, "requestid": request_id}
        call = _Call(
            "POST", entity.lower(), params, jsonio.dumps(body), "application/json", bool(request_id), retry_unknown,
            before_send,
        )  # fmt: skip
        return _unwrap(self._call(call), entity)

    # --- sending -------------------------------------------------------------------------------------------

    def _call(self, call: _Call) -> dict[str, Any]:
        attempt, refreshed, token = 0, False, self._tokens.access_token()
        while True:
            attempt += 1
            try:
                return self._attempt(call, token)
            except AuthenticationError:
                if refreshed:
                    raise
                refreshed, attempt = True, attempt - 1  # a 401 did nothing: the refresh retry is free
                token = self._tokens.force_refresh()
                continue
            except QboError as error:
                if attempt >= self.config.max_attempts or not should_retry(error, call.replay_safe):
                    raise
                if isinstance(error, OutcomeUnknown) and not call.retry_unknown:
                    raise
                delay = backoff_delay(error, attempt, self.config.backoff, self.config.max_backoff, self._jitter)
            self._sleep(delay)
            token = self._tokens.access_token()

    def _attempt(self, call: _Call, token: str) -> dict[str, Any]:
        params = {**call.params, "minorversion": str(self.config.minor_version)}
        url = f"{self.config.api_base.rstrip('/')}/company/{self.realm_id}/{call.path}"
        headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
        if call.content_type:
            headers["Content-Type"] = call.content_type
        with self._admitted(call):  # the wait for a slot is not part of the exchange's duration
            if call.before_send is not None:
                call.before_send()  # e.g. "is this claim still mine?" after a long wait; its error stops the call
            started, clock = datetime.now(UTC), time.perf_counter()
            record = _Record(call.method, httpx.URL(url).path, params, call.body, started)
            response = self._send(call, url, params, headers, record, clock)
        tid = response.headers.get("intuit_tid")
        result, refusal = _interpret(response, tid)
        self._report(record.finish(clock, response.status_code, response.text, tid, refusal))
        if refusal is not None:
            refusal.request_id = call.params.get("requestid")
            raise refusal
        return result

    def _send(
        self, call: _Call, url: str, params: dict[str, str], headers: dict[str, str], record: _Record, clock: float
    ) -> httpx.Response:
        try:
            return self._http.request(
                call.method, url, params=params, content=call.body, headers=headers, timeout=self.config.timeout
            )
        except httpx.TransportError as failure:
            error = OutcomeUnknown(f"No answer from QuickBooks ({type(failure).__name__}): {failure}")
            error.request_id = call.params.get("requestid")
            self._report(record.finish(clock, None, None, None, error))
            raise error from failure

    def _admitted(self, call: _Call) -> AbstractContextManager[None]:
        return self._limiter.admit(self.realm_id, batch=call.path == "batch")

    def _report(self, exchange: Exchange) -> None:
        if self._on_exchange is not None:
            self._on_exchange(exchange)


@dataclass(frozen=True)
class _Record:
    method: str
    path: str
    params: dict[str, str]
    request_body: str | None
    started_at: datetime

    def finish(
        self, clock: float, status: int | None, body: str | None, tid: str | None, error: QboError | None
    ) -> Exchange:
        return Exchange(
            method=self.method,
            path=self.path,
            params=dict(self.params),
            request_body=self.request_body,
            status=status,
            response_body=body,
            intuit_tid=tid,
            started_at=self.started_at,
            duration_ms=(time.perf_counter() - clock) * 1000,
            error=None if error is None else f"{type(error).__name__}: {error}",
        )


def _interpret(response: httpx.Response, tid: str | None) -> tuple[dict[str, Any], QboError | None]:
    """The JSON object of a 200, or the error for anything else (a 200 without JSON is an unknown outcome)."""
    try:
        body = jsonio.loads(response.content) if response.content else None
    except ValueError:
        body = None
    if response.status_code == 200:
        if isinstance(body, dict):
            return body, None
        return {}, OutcomeUnknown("QuickBooks answered 200 without a JSON object", status=200, intuit_tid=tid)
    retry_after = parse_retry_after(response.headers.get("Retry-After"))
    return {}, from_fault(response.status_code, body, tid, retry_after=retry_after)


def _unwrap(body: dict[str, Any], entity: str) -> dict[str, Any]:
    """The entity object of ``{"Invoice": {...}, "time": ...}`` (names compared case-insensitively)."""
    for key, value in body.items():
        if key.lower() == entity.lower() and isinstance(value, dict):
            return value
    others = [value for key, value in body.items() if key != "time" and isinstance(value, dict)]
    if len(others) == 1:
        return others[0]
    raise OutcomeUnknown(f"QuickBooks answered without a {entity} object")


def entity_rows(query_response: Mapping[str, Any], entity: str) -> list[dict[str, Any]]:
    """The objects of a ``QueryResponse`` (an empty list when QBO left the entity key out)."""
    for key, value in query_response.items():
        if key.lower() == entity.lower() and isinstance(value, list):
            return list(value)
    return []


def batch_error(item: Mapping[str, Any]) -> QboError | None:
    """The error of one ``BatchItemResponse`` item (class chosen by ``from_fault``), None when it succeeded."""
    fault = item.get("Fault")
    if fault is None:
        return None
    return from_fault(None, {"Fault": fault}, None)
