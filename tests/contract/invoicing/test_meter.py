"""The meter against qbo_sandbox over HTTP: what the product counts equals what the sandbox's request log shows —
reads, queries and CDC as CorePlus, writes as Core, a batch by its items, a throttled attempt (429) not at all, an
attempt whose answer was lost counted (QBO did the work)."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

from tests.contract.invoicing.conftest import World, WorldFactory

from invoicebridge.domain import InvoiceState
from invoicebridge.sync.meter import Usage, month_of

LOGGED = {"read": "coreplus", "query": "coreplus", "cdc": "coreplus",
          "create": "core", "update": "core", "delete": "core", "void": "core"}  # fmt: skip


def usage(world: World) -> Usage:
    return world.app.meter.usage(month_of(datetime.now(UTC)), [world.company_id]).of(world.company_id)


def expected_from_log(entries: list[dict[str, Any]], batches: list[str]) -> Counter[str]:
    """Core / CorePlus counts as the sandbox saw the requests: every one it served (429: not served), each batch
    classed as the test sent it (the log does not show a batch's items)."""
    counts: Counter[str] = Counter()
    sent = iter(batches)
    for entry in entries:
        if entry["status"] in (401, 429):
            continue
        counts[next(sent) if entry["operation"] == "batch" else LOGGED[entry["operation"]]] += 1
    return counts


def test_counted_calls_equal_the_sandboxs_request_log(make_world: WorldFactory) -> None:
    world = make_world()
    world.control.delete(f"/_sandbox/companies/{world.realm_id}/requests")
    before = usage(world)
    world.inject("throttle", match="query")  # one 429: retried, counted once
    world.inject("drop_after_commit", match="invoice", method="POST")  # created, answer lost: looked up, counted
    links = [world.invoice(world.order(world.customer(f"Meter Customer {n}", f"meter{n}@example.com")))
             for n in range(3)]  # fmt: skip
    assert [link.state for link in links] == [InvoiceState.INVOICED] * 3
    connection = world.app.connecting.connection(world.company_id)
    assert connection is not None
    client = world.app.clients(connection, None)
    client.batch([{"bId": "1", "operation": "create", "Customer": {"DisplayName": "Batch Made Ltd"}}], "meter-b1")
    client.batch([{"bId": "1", "Query": "SELECT * FROM Customer WHERE DisplayName = 'Batch Made Ltd'"}])
    client.cdc(["Invoice"], datetime.now(UTC) - timedelta(minutes=5))

    entries = world.qbo_requests()
    statuses = Counter(entry["status"] for entry in entries)
    assert statuses[429] == 1 and len(entries) > 10, statuses  # the scenario did what it meant to
    after = usage(world)
    counted = Counter(core=after.core - before.core, coreplus=after.coreplus - before.coreplus)
    assert counted == expected_from_log(entries, ["core", "coreplus"])


def test_every_counted_call_is_still_in_the_audit_trail(make_world: WorldFactory) -> None:
    world = make_world()
    before = usage(world)
    order = world.order(world.customer("Audited Customer", "audited@example.com"))
    world.invoice(order)
    assert order.id is not None
    after = usage(world)
    audited = world.app.invoicing.audit(world.company_id, order.id)
    assert len(audited) == (after.core - before.core) + (after.coreplus - before.coreplus) > 0
