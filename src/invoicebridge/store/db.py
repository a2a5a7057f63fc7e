"""Engine and sessions from a database URL: SQLite on one machine, PostgreSQL (psycopg 3) at scale."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import URL, make_url
from sqlalchemy.orm import Session, sessionmaker


def normalise_url(url: str) -> str:
    """`postgresql://` and `postgres://` mean psycopg 3; everything else is left as given."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


def make_engine(url: str, **options: Any) -> Engine:
    """An engine for `url`. SQLite gets foreign keys, WAL and a busy timeout, since several processes share it."""
    url = normalise_url(url)
    if url.startswith("sqlite"):
        private_file(sqlite_path(make_url(url)))
        engine = create_engine(url, connect_args={"timeout": 30}, **options)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_pre_ping=True, **options)


def sqlite_path(url: URL) -> Path | None:
    """The file of a SQLite URL; None for an in-memory database or a `file:` URI (SQLite opens those itself)."""
    database = url.database
    if not database or database == ":memory:" or database.startswith("file:") or url.query.get("uri") == "true":
        return None
    return Path(database)


def private_file(path: Path | None) -> None:
    """Create `path` empty and readable by its owner only (0600) unless it exists.

    The database holds customer data and encrypted tokens; SQLite would create it with the process umask
    (usually readable by every local user). SQLite creates the -wal and -shm files with the database file's
    permissions, so they are private too. An existing file keeps the permissions its operator gave it.
    """
    if path is None or path.exists():
        return
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except (FileExistsError, FileNotFoundError):  # created meanwhile, or no such directory: SQLite says so
        return
    os.chmod(path, 0o600)  # the umask may have narrowed 0600 further (0400 would leave it unwritable)


def _sqlite_pragmas(connection: Any, _record: Any) -> None:
    cursor = connection.cursor()
    cursor.execute("PRAGMA foreign_keys = ON")
    cursor.execute("PRAGMA journal_mode = WAL")
    cursor.execute("PRAGMA busy_timeout = 30000")
    cursor.close()


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


def upsert_insert(session: Session) -> Any:
    """The dialect's INSERT, which has ON CONFLICT DO UPDATE on SQLite (≥ 3.24) and PostgreSQL."""
    return postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
