"""Fixtures shared by every tier: database URLs and the policy for servers that may be missing.

PostgreSQL (localhost:5432, trust auth, database `test`) and Redis (localhost:6379) are real servers. Without one,
the tests that need it skip with the reason printed; with CI=true they fail instead, so CI can never go green
by skipping them.
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa

from qbo_sandbox.sandbox import SandboxConfig
from qbo_sandbox.server import SandboxServer
from qbo_sandbox.throttle import Limits

POSTGRES_ADMIN_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql+psycopg://postgres@localhost:5432/test")
REDIS_ADDRESS = ("127.0.0.1", 6379)


def require_server(name: str, reason: str) -> None:
    """Skip (or, under CI=true, fail) because a server the test needs is not reachable."""
    message = f"{name} is not reachable: {reason}"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{message} (CI=true: a missing server fails the run instead of skipping)")
    pytest.skip(message)


@pytest.fixture(scope="session")
def postgres_admin_engine() -> Iterator[sa.Engine]:
    engine = sa.create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            connection.execute(sa.text("select 1"))
    except Exception as error:  # any failure to connect means "not reachable"
        engine.dispose()
        require_server("PostgreSQL at localhost:5432", str(error).splitlines()[0])
    yield engine
    engine.dispose()


@pytest.fixture
def postgres_url(postgres_admin_engine: sa.Engine) -> Iterator[str]:
    """A fresh, empty PostgreSQL schema for one test, dropped afterwards."""
    schema = f"t_{uuid.uuid4().hex[:12]}"
    with postgres_admin_engine.connect() as connection:
        connection.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    yield f"{POSTGRES_ADMIN_URL}?options=-csearch_path%3D{schema}"
    with postgres_admin_engine.connect() as connection:
        connection.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'invoicebridge.db'}"


@pytest.fixture
def redis_address() -> tuple[str, int]:
    try:
        socket.create_connection(REDIS_ADDRESS, timeout=1).close()
    except OSError as error:
        require_server("Redis at localhost:6379", str(error))
    return REDIS_ADDRESS


@pytest.fixture(scope="session")
def sandbox_server() -> Iterator[SandboxServer]:
    """One qbo_sandbox for the whole run (limits off, quick webhook batching and retries)."""
    config = SandboxConfig(limits=Limits.off(), webhook_batch_window=0.05, webhook_retry_delays=(0.05, 0.1, 0.2))
    with SandboxServer(config) as server:
        yield server


@pytest.fixture
def control(sandbox_server: SandboxServer) -> Iterator[httpx.Client]:
    """The sandbox's control API, after a reset: every test starts from an empty sandbox with limits off."""
    with httpx.Client(base_url=sandbox_server.url, timeout=10) as client:
        client.post("/_sandbox/reset").raise_for_status()
        client.put("/_sandbox/limits", json={"enabled": False}).raise_for_status()
        yield client
