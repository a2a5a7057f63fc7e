"""The same guarantees on PostgreSQL (production's database): concurrent workers make one invoice and one COGS
entry; tokens refresh under a row lock (FOR UPDATE) with the rotated token kept."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import pytest
from tests.contract.invoicing.conftest import WorldFactory

from invoicebridge.domain import InvoiceState

pytestmark = pytest.mark.postgres


def test_concurrent_workers_on_postgres(make_world: WorldFactory, postgres_url: str) -> None:
    world = make_world("US", inventory=True, database_url=postgres_url)
    order = world.order(world.customer("PG Race Co"))
    assert order.id is not None
    world.app.orderbook.record_delivery(world.company_id, order.id, {r.id: r.quantity for r in order.rows if r.id},
                                        datetime(2026, 5, 1, tzinfo=UTC))  # fmt: skip
    world.inject("latency", match="invoice", method="POST", seconds=0.3, count=None)
    threads = [threading.Thread(target=world.invoice, args=(order,)) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    invoices = [i for i in world.qbo_rows("SELECT * FROM Invoice MAXRESULTS 1000")
                if i.get("CustomerMemo", {}).get("value") == order.number]  # fmt: skip
    assert len(invoices) == 1
    assert world.app.orderbook.invoice_link(world.company_id, order.id).state is InvoiceState.INVOICED
    entries = [je for je in world.qbo_rows("SELECT * FROM JournalEntry MAXRESULTS 1000")
               if str(je.get("PrivateNote", "")).startswith(f"invoicebridge COGS {order.number} [")]  # fmt: skip
    assert len(entries) == 1


def test_token_refresh_under_a_row_lock_on_postgres(make_world: WorldFactory, postgres_url: str) -> None:
    world = make_world("US", database_url=postgres_url)
    before = world.app.vault.load(world.company_id)
    assert before is not None
    world.control.post("/_sandbox/clock/advance", json={"seconds": 3700})
    orders = [world.order(world.customer(f"PG Refresh {n}")) for n in range(3)]
    threads = [threading.Thread(target=world.invoice, args=(o,)) for o in orders]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    states = {world.app.orderbook.invoice_link(world.company_id, o.id or 0).state for o in orders}
    assert states == {InvoiceState.INVOICED}  # no worker lost the rotated refresh token
    after = world.app.vault.load(world.company_id)
    assert after is not None and after.refresh_token != before.refresh_token
