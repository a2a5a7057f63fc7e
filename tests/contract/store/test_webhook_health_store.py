"""The connection's webhook-health fields on SQLite and PostgreSQL: a write waits for its echo (the oldest
counts), an event settles the writes made before it, the poll's claim is a compare-and-set, and saving a
connection read earlier never undoes any of them."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from tests.contract.store.conftest import _sql_factory

from invoicebridge.domain import Company
from invoicebridge.domain.connection import Connection, Health
from invoicebridge.sync.ports import UnitOfWork

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
REALM = "9341"
Factory = Callable[[], UnitOfWork]


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def uow(request: pytest.FixtureRequest) -> Iterator[Factory]:
    yield from _sql_factory(request.getfixturevalue(f"{request.param}_url"))


@pytest.fixture
def company(uow: Factory) -> int:
    with uow() as work:
        company_id = work.companies.add(Company(None, "Echo Ltd", "GBP", "Europe/London")).id or 0
        work.connections.save(Connection(company_id, REALM, Health.CONNECTED, T0))
        work.commit()
    return company_id


def _connection(uow: Factory, company_id: int) -> Connection:
    with uow() as work:
        found = work.connections.get(company_id)
    assert found is not None
    return found


def _do(uow: Factory, step: Callable[[UnitOfWork], object]) -> object:
    with uow() as work:
        result = step(work)
        work.commit()
    return result


def test_the_oldest_unechoed_write_is_kept(uow: Factory, company: int) -> None:
    _do(uow, lambda w: w.connections.note_write(company, T0))
    _do(uow, lambda w: w.connections.note_write(company, T0 + timedelta(seconds=30)))
    assert _connection(uow, company).echo_due_since == T0


def test_an_event_settles_the_writes_made_before_it_but_not_a_later_one(uow: Factory, company: int) -> None:
    _do(uow, lambda w: w.connections.note_write(company, T0))
    _do(uow, lambda w: w.connections.webhook_arrived(REALM, T0 + timedelta(seconds=2)))
    settled = _connection(uow, company)
    assert (settled.echo_due_since, settled.webhook_seen_at) == (None, T0 + timedelta(seconds=2))
    _do(uow, lambda w: w.connections.note_write(company, T0 + timedelta(seconds=5)))
    assert _connection(uow, company).echo_due_since == T0 + timedelta(seconds=5)


def test_a_write_noted_after_its_echo_was_handled_does_not_wait(uow: Factory, company: int) -> None:
    """The echo's job may run before the writer's note commits: a write older than the last event is settled."""
    _do(uow, lambda w: w.connections.webhook_arrived(REALM, T0 + timedelta(seconds=1)))
    _do(uow, lambda w: w.connections.note_write(company, T0))
    assert _connection(uow, company).echo_due_since is None


def test_an_older_delivery_handled_late_does_not_move_the_last_event_back(uow: Factory, company: int) -> None:
    _do(uow, lambda w: w.connections.webhook_arrived(REALM, T0 + timedelta(minutes=1)))
    _do(uow, lambda w: w.connections.webhook_arrived(REALM, T0))
    assert _connection(uow, company).webhook_seen_at == T0 + timedelta(minutes=1)


def test_only_one_worker_claims_a_poll(uow: Factory, company: int) -> None:
    assert _do(uow, lambda w: w.connections.swap_polled_at(company, None, T0)) is True
    assert _do(uow, lambda w: w.connections.swap_polled_at(company, None, T0)) is False  # the second scheduler
    later = T0 + timedelta(minutes=1)
    assert _do(uow, lambda w: w.connections.swap_polled_at(company, T0, later)) is True
    assert _do(uow, lambda w: w.connections.swap_polled_at(company, later, T0)) is True  # a failed round gives back
    assert _connection(uow, company).polled_at == T0


def test_saving_a_connection_read_earlier_keeps_the_health_fields(uow: Factory, company: int) -> None:
    stale = _connection(uow, company)
    _do(uow, lambda w: w.connections.note_write(company, T0))
    _do(uow, lambda w: w.connections.swap_polled_at(company, None, T0))
    _do(uow, lambda w: w.connections.save(replace(stale, cdc_checked_at=T0)))
    kept = _connection(uow, company)
    assert (kept.echo_due_since, kept.polled_at, kept.cdc_checked_at) == (T0, T0, T0)
