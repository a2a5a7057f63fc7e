"""``--db FILE``: the sandbox's state in a SQLite file, so companies, apps and tokens outlive a restart.

Each company is one row holding its pickled state, written after every change of that company (the sandbox is
a development tool: simple and whole beats clever). Pickle is safe here because the file is the user's own,
written only by this module; never point ``--db`` at a file from someone else.

A file written by an older sandbox may hold what this one refuses — a string with a lone surrogate (text.py),
which breaks every answer that includes it — or a row that no longer unpickles. Such records are skipped with
a logged warning rather than stopping the sandbox from starting.
"""

from __future__ import annotations

import logging
import os
import pickle
import sqlite3
import threading
from pathlib import Path
from typing import Any

from qbo_sandbox.realm import RealmState
from qbo_sandbox.text import flaw

log = logging.getLogger(__name__)
# A company cannot work without these; one of them unreadable skips the whole company.
ESSENTIAL = ("CompanyInfo", "Preferences")

SCHEMA = (
    "CREATE TABLE IF NOT EXISTS realms (realm_id TEXT PRIMARY KEY, state BLOB NOT NULL)",
    "CREATE TABLE IF NOT EXISTS registry (id INTEGER PRIMARY KEY CHECK (id = 1), state BLOB NOT NULL)",
)


class SqliteStore:
    """Implements the backend's Persistence protocol, plus the OAuth registry's snapshot."""

    def __init__(self, path: str | Path) -> None:
        self._lock = threading.Lock()
        _private(Path(path))
        self._db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        for statement in SCHEMA:
            self._db.execute(statement)

    def load_realms(self) -> list[RealmState]:
        """Every company in the file. One whose row does not unpickle, or whose name, company info or preferences
        is not Unicode text, is skipped (and left in the file); other objects, tombstones and remembered request
        ids that are not are left out (and gone from the file once the company is saved again). Each with a
        logged warning."""
        with self._lock:
            rows = self._db.execute("SELECT realm_id, state FROM realms ORDER BY realm_id").fetchall()
        loaded = (_realm(realm_id, blob) for realm_id, blob in rows)
        return [state for state in loaded if state is not None and _readable(state)]

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
        """The OAuth registry's snapshot; None when there is none or it does not unpickle (logged)."""
        with self._lock:
            row = self._db.execute("SELECT state FROM registry WHERE id = 1").fetchone()
        if row is None:
            return None
        try:
            snapshot: object = pickle.loads(row[0])
        except Exception as error:  # whatever an older file holds must not stop the sandbox from starting
            log.warning(
                "qbo_sandbox: the apps and tokens in the state file cannot be read (%r); starting without", error
            )
            return None
        return snapshot

    def save_registry(self, snapshot: object) -> None:
        blob = pickle.dumps(snapshot, protocol=pickle.HIGHEST_PROTOCOL)
        with self._lock:
            self._db.execute("INSERT OR REPLACE INTO registry (id, state) VALUES (1, ?)", (blob,))

    def close(self) -> None:
        with self._lock:
            self._db.close()


def _realm(realm_id: str, blob: bytes) -> RealmState | None:
    try:
        state = pickle.loads(blob)
    except Exception as error:  # whatever an older file holds must not stop the sandbox from starting
        log.warning("qbo_sandbox: company %r in the state file cannot be read (%r); skipped", realm_id, error)
        return None
    if not isinstance(state, RealmState):
        log.warning("qbo_sandbox: company %r in the state file is not sandbox state; skipped", realm_id)
        return None
    return state


def _readable(state: RealmState) -> bool:
    """False (logged) when the company itself is unusable; otherwise drops, logging each, what is not."""
    identity = {"realm_id": state.realm_id, "name": state.name, "country": state.country}
    problem = flaw({**identity, **{entity: state.table(entity).get("1") for entity in ESSENTIAL}})
    if problem is not None:
        log.warning("qbo_sandbox: company %r in the state file skipped: %s", state.realm_id, problem.reason)
        return False
    tables: list[tuple[str, dict[str, Any]]] = [(f"{entity} {{!r}}", t) for entity, t in state.objects.items()]
    tables += [(f"deleted {entity} {{!r}}", t) for entity, t in state.tombstones.items()]
    tables.append(("the answer remembered for request id {!r}", state.replays))
    for label, table in tables:
        unreadable = {key: found for key, value in table.items() if (found := flaw(key) or flaw(value))}
        for key, found in unreadable.items():
            del table[key]
            log.warning(
                "qbo_sandbox: %s of company %r left out of the state file: %s",
                label.format(key), state.realm_id, found.reason,
            )  # fmt: skip
    return True


def _private(path: Path) -> None:
    """Create the file readable by its owner only (it holds companies, customers and OAuth tokens); SQLite gives
    its -wal and -shm files the same permissions. An existing file keeps its own."""
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except FileExistsError:
        return
