"""The migrations build exactly the schema the models describe (no drift), on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from invoicebridge.store.db import make_engine
from invoicebridge.store.migrate import upgrade
from invoicebridge.store.tables import Base


def drift(url: str) -> list[object]:
    upgrade(url)
    engine = make_engine(url)
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, Base.metadata)
    engine.dispose()
    return list(differences)


def test_sqlite_migrations_match_the_models(sqlite_url: str) -> None:
    assert drift(sqlite_url) == []


@pytest.mark.postgres
def test_postgres_migrations_match_the_models(postgres_url: str) -> None:
    assert drift(postgres_url) == []


def test_upgrade_twice_changes_nothing(sqlite_url: str) -> None:
    upgrade(sqlite_url)
    upgrade(sqlite_url)
    engine = make_engine(sqlite_url)
    tables = set(sa.inspect(engine).get_table_names())
    engine.dispose()
    assert {"companies", "sales_orders", "sales_order_rows", "invoice_links", "alembic_version"} <= tables
