"""How often a company's CDC poll runs: rarely while its webhooks are known to arrive, every tick while they may
be lost.

QBO reads are metered (qbo-reference.md, "Metering"): a poll every minute costs 43,200 CorePlus calls a month per
company even when nothing changes. Webhooks come first; the poll is the safety net, paced by need. Our own writes
(invoices, COGS journal entries, customers, items) come back as webhook events, so each company's webhook health is
known for free:

- **healthy** — no write of ours waits for its echo: poll every `slow` (hours), the net for an event lost alone;
- **echo pending** — a write made less than `echo_grace` ago, no event since: poll every `fast` (an invoice just
  made is the one most likely to be deleted soon, and we cannot yet tell whether its deletion would reach us);
- **look lost** — a write has waited longer than `echo_grace`: poll every `fast` until an event arrives;
- **unknown** — no event seen and no write waiting (a new connection, or one made before this pacing): `slow`.
  Only invoices we made can be set back, and each of them was a write that must echo — so the first invoice
  made tells whether webhooks work.

A webhook event of any kind proves the channel works at that moment, so it settles every write made before it.

Polls fall in slots of the current interval: a poll is due when the last one was claimed in an earlier slot, so
there is never more than one poll per slot, whatever the number of schedulers asking. Slow slots start at a
per-company offset (whole minutes), so thousands of companies do not all poll at the same minute.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from invoicebridge.domain.connection import Connection
from invoicebridge.qbo.client import Exchange
from invoicebridge.sync.gateway import Recorder
from invoicebridge.sync.ports import UnitOfWorkFactory

__all__ = ["EchoState", "EchoWatch", "Pacing", "WebhookHealth", "is_write"]

log = logging.getLogger(__name__)
EPOCH = datetime(2000, 1, 3, tzinfo=UTC)  # a Monday at midnight: slots line up with minutes and days
MINUTE = timedelta(minutes=1)
OFFSET_STEP = 7919  # a prime: consecutive company ids land far apart within a slow interval


class EchoState(StrEnum):
    UNKNOWN = "unknown"
    HEALTHY = "healthy"
    ECHO_PENDING = "echo_pending"
    LOOK_LOST = "look_lost"


@dataclass(frozen=True)
class WebhookHealth:
    """A company's webhook health at one moment. `since`: when they started to look lost (the waiting write plus
    the grace), or when the waiting write was made (echo pending); None otherwise."""

    state: EchoState
    since: datetime | None
    last_event_at: datetime | None

    @property
    def fast(self) -> bool:
        return self.state in (EchoState.ECHO_PENDING, EchoState.LOOK_LOST)


@dataclass(frozen=True)
class Pacing:
    """The pacing rule (pure): intervals and the grace an echo gets before webhooks look lost."""

    fast: timedelta = timedelta(minutes=1)
    slow: timedelta = timedelta(hours=8)  # 90 polls in a 30-day month: within a budget of 100 for an idle company
    echo_grace: timedelta = timedelta(minutes=2)

    def __post_init__(self) -> None:
        if self.fast < MINUTE or self.slow < self.fast or self.echo_grace <= timedelta(0):
            raise ValueError("pacing needs fast ≥ 1 minute, slow ≥ fast and a positive echo grace")
        if self.fast % MINUTE or self.slow % MINUTE:
            raise ValueError("poll intervals are whole minutes (the scheduler ticks once a minute)")

    def health(self, connection: Connection, now: datetime) -> WebhookHealth:
        due, seen = connection.echo_due_since, connection.webhook_seen_at
        if due is None:
            return WebhookHealth(EchoState.HEALTHY if seen else EchoState.UNKNOWN, None, seen)
        if now - due < self.echo_grace:
            return WebhookHealth(EchoState.ECHO_PENDING, due, seen)
        return WebhookHealth(EchoState.LOOK_LOST, due + self.echo_grace, seen)

    def interval(self, connection: Connection, now: datetime) -> timedelta:
        return self.fast if self.health(connection, now).fast else self.slow

    def due(self, connection: Connection, now: datetime) -> bool:
        """Whether the company's poll is due at `now`: never polled, or last claimed in an earlier slot."""
        last = connection.polled_at
        if last is None:
            return True
        interval = self.interval(connection, now)
        offset = self._offset(connection.company_id, interval)
        return _slot(now, interval, offset) > _slot(last, interval, offset)

    def next_poll(self, connection: Connection, now: datetime) -> datetime:
        """When the poll is due next, as things stand at `now` (a write or an event may bring it forward)."""
        last = connection.polled_at
        if last is None or self.due(connection, now):
            return now
        interval = self.interval(connection, now)
        offset = self._offset(connection.company_id, interval)
        return EPOCH + offset + (_slot(last, interval, offset) + 1) * interval

    def _offset(self, company_id: int, interval: timedelta) -> timedelta:
        minutes = interval // MINUTE
        return MINUTE * ((company_id * OFFSET_STEP) % minutes) if minutes > 1 else timedelta(0)


def _slot(moment: datetime, interval: timedelta, offset: timedelta) -> int:
    return (moment - EPOCH - offset) // interval


def is_write(exchange: Exchange) -> bool:
    """Whether an attempt changed the company's QBO, so that QBO sends a webhook event for it: a create, update,
    delete or void answered 2xx, or a batch in which at least one item did so."""
    if exchange.method != "POST" or exchange.status is None or not 200 <= exchange.status < 300:
        return False
    head = exchange.path.rstrip("/").rsplit("/", 1)[-1].lower()
    if head in ("query", "cdc"):
        return False
    if head == "batch":
        return _batch_wrote(exchange.response_body or "")
    return True


def _batch_wrote(body: str) -> bool:
    """Whether a batch answer holds an item that is an entity (not a Fault, not a query's answer)."""
    try:
        items = json.loads(body).get("BatchItemResponse")
    except (ValueError, AttributeError):
        return True  # unreadable: assume it wrote (the worst is one fast poll too many)
    if not isinstance(items, list):
        return True
    return any(isinstance(item, dict) and set(item) - {"bId", "Fault", "QueryResponse"} for item in items)


class EchoWatch:
    """Notes our writes to each company's QBO as they happen, through the QBO client's `on_exchange`: the write
    then waits for its echo (see the module docstring). Shared by every client of a process."""

    def __init__(self, uow: UnitOfWorkFactory) -> None:
        self._uow = uow

    def recorder(self, company_id: int, then: Recorder | None = None) -> Recorder:
        """An `on_exchange` for a client of the company: hands the attempt to `then`, then notes it if it wrote."""

        def record(exchange: Exchange) -> None:
            if then is not None:
                then(exchange)
            if is_write(exchange):
                self.wrote(company_id, exchange.started_at)

        return record

    def wrote(self, company_id: int, at: datetime) -> None:
        """Never raises: a write not noted only delays noticing lost webhooks, while an error here would turn a
        write QBO made into a failure the caller would retry."""
        try:
            with self._uow() as uow:
                uow.connections.note_write(company_id, at)
                uow.commit()
        except Exception as error:
            log.warning("write to QuickBooks of company %s not noted for webhook health: %s", company_id, error)
