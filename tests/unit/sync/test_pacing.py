"""The CDC poll's pacing by webhook health (sync/pacing.py), as pure rules: slow while our writes echo, every
tick while one waits for its echo or webhooks look lost, never more than one poll per slot."""

from __future__ import annotations

import itertools
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from invoicebridge.domain.connection import Connection, Health
from invoicebridge.qbo.client import Exchange
from invoicebridge.sync.pacing import EchoState, EchoWatch, Pacing, is_write

T0 = datetime(2026, 3, 2, 9, 0, 20, tzinfo=UTC)  # 20 s past a minute: a tick's poll starts a little after it
PACING = Pacing(fast=timedelta(minutes=1), slow=timedelta(hours=8), echo_grace=timedelta(minutes=2))
MINUTE = timedelta(minutes=1)


def _connection(company_id: int = 7, **health: datetime | None) -> Connection:
    return replace(Connection(company_id, "9341", Health.CONNECTED, T0 - timedelta(days=3)), **health)


def _polls(connection: Connection, start: datetime, ticks: int, step: timedelta = MINUTE) -> list[datetime]:
    """Tick every `step` from `start`; poll (and claim) whenever due, as the periodic task does."""
    polled = []
    for n in range(ticks):
        now = start + n * step
        if PACING.due(connection, now):
            polled.append(now)
            connection = replace(connection, polled_at=now)
    return polled


def test_a_company_never_polled_is_due_at_once() -> None:
    assert PACING.due(_connection(), T0)


def test_healthy_webhooks_poll_every_eight_hours() -> None:
    healthy = _connection(webhook_seen_at=T0 - timedelta(hours=1), polled_at=T0)
    assert PACING.health(healthy, T0).state is EchoState.HEALTHY
    polls = _polls(healthy, T0 + MINUTE, ticks=3 * 24 * 60)  # three days of minute ticks
    assert len(polls) == 9
    assert all(b - a == timedelta(hours=8) for a, b in itertools.pairwise(polls))


def test_an_idle_healthy_company_polls_90_times_in_a_30_day_month() -> None:
    healthy = _connection(webhook_seen_at=T0, polled_at=T0)
    assert len(_polls(healthy, T0 + MINUTE, ticks=30 * 24 * 60)) == 90


def test_a_write_waiting_for_its_echo_polls_every_tick() -> None:
    just_made = _connection(webhook_seen_at=T0 - timedelta(hours=2), echo_due_since=T0, polled_at=T0)
    health = PACING.health(just_made, T0 + timedelta(seconds=30))
    assert (health.state, health.since) == (EchoState.ECHO_PENDING, T0)
    assert _polls(just_made, T0 + MINUTE, ticks=5) == [T0 + n * MINUTE for n in range(1, 6)]


def test_webhooks_look_lost_once_a_write_waited_past_the_grace_and_poll_every_tick() -> None:
    waiting = _connection(webhook_seen_at=T0 - timedelta(days=1), echo_due_since=T0, polled_at=T0)
    health = PACING.health(waiting, T0 + timedelta(minutes=3))
    assert (health.state, health.since) == (EchoState.LOOK_LOST, T0 + timedelta(minutes=2))
    assert len(_polls(waiting, T0 + timedelta(hours=5), ticks=60)) == 60


def test_the_echo_brings_polling_back_to_slow() -> None:
    just_made = _connection(echo_due_since=T0, polled_at=T0 + MINUTE)
    echoed = replace(just_made, echo_due_since=None, webhook_seen_at=T0 + timedelta(seconds=1))
    assert PACING.due(just_made, T0 + 2 * MINUTE)
    assert not PACING.due(echoed, T0 + 2 * MINUTE)
    assert PACING.next_poll(echoed, T0 + 2 * MINUTE) - (T0 + MINUTE) <= timedelta(hours=8)


