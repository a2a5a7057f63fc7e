"""*Retry all failed* against qbo_sandbox over real HTTP (sync/failed_invoices.py): failed invoices listed by
reason, then retried as one bulk run — each SO invoiced exactly once, uncertain ones looked up first."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from tests.contract.invoicing.conftest import World, WorldFactory

from invoicebridge.domain import InvoiceScope, InvoiceState, NotConnected, NotFound, SalesOrder, ValidationError


def invoices_of(world: World, order: SalesOrder) -> list[dict[str, Any]]:
    rows = world.qbo_rows("SELECT * FROM Invoice MAXRESULTS 1000")
    return [i for i in rows if i.get("CustomerMemo", {}).get("value") == order.number]


def state_of(world: World, order: SalesOrder) -> InvoiceState:
    return world.app.orderbook.invoice_link(world.company_id, order.id or 0).state


def taken_numbers(world: World, orders: list[SalesOrder]) -> list[str]:
    """Invoices made in QuickBooks by hand with these SOs' numbers (so ours are refused as duplicates)."""
    customer = world.qbo_rows("SELECT * FROM Customer MAXRESULTS 1")[0]["Id"]
    item = world.qbo_rows("SELECT * FROM Item WHERE Type = 'Service' MAXRESULTS 1")[0]["Id"]
    line = {"Amount": 5, "DetailType": "SalesItemLineDetail", "SalesItemLineDetail": {"ItemRef": {"value": item}}}
    return [
        world.qbo_create("Invoice", {"CustomerRef": {"value": customer}, "DocNumber": o.number, "Line": [line]})["Id"]
        for o in orders
    ]


def failed_two_ways(world: World) -> tuple[list[SalesOrder], list[SalesOrder], list[str]]:
    """Three SOs refused for a number QuickBooks has already, three more failed by a QuickBooks outage."""
    customer = world.customer("Retry Co", "retry@example.com")
    taken = [world.order(customer) for _ in range(3)]
    down = [world.order(customer) for _ in range(3)]
    by_hand = taken_numbers(world, taken)
    world.app.jobs.invoice(world.company_id, [o.id or 0 for o in taken])
    world.inject("fail_before_commit", match="batch", method="POST", count=None)
    world.app.jobs.invoice(world.company_id, [o.id or 0 for o in down])
    world.control.delete(f"/_sandbox/companies/{world.realm_id}/faults")
    assert {state_of(world, o) for o in taken + down} == {InvoiceState.FAILED}
    return taken, down, by_hand


def test_failed_invoices_are_listed_by_reason(make_world: WorldFactory) -> None:
    world = make_world("US", custom_txn_numbers=True)
    taken, down, _ = failed_two_ways(world)

    overview = world.app.failed_invoices.overview(world.company_id)

    assert overview.total == 6 and not overview.more
    by_numbers = {group.so_numbers: group for group in overview.groups}
    assert set(by_numbers) == {tuple(o.number for o in taken), tuple(o.number for o in down)}
    duplicate = by_numbers[tuple(o.number for o in taken)]
    assert duplicate.sentence == "Invoice number [SO number] is already used in QuickBooks."
    assert not duplicate.uncertain
    outage = by_numbers[tuple(o.number for o in down)]
    assert outage.count == 3 and outage.code != duplicate.code


def test_retry_all_after_fixing_the_causes_invoices_each_so_exactly_once(make_world: WorldFactory) -> None:
    world = make_world("US", custom_txn_numbers=True)
    taken, down, by_hand = failed_two_ways(world)
    for invoice_id in by_hand:  # the bookkeeper deletes the hand-made invoices that took the numbers
        world.qbo_delete("Invoice", invoice_id)

    retried = world.app.failed_invoices.retry(world.company_id, "bookkeeper@example.com")
    world.app.jobs.drain_queued(world.company_id, retried.queued)

    assert retried.queued == 6
    assert set(retried.run.sales_order_ids) == {o.id for o in taken + down}
    for order in taken + down:
        assert state_of(world, order) is InvoiceState.INVOICED
        assert len(invoices_of(world, order)) == 1
    progress = world.app.bulk_runs.progress(world.company_id, retried.run.id or 0)
    assert (progress.done, progress.left, progress.failed) == (6, 0, ())
    assert world.app.failed_invoices.overview(world.company_id).groups == ()


def test_retrying_one_group_leaves_the_other_failed(make_world: WorldFactory) -> None:
    world = make_world("US", custom_txn_numbers=True)
    taken, down, _ = failed_two_ways(world)  # the hand-made invoices stay: the duplicates cannot succeed yet
    groups = world.app.failed_invoices.overview(world.company_id).groups
    outage = next(g for g in groups if g.so_numbers == tuple(o.number for o in down))

    retried = world.app.failed_invoices.retry(world.company_id, "bookkeeper@example.com", outage.key)
    world.app.jobs.drain_queued(world.company_id, retried.queued)

    assert retried.queued == 3
    assert {state_of(world, o) for o in down} == {InvoiceState.INVOICED}
    assert {state_of(world, o) for o in taken} == {InvoiceState.FAILED}
    [left] = world.app.failed_invoices.overview(world.company_id).groups
    assert left.so_numbers == tuple(o.number for o in taken)


