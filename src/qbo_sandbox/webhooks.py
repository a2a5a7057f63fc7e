"""Signed webhook deliveries to the apps connected to a company, batched, retried, late or doubled on demand.

How a change becomes a delivery:

1. :meth:`WebhookDispatcher.notify` queues the backend's ``ChangeEvent``; it is *due* at once, or
   ``delay_seconds`` later for a realm configured so (:meth:`configure`), which makes it arrive late and out
   of order, as Intuit warns it may.
2. One background thread waits ``batch_window`` seconds after the earliest due event, then takes every event
   due by then — of any realm — and, for each app with a ``webhook_url``, keeps the events of the realms the
   app was connected to when the change happened and still is (``OAuthRegistry.connected_apps`` at
   :meth:`~WebhookDispatcher.notify`, ``OAuthRegistry.realms_of`` now — so a new company's own setup and sample
   data, made before any app could connect, notify no one) and builds one body in the app's format (CloudEvents or
   legacy; ``webhook_payloads.py``), signed with the app's verifier token in ``intuit-signature``.
3. Each app has a FIFO outbox; only its head is sent, so a failing receiver holds back later deliveries
   (Intuit: "you may not receive subsequent events until you correctly acknowledge the first"). The heads of
   different apps are posted side by side (a pool of sender threads), so one slow receiver delays no other app.
   A delivery fails on a non-2xx answer, a connection error or no answer within :data:`RECEIVER_TIMEOUT`
   (Intuit: 10 s) and is retried after each of ``retry_delays`` in turn; once they are used up it is logged
   as ``failed`` and dropped. Intuit retries after 10 s, 20 s, 30 s, 5 min, 20 min, 2 h, 4 h, 6 h and then
   every 6 h (its webhooks best-practices page); the sandbox's default is the first four intervals divided by
   100 — five attempts in about 4 s — so tests of a client's recovery stay fast.
4. For a realm configured with ``duplicate=True`` every delivery carrying its events is sent twice (the
   same body and event ids), as Intuit may deliver twice.
5. For a realm configured with ``drop=True`` its changes are not sent at all while the setting holds — webhooks
   lost, as when Intuit stops delivering or the receiver's address is wrong — and only counted in
   :attr:`WebhookDispatcher.dropped`. CDC still reports them: it is how a client notices.

Every attempt is in :attr:`WebhookDispatcher.deliveries`.
"""

from __future__ import annotations

import heapq
import itertools
import threading
import time
import uuid
from collections import deque
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Literal

import httpx

from qbo_sandbox.oauth import App, OAuthRegistry
from qbo_sandbox.webhook_payloads import ChangeEventLike, cloudevents_body, encode, legacy_body, sign

RECEIVER_TIMEOUT = 10.0
SENDERS = 8  # deliveries posted at once (to different apps; an app's own deliveries go one at a time)
INTUIT_RETRY_DELAYS = (10.0, 20.0, 30.0, 300.0, 1200.0, 7200.0, 14400.0, 21600.0)
DEFAULT_RETRY_DELAYS = tuple(delay / 100 for delay in INTUIT_RETRY_DELAYS[:4])


@dataclass
class Attempt:
    """One POST of a delivery: the status answered, or the error that prevented an answer."""

    at: datetime
    status_code: int | None = None
    error: str | None = None


@dataclass
class Delivery:
    """One webhook request (and its retries) to one app."""

    delivery_id: str
    client_id: str
    url: str
    body: bytes
    signature: str
    realm_ids: tuple[str, ...]
    event_count: int
    duplicate: bool = False
    status: Literal["pending", "delivered", "failed"] = "pending"
    attempts: list[Attempt] = field(default_factory=list)


@dataclass
class _RealmConfig:
    duplicate: bool = False
    delay_seconds: float = 0.0
    drop: bool = False


@dataclass
class _Outbox:
    queue: deque[Delivery] = field(default_factory=deque)
    next_try: float = 0.0  # monotonic time the head may be (re)tried
    sending: bool = False  # the head is being posted right now


