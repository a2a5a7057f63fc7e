"""The CDC poll paced by webhook health, against the sandbox over HTTP: hours apart while our writes echo back,
every tick while one waits for its echo — so with webhooks lost (the sandbox drops them) a deleted invoice still
goes back through the paced poll. Time moves by advancing the sandbox's clock, which the poll here also reads,
never by sleeping minutes."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest
from tests.contract.invoicing.conftest import World, WorldFactory

from invoicebridge.domain import InvoiceState
from invoicebridge.sync.pacing import EchoState
from invoicebridge.sync.reconcile import DeliveryIncomplete, Reconcile


def _paced(world: World) -> tuple[Reconcile, Callable[[], datetime]]:
    """The app's reconcile (same store, clients and pacing) on the sandbox's clock."""
    clock = world.sandbox.sandbox.clock
    return Reconcile(world.app.uow, world.app.clients, clock, world.app.reconcile.pacing), clock


def _tick(world: World, reconcile: Reconcile) -> int:
    """What the periodic task does each minute (a poll for every company due); the CDC reads it made."""
    before = _cdc_reads(world)
    for company in reconcile.due_for_poll():
        reconcile.poll_if_due(company)
    return _cdc_reads(world) - before


def _clear_of_a_slow_slot_boundary(world: World, reconcile: Reconcile, clock: Callable[[], datetime]) -> None:
    """Slow polls fall in 8-hour slots at a per-company offset, so a real clock may sit minutes before a slot
    ends: then the next slot's poll is rightly due. Step past that boundary (its one poll asserted) so that the
    minutes the test watches lie inside one slot."""
    connection = world.app.connecting.connection(world.company_id)
    assert connection is not None
    next_poll = reconcile.pacing.next_poll(connection, clock())
    assert next_poll - clock() <= reconcile.pacing.slow
    if next_poll - clock() < timedelta(minutes=6):
        _advance(world, (next_poll - clock()).total_seconds() + 1)
        assert _tick(world, reconcile) >= 1  # the new slot's poll (its read repeats if the token needed a refresh)


def _advance(world: World, seconds: float) -> None:
    world.control.post("/_sandbox/clock/advance", json={"seconds": seconds}).raise_for_status()


def _cdc_reads(world: World) -> int:
    return sum(1 for r in world.qbo_requests() if "/cdc" in r["path"])


def _shown(world: World) -> dict[str, Any]:
    """The webhook health GET /api/companies/{id}/qbo shows (on the real clock)."""
    answer = world.api().get(f"/api/companies/{world.company_id}/qbo")
    assert answer.status_code == 200, answer.text
    shown: dict[str, Any] = answer.json()["webhooks"]
    return shown


def _settle_webhooks(world: World) -> None:
    world.control.post("/_sandbox/webhooks/flush", json={"timeout": 10}).raise_for_status()


def _delete_in_qbo_ui(world: World, invoice_id: str) -> None:
    form = {"txnId": invoice_id, "realmId": world.realm_id}
    answer = world.control.post("/app/invoice/delete", data=form, follow_redirects=False)
    assert answer.status_code in (200, 303), answer.text


def test_healthy_webhooks_poll_rarely_and_lost_ones_every_tick_until_the_deletion_is_caught(
    make_world: WorldFactory,
) -> None:
    world = make_world("GB", serve=True)
    reconcile, clock = _paced(world)
    first = world.order(world.customer("Echoed Ltd"))
    assert world.invoice(first).state is InvoiceState.INVOICED
    _settle_webhooks(world)  # the invoice's Create event came back: webhooks work
    assert reconcile.pacing.health(world.app.connecting.connection(world.company_id), clock()).state is (
        EchoState.HEALTHY
    )
    assert _tick(world, reconcile) == 1  # never polled: due at once
    shown = _shown(world)
    assert (shown["state"], shown["since"]) == ("healthy", None)
    assert shown["last_event_at"] is not None and shown["next_poll_at"] > shown["last_poll_at"]
    _clear_of_a_slow_slot_boundary(world, reconcile, clock)
    for _ in range(5):
        _advance(world, 60)
        assert _tick(world, reconcile) == 0  # healthy: no poll for hours

    world.control.put(f"/_sandbox/companies/{world.realm_id}/webhooks", json={"drop": True}).raise_for_status()
    second = world.order(world.customer("Lost Webhook Ltd"))
    link = world.invoice(second)
    _delete_in_qbo_ui(world, str(link.qbo_invoice_id))
    _settle_webhooks(world)
    assert _shown(world)["state"] == "echo_pending"  # on the real clock: made a moment ago, no echo yet
    assert world.app.orderbook.invoice_link(world.company_id, second.id or 0).state is InvoiceState.INVOICED
    _advance(world, 60)
    assert _tick(world, reconcile) == 1  # the write has not echoed: fast
    assert world.app.orderbook.invoice_link(world.company_id, second.id or 0).state is InvoiceState.NOT_INVOICED

    _advance(world, 180)
    health = reconcile.pacing.health(world.app.connecting.connection(world.company_id), clock())
    assert health.state is EchoState.LOOK_LOST
    assert _tick(world, reconcile) == 1  # and every tick after, while they look lost


def test_an_event_arriving_again_brings_the_poll_back_to_slow(make_world: WorldFactory) -> None:
    world = make_world("US", serve=True)
    reconcile, clock = _paced(world)
    world.control.put(f"/_sandbox/companies/{world.realm_id}/webhooks", json={"drop": True}).raise_for_status()
    world.invoice(world.order(world.customer("Unheard Inc")))
    _tick(world, reconcile)
    _advance(world, 60)
    assert _tick(world, reconcile) == 1
    world.control.put(f"/_sandbox/companies/{world.realm_id}/webhooks", json={"drop": False}).raise_for_status()
    world.invoice(world.order(world.customer("Heard Inc")))
    _settle_webhooks(world)
    _clear_of_a_slow_slot_boundary(world, reconcile, clock)
    _advance(world, 60)
    assert _tick(world, reconcile) == 0


def test_two_workers_asking_at_once_make_one_cdc_read(make_world: WorldFactory) -> None:
    world = make_world("US")
    world.invoice(world.order(world.customer("Twice Asked Co")))  # no webhooks here: its poll is due every tick
    workers = [_paced(world)[0] for _ in range(4)]
    start = threading.Barrier(len(workers))
    results: list[int] = []

    def run(reconcile: Reconcile) -> None:
        start.wait()
        results.append(len([reconcile.poll_if_due(c) for c in reconcile.due_for_poll()]))

    threads = [threading.Thread(target=run, args=(w,)) for w in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == len(workers)
    assert _cdc_reads(world) == 1


def _deleted_event(world: World, event_id: str, invoice_id: str) -> bytes:
    return json.dumps([{
        "specversion": "1.0", "id": event_id, "type": "qbo.invoice.deleted.v1", "source": "intuit",
        "time": "2026-11-02T10:00:00Z", "intuitentityid": invoice_id, "intuitaccountid": world.realm_id,
    }]).encode()  # fmt: skip


def test_a_deletion_event_that_could_not_be_handled_brings_the_poll_forward(make_world: WorldFactory) -> None:
    """The webhook's retries may all fail (QBO cannot be asked): a change we know we missed must not wait for the
    slow poll."""
    world = make_world("US")
    reconcile = world.app.reconcile
    order = world.order(world.customer("Missed Event Co"))
    link = world.invoice(order)
    reconcile.apply_webhook(_deleted_event(world, "echo-1", "no-such-invoice"))  # an event: webhooks work
    assert _tick(world, reconcile) == 1
    assert reconcile.due_for_poll() == []  # healthy: the next poll is hours away
    world.qbo_delete("Invoice", str(link.qbo_invoice_id))
    world.inject("fail_before_commit", method="GET", match="invoice", status=503, count=None)
    with pytest.raises(DeliveryIncomplete):
        reconcile.apply_webhook(_deleted_event(world, "lost-1", str(link.qbo_invoice_id)))
    assert reconcile.due_for_poll() == [world.company_id]
    world.control.delete(f"/_sandbox/companies/{world.realm_id}/faults").raise_for_status()
    assert _tick(world, reconcile) == 1
    assert world.app.orderbook.invoice_link(world.company_id, order.id or 0).state is InvoiceState.NOT_INVOICED