def test_a_connection_without_events_or_waiting_writes_is_unknown_and_slow() -> None:
    fresh = _connection(polled_at=T0)
    assert PACING.health(fresh, T0).state is EchoState.UNKNOWN
    assert PACING.interval(fresh, T0) == PACING.slow


def test_companies_poll_at_different_minutes_when_slow() -> None:
    first_polls = {
        _polls(_connection(company_id, webhook_seen_at=T0, polled_at=T0), T0 + MINUTE, ticks=8 * 60)[0]
        for company_id in range(1, 41)
    }
    assert len(first_polls) > 30


@given(
    gaps=st.lists(st.integers(min_value=1, max_value=150), min_size=1, max_size=200),
    slow=st.sampled_from([None, T0]),
    company_id=st.integers(min_value=1, max_value=10**6),
)
def test_never_more_than_one_poll_per_slot_however_the_ticks_fall(
    gaps: list[int], slow: datetime | None, company_id: int
) -> None:
    """Ticks at any moments (late, early, doubled by several schedulers): one poll per slot at most, and every
    slot with a tick in it gets its poll."""
    connection = _connection(company_id, webhook_seen_at=T0, echo_due_since=None if slow else T0, polled_at=T0)
    interval = PACING.interval(connection, T0)
    moments = [T0 + timedelta(seconds=sum(gaps[: n + 1]) * (interval // MINUTE)) for n in range(len(gaps))]
    polls = []
    for now in moments:
        if PACING.due(connection, now):
            polls.append(now)
            connection = replace(connection, polled_at=now)
    slots = [PACING.next_poll(replace(connection, polled_at=p), p) for p in polls]
    assert len(slots) == len(set(slots))  # no two polls share a slot (each slot ends at its own moment)
    ticked = {PACING.next_poll(replace(connection, polled_at=m), m) for m in moments}
    ticked.discard(PACING.next_poll(replace(connection, polled_at=T0), T0))  # T0's slot: polled before the ticks
    assert len(polls) == len(ticked)


def test_pacing_refuses_intervals_the_scheduler_cannot_keep() -> None:
    with pytest.raises(ValueError, match="fast ≥ 1 minute"):
        Pacing(fast=timedelta(seconds=30))
    with pytest.raises(ValueError, match="slow ≥ fast"):
        Pacing(fast=timedelta(hours=2), slow=timedelta(hours=1))


def _exchange(method: str, path: str, status: int | None = 200, response: str | None = None) -> Exchange:
    return Exchange(method, f"/v3/company/9341/{path}", {}, None, status, response, None, T0, 5.0, None)


@pytest.mark.parametrize(
    ("exchange", "wrote"),
    [
        (_exchange("POST", "invoice"), True),
        (_exchange("POST", "journalentry"), True),
        (_exchange("POST", "invoice", 400), False),  # refused: nothing changed, no event comes
        (_exchange("POST", "invoice", None), False),  # no answer: the look-up decides, and its write notes itself
        (_exchange("POST", "query"), False),
        (_exchange("GET", "invoice/130"), False),
        (_exchange("GET", "cdc"), False),
        (_exchange("POST", "batch", response='{"BatchItemResponse": [{"bId": "1", "Invoice": {"Id": "9"}}]}'), True),
        (_exchange("POST", "batch", response='{"BatchItemResponse": [{"bId": "1", "Fault": {}}]}'), False),
        (_exchange("POST", "batch", response='{"BatchItemResponse": [{"bId": "1", "QueryResponse": {}}]}'), False),
    ],
)
def test_which_exchanges_are_writes_that_echo(exchange: Exchange, wrote: bool) -> None:
    assert is_write(exchange) is wrote


def test_a_failure_to_note_a_write_never_fails_the_call() -> None:
    def broken() -> object:
        raise RuntimeError("database is locked")

    seen: list[Exchange] = []
    record = EchoWatch(broken).recorder(7, then=seen.append)  # type: ignore[arg-type]
    record(_exchange("POST", "invoice"))
    assert len(seen) == 1
