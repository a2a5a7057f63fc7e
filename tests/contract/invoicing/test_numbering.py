"""Numbering conflicts, against qbo_sandbox over HTTP: the company's invoice-number prefix, the QBO invoice a
duplicate-number refusal names, and the opt-in *Link to this invoice* (docs/quickbooks.md, "Numbering")."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from typing import Any

import pytest
from tests.contract.invoicing.conftest import World, WorldFactory
from tests.contract.invoicing.test_partial_invoicing import (
    FIRST_SHIPMENT,
    SECOND_SHIPMENT,
    deliver,
    error_of,
    so_path,
    two_row_order,
)

from invoicebridge.domain import Conflict, InvalidTransition, InvoiceState, SalesOrder, ValidationError
from invoicebridge.domain.invoice_link import InvoiceLink
from invoicebridge.qbo.links import invoice_url
from invoicebridge.sync.duplicates import existing_invoice_id
from invoicebridge.sync.link_existing import TURNED_OFF, LinkExisting


# -- helpers ------------------------------------------------------------------------------------------------------
def settle(world: World, **changes: Any) -> None:
    """Save the company's QuickBooks settings with these changes, through the use case an admin goes through."""
    connection = world.app.connecting.connection(world.company_id)
    assert connection is not None
    world.app.connecting.save_settings(world.company_id, replace(connection.settings, **changes))


def taken_by_hand(world: World, doc_number: str, customer_id: str, amounts: list[str]) -> dict[str, Any]:
    """An invoice made in QBO by hand (or by another tool) with this number, for this QBO customer, one line per
    amount (the item does not matter)."""
    item = world.qbo_rows("SELECT * FROM Item")[0]
    lines = [
        {
            "DetailType": "SalesItemLineDetail",
            "Amount": amount,
            "SalesItemLineDetail": {"ItemRef": {"value": item["Id"]}},
        }
        for amount in amounts
    ]
    return world.qbo_create("Invoice", {"DocNumber": doc_number, "CustomerRef": {"value": customer_id}, "Line": lines})


def qbo_customer(world: World, name: str, email: str) -> str:
    """A customer that exists in QBO, and ours that matching finds it for (by e-mail): the QBO id."""
    made = world.qbo_create("Customer", {"DisplayName": name, "PrimaryEmailAddr": {"Address": email}})
    world.customer(name, email)
    return str(made["Id"])


def refused_order(world: World, number: str, amounts: list[str]) -> tuple[SalesOrder, InvoiceLink, dict[str, Any]]:
    """An SO (2 × 15.00 = 30.00 before tax) whose invoice QBO refused: its number was on an invoice made by hand
    for the same QBO customer, with lines of `amounts`. The SO, its failed invoice, the QBO invoice."""
    customer_id = qbo_customer(world, f"Buyer {number}", f"{number.lower()}@buyer.example")
    order = world.order(world.customers[-1], number=number)
    taken = taken_by_hand(world, number, customer_id, amounts)
    failed = world.invoice(order)
    assert (failed.state, failed.error_code) == (InvoiceState.FAILED, "6140")
    return order, failed, taken


def links(world: World) -> LinkExisting:
    return LinkExisting(world.app.invoicing)


# -- the prefix -----------------------------------------------------------------------------------------------------
def test_the_prefix_goes_before_the_so_number_and_the_memo_keeps_the_so_number(make_world: WorldFactory) -> None:
    world = make_world("US", custom_txn_numbers=True)
    settle(world, invoice_number_prefix="INV-")
    link = world.invoice(world.order(number="SO-1"))
    assert (link.state, link.doc_number) == (InvoiceState.INVOICED, "INV-SO-1")
    invoice = world.qbo_read("Invoice", link.qbo_invoice_id or "")
    assert (invoice["DocNumber"], invoice["CustomerMemo"]["value"]) == ("INV-SO-1", "SO-1")


def test_partial_invoices_take_the_prefix_and_their_suffix(make_world: WorldFactory) -> None:
    world = make_world("US", custom_txn_numbers=True)
    settle(world, invoice_number_prefix="INV-")
    order = two_row_order(world, "Parts Co", number="SO-P1")
    deliver(world, order, {0: "1"}, FIRST_SHIPMENT)
    deliver(world, order, {0: "1"}, SECOND_SHIPMENT)
    made = world.app.invoicing.invoice_deliveries(world.company_id, order.id or 0, None, False)
    numbers = [world.qbo_read("Invoice", link.qbo_invoice_id or "")["DocNumber"] for link in made]
    assert numbers == ["INV-SO-P1", "INV-SO-P1-2"]


