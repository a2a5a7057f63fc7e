"""The database and job-queue files hold customer data: they are created readable by their owner only (0600),
with their -wal and -shm siblings, whatever the process umask lets through (issue 9)."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from invoicebridge.jobs.queue import make_huey
from invoicebridge.store.db import make_engine
from invoicebridge.store.migrate import upgrade


@pytest.fixture
def open_umask() -> Iterator[None]:
    """The common umask: files readable by everyone unless the program says otherwise."""
    previous = os.umask(0o022)
    yield
    os.umask(previous)


def modes(path: Path) -> dict[str, int]:
    """Permission bits of the file and of its SQLite siblings that exist."""
    found = {p.name: stat.S_IMODE(p.stat().st_mode) for p in path.parent.glob(path.name + "*")}
    assert path.name in found
    return found


@pytest.mark.usefixtures("open_umask")
def test_the_database_and_its_wal_and_shm_files_are_private(tmp_path: Path) -> None:
    path = tmp_path / "invoicebridge.db"
    engine = make_engine(f"sqlite:///{path}")
    with engine.connect() as connection:  # WAL mode: the -wal and -shm files exist while a connection is open
        connection.execute(sa.text("CREATE TABLE t (x INTEGER)"))
        connection.execute(sa.text("INSERT INTO t VALUES (1)"))
        connection.commit()
        found = modes(path)
    engine.dispose()
    assert {f"{path.name}-wal", f"{path.name}-shm"} <= set(found)
    assert set(found.values()) == {0o600}


@pytest.mark.usefixtures("open_umask")
def test_the_migrated_database_is_private(tmp_path: Path) -> None:
    path = tmp_path / "data" / "book.db"
    path.parent.mkdir()
    upgrade(f"sqlite:///{path}")
    assert set(modes(path).values()) == {0o600}


@pytest.mark.usefixtures("open_umask")
def test_an_existing_database_keeps_the_permissions_its_operator_gave_it(tmp_path: Path) -> None:
    path = tmp_path / "shared.db"
    path.touch(mode=0o640)
    make_engine(f"sqlite:///{path}").dispose()
    assert stat.S_IMODE(path.stat().st_mode) == 0o640


@pytest.mark.usefixtures("open_umask")
def test_the_job_queue_file_and_its_siblings_are_private(tmp_path: Path) -> None:
    path = tmp_path / "jobs.db"
    huey = make_huey(sqlite_path=path)
    huey.storage.enqueue(b"a task")  # huey keeps its connection open: -wal and -shm exist now
    found = modes(path)
    huey.storage.close()
    assert f"{path.name}-wal" in found
    assert set(found.values()) == {0o600}
