"""Running the sandbox: a uvicorn server in a background thread (tests, the demo) or in the foreground (CLI)."""

from __future__ import annotations

import logging
import socket
import threading
import time
from pathlib import Path
from types import TracebackType

import uvicorn

from qbo_sandbox.api import DroppedAfterCommit
from qbo_sandbox.app import create_app
from qbo_sandbox.backend import Backend
from qbo_sandbox.clock import Clock
from qbo_sandbox.sandbox import Sandbox, SandboxConfig
from qbo_sandbox.store import SqliteStore

log = logging.getLogger(__name__)


class _QuietDrops(logging.Filter):
    """An injected dropped response is the point, not an error: keep its traceback out of the log."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (record.exc_info and isinstance(record.exc_info[1], DroppedAfterCommit))


def build(config: SandboxConfig | None = None, db: str | Path | None = None) -> tuple[Sandbox, SqliteStore | None]:
    """A sandbox, restored from ``db`` when given (and saving to it from then on)."""
    store = SqliteStore(db) if db else None
    backend = Backend(Clock(), persist=store)
    if store is not None:
        for state in store.load_realms():
            backend.add_realm(state)
    sandbox = Sandbox(config, backend)
    if store is not None:
        _restore_registry(sandbox, store)
    return sandbox, store


def _restore_registry(sandbox: Sandbox, store: SqliteStore) -> None:
    """The saved apps and tokens; what an older file holds that this version cannot use is left out with a
    warning, so the sandbox still starts."""
    snapshot = store.load_registry()
    if snapshot is None:
        return
    try:
        left_out = sandbox.registry.restore(snapshot)
    except TypeError:
        log.warning("qbo_sandbox: the apps and tokens in the state file are not a registry snapshot; starting without")
        return
    for sentence in left_out:
        log.warning("qbo_sandbox: %s", sentence)


def save_state(sandbox: Sandbox, store: SqliteStore) -> None:
    """Write everything to ``store`` on the way out: the OAuth registry and every company. Companies are saved
    as they change too; saving them again here also keeps what a change without change events recorded (a
    batch's request id)."""
    store.save_registry(sandbox.registry.snapshot())
    for company in sandbox.backend.companies():
        store.save(sandbox.backend.realm(company.realm_id))


def uvicorn_config(sandbox: Sandbox, store: SqliteStore | None, host: str, port: int, log_level: str) -> uvicorn.Config:
    logging.getLogger("uvicorn.error").addFilter(_QuietDrops())
    app = create_app(sandbox, store)
    return uvicorn.Config(app, host=host, port=port, log_level=log_level, lifespan="on", access_log=False)


class SandboxServer:
    """``with SandboxServer() as server:`` a sandbox at ``server.url`` on a free port until the block ends."""

    def __init__(
        self, config: SandboxConfig | None = None, host: str = "127.0.0.1", port: int = 0, db: str | Path | None = None
    ) -> None:
        self.sandbox, self._store = build(config, db)
        self.host = host
        self.port = port or _free_port(host)
        self._server = uvicorn.Server(uvicorn_config(self.sandbox, self._store, host, self.port, "warning"))
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self, timeout: float = 10.0) -> None:
        self._thread = threading.Thread(target=self._server.run, name="qbo-sandbox", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"qbo_sandbox did not start on {self.url}")
            time.sleep(0.01)

    def stop(self) -> None:
        self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)
        if self._store is not None:
            save_state(self.sandbox, self._store)
            self._store.close()

    def __enter__(self) -> SandboxServer:
        self.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.stop()


def _free_port(host: str) -> int:
    with socket.socket() as probe:
        probe.bind((host, 0))
        port: int = probe.getsockname()[1]
        return port
