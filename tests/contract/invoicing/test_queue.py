"""The same task code through a real queue: SQLite on one machine, Redis across machines. The web process
enqueues; a worker dequeues and runs the task (as huey's consumer does) — here, step by step."""

from __future__ import annotations

import pytest
from tests.contract.invoicing.conftest import WorldFactory

from invoicebridge.domain import InvoiceState


@pytest.fixture(params=["sqlite", pytest.param("redis", marks=pytest.mark.redis)])
def queue_settings(request: pytest.FixtureRequest) -> dict[str, object]:
    if request.param == "redis":
        host, port = request.getfixturevalue("redis_address")
        # a database of its own: tests that run at the same time (pytest -n) never share a queue
        return {"jobs_immediate": False, "redis_url": f"redis://{host}:{port}/6"}
    return {"jobs_immediate": False}


def test_invoice_and_poll_jobs_go_through_the_queue(
    make_world: WorldFactory, queue_settings: dict[str, object]
) -> None:
    world = make_world("GB", **queue_settings)
    huey = world.app.jobs.huey
    huey.flush()
    orders = [world.order(world.customer(f"Queued {n} Ltd")) for n in range(3)]
    world.app.jobs.invoice(world.company_id, [o.id for o in orders])
    assert [task.name for task in huey.pending()] == ["drain"]  # one batch job for the company's 3 SOs
    assert {world.app.orderbook.invoice_link(world.company_id, o.id).state for o in orders} == {
        InvoiceState.QUEUED  # stored before the jobs were enqueued: a job lost with its worker is found again
    }
    while (task := huey.dequeue()) is not None:  # what a worker does
        huey.execute(task)
    assert {world.app.orderbook.invoice_link(world.company_id, o.id).state for o in orders} == {InvoiceState.INVOICED}
    world.app.jobs.poll_all()  # what the scheduler enqueues every minute; running it queues one poll per company
    executed = 0
    while (task := huey.dequeue()) is not None:
        huey.execute(task)
        executed += 1
    assert executed == 2
    assert world.app.connecting.connection(world.company_id).cdc_checked_at is not None


def test_status_back_from_qbo_goes_ahead_of_bulk_invoicing(
    make_world: WorldFactory, queue_settings: dict[str, object]
) -> None:
    world = make_world("GB", **queue_settings)
    huey = world.app.jobs.huey
    huey.flush()
    orders = [world.order(world.customer(f"Waiting {n} Ltd")) for n in range(3)]
    world.app.jobs.invoice(world.company_id, [o.id for o in orders])
    world.app.jobs.webhook(b"[]")
    world.app.jobs.poll(world.company_id)
    assert [huey.dequeue().name for _ in range(3)] == ["webhook", "poll", "drain"]
