"""Rows two workers may insert at once (remembered QBO ids, handled webhook events): the loser's insert is refused
by the unique constraint, and its unit of work must go on as if it had found the row — the soak found a worker
failing an invoice with "Instance <QboRefRow> is not present in this Session" here."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime

import pytest
from tests.contract.store.conftest import _sql_factory

from invoicebridge.domain import new_company
from invoicebridge.store.qbo_repositories import SqlQboRefs
from invoicebridge.store.tables import QboRefRow
from invoicebridge.sync.ports import UnitOfWork

NOW = datetime(2026, 11, 2, tzinfo=UTC)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def uow(request: pytest.FixtureRequest) -> Iterator[Callable[[], UnitOfWork]]:
    yield from _sql_factory(request.getfixturevalue(f"{request.param}_url"))


class LateLook(SqlQboRefs):
    """Looks before a concurrent worker's row is there: the insert that follows meets it."""

    def _row(self, company_id: int, kind: str, local_id: int) -> QboRefRow | None:
        return None


def test_a_qbo_id_remembered_meanwhile_by_another_worker_is_no_error(uow: Callable[[], UnitOfWork]) -> None:
    with uow() as first:
        company = first.companies.add(new_company("Acme", "USD", "UTC")).id or 0
        first.qbo_refs.put(company, "customer", 1, "77")
        first.commit()
    with uow() as second:
        LateLook(second.session).put(company, "customer", 1, "77")  # type: ignore[attr-defined]
        second.qbo_refs.put(company, "item", 2, "88")  # the unit of work goes on
        second.commit()
    with uow() as check:
        assert (check.qbo_refs.get(company, "customer", 1), check.qbo_refs.get(company, "item", 2)) == ("77", "88")


def test_an_event_handled_meanwhile_by_another_worker_is_no_error(uow: Callable[[], UnitOfWork]) -> None:
    with uow() as first:
        assert first.processed_events.first_time("evt-1", NOW)
        first.commit()
    with uow() as second:
        assert not second.processed_events.first_time("evt-1", NOW)
        assert second.processed_events.first_time("evt-2", NOW)
        second.commit()
    with uow() as check:
        assert check.processed_events.seen("evt-1") and check.processed_events.seen("evt-2")
