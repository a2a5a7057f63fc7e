"""``--db FILE``: the sandbox's state in a SQLite file, so companies, apps and tokens outlive a restart.

Each company is one row holding its pickled state, written after every change of that company (the sandbox is
a development tool: simple and whole beats clever). Pickle is safe here because the file is the user's own,
written only by this module; never point ``--db`` at a file from someone else.
"""

from __future__ import annotations

import pickle
import sqlite3
import threading
from pathlib import Path

from qbo_sandbox.realm import RealmState

SCHEMA = (
    "CREATE TABLE IF NOT EXISTS realms (realm_id TEXT PRIMARY KEY, state BLOB NOT NULL)",
    "CREATE TABLE IF NOT EXISTS registry (id INTEGER PRIMARY KEY CHECK (id = 1), state BLOB NOT NULL)",
)


class SqliteStore:
    """Implements the backend's Persistence protocol, plus the OAuth registry's snapshot."""

    def __init__(self, path: str | Path) -> None:
        self._lock = threading.Lock()
        self._db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        for statement in SCHEMA:
            self._db.execute(statement)

    def load_realms(self) -> list[RealmState]:
        with self._lock:
            rows = self._db.execute("SELECT state FROM realms ORDER BY realm_id").fetchall()
        return [_realm(blob) for (blob,) in rows]

    def save(self, state: RealmState) -> None:
        blob = pickle.dumps(state, protocol=pickle.HIGHEST_PROTOCOL)
        with self._lock:
            self._db.execute("INSERT OR REPLACE INTO realms (realm_id, state) VALUES (?, ?)", (state.realm_id, blob))

    def drop(self, realm_id: str) -> None:
        with self._lock:
            self._db.execute("DELETE FROM realms WHERE realm_id = ?", (realm_id,))

    def clear(self) -> None:
        with self._lock:
            self._db.execute("DELETE FROM realms")
            self._db.execute("DELETE FROM registry")

    def load_registry(self) -> object | None:
        with self._lock:
            row = self._db.execute("SELECT state FROM registry WHERE id = 1").fetchone()
        return pickle.loads(row[0]) if row else None

    def save_registry(self, snapshot: object) -> None:
        blob = pickle.dumps(snapshot, protocol=pickle.HIGHEST_PROTOCOL)
        with self._lock:
            self._db.execute("INSERT OR REPLACE INTO registry (id, state) VALUES (1, ?)", (blob,))

    def close(self) -> None:
        with self._lock:
            self._db.close()


def _realm(blob: bytes) -> RealmState:
    state = pickle.loads(blob)
    if not isinstance(state, RealmState):
        raise ValueError("the database holds something other than sandbox state")
    return state