class WebhookDispatcher:
    """Batches change events into signed deliveries on a background thread (see the module docstring)."""

    def __init__(
        self,
        registry: OAuthRegistry,
        http: httpx.Client | None = None,
        batch_window: float = 0.5,
        retry_delays: Sequence[float] = DEFAULT_RETRY_DELAYS,
    ) -> None:
        self._registry = registry
        self._http = http
        self._owns_http = http is None
        self._window = batch_window
        self._retry_delays = tuple(retry_delays)
        self._cond = threading.Condition()
        # heap by due time, then arrival; each event with the apps connected to its realm when it happened
        self._events: list[tuple[float, int, ChangeEventLike, frozenset[str]]] = []
        self._seq = itertools.count()
        self._outboxes: dict[str, _Outbox] = {}
        self._configs: dict[str, _RealmConfig] = {}
        self._log: list[Delivery] = []
        self._dropped: dict[str, int] = {}
        self._sending = 0
        self._thread: threading.Thread | None = None
        self._senders: ThreadPoolExecutor | None = None
        self._running = False

    # --- the public face -------------------------------------------------------------------------------
    def notify(self, event: ChangeEventLike) -> None:
        """Queue a change; returns at once (the backend calls this under its own lock)."""
        audience = frozenset(self._registry.connected_apps(event.realm_id))
        with self._cond:
            config = self._configs.get(event.realm_id, _RealmConfig())
            if config.drop:
                self._dropped[event.realm_id] = self._dropped.get(event.realm_id, 0) + 1
                return
            heapq.heappush(self._events, (time.monotonic() + config.delay_seconds, next(self._seq), event, audience))
            self._cond.notify_all()

    def configure(self, realm_id: str, duplicate: bool = False, delay_seconds: float = 0.0, drop: bool = False) -> None:
        """From now on, send the realm's deliveries twice and/or hold its events ``delay_seconds``, or (``drop``)
        send none of its changes at all. Events already queued are sent as they were."""
        if delay_seconds < 0:
            raise ValueError("delay_seconds must not be negative")
        with self._cond:
            self._configs[realm_id] = _RealmConfig(duplicate, delay_seconds, drop)

    @property
    def dropped(self) -> dict[str, int]:
        """How many changes of each realm were not sent because the realm was set to ``drop`` (a snapshot)."""
        with self._cond:
            return dict(self._dropped)

    @property
    def deliveries(self) -> list[Delivery]:
        """Every delivery so far, oldest first (a snapshot)."""
        with self._cond:
            return list(self._log)

    def start(self) -> None:
        """Start the background thread (idempotent)."""
        with self._cond:
            if self._running:
                return
            if self._http is None:
                self._http = httpx.Client(timeout=RECEIVER_TIMEOUT)
            self._running = True
            self._senders = ThreadPoolExecutor(SENDERS, thread_name_prefix="qbo-sandbox-webhook-send")
            self._thread = threading.Thread(target=self._run, name="qbo-sandbox-webhooks", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        """Stop the thread; queued events and pending deliveries are kept (not sent)."""
        with self._cond:
            self._running = False
            self._cond.notify_all()
            thread = self._thread
        if thread is not None:
            thread.join()
        if self._senders is not None:
            self._senders.shutdown(wait=True)  # posts under way finish (within RECEIVER_TIMEOUT)
        with self._cond:
            self._thread = None
            self._senders = None
            if self._owns_http and self._http is not None:
                self._http.close()
                self._http = None

    def flush(self, timeout: float) -> None:
        """Wait until every queued event is delivered or given up on; raises TimeoutError after ``timeout``
        seconds, RuntimeError if the dispatcher is not started."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while self._events or self._sending or any(box.queue for box in self._outboxes.values()):
                if not self._running:
                    raise RuntimeError("the webhook dispatcher is not running")
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"webhook deliveries still pending after {timeout} s")
                self._cond.wait(left)

    def reset(self) -> None:
        """Drop queued events, pending deliveries, realm settings and the log."""
        with self._cond:
            self._events.clear()
            self._outboxes.clear()
            self._configs.clear()
            self._log.clear()
            self._dropped.clear()
            self._cond.notify_all()

    # --- the background thread -------------------------------------------------------------------------
    def _run(self) -> None:
        """Batch due events and hand each ready outbox head to a sender thread: apps are served side by side,
        so a slow receiver holds back only its own app's deliveries."""
        while True:
            with self._cond:
                if not self._running:
                    return
                now = time.monotonic()
                self._batch_due(now)
                ready = self._ready_heads(now)
                if not ready:
                    self._cond.wait(self._sleep_for(now))
                    continue
                senders = self._senders
                assert senders is not None  # set by start() before this thread runs
                for box, delivery in ready:
                    box.sending = True
                    self._sending += 1
                    senders.submit(self._send, box, delivery)

    def _batch_due(self, now: float) -> None:
        """Turn the events due by (earliest due + window) into deliveries, if that moment has come."""
        if not self._events or self._events[0][0] + self._window > now:
            return
        cutoff = self._events[0][0] + self._window
        batch: list[tuple[ChangeEventLike, frozenset[str]]] = []
        while self._events and self._events[0][0] <= cutoff:
            _, _, event, audience = heapq.heappop(self._events)
            batch.append((event, audience))
        for app in self._registry.apps():
            self._enqueue(app, batch)
        self._cond.notify_all()

    def _enqueue(self, app: App, batch: Sequence[tuple[ChangeEventLike, frozenset[str]]]) -> None:
        if app.webhook_url is None:
            return
        connected = self._registry.realms_of(app.client_id)
        events = [event for event, audience in batch if event.realm_id in connected and app.client_id in audience]
        if not events:
            return
        payload = cloudevents_body(events) if app.webhook_format == "cloudevents" else legacy_body(events)
        body = encode(payload)
        realms = tuple(dict.fromkeys(event.realm_id for event in events))
        copies = 2 if any(self._configs.get(realm, _RealmConfig()).duplicate for realm in realms) else 1
        box = self._outboxes.setdefault(app.client_id, _Outbox())
        for copy in range(copies):
            delivery = Delivery(
                str(uuid.uuid4()), app.client_id, app.webhook_url, body, sign(app.verifier_token, body),
                realms, len(events), duplicate=copy > 0,
            )  # fmt: skip
            self._log.append(delivery)
            box.queue.append(delivery)

    def _ready_heads(self, now: float) -> list[tuple[_Outbox, Delivery]]:
        return [
            (box, box.queue[0])
            for box in self._outboxes.values()
            if box.queue and not box.sending and box.next_try <= now
        ]

    def _sleep_for(self, now: float) -> float | None:
        """Seconds until something may become ready; None (wait for a notify) when nothing is queued."""
        moments = [box.next_try for box in self._outboxes.values() if box.queue and not box.sending]
        if self._events:
            moments.append(self._events[0][0] + self._window)
        return max(0.0, min(moments) - now) if moments else None

    def _send(self, box: _Outbox, delivery: Delivery) -> None:
        """One attempt at one delivery (on a sender thread)."""
        attempt = Attempt(datetime.now(UTC), error="not sent")
        try:
            attempt = self._post(delivery)
        finally:
            with self._cond:
                self._settle(delivery, attempt)
                box.sending = False
                self._sending -= 1
                self._cond.notify_all()

    def _post(self, delivery: Delivery) -> Attempt:
        http = self._http
        at = datetime.now(UTC)
        if http is None:
            return Attempt(at, error="dispatcher stopped")
        headers = {"content-type": "application/json", "intuit-signature": delivery.signature}
        try:
            response = http.post(delivery.url, content=delivery.body, headers=headers, timeout=RECEIVER_TIMEOUT)
        except httpx.HTTPError as error:  # connection refused, timeout, ...: a failed attempt, retried
            return Attempt(at, error=f"{type(error).__name__}: {error}")
        return Attempt(at, status_code=response.status_code)

    def _settle(self, delivery: Delivery, attempt: Attempt) -> None:
        """Record the attempt; pop the delivery when delivered or out of retries, else schedule a retry."""
        delivery.attempts.append(attempt)
        box = self._outboxes.get(delivery.client_id)
        if box is None or not box.queue or box.queue[0] is not delivery:
            return  # reset() ran while we were sending
        ok = attempt.status_code is not None and 200 <= attempt.status_code < 300
        retries_used = len(delivery.attempts) - 1
        if ok or retries_used >= len(self._retry_delays):
            delivery.status = "delivered" if ok else "failed"
            box.queue.popleft()
            box.next_try = 0.0
        else:
            box.next_try = time.monotonic() + self._retry_delays[retries_used]
