"""Many processes refreshing one company's tokens at once, on PostgreSQL, against the sandbox's rotating refresh
tokens: the refreshes queue behind the company's row lock, each presents the latest refresh token, and the
company stays connected — no rotated refresh token is ever lost."""

from __future__ import annotations

import multiprocessing
from datetime import timedelta
from typing import Any

import pytest
from pydantic import SecretStr
from tests.contract.invoicing.conftest import World, WorldFactory

from invoicebridge.bootstrap import build, utc_now
from invoicebridge.domain.connection import Health
from invoicebridge.settings import Settings
from invoicebridge.sync.tokens import VaultTokenSource

PROCESSES, REFRESHES = 6, 5

pytestmark = pytest.mark.postgres


def refresher(settings: dict[str, Any], company_id: int, start: Any, refreshes: int) -> int:
    """One worker process: waits for the others, then forces `refreshes` refreshes. Returns how many worked."""
    app = build(Settings(**settings))
    done = 0
    try:
        start.wait(timeout=60)
        for _ in range(refreshes):
            tokens = VaultTokenSource(company_id, app.vault, app.oauth, app.uow, utc_now)
            tokens.force_refresh()
            done += 1
    finally:
        app.close()
    return done


def plain(settings: Settings) -> dict[str, Any]:
    """The settings with secrets in clear, to hand to another process."""
    return {k: v.get_secret_value() if isinstance(v, SecretStr) else v for k, v in dict(settings).items()}


def live_refresh_tokens(world: World) -> list[str]:
    """The connection's refresh tokens never replaced: one, unless two refreshes presented the same token."""
    state = world.sandbox.sandbox.registry._state
    return [key for key, token in state.refresh.items()
            if token.connection.realm_id == world.realm_id and token.replaced_at is None]  # fmt: skip


def test_concurrent_refreshes_in_many_processes_keep_the_company_connected(
    make_world: WorldFactory, postgres_url: str
) -> None:
    world = make_world("US", database_url=postgres_url)
    context = multiprocessing.get_context("spawn")
    start = context.Manager().Barrier(PROCESSES)
    with context.Pool(PROCESSES) as pool:
        runs = [pool.apply_async(refresher, (plain(world.app.settings), world.company_id, start, REFRESHES))
                for _ in range(PROCESSES)]  # fmt: skip
        assert [run.get(timeout=120) for run in runs] == [REFRESHES] * PROCESSES
    stored = world.app.vault.load(world.company_id)
    assert stored is not None
    assert live_refresh_tokens(world) == [stored.refresh_token]  # a single chain: nobody refreshed a stale token
    connection = world.app.connecting.connection(world.company_id)
    assert (connection.health, connection.last_refresh_error) == (Health.CONNECTED, None)
    world.control.post("/_sandbox/clock/advance", json={"seconds": timedelta(hours=25).total_seconds()})
    assert world.invoice(world.order(world.customer("After The Race Co"))).qbo_invoice_id  # grace over: still works
