"""The job queue: huey — SqliteHuey on one machine (a file beside the database), RedisHuey across machines,
and huey's immediate mode (in memory, tasks run as they are enqueued) for tests. Same task code everywhere."""

from __future__ import annotations

import os
from pathlib import Path

from huey import Huey, MemoryHuey, PriorityRedisHuey, SqliteHuey


def make_huey(*, redis_url: str | None = None, sqlite_path: Path | None = None, immediate: bool = False) -> Huey:
    """Redis when `redis_url` is given, else a SQLite file, else (immediate) in memory. Task results are not
    kept: every outcome is stored where it belongs (the invoice link, the COGS entry), and kept results would
    pile up in the queue's storage, one per job, forever."""
    if immediate:
        return MemoryHuey("invoicebridge", immediate=True, utc=True, results=False)
    if redis_url:
        # priorities: webhooks first; blocking: an idle worker wakes the moment a job is queued (jobs/worker.py)
        return PriorityRedisHuey("invoicebridge", url=redis_url, utc=True, results=False, blocking=True, read_timeout=1)
    if sqlite_path is None:
        raise ValueError("a SQLite path or a Redis URL is needed for a queue that outlives the process")
    sqlite_path.parent.mkdir(parents=True, exist_ok=True)
    _private_file(sqlite_path)
    return SqliteHuey("invoicebridge", filename=str(sqlite_path), utc=True, results=False)


def _private_file(path: Path) -> None:
    """Create the queue's file readable by its owner only (0600) before huey opens it: queued tasks name
    companies and orders, and SQLite would create it readable by every local user (the usual umask). Its -wal and
    -shm files take the database file's permissions. An existing file keeps the permissions it has."""
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except FileExistsError:
        return
    os.chmod(path, 0o600)  # the umask may have narrowed 0600 further (0400 would leave it unwritable)
