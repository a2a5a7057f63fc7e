"""Returns → credit memos against the sandbox: a return of delivered, invoiced quantities becomes one QBO CreditMemo
for the invoice's customer with the returned lines — exactly once, whatever happens — and refusals say why
before any call."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from tests.contract.invoicing.conftest import World, WorldFactory, money

from invoicebridge.bootstrap import utc_now
from invoicebridge.domain import Conflict, InvoiceState, SalesOrder, ValidationError
from invoicebridge.domain.returns import ReturnState
from invoicebridge.sync.gateway import AuditTrail
from invoicebridge.sync.returns import Returns, _Sending


def credit_memos(world: World, order: SalesOrder) -> list[dict[str, Any]]:
    return [cm for cm in world.qbo_rows("SELECT * FROM CreditMemo MAXRESULTS 1000")
            if cm.get("CustomerMemo", {}).get("value") == f"Return of {order.number}"]  # fmt: skip


def credit_memo_calls(world: World) -> list[dict[str, Any]]:
    return [r for r in world.qbo_requests() if "creditmemo" in r["path"].lower()]


def sold(world: World, number: str | None = None, deliver: bool = True) -> SalesOrder:
    """A two-row SO (4 × 20.00 and 3 × 9.99), delivered in full and invoiced as a whole."""
    if len(world.products) < 2:
        world.product("RET-A", "Returnable A", price="20.00")
        world.product("RET-B", "Returnable B", price="9.99")
    a, b = world.products[:2]
    customer = world.customers[0] if world.customers else world.customer("Return Co", "returns@example.com")
    rows = [(a, "4", "20.00", world.rates[0]), (b, "3", "9.99", world.rates[1])]
    order = world.order(customer, rows=rows, number=number)
    assert order.id is not None
    if deliver:
        quantities = {row.id: row.quantity for row in order.rows if row.id is not None}
        world.app.orderbook.record_delivery(world.company_id, order.id, quantities, datetime(2026, 4, 2, tzinfo=UTC))
    assert world.invoice(order).state is InvoiceState.INVOICED
    return order


def _return(world: World, order: SalesOrder, quantities: list[str], at: datetime | None = None) -> Any:
    """Record a return of these quantities per row (in row order; "" leaves a row out) and send its credit memo,
    as the API does (immediate jobs)."""
    assert order.id is not None
    lines = {row.id or 0: q for row, q in zip(order.rows, quantities, strict=True) if q}
    recorded = world.app.returns.record(world.company_id, order.id, lines, at)
    assert recorded.state is ReturnState.PENDING
    world.app.jobs.credit_memo(world.company_id, order.id, recorded.number)
    return world.app.returns.get(world.company_id, order.id, recorded.number)


def test_a_return_of_some_quantities_becomes_one_credit_memo_with_those_lines(make_world: WorldFactory) -> None:
    world = make_world("GB")
    order = sold(world)
    returned = _return(world, order, ["1", "2"], datetime(2026, 4, 9, 23, 30, tzinfo=UTC))
    assert returned.state is ReturnState.CREATED, returned.error_message
    [memo] = credit_memos(world, order)
    assert memo["Id"] == returned.qbo_credit_memo_id
    [invoice] = [i for i in world.qbo_rows("SELECT * FROM Invoice MAXRESULTS 1000")
                 if i.get("CustomerMemo", {}).get("value") == order.number]  # fmt: skip
    assert memo["CustomerRef"]["value"] == invoice["CustomerRef"]["value"]
    assert memo["TxnDate"] == "2026-04-10"  # the return's date in the company's zone (London, summer time)
    assert memo["GlobalTaxCalculation"] == "TaxExcluded"
    on_invoice = {ln["SalesItemLineDetail"]["ItemRef"]["value"]: ln["SalesItemLineDetail"]
                  for ln in invoice["Line"] if ln["DetailType"] == "SalesItemLineDetail"}  # fmt: skip
    lines = [ln for ln in memo["Line"] if ln["DetailType"] == "SalesItemLineDetail"]
    got = [(ln["SalesItemLineDetail"]["ItemRef"]["value"], money(ln["SalesItemLineDetail"]["Qty"]),
            money(ln["SalesItemLineDetail"]["UnitPrice"]), ln["SalesItemLineDetail"]["TaxCodeRef"]["value"],
            money(ln["Amount"])) for ln in lines]  # fmt: skip
    item_a, item_b = (got[0][0], got[1][0])
    assert got == [
        (item_a, Decimal(1), Decimal("20.00"), on_invoice[item_a]["TaxCodeRef"]["value"], Decimal("20.00")),
        (item_b, Decimal(2), Decimal("9.99"), on_invoice[item_b]["TaxCodeRef"]["value"], Decimal("19.98")),
    ]
    assert (money(on_invoice[item_a]["Qty"]), money(on_invoice[item_b]["Qty"])) == (4, 3)  # the invoice's items
    assert money(memo["TotalAmt"]) == Decimal("43.98")  # 20.00 + 20 % VAT + 19.98 at 0 %
    assert "DocNumber" not in memo or not memo["DocNumber"]  # custom numbers off: QBO numbers it


def test_returns_take_only_what_is_left_and_each_is_its_own_credit_memo(make_world: WorldFactory) -> None:
    world = make_world("US")
    order = sold(world)
    assert _return(world, order, ["3", ""]).state is ReturnState.CREATED
    with pytest.raises(ValidationError) as refused:
        world.app.returns.record(world.company_id, order.id or 0, {order.rows[0].id or 0: "2"})
    assert refused.value.problems[0].message == (
        f"Cannot return 2 of row {order.rows[0].id}: 4 were delivered and invoiced, 3 of them already returned."
    )
    second = _return(world, order, ["1", "3"])
    assert (second.number, second.state) == (2, ReturnState.CREATED)
    assert len(credit_memos(world, order)) == 2


def test_custom_numbers_send_the_return_number_unless_it_is_too_long(make_world: WorldFactory) -> None:
    world = make_world("US", custom_txn_numbers=True)
    order = sold(world, number="SO-1042")
    made = _return(world, order, ["1", ""])
    assert made.doc_number == "SO-1042-R1"
    assert world.qbo_read("CreditMemo", made.qbo_credit_memo_id)["DocNumber"] == "SO-1042-R1"

    long = sold(world, number="SO-2026-0000000000042")  # 21 characters: "-R1" would pass QBO's limit
    unnumbered = _return(world, long, ["1", ""])
    assert unnumbered.state is ReturnState.CREATED
    assert not world.qbo_read("CreditMemo", unnumbered.qbo_credit_memo_id).get("DocNumber")


def test_sending_twice_makes_one_credit_memo(make_world: WorldFactory) -> None:
    world = make_world()
    order = sold(world)
    first = _return(world, order, ["1", ""])
    again = world.app.returns.send(world.company_id, order.id or 0, first.number)
    assert again.qbo_credit_memo_id == first.qbo_credit_memo_id
    assert len(credit_memos(world, order)) == 1


def test_a_dropped_reply_makes_one_credit_memo(make_world: WorldFactory) -> None:
    world = make_world()
    order = sold(world)
    world.inject("drop_after_commit", match="creditmemo", method="POST")
    made = _return(world, order, ["2", "1"])
    assert made.state is ReturnState.CREATED
    assert [cm["Id"] for cm in credit_memos(world, order)] == [made.qbo_credit_memo_id]


def test_a_dropped_reply_when_qbo_ignores_the_request_id_is_found_by_its_marker(make_world: WorldFactory) -> None:
    world = make_world()
    order = sold(world)
    world.inject("drop_after_commit", match="creditmemo", method="POST")
    world.inject("ignore_requestid", match="creditmemo", method="POST", count=None)
    made = _return(world, order, ["2", "1"])
    assert made.state is ReturnState.CREATED
    assert [cm["Id"] for cm in credit_memos(world, order)] == [made.qbo_credit_memo_id]
    assert any(r["path"].lower().endswith("/query") for r in world.qbo_requests())  # it looked


def test_an_unanswered_create_whose_look_up_fails_stays_uncertain_then_is_found(make_world: WorldFactory) -> None:
    world = make_world()
    order = sold(world)
    world.inject("drop_after_commit", match="creditmemo", method="POST")
    world.inject("fail_before_commit", match="query", count=world.app.settings.qbo_max_attempts)
    first = _return(world, order, ["1", ""])
    assert (first.state, first.error_code) == (ReturnState.FAILED, "uncertain")
    assert "not yet known whether the credit memo was made" in (first.error_message or "")
    assert len(credit_memos(world, order)) == 1  # it was made

    world.inject("ignore_requestid", match="creditmemo", method="POST", count=None)
    retried = world.app.returns.send(world.company_id, order.id or 0, first.number)
    assert retried.state is ReturnState.CREATED
    assert [cm["Id"] for cm in credit_memos(world, order)] == [retried.qbo_credit_memo_id]


def test_a_dead_workers_claim_is_taken_over_and_its_credit_memo_found(make_world: WorldFactory) -> None:
    world = make_world()
    order = sold(world)
    assert order.id is not None
    recorded = world.app.returns.record(world.company_id, order.id, {order.rows[0].id or 0: "1"})
    world.inject("drop_after_commit", match="creditmemo", method="POST")
    world.inject("ignore_requestid", match="creditmemo", method="POST", count=None)
    # A worker claims the return and its create reaches QBO; the worker dies before it records anything.
    dying = world.app.returns
    claimed = dying._claim(world.company_id, order.id, recorded.number)
    assert claimed is not None
    dying._make(world.company_id, _Sending(claimed[0], False), AuditTrail())
    assert world.app.returns.get(world.company_id, order.id, recorded.number).state is ReturnState.CREATING
    assert len(credit_memos(world, order)) == 1
    # A fresh claim is left alone; a stale one is taken over, finding the credit memo by its marker.
    assert world.app.returns.send(world.company_id, order.id, recorded.number).state is ReturnState.CREATING
    later = Returns(world.app.uow, world.app.clients, utc_now, world.app.invoicing.mirror, stale_after=timedelta(0))
    resumed = later.send(world.company_id, order.id, recorded.number)
    assert resumed.state is ReturnState.CREATED
    assert [cm["Id"] for cm in credit_memos(world, order)] == [resumed.qbo_credit_memo_id]


def test_the_sweeper_sends_a_return_whose_job_was_lost(make_world: WorldFactory) -> None:
    world = make_world()
    order = sold(world)
    earlier = utc_now() - timedelta(hours=1)  # returned an hour ago; its job was lost with a killed worker
    recorded = world.app.returns.record(world.company_id, order.id or 0, {order.rows[1].id or 0: "3"}, earlier)
    assert credit_memos(world, order) == []  # recorded, its job never ran
    assert world.app.jobs.sweep() >= 1
    swept = world.app.returns.get(world.company_id, order.id or 0, recorded.number)
    assert swept.state is ReturnState.CREATED
    assert [cm["Id"] for cm in credit_memos(world, order)] == [swept.qbo_credit_memo_id]


@pytest.mark.parametrize(
    ("deliver", "quantities", "message"),
    [
        (False, ["1", ""], "Nothing of row {a} is delivered, so nothing of it can be returned."),
        (True, ["5", ""], "Cannot return 5 of row {a}: 4 were delivered and invoiced."),
        (True, ["0", ""], "The quantity returned of row {a} must be more than 0."),
    ],
)
def test_refusals_say_why_and_call_nothing(
    make_world: WorldFactory, deliver: bool, quantities: list[str], message: str
) -> None:
    world = make_world()
    order = sold(world, deliver=deliver)
    lines = {row.id or 0: q for row, q in zip(order.rows, quantities, strict=True) if q}
    with pytest.raises(ValidationError) as refused:
        world.app.returns.record(world.company_id, order.id or 0, lines)
    assert [p.message for p in refused.value.problems] == [message.format(a=order.rows[0].id)]
    assert world.app.returns.of_order(world.company_id, order.id or 0) == []
    assert credit_memo_calls(world) == []


def test_an_order_not_invoiced_cannot_be_returned(make_world: WorldFactory) -> None:
    world = make_world()
    order = world.order(world.customer("Not Yet Co"))
    assert order.id is not None
    world.app.orderbook.record_delivery(world.company_id, order.id, {order.rows[0].id or 0: "2"})
    with pytest.raises(ValidationError) as refused:
        world.app.returns.record(world.company_id, order.id, {order.rows[0].id or 0: "1"})
    assert refused.value.problems[0].message == (
        f"{order.number} is not invoiced in QuickBooks: only delivered quantities on an invoice can be returned."
    )
    assert credit_memo_calls(world) == []


def test_a_refusal_by_quickbooks_is_explained_and_retryable(make_world: WorldFactory) -> None:
    world = make_world()
    order = sold(world)
    set_invoice_customer_active(world, order, False)
    failed = _return(world, order, ["1", "1"])
    assert failed.state is ReturnState.FAILED
    assert failed.error_message == (
        "The QuickBooks customer of this order's invoice was deleted or made inactive in QuickBooks: make it active "
        "there (or invoice the order to another customer), then retry."
    )
    assert failed.error_detail and "QuickBooks error" in failed.error_detail
    assert credit_memos(world, order) == []

    set_invoice_customer_active(world, order, True)
    retried = world.app.returns.send(world.company_id, order.id or 0, failed.number)
    assert retried.state is ReturnState.CREATED, retried.error_message
    assert retried.request_id != failed.request_id  # QBO replays a refusal to the same request id
    assert [cm["Id"] for cm in credit_memos(world, order)] == [retried.qbo_credit_memo_id]


# -- the API --------------------------------------------------------------------------------------------------
def test_the_api_records_a_return_lists_it_on_the_so_and_retries_it(make_world: WorldFactory) -> None:
    world = make_world("US", serve=True)
    api = world.api("member")
    order = sold(world)
    path = f"/api/companies/{world.company_id}/sales-orders/{order.id}"
    a, b = (row.id for row in order.rows)
    lines = [{"row_id": a, "quantity": "2"}, {"row_id": b, "quantity": "1"}]
    answer = api.post(f"{path}/returns", json={"lines": lines, "returned_at": "2026-04-09T10:00:00-07:00"})
    assert answer.status_code == 201, answer.text
    made = answer.json()
    assert (made["number"], made["state"], made["status"]) == (1, "created", "Credit memo created (QBO)")
    assert made["lines"] == [{"row_id": a, "quantity": "2"}, {"row_id": b, "quantity": "1"}]
    [memo] = credit_memos(world, order)
    assert made["qbo_credit_memo_id"] == memo["Id"] and memo["TxnDate"] == "2026-04-09"
    assert made["url"] == f"{world.sandbox.url}/app/creditmemo?txnId={memo['Id']}&realmId={world.realm_id}"

    assert [r["number"] for r in api.get(f"{path}/returns").json()] == [1]
    assert api.get(f"{path}/returns/1").json()["qbo_credit_memo_id"] == memo["Id"]
    so = api.get(path).json()
    assert [(r["number"], r["status"], r["url"]) for r in so["returns"]] == [(1, made["status"], made["url"])]
    retried = api.post(f"{path}/returns/1/retry")
    assert (retried.status_code, retried.json()["qbo_credit_memo_id"]) == (200, memo["Id"])  # idempotent
    assert len(credit_memos(world, order)) == 1

    refused = api.post(f"{path}/returns", json={"lines": [{"row_id": a, "quantity": "3"}]})
    assert refused.status_code == 422
    error = refused.json()["error"]
    why = f"Cannot return 3 of row {a}: 4 were delivered and invoiced, 2 of them already returned."
    assert error["problems"] == [{"field": f"lines[{a}].quantity", "message": why}]
    assert api.get(f"{path}/returns/2").status_code == 404
    assert len(credit_memo_calls(world)) == 1  # the refusal called nothing


def test_the_api_answers_202_with_the_reason_when_the_credit_memo_failed_and_retries_it(
    make_world: WorldFactory,
) -> None:
    world = make_world("US", serve=True)
    api = world.api("member")
    order = sold(world)
    path = f"/api/companies/{world.company_id}/sales-orders/{order.id}"
    customer_id = set_invoice_customer_active(world, order, False)
    answer = api.post(f"{path}/returns", json={"lines": [{"row_id": order.rows[0].id, "quantity": "1"}]})
    assert answer.status_code == 202, answer.text
    body = answer.json()
    assert (body["state"], body["status"], body["url"]) == ("failed", "Credit memo failed", None)
    assert "customer of this order's invoice was deleted or made inactive" in body["error_message"]
    assert "610" in body["error_detail"]
    assert credit_memos(world, order) == []

    set_invoice_customer_active(world, order, True)
    retried = api.post(f"{path}/returns/1/retry")
    assert (retried.status_code, retried.json()["state"]) == (200, "created")
    assert [cm["Id"] for cm in credit_memos(world, order)] == [retried.json()["qbo_credit_memo_id"]]
    assert credit_memos(world, order)[0]["CustomerRef"]["value"] == customer_id


def set_invoice_customer_active(world: World, order: SalesOrder, active: bool) -> str:
    """Make the QBO customer of the SO's invoice inactive (or active again) in QuickBooks, as a bookkeeper would."""
    [invoice] = [i for i in world.qbo_rows("SELECT * FROM Invoice MAXRESULTS 1000")
                 if i.get("CustomerMemo", {}).get("value") == order.number]  # fmt: skip
    customer_id = str(invoice["CustomerRef"]["value"])
    token = world.qbo_read("Customer", customer_id)["SyncToken"]
    world.sandbox.sandbox.backend.update(
        world.realm_id, "Customer", {"Id": customer_id, "SyncToken": token, "sparse": True, "Active": active}
    )
    return customer_id


