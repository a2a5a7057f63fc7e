"""The same repository contract runs on the in-memory fake, SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from tests.fakes import in_memory_uow_factory

from invoicebridge.store.db import make_engine, make_session_factory
from invoicebridge.store.migrate import upgrade
from invoicebridge.store.unit_of_work import SqlUnitOfWork
from invoicebridge.sync.ports import UnitOfWork


def _sql_factory(url: str) -> Iterator[Callable[[], UnitOfWork]]:
    upgrade(url)
    engine = make_engine(url)
    sessions = make_session_factory(engine)
    yield lambda: SqlUnitOfWork(sessions)
    engine.dispose()


@pytest.fixture(params=["fake", "sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def uow_factory(request: pytest.FixtureRequest) -> Iterator[Callable[[], UnitOfWork]]:
    if request.param == "fake":
        yield in_memory_uow_factory()
    elif request.param == "sqlite":
        yield from _sql_factory(request.getfixturevalue("sqlite_url"))
    else:
        yield from _sql_factory(request.getfixturevalue("postgres_url"))