def test_a_number_too_long_with_the_prefix_is_refused_before_any_call_and_retried_after_changing_it(
    make_world: WorldFactory,
) -> None:
    world = make_world("US", custom_txn_numbers=True)
    settle(world, invoice_number_prefix="ACME-2026-")  # 10 + 13 = 23 characters with this SO number
    order = world.order(number="SO-1234567890")
    requests, invoices = len(world.qbo_requests()), world.qbo_count("Invoice")

    failed = world.invoice(order)
    assert (failed.state, failed.error_code) == (InvoiceState.FAILED, "invalid")
    assert failed.error_message == (
        "The invoice number ACME-2026-SO-1234567890 (23 characters) is longer than the 21 characters QuickBooks "
        "allows: shorten or remove the invoice number prefix 'ACME-2026-' in the QuickBooks settings, then retry "
        "this invoice."
    )
    assert len(world.qbo_requests()) == requests  # not a single QuickBooks call
    assert world.qbo_count("Invoice") == invoices

    settle(world, invoice_number_prefix="A-")
    retried = world.app.invoicing.create_invoice(world.company_id, order.id or 0, failed.number)
    assert (retried.state, retried.doc_number) == (InvoiceState.INVOICED, "A-SO-1234567890")


@pytest.mark.parametrize(
    ("prefix", "why"),
    [
        ("X" * 21, "longer than QuickBooks allows (20 characters)"),
        ("INV\u200b-", "printable characters only"),
        ("IN\tV", "characters QuickBooks refuses"),
        (" INV-", "cannot begin or end with a space"),
    ],
)
def test_a_bad_prefix_is_refused_and_nothing_is_saved(make_world: WorldFactory, prefix: str, why: str) -> None:
    world = make_world("US", custom_txn_numbers=True)
    with pytest.raises(ValidationError) as refused:
        settle(world, invoice_number_prefix=prefix)
    assert [p.field for p in refused.value.problems] == ["invoice_number_prefix"]
    assert why in refused.value.problems[0].message
    connection = world.app.connecting.connection(world.company_id)
    assert connection is not None and connection.settings.invoice_number_prefix == ""


def test_an_invoice_whose_answer_was_lost_is_found_again_with_the_prefix(make_world: WorldFactory) -> None:
    world = make_world("US", custom_txn_numbers=True)
    settle(world, invoice_number_prefix="INV-")
    customer = world.customer("Lost Answer Co", "lost@answer.example")
    world.invoice(world.order(customer))  # warm: the next SO is matched on the mirror, then created
    order = world.order(customer, number="SO-LOST")
    world.inject("ignore_requestid")  # QBO has been seen to ignore request ids: only the look-up saves us
    world.inject("drop_after_commit", match="invoice", method="POST")
    link = world.invoice(order)
    assert (link.state, link.doc_number) == (InvoiceState.INVOICED, "INV-SO-LOST")
    assert len(world.qbo_rows("SELECT * FROM Invoice WHERE DocNumber = 'INV-SO-LOST'")) == 1


# -- a number already used ------------------------------------------------------------------------------------------
def test_a_duplicate_number_names_the_qbo_invoice_that_has_it_with_its_link(make_world: WorldFactory) -> None:
    world = make_world("US", custom_txn_numbers=True, serve=True)
    settle(world, invoice_number_prefix="INV-")
    somebody = world.qbo_rows("SELECT * FROM Customer")[0]
    taken = taken_by_hand(world, "INV-SO-D1", somebody["Id"], ["5.00"])
    order = world.order(number="SO-D1")
    before = world.qbo_count("Invoice")

    failed = world.invoice(order)
    assert (failed.state, failed.error_code) == (InvoiceState.FAILED, "6140")
    assert failed.error_message == (
        f"Invoice number INV-SO-D1 is already used in QuickBooks. QuickBooks invoice {taken['Id']} has this number."
    )
    assert world.qbo_count("Invoice") == before
    answer = world.api().get(f"{so_path(world, order)}/invoices/1")
    assert answer.status_code == 200, answer.text
    expected_url = invoice_url("local", world.realm_id, str(taken["Id"]), sandbox_base=world.sandbox.url)
    assert answer.json()["existing_invoice"] == {"id": str(taken["Id"]), "url": expected_url}
    assert world.control.get(expected_url.removeprefix(world.sandbox.url)).status_code == 200  # the link opens it


