"""The meter's counts in the store: the same contract on the in-memory fake, SQLite and PostgreSQL; workers counting
at once never lose a count (the first count of a month included); the meter's write stands apart from the caller's
transaction."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime

import pytest
from tests.contract.store.conftest import _sql_factory

from invoicebridge.domain import new_company
from invoicebridge.qbo.client import Exchange
from invoicebridge.sync.meter import Budget, Meter
from invoicebridge.sync.ports import UnitOfWork

Factory = Callable[[], UnitOfWork]
WORKERS, EACH = 8, 25


def company(uow: Factory, name: str = "Acme") -> int:
    with uow() as work:
        made = work.companies.add(new_company(name, "USD", "UTC")).id or 0
        work.commit()
    return made


def test_counts_add_up_per_company_and_month_and_together(uow_factory: Factory) -> None:
    acme, globex = company(uow_factory), company(uow_factory, "Globex")
    with uow_factory() as work:
        work.qbo_usage.add(acme, "2026-03", 1, 0)
        work.qbo_usage.add(acme, "2026-03", 0, 2)
        work.qbo_usage.add(globex, "2026-03", 3, 4)
        work.qbo_usage.add(acme, "2026-04", 5, 6)
        work.commit()
    with uow_factory() as work:
        assert work.qbo_usage.of_company(acme, "2026-03") == (1, 2)
        assert work.qbo_usage.of_company(acme, "2026-05") == (0, 0)
        assert work.qbo_usage.of_month("2026-03") == {acme: (1, 2), globex: (3, 4)}
        assert work.qbo_usage.total("2026-03") == (4, 6)
        assert work.qbo_usage.total("2026-05") == (0, 0)


def test_counts_not_committed_are_not_kept(uow_factory: Factory) -> None:
    acme = company(uow_factory)
    with uow_factory() as work:
        work.qbo_usage.add(acme, "2026-03", 1, 1)  # left without commit
    with uow_factory() as work:
        assert work.qbo_usage.of_company(acme, "2026-03") == (0, 0)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def sql(request: pytest.FixtureRequest) -> Iterator[Factory]:
    yield from _sql_factory(request.getfixturevalue(f"{request.param}_url"))


def test_workers_counting_at_once_lose_no_count(sql: Factory) -> None:
    acme = company(sql)
    start = threading.Barrier(WORKERS)
    failures: list[BaseException] = []

    def worker() -> None:
        try:
            start.wait()  # every worker's first count meets a month with no row yet
            for n in range(EACH):
                with sql() as work:
                    work.qbo_usage.add(acme, "2026-03", n % 2, 1 - n % 2)
                    work.commit()
        except BaseException as error:  # reported by the assertion below
            failures.append(error)

    threads = [threading.Thread(target=worker) for _ in range(WORKERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    with sql() as work:
        core, coreplus = work.qbo_usage.of_company(acme, "2026-03")
    assert (core, coreplus) == (WORKERS * (EACH // 2), WORKERS * (EACH - EACH // 2))


def test_the_meter_writes_apart_from_the_callers_transaction(sql: Factory) -> None:
    acme = company(sql)
    meter = Meter(sql, Budget(), lambda: datetime(2026, 3, 14, tzinfo=UTC))
    read = Exchange("GET", "/v3/company/42/invoice/7", {}, None, 200, "{}", None, datetime(2026, 3, 14, tzinfo=UTC),
                    1.0, None)  # fmt: skip
    with sql() as caller:
        caller.companies.get(acme)  # the caller's transaction is open while the QBO call is counted
        meter.count(acme, read)
        caller.rollback()  # and the caller gives up: the count stays
        caller.qbo_usage.add(acme, "2026-03", 1, 0)  # its own transaction goes on unharmed
        caller.commit()
    with sql() as work:
        assert work.qbo_usage.of_company(acme, "2026-03") == (1, 1)


def test_a_count_for_a_company_that_is_gone_is_logged_not_raised(
    sql: Factory, caplog: pytest.LogCaptureFixture
) -> None:
    meter = Meter(sql, Budget(), lambda: datetime(2026, 3, 14, tzinfo=UTC))
    read = Exchange("GET", "/v3/company/42/query", {}, None, 200, "{}", None, datetime(2026, 3, 14, tzinfo=UTC),
                    1.0, None)  # fmt: skip
    meter.count(987654, read)
    assert "not counted" in caplog.text
    with sql() as work:
        assert work.qbo_usage.total("2026-03") == (0, 0)
