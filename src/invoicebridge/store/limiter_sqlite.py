"""The QBO limiter's ledger in a SQLite file, shared by every process on one machine.

Implements ``invoicebridge.qbo.limits.Ledger`` structurally (the store imports nothing of ``qbo``); the rule is
in that module's docstring. The file (``limits.db`` beside ``jobs.db``) holds one row per request admitted in
the last span: each admission runs in one ``BEGIN IMMEDIATE`` transaction, so two processes can never both take
the last slot. Times are the machine's wall clock (``time.time``), which every process on it shares. The file
is created readable by its owner only: its rows name the companies' realm ids.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

__all__ = ["LimitNumbers", "SqliteLedger"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS admissions (
    ticket TEXT PRIMARY KEY,
    realm_id TEXT NOT NULL,
    batch INTEGER NOT NULL,
    open INTEGER NOT NULL,
    until REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS admissions_by_realm ON admissions (realm_id, until);
"""
_COUNTS = """
SELECT COUNT(*), COALESCE(SUM(batch), 0), COALESCE(SUM(open AND until > :now), 0), MIN(until),
       MIN(CASE WHEN batch THEN until END)
FROM admissions WHERE realm_id = :realm
"""


class LimitNumbers(Protocol):
    """The numbers a ledger keeps (``invoicebridge.qbo.limits.LimitRules`` has them)."""

    @property
    def per_minute(self) -> int: ...
    @property
    def concurrent(self) -> int: ...
    @property
    def batch_per_minute(self) -> int: ...
    @property
    def span_seconds(self) -> float: ...
    @property
    def lease_seconds(self) -> float: ...


class SqliteLedger:
    """Admissions in the SQLite file ``path``; thread-safe (one connection per process, under a lock) and
    fork-safe (a child process opens its own connection on first use). ``poll_seconds``: how soon a request
    refused only for want of a concurrency slot asks again (each ask is a write transaction on the file)."""

    def __init__(
        self, path: Path, rules: LimitNumbers, now: Callable[[], float] = time.time, poll_seconds: float = 0.05
    ) -> None:
        self.path = path
        self.rules = rules
        self._now = now
        self._poll = poll_seconds
        self._lock = threading.Lock()
        self._connection: sqlite3.Connection | None = None
        self._pid = 0

    def try_admit(self, realm_id: str, ticket: str, batch: bool) -> float | None:
        rules = self.rules
        with self._lock:
            db = self._db()
            db.execute("BEGIN IMMEDIATE")  # the write lock first: the count and the insert are one step
            try:
                now = self._now()
                db.execute(
                    "DELETE FROM admissions WHERE realm_id = ? AND until <= ?", (realm_id, now - rules.span_seconds)
                )
                wait = self._refusal(db.execute(_COUNTS, {"now": now, "realm": realm_id}).fetchone(), now, batch)
                if wait is None:
                    db.execute(
                        "INSERT INTO admissions (ticket, realm_id, batch, open, until) VALUES (?, ?, ?, 1, ?)",
                        (ticket, realm_id, int(batch), now + rules.lease_seconds),
                    )
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise
            return wait

    def release(self, realm_id: str, ticket: str) -> None:
        with self._lock:
            db = self._db()
            # autocommit: one statement is its own transaction
            db.execute("UPDATE admissions SET open = 0, until = ? WHERE ticket = ?", (self._now(), ticket))

    def counts(self, realm_id: str) -> tuple[int, int, int]:
        """(requests counted, batch requests counted, slots held) for ``realm_id`` now."""
        with self._lock:
            now = self._now()
            row = (
                self._db()
                .execute(
                    "SELECT COUNT(*), COALESCE(SUM(batch), 0), COALESCE(SUM(open AND until > ?), 0) FROM admissions "
                    "WHERE realm_id = ? AND until > ?",
                    (now, realm_id, now - self.rules.span_seconds),
                )
                .fetchone()
            )
            return int(row[0]), int(row[1]), int(row[2])

    def close(self) -> None:
        with self._lock:
            if self._connection is not None and self._pid == os.getpid():
                self._connection.close()
            self._connection = None

    def _refusal(
        self, counts: tuple[int, int, int, float | None, float | None], now: float, batch: bool
    ) -> float | None:
        requests, batches, held, oldest, oldest_batch = counts
        rules = self.rules
        if requests >= rules.per_minute:
            return self._window_wait(now, oldest)
        if batch and batches >= rules.batch_per_minute:
            return self._window_wait(now, oldest_batch)
        if held >= rules.concurrent:
            return self._poll
        return None

    def _window_wait(self, now: float, oldest: float | None) -> float:
        # every counted request still running: its end moves earlier when it finishes, so look again soon
        if oldest is None or oldest > now:
            return self._poll
        return max(self._poll, oldest + self.rules.span_seconds - now)

    def _db(self) -> sqlite3.Connection:
        if self._connection is None or self._pid != os.getpid():
            self._connection = self._open()
            self._pid = os.getpid()
        return self._connection

    def _open(self) -> sqlite3.Connection:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        _private_file(self.path)
        # isolation_level=None: transactions are exactly the BEGIN/COMMIT written above
        db = sqlite3.connect(self.path, timeout=30.0, isolation_level=None, check_same_thread=False)
        db.execute("PRAGMA journal_mode=WAL")  # readers never wait for the writer
        db.execute("PRAGMA synchronous=NORMAL")  # a power cut may lose the last admissions: they are minutes-lived
        db.executescript(_SCHEMA)
        return db


def _private_file(path: Path) -> None:
    """Create the file readable by its owner only (0600) before SQLite opens it (as the job queue's file)."""
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except FileExistsError:
        return
    os.chmod(path, 0o600)  # the umask may have narrowed 0600 further
