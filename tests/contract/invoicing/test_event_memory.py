"""Handled webhook event ids are remembered long enough to skip every redelivery, then forgotten by a daily task,
so the table that remembers them does not grow forever (SQLite here; the store's contract covers PostgreSQL)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from tests.contract.invoicing.conftest import World, WorldFactory

from invoicebridge.sync.reconcile import EVENT_MEMORY, Reconcile


class Clock:
    def __init__(self, at: datetime) -> None:
        self.at = at

    def __call__(self) -> datetime:
        return self.at


def _event(world: World, event_id: str) -> bytes:
    """An event about an invoice we never made: recorded as handled, changes nothing else."""
    return json.dumps([{
        "specversion": "1.0", "id": event_id, "type": "qbo.invoice.deleted.v1", "source": "intuit",
        "time": "2026-11-02T10:00:00Z", "intuitentityid": "no-such-invoice", "intuitaccountid": world.realm_id,
    }]).encode()  # fmt: skip


def _seen(world: World, event_id: str) -> bool:
    with world.app.uow() as uow:
        return uow.processed_events.seen(event_id)


def test_ids_older_than_the_memory_are_forgotten_and_newer_ones_still_skip_their_redelivery(
    make_world: WorldFactory,
) -> None:
    world = make_world("US")
    clock = Clock(datetime.now(UTC))
    reconcile = Reconcile(world.app.uow, world.app.clients, clock)
    reconcile.apply_webhook(_event(world, "old-1"))
    clock.at += EVENT_MEMORY - timedelta(days=1)
    reconcile.apply_webhook(_event(world, "recent-1"))
    clock.at += timedelta(days=2)  # old-1 is now past the memory, recent-1 within it

    assert reconcile.forget_old_events() == 1
    assert not _seen(world, "old-1")
    assert _seen(world, "recent-1")
    assert reconcile.forget_old_events() == 0  # idempotent: several workers' schedulers may run it


def test_the_daily_task_forgets_through_the_queue(make_world: WorldFactory) -> None:
    world = make_world("US")
    with world.app.uow() as uow:
        uow.processed_events.first_time("long-ago", datetime.now(UTC) - EVENT_MEMORY - timedelta(hours=1))
        uow.processed_events.first_time("just-now", datetime.now(UTC))
        uow.commit()
    world.app.jobs.forget_events()  # immediate mode: the task runs before this returns
    assert (_seen(world, "long-ago"), _seen(world, "just-now")) == (False, True)