def test_a_duplicate_number_refusal_that_names_no_invoice_keeps_the_plain_sentence(make_world: WorldFactory) -> None:
    world = make_world("US", custom_txn_numbers=True)
    _, failed, taken = refused_order(world, "SO-PLAIN", ["30.00"])
    assert existing_invoice_id(failed) == str(taken["Id"])
    older = replace(failed, error_detail="QuickBooks error 6140 — Duplicate Document Number Error")
    assert existing_invoice_id(older) is None  # a Detail without the TxnId names nothing: no link offered


# -- Link to this invoice -------------------------------------------------------------------------------------------
def test_linking_is_off_by_default_and_offers_nothing(make_world: WorldFactory) -> None:
    world = make_world("US", custom_txn_numbers=True, serve=True)
    order, failed, _ = refused_order(world, "SO-OFF", ["30.00"])
    with pytest.raises(InvalidTransition, match="turned off"):
        links(world).link(world.company_id, order.id or 0, failed.number)
    answer = world.api().post(f"{so_path(world, order)}/invoices/1/link-existing")
    assert error_of(answer, 409, "invalid_transition")["message"] == TURNED_OFF
    stored = world.app.orderbook.invoice_link(world.company_id, order.id or 0, 1)
    assert (stored.state, stored.version) == (InvoiceState.FAILED, failed.version)


def test_same_customer_and_amount_links_the_existing_invoice_and_creates_nothing(make_world: WorldFactory) -> None:
    world = make_world("US", custom_txn_numbers=True, serve=True)
    settle(world, offer_link_duplicates=True)
    order, _, taken = refused_order(world, "SO-SAME", ["20.00", "10.00"])  # 30.00 before tax, like the SO
    invoices, requests = world.qbo_count("Invoice"), len(world.qbo_requests())

    offer = world.api().get(f"{so_path(world, order)}/invoices/1/link-existing")
    assert offer.status_code == 200, offer.text
    assert (offer.json()["linkable"], offer.json()["reason"]) == (True, None)
    assert (offer.json()["existing_subtotal"], offer.json()["subtotal"]) == ("30.00", "30.00")
    answer = world.api().post(f"{so_path(world, order)}/invoices/1/link-existing")
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert (body["state"], body["qbo_invoice_id"], body["doc_number"]) == ("invoiced", str(taken["Id"]), "SO-SAME")
    assert body["error_code"] is None and body["existing_invoice"] is None
    assert body["history"][-1]["note"] == f"linked to the existing QuickBooks invoice {taken['Id']} (number SO-SAME)"
    assert [r["method"] for r in world.qbo_requests()[requests:]] == ["GET", "GET"]  # the offer's read, the recheck
    assert world.qbo_count("Invoice") == invoices
    assert world.app.orderbook.invoices(world.company_id, order.id or 0).status_text == "Invoice created (QBO)"
    # Exactly once: invoicing it again changes nothing and makes nothing.
    again = world.invoice(order)
    assert (again.state, again.qbo_invoice_id) == (InvoiceState.INVOICED, str(taken["Id"]))
    assert world.qbo_count("Invoice") == invoices


def test_a_different_amount_is_refused_with_the_reason(make_world: WorldFactory) -> None:
    world = make_world("US", custom_txn_numbers=True)
    settle(world, offer_link_duplicates=True)
    order, failed, taken = refused_order(world, "SO-DIFF", ["29.00"])
    offer = links(world).check(world.company_id, order.id or 0, failed.number)
    reason = (
        f"QuickBooks invoice {taken['Id']} comes to 29.00 before tax; this invoice of the order comes to 30.00. Only "
        "an invoice with the same customer and amount can be linked."
    )
    assert (offer.linkable, offer.reason) == (False, reason)
    with pytest.raises(InvalidTransition) as refused:
        links(world).link(world.company_id, order.id or 0, failed.number)
    assert str(refused.value) == reason
    assert world.app.orderbook.invoice_link(world.company_id, order.id or 0, 1).state is InvoiceState.FAILED


def test_another_customer_is_refused_with_the_reason(make_world: WorldFactory) -> None:
    world = make_world("US", custom_txn_numbers=True)
    settle(world, offer_link_duplicates=True)
    other = qbo_customer(world, "Someone Else", "else@buyer.example")
    ours = qbo_customer(world, "Rightful Buyer", "rightful@buyer.example")
    order = world.order(world.customers[-1], number="SO-WHO")
    taken_by_hand(world, "SO-WHO", other, ["30.00"])
    failed = world.invoice(order)
    offer = links(world).check(world.company_id, order.id or 0, failed.number)
    assert offer.reason is not None and f"another QuickBooks customer ({other})" in offer.reason
    assert f"QuickBooks customer {ours}" in offer.reason


