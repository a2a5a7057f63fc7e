"""Partial invoicing against qbo_sandbox over HTTP: an SO invoiced delivery by delivery. What exists in QBO is the
truth: each invoice carries only its deliveries' quantities, the SO number in CustomerMemo, the SO's date, its own
DocNumber; *invoice all* and partial invoices exclude each other; a delivery is on one live invoice at most, even
when two requests race; deleting one invoice in QBO reopens only its deliveries."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, cast

import httpx
import pytest
from tests.access_support import Browser, log_in, person, token_headers
from tests.contract.invoicing.conftest import World, WorldFactory, money

from invoicebridge.domain import (
    Delivery,
    InvoiceScope,
    InvoiceState,
    InvoiceStatus,
    ProductVariant,
    SalesOrder,
    TaxRate,
    ValidationError,
)
from invoicebridge.domain.errors import InvalidTransition

CREATED = datetime(2026, 3, 1, 3, 30, tzinfo=UTC)  # still 28 February in California (the US world's zone)
FIRST_SHIPMENT = datetime(2026, 3, 5, 17, 0, tzinfo=UTC)
SECOND_SHIPMENT = datetime(2026, 3, 9, 17, 0, tzinfo=UTC)
THIRD_SHIPMENT = datetime(2026, 3, 12, 17, 0, tzinfo=UTC)


# -- helpers (the other partial-invoicing test files use them too) -----------------------------------------------
def parts(world: World) -> tuple[ProductVariant, ProductVariant]:
    """Two products of the world: A sells at 12.50 (cost 7.50), B at 10.00 (cost 3.333)."""
    if len(world.products) < 2:
        world.product("PART-A", "Part A", price="12.50", cost="7.50")
        world.product("PART-B", "Part B", price="10.00", cost="3.333")
    return world.products[0], world.products[1]


def two_row_order(world: World, customer: str, number: str | None = None, **kw: Any) -> SalesOrder:
    """4 × A at 12.50 (50.00) and 3 × B at 10.00 (30.00): 80.00 before tax, for a new customer."""
    a, b = parts(world)
    rows: list[tuple[ProductVariant, str, str, TaxRate | None]] = [
        (a, "4", "12.50", world.rates[0]),
        (b, "3", "10.00", world.rates[1]),
    ]
    return world.order(world.customer(customer), rows=rows, number=number, **{"created_at": CREATED, **kw})


def deliver(world: World, order: SalesOrder, quantities: dict[int, str], at: datetime) -> Delivery:
    """Record one delivery of `quantities` by row index (0: A, 1: B); the new delivery."""
    assert order.id is not None
    by_row: dict[int, object] = {order.rows[index].id or 0: quantity for index, quantity in quantities.items()}
    updated = world.app.orderbook.record_delivery(world.company_id, order.id, by_row, at)
    return updated.deliveries[-1]


def qbo_invoices(world: World, order: SalesOrder) -> list[dict[str, Any]]:
    """The QBO invoices of this SO (its number is in every one's CustomerMemo), oldest first."""
    rows = world.qbo_rows("SELECT * FROM Invoice MAXRESULTS 1000")
    return sorted(
        (i for i in rows if i.get("CustomerMemo", {}).get("value") == order.number), key=lambda i: int(i["Id"])
    )


def sold(world: World, invoice: dict[str, Any]) -> dict[str, tuple[Decimal, Decimal]]:
    """SKU → (Qty, Amount) of the invoice's item lines; one line per SKU."""
    found: dict[str, tuple[Decimal, Decimal]] = {}
    for line in invoice["Line"]:
        if line["DetailType"] != "SalesItemLineDetail":
            continue
        detail = line["SalesItemLineDetail"]
        sku = str(world.qbo_read("Item", detail["ItemRef"]["value"])["Sku"])
        assert sku not in found, f"two lines for {sku}"
        found[sku] = (money(detail["Qty"]), money(line["Amount"]))
    return found


def invoice_id(world: World, order: SalesOrder, number: int) -> str:
    link = world.app.orderbook.invoice_link(world.company_id, order.id or 0, number)
    assert link.qbo_invoice_id is not None
    return link.qbo_invoice_id


def so_path(world: World, order: SalesOrder | int) -> str:
    order_id = order if isinstance(order, int) else order.id
    return f"/api/companies/{world.company_id}/sales-orders/{order_id}"


def error_of(answer: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert answer.status_code == status, answer.text
    body: dict[str, Any] = answer.json()["error"]
    assert body["code"] == code, body
    return body


# -- 1. invoicing deliveries ------------------------------------------------------------------------------------
def test_two_deliveries_invoiced_one_by_one_carry_only_what_each_delivered(make_world: WorldFactory) -> None:
    world = make_world("US", serve=True)
    api = world.api()
    order = two_row_order(world, "Instalments Inc", number="SO-1101")
    first = deliver(world, order, {0: "1", 1: "3"}, FIRST_SHIPMENT)
    second = deliver(world, order, {0: "3"}, SECOND_SHIPMENT)

    answer = api.post(f"{so_path(world, order)}/invoices", json={"deliveries": [first.id]})
    assert answer.status_code == 201, answer.text
    [made] = answer.json()
    assert (made["state"], made["number"], made["scope"], made["delivery_ids"]) == (
        "invoiced", 1, "deliveries", [first.id]
    )  # fmt: skip
    [one] = qbo_invoices(world, order)
    assert made["qbo_invoice_id"] == one["Id"]
    assert made["url"]
    assert sold(world, one) == {"PART-A": (Decimal(1), Decimal("12.50")), "PART-B": (Decimal(3), Decimal("30.00"))}
    assert one["CustomerMemo"]["value"] == "SO-1101"
    assert one["TxnDate"] == "2026-02-28"  # the SO's date in the company's zone, not the delivery's

    so = api.get(so_path(world, order)).json()
    assert so["invoice_status"] == "partly_invoiced"
    assert so["invoice_status_text"].startswith("Partly invoiced (1 of 2 rows, ")  # B is whole; A is not
    assert "USD" in so["invoice_status_text"]
    assert money(so["invoiced_amount"]) == Decimal("42.50")
    assert [(d["id"], d["invoice_number"]) for d in so["deliveries"]] == [(first.id, 1), (second.id, None)]

    answer = api.post(f"{so_path(world, order)}/invoices", json={"deliveries": [second.id], "combine": True})
    assert answer.status_code == 201, answer.text
    [made] = answer.json()
    assert (made["state"], made["number"], made["delivery_ids"]) == ("invoiced", 2, [second.id])
    one_again, two = qbo_invoices(world, order)
    assert one_again == one  # untouched
    assert made["qbo_invoice_id"] == two["Id"]
    assert sold(world, two) == {"PART-A": (Decimal(3), Decimal("37.50"))}  # no B line: nothing of B in it
    assert two["CustomerMemo"]["value"] == "SO-1101"
    assert two["TxnDate"] == "2026-02-28"
    assert two["DocNumber"] != one["DocNumber"]  # QBO numbers them (no custom numbers here)

    so = api.get(so_path(world, order)).json()
    assert (so["invoice_status"], so["invoice_status_text"]) == ("invoiced", "Invoice created (QBO)")
    assert money(so["invoiced_amount"]) == Decimal("80.00")
    assert [(d["id"], d["invoice_number"]) for d in so["deliveries"]] == [(first.id, 1), (second.id, 2)]
    listed = api.get(f"{so_path(world, order)}/invoices").json()
    assert [(i["number"], i["state"], i["qbo_invoice_id"]) for i in listed] == [
        (1, "invoiced", one["Id"]), (2, "invoiced", two["Id"])
    ]  # fmt: skip
    single = api.get(f"{so_path(world, order)}/invoices/2").json()
    assert (single["number"], single["qbo_invoice_id"], single["delivery_ids"]) == (2, two["Id"], [second.id])
    error_of(api.get(f"{so_path(world, order)}/invoices/3"), 404, "not_found")


def test_combined_deliveries_make_one_invoice_and_separate_ones_one_each(make_world: WorldFactory) -> None:
    world = make_world("US")
    order = two_row_order(world, "Combine Co", number="SO-1201")
    assert order.id is not None
    first = deliver(world, order, {0: "1"}, FIRST_SHIPMENT)
    second = deliver(world, order, {0: "2", 1: "3"}, SECOND_SHIPMENT)

    [combined] = world.app.invoicing.invoice_deliveries(
        world.company_id, order.id, [first.id or 0, second.id or 0], True
    )
    assert (combined.state, combined.number, combined.scope) == (InvoiceState.INVOICED, 1, InvoiceScope.DELIVERIES)
    assert set(combined.delivery_ids) == {first.id, second.id}
    [invoice] = qbo_invoices(world, order)
    assert invoice["Id"] == combined.qbo_invoice_id
    # A delivered twice is one line with the sum.
    assert sold(world, invoice) == {"PART-A": (Decimal(3), Decimal("37.50")), "PART-B": (Decimal(3), Decimal("30.00"))}
    assert invoice["CustomerMemo"]["value"] == "SO-1201"
    assert world.app.orderbook.invoices(world.company_id, order.id).status is InvoiceStatus.PARTLY_INVOICED

    # Two more deliveries, invoiced with nothing chosen (every open one) and not combined: one invoice each.
    third = deliver(world, order, {0: "0.5"}, THIRD_SHIPMENT)
    fourth = deliver(world, order, {0: "0.5"}, THIRD_SHIPMENT)
    made = world.app.invoicing.invoice_deliveries(world.company_id, order.id, None, False)
    assert [(link.number, link.delivery_ids, link.state) for link in made] == [
        (2, (third.id,), InvoiceState.INVOICED), (3, (fourth.id,), InvoiceState.INVOICED)
    ]  # fmt: skip
    invoices = qbo_invoices(world, order)
    assert [i["Id"] for i in invoices] == [combined.qbo_invoice_id, made[0].qbo_invoice_id, made[1].qbo_invoice_id]
    half = (Decimal("0.5"), Decimal("6.25"))
    assert [sold(world, i) for i in invoices[1:]] == [{"PART-A": half}, {"PART-A": half}]
    state = world.app.orderbook.invoices(world.company_id, order.id)
    assert state.status is InvoiceStatus.INVOICED
    assert state.invoiced_amount == Decimal("80.00")
    assert state.open_deliveries() == ()


def test_status_text_names_the_rows_and_the_amounts_in_cents(make_world: WorldFactory) -> None:
    """docs/quickbooks.md: `Partly invoiced (1 of 3 rows, 120.00 of 300.00 USD)` — amounts as money, in cents."""
    world = make_world("US")
    order = two_row_order(world, "Status Text Co")
    assert order.id is not None
    first = deliver(world, order, {0: "1", 1: "3"}, FIRST_SHIPMENT)
    world.app.invoicing.invoice_deliveries(world.company_id, order.id, [first.id or 0], True)
    invoices = world.app.orderbook.invoices(world.company_id, order.id)
    assert invoices.status is InvoiceStatus.PARTLY_INVOICED
    assert invoices.invoiced_amount == Decimal("42.50")
    assert invoices.status_text == "Partly invoiced (1 of 2 rows, 42.50 of 80.00 USD)"


# -- 2. whole or in parts, not both -----------------------------------------------------------------------------
def test_invoice_all_and_partial_invoices_exclude_each_other(make_world: WorldFactory) -> None:
    world = make_world("US", serve=True)
    api = world.api()
    partly = two_row_order(world, "Parts First Co", number="SO-1301")
    delivery = deliver(world, partly, {0: "1"}, FIRST_SHIPMENT)
    assert api.post(f"{so_path(world, partly)}/invoices", json={"deliveries": [delivery.id]}).status_code == 201

    refused = error_of(api.post(f"{so_path(world, partly)}/invoice"), 409, "invalid_transition")
    assert "SO-1301" in refused["message"]
    assert "delivery by delivery" in refused["message"]
    assert "remaining deliveries" in refused["message"]  # says what to do instead
    bulk = api.post(f"/api/companies/{world.company_id}/invoices", json={"sales_order_ids": [partly.id]})
    assert (bulk.status_code, bulk.json()) == (202, {"queued": 0})  # bulk *invoice all* leaves it alone
    assert len(qbo_invoices(world, partly)) == 1
    links = world.app.orderbook.invoices(world.company_id, partly.id or 0).links
    assert [(link.number, link.scope) for link in links] == [(1, InvoiceScope.DELIVERIES)]

    whole = two_row_order(world, "Whole First Co", number="SO-1302")
    made = api.post(f"{so_path(world, whole)}/invoice")
    assert made.status_code == 200, made.text
    assert (made.json()["state"], made.json()["scope"]) == ("invoiced", "whole")
    shipped = deliver(world, whole, {0: "4", 1: "3"}, FIRST_SHIPMENT)
    for body in ({"deliveries": [shipped.id]}, {}, {"combine": False}):
        refused = error_of(api.post(f"{so_path(world, whole)}/invoices", json=body), 409, "invalid_transition")
        assert "SO-1302 is invoiced as a whole" in refused["message"]
    [invoice] = qbo_invoices(world, whole)
    assert sold(world, invoice) == {"PART-A": (Decimal(4), Decimal("50.00")), "PART-B": (Decimal(3), Decimal("30.00"))}
    assert [link.number for link in world.app.orderbook.invoices(world.company_id, whole.id or 0).links] == [1]
    so = api.get(so_path(world, whole)).json()
    assert [d["invoice_number"] for d in so["deliveries"]] == [1]  # the whole-SO invoice covers it

    # The whole-SO invoice deleted in QBO gives the SO back: now it may be invoiced in parts.
    world.qbo_delete("Invoice", str(invoice["Id"]))
    assert world.app.reconcile.invoice_deleted(world.realm_id, str(invoice["Id"])) == [whole.id]
    again = api.post(f"{so_path(world, whole)}/invoices", json={"deliveries": [shipped.id]})
    assert again.status_code == 201, again.text
    assert [(i["number"], i["scope"], i["state"]) for i in again.json()] == [(2, "deliveries", "invoiced")]
    [partial] = qbo_invoices(world, whole)
    assert partial["Id"] != invoice["Id"]


# -- 3. only what shipped, and only once ------------------------------------------------------------------------
def test_only_recorded_deliveries_not_yet_invoiced_can_be_invoiced(make_world: WorldFactory) -> None:
    world = make_world("US", serve=True)
    api = world.api()
    nothing = two_row_order(world, "Not Shipped Co", number="SO-1401")
    refused = error_of(api.post(f"{so_path(world, nothing)}/invoices", json={}), 409, "invalid_transition")
    assert "Nothing of SO-1401 is delivered yet" in refused["message"]
    empty = error_of(api.post(f"{so_path(world, nothing)}/invoices", json={"deliveries": []}), 422, "validation_error")
    assert [p["field"] for p in empty["problems"]] == ["deliveries"]

    order = two_row_order(world, "Shipped Co", number="SO-1402")
    first = deliver(world, order, {0: "1"}, FIRST_SHIPMENT)
    second = deliver(world, order, {1: "2"}, SECOND_SHIPMENT)
    foreign = deliver(world, nothing, {0: "1"}, FIRST_SHIPMENT)  # a delivery of another SO
    for unknown in (foreign.id, 999_999):
        answer = api.post(f"{so_path(world, order)}/invoices", json={"deliveries": [unknown]})
        problem = error_of(answer, 422, "validation_error")["problems"]
        assert problem == [{"field": "deliveries[0]", "message": f"SO-1402 has no delivery {unknown}."}]

    assert api.post(f"{so_path(world, order)}/invoices", json={"deliveries": [first.id]}).status_code == 201
    answer = api.post(f"{so_path(world, order)}/invoices", json={"deliveries": [second.id, first.id]})
    [problem] = error_of(answer, 422, "validation_error")["problems"]
    assert problem["field"] == "deliveries[1]"
    assert "Delivery 1 is already invoiced" in problem["message"]
    assert "invoice 1" in problem["message"]  # names the invoice it is on
    # Refused as a whole: the open delivery in the same request was not invoiced either.
    assert len(qbo_invoices(world, order)) == 1
    assert [link.number for link in world.app.orderbook.invoices(world.company_id, order.id or 0).links] == [1]
    assert qbo_invoices(world, nothing) == []
    assert api.get(f"{so_path(world, nothing)}/invoices").json() == []


# -- 4. DocNumbers with custom transaction numbers ----------------------------------------------------------------
def test_custom_numbers_first_invoice_takes_the_so_number_the_next_a_suffix(make_world: WorldFactory) -> None:
    world = make_world("US", custom_txn_numbers=True)
    order = two_row_order(world, "Numbered Co", number="SO-1501")
    assert order.id is not None
    first = deliver(world, order, {0: "1"}, FIRST_SHIPMENT)
    second = deliver(world, order, {1: "3"}, SECOND_SHIPMENT)
    [one] = world.app.invoicing.invoice_deliveries(world.company_id, order.id, [first.id or 0], True)
    [two] = world.app.invoicing.invoice_deliveries(world.company_id, order.id, [second.id or 0], True)
    assert [world.qbo_read("Invoice", link.qbo_invoice_id or "")["DocNumber"] for link in (one, two)] == [
        "SO-1501", "SO-1501-2"
    ]  # fmt: skip
    assert (one.doc_number, two.doc_number) == ("SO-1501", "SO-1501-2")
    assert [i["CustomerMemo"]["value"] for i in qbo_invoices(world, order)] == ["SO-1501", "SO-1501"]

    longest = "SO-ABCDEFGHIJKLMNOPQR"  # 21 characters: QBO's DocNumber limit
    assert len(longest) == 21
    order = two_row_order(world, "Long Number Co", number=longest)
    assert order.id is not None
    deliver(world, order, {0: "1"}, FIRST_SHIPMENT)
    deliver(world, order, {0: "1"}, SECOND_SHIPMENT)
    made = world.app.invoicing.invoice_deliveries(world.company_id, order.id, None, False)
    assert [link.state for link in made] == [InvoiceState.INVOICED, InvoiceState.INVOICED]
    numbers = [world.qbo_read("Invoice", link.qbo_invoice_id or "")["DocNumber"] for link in made]
    assert numbers == [longest, "SO-ABCDEFGHIJKLMNOP-2"]
    assert all(len(n) <= 21 for n in numbers)
    assert [i["CustomerMemo"]["value"] for i in qbo_invoices(world, order)] == [longest, longest]


def test_a_suffixed_number_already_used_in_qbo_is_explained_and_the_invoice_stays_retryable(
    make_world: WorldFactory,
) -> None:
    world = make_world("US", custom_txn_numbers=True, serve=True)
    api = world.api()
    order = two_row_order(world, "Clash Co", number="SO-1601")
    first = deliver(world, order, {0: "1"}, FIRST_SHIPMENT)
    second = deliver(world, order, {0: "3", 1: "3"}, SECOND_SHIPMENT)
    item = world.qbo_rows("SELECT * FROM Item")[0]
    line = {"DetailType": "SalesItemLineDetail", "Amount": 1, "SalesItemLineDetail": {"ItemRef": {"value": item["Id"]}}}
    somebody = world.qbo_rows("SELECT * FROM Customer")[0]
    taken = world.qbo_create(
        "Invoice", {"DocNumber": "SO-1601-2", "CustomerRef": {"value": somebody["Id"]}, "Line": [line]}
    )

    assert api.post(f"{so_path(world, order)}/invoices", json={"deliveries": [first.id]}).status_code == 201
    before = world.qbo_count("Invoice")
    answer = api.post(f"{so_path(world, order)}/invoices", json={"deliveries": [second.id]})
    assert answer.status_code == 201, answer.text
    [failed] = answer.json()
    assert (failed["state"], failed["number"], failed["error_code"]) == ("failed", 2, "6140")
    assert failed["error_message"] == (
        f"Invoice number SO-1601-2 is already used in QuickBooks. QuickBooks invoice {taken['Id']} has this number."
    )
    assert failed["existing_invoice"]["id"] == str(taken["Id"])
    assert "Duplicate Document Number" in (failed["error_detail"] or "")
    assert world.qbo_count("Invoice") == before
    # The failed invoice keeps its delivery: nothing else may take it, and it is retried as it is.
    refused = api.post(f"{so_path(world, order)}/invoices", json={"deliveries": [second.id]})
    assert "invoice 2" in error_of(refused, 422, "validation_error")["problems"][0]["message"]
    assert world.app.orderbook.invoices(world.company_id, order.id or 0).open_deliveries() == ()

    world.qbo_delete("Invoice", str(taken["Id"]))
    retried = api.post(f"{so_path(world, order)}/invoices/2/retry")
    assert retried.status_code == 200, retried.text
    assert (retried.json()["state"], retried.json()["doc_number"]) == ("invoiced", "SO-1601-2")
    invoices = qbo_invoices(world, order)
    assert [i["DocNumber"] for i in invoices] == ["SO-1601", "SO-1601-2"]
    assert sold(world, invoices[1]) == {
        "PART-A": (Decimal(3), Decimal("37.50")),
        "PART-B": (Decimal(3), Decimal("30.00")),
    }
    assert world.app.orderbook.invoices(world.company_id, order.id or 0).status is InvoiceStatus.INVOICED


# -- 5. deleted in QBO ----------------------------------------------------------------------------------------
def test_deleting_one_invoice_in_qbo_reopens_only_its_delivery(make_world: WorldFactory) -> None:
    world = make_world("US", custom_txn_numbers=True)
    order = two_row_order(world, "Deleted Part Co", number="SO-1701")
    assert order.id is not None
    first = deliver(world, order, {0: "1", 1: "3"}, FIRST_SHIPMENT)
    second = deliver(world, order, {0: "3"}, SECOND_SHIPMENT)
    one, two = world.app.invoicing.invoice_deliveries(world.company_id, order.id, None, False)
    assert one.state is two.state is InvoiceState.INVOICED

    world.qbo_delete("Invoice", two.qbo_invoice_id or "")
    assert world.app.reconcile.invoice_deleted(world.realm_id, two.qbo_invoice_id or "") == [order.id]
    assert world.app.reconcile.invoice_deleted(world.realm_id, two.qbo_invoice_id or "") == []  # said twice: once
    invoices = world.app.orderbook.invoices(world.company_id, order.id)
    assert [(link.number, link.state) for link in invoices.links] == [
        (1, InvoiceState.INVOICED), (2, InvoiceState.DELETED)
    ]  # fmt: skip
    assert invoices.links[0].qbo_invoice_id == one.qbo_invoice_id
    assert invoices.status is InvoiceStatus.PARTLY_INVOICED
    assert invoices.invoiced_amount == Decimal("42.50")
    assert [d.id for d in invoices.open_deliveries()] == [second.id]
    with_first = [i["Id"] for i in qbo_invoices(world, order)]
    assert with_first == [one.qbo_invoice_id]
    with pytest.raises(ValidationError) as refused:  # the part still invoiced cannot be invoiced again
        world.app.invoicing.invoice_deliveries(world.company_id, order.id, [first.id or 0], True)
    assert "Delivery 1 is already invoiced (invoice 1" in refused.value.problems[0].message

    [three] = world.app.invoicing.invoice_deliveries(world.company_id, order.id, None, True)
    assert (three.number, three.delivery_ids, three.state) == (3, (second.id,), InvoiceState.INVOICED)
    assert three.qbo_invoice_id not in (one.qbo_invoice_id, two.qbo_invoice_id)
    new = world.qbo_read("Invoice", three.qbo_invoice_id or "")
    assert new["DocNumber"] == "SO-1701-2"  # the deleted invoice freed its number
    assert sold(world, new) == {"PART-A": (Decimal(3), Decimal("37.50"))}
    assert [i["Id"] for i in qbo_invoices(world, order)] == [one.qbo_invoice_id, three.qbo_invoice_id]
    invoices = world.app.orderbook.invoices(world.company_id, order.id)
    assert invoices.status is InvoiceStatus.INVOICED
    assert invoices.open_deliveries() == ()

    # Invoice 1 deleted too, caught by the CDC poll (no webhook): only delivery 1 opens.
    world.qbo_delete("Invoice", one.qbo_invoice_id or "")
    assert world.app.reconcile.poll(world.company_id) == 1
    invoices = world.app.orderbook.invoices(world.company_id, order.id)
    assert [(link.number, link.state) for link in invoices.links] == [
        (1, InvoiceState.DELETED), (2, InvoiceState.DELETED), (3, InvoiceState.INVOICED)
    ]  # fmt: skip
    assert [d.id for d in invoices.open_deliveries()] == [first.id]
    assert invoices.status is InvoiceStatus.PARTLY_INVOICED
    assert invoices.invoiced_amount == Decimal("37.50")


def test_a_deletion_webhook_reopens_only_that_invoices_delivery(make_world: WorldFactory) -> None:
    world = make_world("US", serve=True)
    api = world.api()
    order = two_row_order(world, "Webhook Part Co", number="SO-1801")
    deliver(world, order, {0: "1", 1: "3"}, FIRST_SHIPMENT)
    second = deliver(world, order, {0: "3"}, SECOND_SHIPMENT)
    answer = api.post(f"{so_path(world, order)}/invoices", json={"combine": False})
    assert answer.status_code == 201, answer.text
    one, two = answer.json()

    form = {"txnId": two["qbo_invoice_id"], "realmId": world.realm_id}  # a bookkeeper deletes it in QBO
    deleted = world.control.post("/app/invoice/delete", data=form, follow_redirects=False)
    assert deleted.status_code in (200, 303), deleted.text
    started = time.monotonic()
    while api.get(f"{so_path(world, order)}/invoices/2").json()["state"] != "deleted":
        assert time.monotonic() - started < 5, "the deletion did not arrive within 5 seconds"
        time.sleep(0.05)
    so = api.get(so_path(world, order)).json()
    assert [(i["number"], i["state"]) for i in so["invoices"]] == [(1, "invoiced"), (2, "deleted")]
    assert so["invoice_status"] == "partly_invoiced"
    assert [d["invoice_number"] for d in so["deliveries"]] == [1, None]
    retried = api.post(f"{so_path(world, order)}/invoices/2/retry")  # a deleted invoice is not made again
    assert (retried.status_code, retried.json()["state"]) == (200, "deleted")
    assert [i["Id"] for i in qbo_invoices(world, order)] == [one["qbo_invoice_id"]]

    again = api.post(f"{so_path(world, order)}/invoices", json={})
    assert again.status_code == 201, again.text
    [three] = again.json()
    assert (three["number"], three["delivery_ids"], three["state"]) == (3, [second.id], "invoiced")
    assert [i["Id"] for i in qbo_invoices(world, order)] == [one["qbo_invoice_id"], three["qbo_invoice_id"]]
    assert api.get(so_path(world, order)).json()["invoice_status"] == "invoiced"


# -- 6. concurrency -------------------------------------------------------------------------------------------
def test_concurrent_requests_for_one_delivery_make_one_invoice(make_world: WorldFactory) -> None:
    world = make_world("US", serve=True)
    order = two_row_order(world, "Race Part Co", number="SO-1901")
    delivery = deliver(world, order, {0: "2"}, FIRST_SHIPMENT)
    deliver(world, order, {1: "1"}, SECOND_SHIPMENT)  # another open delivery: must stay open
    world.inject("latency", match="invoice", method="POST", seconds=0.3, count=None)  # widen the window
    clients = [world.api() for _ in range(4)]
    answers: list[httpx.Response] = []
    lock = threading.Lock()

    def request(client: httpx.Client) -> None:
        answer = client.post(f"{so_path(world, order)}/invoices", json={"deliveries": [delivery.id]})
        with lock:
            answers.append(answer)

    threads = [threading.Thread(target=request, args=(client,)) for client in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(answers) == 4
    assert all(a.status_code in (201, 409, 422) for a in answers), [(a.status_code, a.text) for a in answers]
    made = [invoice for a in answers if a.status_code == 201 for invoice in a.json()]
    assert made, "no request made the invoice"
    assert {invoice["number"] for invoice in made} == {1}  # the others refused, or answered with the same one
    [invoice] = qbo_invoices(world, order)
    assert sold(world, invoice) == {"PART-A": (Decimal(2), Decimal("25.00"))}
    invoices = world.app.orderbook.invoices(world.company_id, order.id or 0)
    assert [(link.number, link.state, link.delivery_ids) for link in invoices.links] == [
        (1, InvoiceState.INVOICED, (delivery.id,))
    ]  # fmt: skip
    assert len(invoices.open_deliveries()) == 1


# -- 7. access and malformed bodies ---------------------------------------------------------------------------
def test_strangers_and_other_companies_get_404_and_nothing_is_made(make_world: WorldFactory) -> None:
    world = make_world("US", serve=True)
    order = two_row_order(world, "Private Co", number="SO-2001")
    delivery = deliver(world, order, {0: "1"}, FIRST_SHIPMENT)
    other = world.app.orderbook.create_company("Other Co", "USD", "America/Los_Angeles")
    assert other.id is not None
    outsider_token = httpx.Client(base_url=world.url, headers=token_headers(world.app, other.id), timeout=60)
    outsider_person = httpx.Client(base_url=world.url, timeout=60)
    nobody = httpx.Client(base_url=world.url, timeout=60)
    world.clients.extend([outsider_token, outsider_person, nobody])
    person(world.app, "outsider@other.example", other.id, "admin")
    log_in(cast("Browser", outsider_person), "outsider@other.example")

    ours = so_path(world, order)
    theirs = f"/api/companies/{other.id}/sales-orders/{order.id}"  # their company, our SO
    calls: list[tuple[str, str, dict[str, Any] | None]] = [
        ("GET", "/invoices", None),
        ("GET", "/invoices/1", None),
        ("POST", "/invoices", {"deliveries": [delivery.id]}),
        ("POST", "/invoices", {}),
        ("POST", "/invoices/1/retry", None),
        ("GET", f"/invoices-preview?deliveries={delivery.id}", None),
        ("POST", "/invoice", None),
    ]
    for method, tail, body in calls:
        for client in (outsider_token, outsider_person):
            for base in (ours, theirs):
                answer = client.request(method, base + tail, json=body)
                assert answer.status_code == 404, (method, base + tail, answer.text)
                assert answer.json()["error"]["code"] == "not_found"
        answer = nobody.request(method, ours + tail, json=body)
        assert answer.status_code == 401, (method, tail, answer.text)
    assert qbo_invoices(world, order) == []
    assert world.app.orderbook.invoices(world.company_id, order.id or 0).links == ()


def test_malformed_bodies_are_refused_with_422_and_nothing_is_made(make_world: WorldFactory) -> None:
    world = make_world("US", serve=True)
    api = world.api()
    order = two_row_order(world, "Malformed Co", number="SO-2101")
    delivery = deliver(world, order, {0: "1"}, FIRST_SHIPMENT)
    path = f"{so_path(world, order)}/invoices"
    bodies: list[Any] = [
        {"deliveries": str(delivery.id)},
        {"deliveries": f"{delivery.id},{delivery.id}"},
        {"deliveries": ["first"]},
        {"deliveries": [-1]},
        {"deliveries": [0]},
        {"deliveries": [1.5]},
        {"deliveries": [True]},
        {"deliveries": [2**63]},
        {"deliveries": list(range(1, 202))},  # more than 200 at a time
        {"deliveries": list(range(1, 100_001))},
        {"deliveries": [delivery.id], "combine": "maybe"},
        {"deliveries": [delivery.id], "combine": None},
        {"deliveries": {"id": delivery.id}},
        [delivery.id],
        "deliveries",
    ]
    for body in bodies:
        answer = api.post(path, json=body)
        assert answer.status_code == 422, (str(body)[:80], answer.text[:300])
        assert answer.json()["error"]["code"] == "validation_error"
    not_json = api.post(path, content=b"{deliveries: [1]", headers={"Content-Type": "application/json"})
    assert not_json.status_code == 422, not_json.text
    for query in ("deliveries=first", "deliveries=-1", "deliveries=0", "", f"deliveries={2**63}"):
        answer = api.get(f"{so_path(world, order)}/invoices-preview?{query}")
        assert answer.status_code == 422, (query, answer.text)
    assert qbo_invoices(world, order) == []
    assert world.app.orderbook.invoices(world.company_id, order.id or 0).links == ()


def test_unknown_fields_in_the_body_are_refused_not_ignored(make_world: WorldFactory) -> None:
    """A misspelt `combine` must not silently combine what was meant to be invoiced separately."""
    world = make_world("US", serve=True)
    api = world.api()
    order = two_row_order(world, "Typo Co", number="SO-2201")
    first = deliver(world, order, {0: "1"}, FIRST_SHIPMENT)
    second = deliver(world, order, {0: "1"}, SECOND_SHIPMENT)
    path = f"{so_path(world, order)}/invoices"
    for body in ({"deliveries": [first.id, second.id], "combin": False},
                 {"delivery_ids": [first.id]}, {"deliveries": [first.id], "customer_id": 1}):  # fmt: skip
        answer = api.post(path, json=body)
        assert answer.status_code == 422, (body, answer.status_code, answer.text[:300])
        assert answer.json()["error"]["code"] == "validation_error"
    assert qbo_invoices(world, order) == []
    assert world.app.orderbook.invoices(world.company_id, order.id or 0).links == ()


# -- 8. preview -----------------------------------------------------------------------------------------------
def test_preview_of_a_partial_invoice_shows_only_those_quantities_and_creates_nothing(
    make_world: WorldFactory,
) -> None:
    world = make_world("US", serve=True)
    api = world.api()
    order = two_row_order(world, "Preview Part Co", number="SO-2301")  # a new customer and new items in QBO
    first = deliver(world, order, {0: "1"}, FIRST_SHIPMENT)
    second = deliver(world, order, {0: "2", 1: "3"}, SECOND_SHIPMENT)
    counts = {entity: world.qbo_count(entity) for entity in ("Invoice", "Customer", "Item")}

    def lines(payload: dict[str, Any]) -> list[tuple[Decimal, Decimal, Decimal]]:
        return [(money(line["SalesItemLineDetail"]["Qty"]), money(line["SalesItemLineDetail"]["UnitPrice"]),
                 money(line["Amount"])) for line in payload["Line"]]  # fmt: skip

    answer = api.get(f"{so_path(world, order)}/invoices-preview?deliveries={first.id}")
    assert answer.status_code == 200, answer.text
    payload = answer.json()["payload"]
    assert lines(payload) == [(Decimal(1), Decimal("12.50"), Decimal("12.50"))]
    assert payload["CustomerMemo"] == {"value": "SO-2301"}
    assert payload["TxnDate"] == "2026-02-28"

    answer = api.get(f"{so_path(world, order)}/invoices-preview?deliveries={first.id}&deliveries={second.id}")
    assert answer.status_code == 200, answer.text
    assert lines(answer.json()["payload"]) == [
        (Decimal(3), Decimal("12.50"), Decimal("37.50")), (Decimal(3), Decimal("10.00"), Decimal("30.00"))
    ]  # fmt: skip
    assert {item["how"] for item in answer.json()["items"]} != set()

    assert {entity: world.qbo_count(entity) for entity in counts} == counts  # nothing created in QBO
    assert api.get(f"{so_path(world, order)}/invoices").json() == []  # and nothing planned on our side

    api.post(f"{so_path(world, order)}/invoices", json={"deliveries": [first.id]})
    refused = api.get(f"{so_path(world, order)}/invoices-preview?deliveries={first.id}")
    assert "already invoiced" in error_of(refused, 422, "validation_error")["problems"][0]["message"]
    answer = api.get(f"{so_path(world, order)}/invoices-preview?deliveries={second.id}")
    assert answer.status_code == 200, answer.text
    assert lines(answer.json()["payload"]) == [
        (Decimal(2), Decimal("12.50"), Decimal("25.00")), (Decimal(3), Decimal("10.00"), Decimal("30.00"))
    ]  # fmt: skip
    assert world.qbo_count("Invoice") == counts["Invoice"] + 1


def test_refusals_in_the_service_name_what_is_wrong(make_world: WorldFactory) -> None:
    """The same rules when invoicing is called directly (the CLI, jobs): refused before anything is planned."""
    world = make_world("US")
    order = two_row_order(world, "Service Co", number="SO-2401")
    assert order.id is not None
    with pytest.raises(InvalidTransition, match="Nothing of SO-2401 is delivered yet"):
        world.app.invoicing.invoice_deliveries(world.company_id, order.id, None, True)
    delivery = deliver(world, order, {0: "4", 1: "3"}, FIRST_SHIPMENT)
    [link] = world.app.invoicing.invoice_deliveries(world.company_id, order.id, [delivery.id or 0], True)
    assert link.state is InvoiceState.INVOICED
    with pytest.raises(InvalidTransition, match="Every delivery of SO-2401 is already invoiced"):
        world.app.invoicing.invoice_deliveries(world.company_id, order.id, None, True)
    # Fully delivered and invoiced in parts: *invoice all* is still refused (it would invoice it twice).
    with pytest.raises(InvalidTransition, match="delivery by delivery"):
        world.app.invoicing.create_invoice(world.company_id, order.id)
    [invoice] = qbo_invoices(world, order)
    assert sold(world, invoice) == {"PART-A": (Decimal(4), Decimal("50.00")), "PART-B": (Decimal(3), Decimal("30.00"))}
    assert world.app.orderbook.invoices(world.company_id, order.id).status is InvoiceStatus.INVOICED
