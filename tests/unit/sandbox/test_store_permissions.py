"""qbo_sandbox's --db file holds companies, customers and OAuth tokens: created readable by its owner only."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from qbo_sandbox.store import SqliteStore


def test_the_sandbox_state_file_and_its_siblings_are_private(tmp_path: Path) -> None:
    previous = os.umask(0o022)
    try:
        path = tmp_path / "sandbox.db"
        store = SqliteStore(path)  # opens it in WAL mode
        store.load_realms()
        found = {p.name: stat.S_IMODE(p.stat().st_mode) for p in tmp_path.glob("sandbox.db*")}
        store.close()
    finally:
        os.umask(previous)
    assert "sandbox.db" in found
    assert set(found.values()) == {0o600}