def test_an_uncertain_failure_is_looked_up_not_made_twice(make_world: WorldFactory) -> None:
    world = make_world("GB")
    order, link = world.uncertain_invoice("Unsure Ltd")  # the invoice was made; its answer and look-up were lost
    assert link.state is InvoiceState.FAILED and len(invoices_of(world, order)) == 1
    [group] = world.app.failed_invoices.overview(world.company_id).groups
    assert group.uncertain

    retried = world.app.failed_invoices.retry(world.company_id, "bookkeeper@example.com")
    world.app.jobs.drain_queued(world.company_id, retried.queued)

    [made] = invoices_of(world, order)
    settled = world.app.orderbook.invoice_link(world.company_id, order.id or 0)
    assert (settled.state, settled.qbo_invoice_id) == (InvoiceState.INVOICED, made["Id"])


def test_nothing_to_retry_and_unknown_groups_are_refused(make_world: WorldFactory) -> None:
    world = make_world("US")
    with pytest.raises(ValidationError):
        world.app.failed_invoices.retry(world.company_id, "bookkeeper@example.com")
    with pytest.raises(NotFound):
        world.app.failed_invoices.retry(world.company_id, "bookkeeper@example.com", "6140-0000000000")


def test_the_api_lists_the_groups_and_retries_them_as_a_bulk_run(make_world: WorldFactory) -> None:
    world = make_world("US", custom_txn_numbers=True, serve=True)
    taken, down, by_hand = failed_two_ways(world)
    api, base = world.api("member"), f"/api/companies/{world.company_id}"

    listed = api.get(f"{base}/failed-invoices")
    assert listed.status_code == 200, listed.text
    groups = {tuple(i["sales_order_number"] for i in g["invoices"]): g for g in listed.json()["groups"]}
    duplicate = groups[tuple(o.number for o in taken)]
    assert (duplicate["count"], duplicate["uncertain"]) == (3, False)
    assert duplicate["sentence"] == "Invoice number [SO number] is already used in QuickBooks."
    assert listed.json()["total"] == 6

    for invoice_id in by_hand:
        world.qbo_delete("Invoice", invoice_id)
    retried = api.post(f"{base}/failed-invoices/retry", json={"reason": duplicate["key"]})
    assert retried.status_code == 202, retried.text
    run = retried.json()["run"]
    assert retried.json()["queued"] == 3 and run["total"] == 3
    followed = api.get(f"{base}/bulk-runs/{run['id']}").json()
    assert (followed["done"], followed["left"], followed["failed"], followed["finished"]) == (3, 0, 0, True)
    assert {state_of(world, o) for o in down} == {InvoiceState.FAILED}  # the other group was left alone

    unknown = api.post(f"{base}/failed-invoices/retry", json={"reason": duplicate["key"]})  # retried already
    assert unknown.status_code == 404 and unknown.json()["error"]["code"] == "not_found"
    extra = api.post(f"{base}/failed-invoices/retry", json={"reason": "x", "more": 1})
    assert extra.status_code == 422


def test_the_api_refuses_a_retry_with_nothing_failed(make_world: WorldFactory) -> None:
    world = make_world("US", serve=True)
    answer = world.api("member").post(f"/api/companies/{world.company_id}/failed-invoices/retry", json={})
    assert answer.status_code == 422 and answer.json()["error"]["code"] == "validation_error"


def test_a_failed_partial_invoice_is_retried_too(make_world: WorldFactory) -> None:
    world = make_world("US", custom_txn_numbers=True)
    order = world.order(world.customer("Part Co", "part@example.com"))
    [row] = order.rows
    world.app.orderbook.record_delivery(world.company_id, order.id or 0, {row.id: Decimal("1")}, datetime.now(UTC))
    [by_hand] = taken_numbers(world, [order])
    [partial] = world.app.invoicing.invoice_deliveries(world.company_id, order.id or 0, None, combine=True)
    assert (partial.state, partial.scope) == (InvoiceState.FAILED, InvoiceScope.DELIVERIES)
    [group] = world.app.failed_invoices.overview(world.company_id).groups
    assert [(f.sales_order_id, f.scope) for f in group.invoices] == [(order.id, InvoiceScope.DELIVERIES)]
    world.qbo_delete("Invoice", by_hand)

    retried = world.app.failed_invoices.retry(world.company_id, "bookkeeper@example.com")
    world.app.jobs.drain_queued(world.company_id, retried.queued)

    settled = world.app.orderbook.invoice_link(world.company_id, order.id or 0, partial.number)
    assert settled.state is InvoiceState.INVOICED and len(invoices_of(world, order)) == 1


def test_a_retry_while_quickbooks_is_disconnected_is_refused_and_queues_nothing(make_world: WorldFactory) -> None:
    world = make_world("US", custom_txn_numbers=True)
    taken, down, _ = failed_two_ways(world)
    world.app.connecting.disconnect(world.company_id)

    with pytest.raises(NotConnected):
        world.app.failed_invoices.retry(world.company_id, "bookkeeper@example.com")

    assert {state_of(world, o) for o in taken + down} == {InvoiceState.FAILED}
    assert world.app.failed_invoices.overview(world.company_id).total == 6
