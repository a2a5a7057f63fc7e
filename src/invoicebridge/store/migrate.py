"""Schema migrations (Alembic), run programmatically so they work from an installed package."""

from __future__ import annotations

from importlib.resources import files

from alembic import command
from alembic.config import Config

from invoicebridge.store.db import normalise_url


def alembic_config(database_url: str) -> Config:
    """An Alembic configuration for `database_url` with the migrations shipped inside this package."""
    config = Config()
    config.set_main_option("script_location", str(files("invoicebridge.store") / "migrations"))
    # Alembic reads options through ConfigParser: a literal % must be doubled.
    config.set_main_option("sqlalchemy.url", normalise_url(database_url).replace("%", "%%"))
    return config


def upgrade(database_url: str, revision: str = "head") -> None:
    """Bring the database at `database_url` to `revision`. Safe to run again: it does nothing when current."""
    command.upgrade(alembic_config(database_url), revision)