# -- concurrency, on SQLite and PostgreSQL ---------------------------------------------------------------------
def _race(world: World) -> None:
    """Four workers send one return's credit memo at once, and two returns of the same last quantity are recorded
    at once: one credit memo, and only one of the two returns."""
    order = sold(world)
    assert order.id is not None
    recorded = world.app.returns.record(world.company_id, order.id, {order.rows[0].id or 0: "3"})
    world.inject("latency", match="creditmemo", method="POST", seconds=0.3, count=None)  # widen the window
    sends = [threading.Thread(target=world.app.returns.send, args=(world.company_id, order.id, recorded.number))
             for _ in range(4)]  # fmt: skip
    for thread in sends:
        thread.start()
    for thread in sends:
        thread.join()
    [memo] = credit_memos(world, order)
    assert world.app.returns.get(world.company_id, order.id, 1).qbo_credit_memo_id == memo["Id"]

    outcomes: list[object] = []

    def record() -> None:
        try:
            outcomes.append(world.app.returns.record(world.company_id, order.id or 0, {order.rows[0].id or 0: "1"}))
        except (ValidationError, Conflict) as refused:
            outcomes.append(refused)

    both = [threading.Thread(target=record) for _ in range(2)]
    for thread in both:
        thread.start()
    for thread in both:
        thread.join()
    assert len(world.app.returns.of_order(world.company_id, order.id)) == 2  # the first return and one of these
    assert sum(isinstance(outcome, ValidationError | Conflict) for outcome in outcomes) == 1


def test_concurrent_workers_and_returns_on_sqlite(make_world: WorldFactory) -> None:
    _race(make_world())


@pytest.mark.postgres
def test_concurrent_workers_and_returns_on_postgres(make_world: WorldFactory, postgres_url: str) -> None:
    _race(make_world(database_url=postgres_url))
