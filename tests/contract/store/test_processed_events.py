"""Handled webhook event ids: forgotten before a moment, on SQLite and PostgreSQL alike (the daily task's store
side; sync/reconcile.EVENT_MEMORY says how long they are kept)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

import pytest
from tests.contract.store.conftest import _sql_factory

from invoicebridge.sync.ports import UnitOfWork

NOW = datetime(2026, 11, 2, tzinfo=UTC)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def uow(request: pytest.FixtureRequest) -> Iterator[Callable[[], UnitOfWork]]:
    yield from _sql_factory(request.getfixturevalue(f"{request.param}_url"))


def test_ids_handled_before_the_moment_are_forgotten_the_rest_kept(uow: Callable[[], UnitOfWork]) -> None:
    with uow() as first:
        for n, age in enumerate((timedelta(days=40), timedelta(days=31), timedelta(days=29), timedelta(0))):
            assert first.processed_events.first_time(f"evt-{n}", NOW - age)
        first.commit()
    with uow() as second:
        assert second.processed_events.forget_before(NOW - timedelta(days=30)) == 2
        second.commit()
    with uow() as check:
        assert [check.processed_events.seen(f"evt-{n}") for n in range(4)] == [False, False, True, True]
        assert check.processed_events.forget_before(NOW - timedelta(days=30)) == 0
        assert check.processed_events.first_time("evt-0", NOW)  # a forgotten id is new again
