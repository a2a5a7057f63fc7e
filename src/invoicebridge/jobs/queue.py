"""The job queue: huey — SqliteHuey on one machine (a file beside the database), RedisHuey across machines,
and huey's immediate mode (in memory, tasks run as they are enqueued) for tests. Same task code everywhere."""

from __future__ import annotations

from pathlib import Path

from huey import Huey, MemoryHuey, RedisHuey, SqliteHuey


def make_huey(*, redis_url: str | None = None, sqlite_path: Path | None = None, immediate: bool = False) -> Huey:
    """Redis when `redis_url` is given, else a SQLite file, else (immediate) in memory."""
    if immediate:
        return MemoryHuey("invoicebridge", immediate=True, utc=True)
    if redis_url:
        return RedisHuey("invoicebridge", url=redis_url, utc=True)
    if sqlite_path is None:
        raise ValueError("a SQLite path or a Redis URL is needed for a queue that outlives the process")
    sqlite_path.parent.mkdir(parents=True, exist_ok=True)
    return SqliteHuey("invoicebridge", filename=str(sqlite_path), utc=True)
