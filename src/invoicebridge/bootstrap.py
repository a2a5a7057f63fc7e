"""Composition root: settings → engine → unit of work → use cases. Nothing here runs at import time."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Engine

from invoicebridge.settings import Settings
from invoicebridge.store.db import make_engine, make_session_factory
from invoicebridge.store.migrate import upgrade
from invoicebridge.store.unit_of_work import SqlUnitOfWork
from invoicebridge.sync.orderbook import OrderBook
from invoicebridge.sync.ports import UnitOfWork, UnitOfWorkFactory


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class Container:
    """Everything an entry point needs, built once from the settings."""

    settings: Settings
    engine: Engine
    uow: UnitOfWorkFactory
    orderbook: OrderBook

    def close(self) -> None:
        self.engine.dispose()


def build(settings: Settings, *, migrate: bool = False) -> Container:
    """Wire the application for `settings`; with `migrate`, bring the schema up to date first."""
    url = settings.resolved_database_url()
    if migrate:
        upgrade(url)
    engine = make_engine(url)
    sessions = make_session_factory(engine)

    def unit_of_work() -> UnitOfWork:
        return SqlUnitOfWork(sessions)

    return Container(settings, engine, unit_of_work, OrderBook(unit_of_work, utc_now))