def test_one_qbo_invoice_cannot_be_linked_to_two_sales_orders(make_world: WorldFactory) -> None:
    world = make_world("US", custom_txn_numbers=True)
    settle(world, offer_link_duplicates=True)
    first, failed, taken = refused_order(world, "X-7", ["30.00"])
    linked = links(world).link(world.company_id, first.id or 0, failed.number)
    assert linked.qbo_invoice_id == str(taken["Id"])
    # With the prefix "X-", SO "7" takes the number "X-7" too: QBO names the same invoice, already linked to X-7.
    settle(world, invoice_number_prefix="X-")
    second = world.order(world.customers[-1], number="7")
    refused = world.invoice(second)
    assert existing_invoice_id(refused) == str(taken["Id"])
    with pytest.raises(Conflict, match="linked to another sales order's invoice already"):
        links(world).link(world.company_id, second.id or 0, refused.number)
    assert world.app.orderbook.invoice_link(world.company_id, second.id or 0, 1).state is InvoiceState.FAILED


def test_two_links_racing_past_the_check_are_stopped_by_the_store(make_world: WorldFactory) -> None:
    """What two SOs linking one QBO invoice at the same instant would do: both passed the "not linked elsewhere"
    check, then both save. The store's unique index lets one through."""
    world = make_world("US", custom_txn_numbers=True)
    _, failed, taken = refused_order(world, "Y-7", ["30.00"])
    settle(world, invoice_number_prefix="Y-")
    second = world.order(world.customers[-1], number="7")
    other = world.invoice(second)
    assert existing_invoice_id(other) == str(taken["Id"])
    now = world.app.invoicing.now()
    with world.app.uow() as uow:
        uow.invoice_links.save(world.company_id, failed.linked_existing(str(taken["Id"]), "Y-7", "0", now))
        uow.commit()
    with world.app.uow() as uow, pytest.raises(Conflict):
        uow.invoice_links.save(world.company_id, other.linked_existing(str(taken["Id"]), "Y-7", "0", now))
    assert world.app.orderbook.invoice_link(world.company_id, second.id or 0, 1).state is InvoiceState.FAILED


def test_a_linked_delivery_invoice_keeps_its_deliveries_covered(make_world: WorldFactory) -> None:
    world = make_world("US", custom_txn_numbers=True)
    settle(world, offer_link_duplicates=True)
    qbo = world.qbo_create("Customer", {"DisplayName": "Covered Co"})  # matched by display name
    order = two_row_order(world, "Covered Co", number="SO-COV")
    first = deliver(world, order, {0: "2"}, FIRST_SHIPMENT)  # 2 × 12.50
    deliver(world, order, {1: "1"}, SECOND_SHIPMENT)
    taken = taken_by_hand(world, "SO-COV", str(qbo["Id"]), ["25.00"])
    [failed] = world.app.invoicing.invoice_deliveries(world.company_id, order.id or 0, [first.id or 0], True)
    assert failed.error_code == "6140"

    linked = links(world).link(world.company_id, order.id or 0, failed.number)
    assert (linked.state, linked.qbo_invoice_id, linked.delivery_ids) == (
        InvoiceState.INVOICED, str(taken["Id"]), (first.id,))  # fmt: skip
    invoices = world.app.orderbook.invoices(world.company_id, order.id or 0)
    assert [d.number for d in invoices.open_deliveries()] == [2]
    assert invoices.status_text.startswith("Partly invoiced (0 of 2 rows, 25.00 of 80.00 USD)")
    with pytest.raises(ValidationError, match="already invoiced"):
        world.app.invoicing.invoice_deliveries(world.company_id, order.id or 0, [first.id or 0], True)


def test_with_inventory_the_cost_of_goods_sold_follows_a_linked_invoice(make_world: WorldFactory) -> None:
    world = make_world("US", custom_txn_numbers=True, inventory=True)
    settle(world, offer_link_duplicates=True)
    order, failed, _ = refused_order(world, "SO-COGS", ["30.00"])
    world.app.orderbook.record_delivery(world.company_id, order.id or 0, {order.rows[0].id or 0: "2"})
    assert world.qbo_rows("SELECT * FROM JournalEntry") == []  # delivered, but not invoiced: no entry yet

    links(world).link(world.company_id, order.id or 0, failed.number)
    (entry,) = world.qbo_rows("SELECT * FROM JournalEntry")
    assert [Decimal(str(line["Amount"])) for line in entry["Line"]] == [Decimal("8.00")] * 2  # 2 × cost 4.00
