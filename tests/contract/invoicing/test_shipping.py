"""Shipping fees against qbo_sandbox over HTTP. With shipping on in the company's sales-form preferences the fee is
QBO's shipping line; with it off, a line on a Service item "Shipping" made once. The fee is taxed by its own rate,
rides on the SO's first invoice only when the SO is invoiced in parts, and on the next one made when the invoice
carrying it is deleted in QBO — the single and the bulk (/batch) paths alike. What exists in QBO is the truth."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from tests.contract.invoicing.conftest import World, WorldFactory, money
from tests.contract.invoicing.test_partial_invoicing import deliver, qbo_invoices, two_row_order

from invoicebridge.domain import InvoiceState, SalesOrder, TaxRate

SHIPPED = datetime(2026, 3, 5, 17, 0, tzinfo=UTC)
SHIPPED_AGAIN = datetime(2026, 3, 9, 17, 0, tzinfo=UTC)


def set_shipping(world: World, on: bool) -> None:
    """The bookkeeper turns shipping on or off in QuickBooks' sales-form settings."""
    prefs = world.qbo_read("Preferences", "1")
    sales = {**prefs["SalesFormsPrefs"], "AllowShipping": on}
    body = {"Id": "1", "SyncToken": prefs["SyncToken"], "sparse": True, "SalesFormsPrefs": sales}
    world.sandbox.sandbox.backend.update(world.realm_id, "Preferences", body)


def shipping_off(world: World) -> None:
    set_shipping(world, False)
    world.app.connecting.refresh_preferences(world.company_id)


def order_with_fee(world: World, name: str, fee: str | None, rate: TaxRate | None, **kw: Any) -> SalesOrder:
    """1 × a product at 40.00 under the first (taxed) rate, and the fee under `rate`."""
    product = world.products[0] if world.products else world.product("SHIP-1", "Shipped thing", price="40.00")
    return world.order(
        world.customer(name), rows=[(product, "1", "40.00", world.rates[0])], shipping_fee=fee,
        shipping_tax_rate_id=rate.id if rate and fee else None, **kw,
    )  # fmt: skip


def qbo_invoice(world: World, order: SalesOrder) -> dict[str, Any]:
    [invoice] = qbo_invoices(world, order)
    return invoice


def item_of(line: dict[str, Any]) -> str:
    return str(line["SalesItemLineDetail"]["ItemRef"]["value"])


def sales_lines(invoice: dict[str, Any]) -> list[dict[str, Any]]:
    return [line for line in invoice["Line"] if line["DetailType"] == "SalesItemLineDetail"]


def shipping_lines(world: World, invoice: dict[str, Any]) -> list[dict[str, Any]]:
    """The invoice's shipping: QBO's shipping line, or lines on the item named Shipping."""
    named = {i["Id"] for i in world.qbo_rows("SELECT * FROM Item WHERE Name = 'Shipping'")}
    return [line for line in sales_lines(invoice) if item_of(line) == "SHIPPING_ITEM_ID" or item_of(line) in named]


def shipping_items(world: World) -> list[dict[str, Any]]:
    return world.qbo_rows("SELECT * FROM Item WHERE Name = 'Shipping' AND Active IN (true, false)")


def us_tax(net: str) -> Decimal:
    """California's 8.625 % as QBO computes it: per rate (7.25 % and 1.375 %), each rounded half-up to cents."""
    cents = Decimal("0.01")
    return sum((Decimal(net) * rate / 100).quantize(cents, "ROUND_HALF_UP") for rate in (Decimal("7.25"),
                                                                                        Decimal("1.375")))  # fmt: skip


# -- which way the fee goes ------------------------------------------------------------------------------------
def test_fee_is_qbos_shipping_line_when_shipping_is_on_and_is_taxed_with_the_rows(make_world: WorldFactory) -> None:
    world = make_world("US")
    order = order_with_fee(world, "Ship On Inc", "12.50", world.rates[0])
    assert world.invoice(order).state is InvoiceState.INVOICED
    invoice = qbo_invoice(world, order)
    [line] = shipping_lines(world, invoice)
    assert item_of(line) == "SHIPPING_ITEM_ID" and money(line["Amount"]) == Decimal("12.50")
    assert line["SalesItemLineDetail"]["TaxCodeRef"]["value"] == "TAX"
    assert money(invoice["TxnTaxDetail"]["TotalTax"]) == us_tax("52.50")  # 40.00 + 12.50, both taxed
    assert money(invoice["TotalAmt"]) == Decimal("52.50") + us_tax("52.50")
    assert shipping_items(world) == []  # no item is made for QBO's own shipping line


def test_untaxed_fee_is_marked_non_and_adds_no_tax(make_world: WorldFactory) -> None:
    world = make_world("US")
    order = order_with_fee(world, "Untaxed Ship Inc", "9.99", world.rates[1])
    world.invoice(order)
    invoice = qbo_invoice(world, order)
    [line] = shipping_lines(world, invoice)
    assert line["SalesItemLineDetail"]["TaxCodeRef"]["value"] == "NON"
    assert money(invoice["TxnTaxDetail"]["TotalTax"]) == us_tax("40.00")
    assert money(invoice["TotalAmt"]) == Decimal("49.99") + us_tax("40.00")


def test_fee_goes_on_a_shipping_item_made_once_when_shipping_is_off(make_world: WorldFactory) -> None:
    world = make_world("US")
    shipping_off(world)
    first = order_with_fee(world, "Ship Off One", "7.00", world.rates[0])
    second = order_with_fee(world, "Ship Off Two", "3.25", world.rates[1])
    assert world.invoice(first).state is InvoiceState.INVOICED
    assert world.invoice(second).state is InvoiceState.INVOICED
    [item] = shipping_items(world)
    assert item["Type"] == "Service"
    [revenue] = world.qbo_rows("SELECT * FROM Account WHERE Name = 'Sales of Product Income'")  # the chosen one
    assert item["IncomeAccountRef"]["value"] == revenue["Id"]
    for order, fee, code in ((first, "7.00", "TAX"), (second, "3.25", "NON")):
        invoice = qbo_invoice(world, order)
        [line] = shipping_lines(world, invoice)
        assert item_of(line) == item["Id"] and money(line["Amount"]) == Decimal(fee)
        assert line["SalesItemLineDetail"]["TaxCodeRef"]["value"] == code
        assert not [x for x in sales_lines(invoice) if item_of(x) == "SHIPPING_ITEM_ID"]
    assert money(qbo_invoice(world, first)["TotalAmt"]) == Decimal("47.00") + us_tax("47.00")


def test_an_existing_item_named_shipping_is_used_not_a_second_one(make_world: WorldFactory) -> None:
    world = make_world("US")
    shipping_off(world)
    income = world.qbo_rows("SELECT * FROM Account WHERE AccountType = 'Income' MAXRESULTS 1")[0]
    theirs = world.qbo_create(
        "Item", {"Name": "Shipping", "Type": "Service", "IncomeAccountRef": {"value": income["Id"]}}
    )
    order = order_with_fee(world, "Their Shipping Item", "5.00", world.rates[1])
    world.invoice(order)
    [line] = shipping_lines(world, qbo_invoice(world, order))
    assert item_of(line) == theirs["Id"]
    assert [i["Id"] for i in shipping_items(world)] == [theirs["Id"]]


def test_shipping_turned_off_in_qbo_after_the_preferences_were_read_puts_the_fee_on_the_item_at_once(
    make_world: WorldFactory,
) -> None:
    world = make_world("US")
    order_with_fee(world, "Warm Up Co", None, None)  # the preferences are read (shipping on) and cached
    world.invoice(order_with_fee(world, "Warm Up Co 2", "1.00", world.rates[0]))
    set_shipping(world, False)  # meanwhile, in QuickBooks; our cached preferences still say on
    order = order_with_fee(world, "Late Switch Co", "4.00", world.rates[0])
    # QBO refuses the shipping line: the preferences are read again and the corrected invoice goes out under its
    # own request id (a reused one would only replay the refusal).
    link = world.invoice(order)
    assert link.state is InvoiceState.INVOICED, link.error_message
    assert len(qbo_invoices(world, order)) == 1
    [line] = shipping_lines(world, qbo_invoice(world, order))
    assert item_of(line) == shipping_items(world)[0]["Id"]


def test_vat_fee_is_taxed_by_its_own_rate_and_needs_one(make_world: WorldFactory) -> None:
    world = make_world("GB")
    product = world.product("UK-1", "UK thing", price="100.00")
    order = world.order(world.customer("UK Ship Ltd"), rows=[(product, "1", "100.00", world.rates[1])],
                        shipping_fee="10.00", shipping_tax_rate_id=world.rates[0].id)  # fmt: skip
    world.invoice(order)
    invoice = qbo_invoice(world, order)
    [line] = shipping_lines(world, invoice)
    codes = {c["Name"]: c["Id"] for c in world.qbo_rows("SELECT * FROM TaxCode MAXRESULTS 1000")}
    assert line["SalesItemLineDetail"]["TaxCodeRef"]["value"] == codes["20.0% S"]
    assert money(invoice["TxnTaxDetail"]["TotalTax"]) == Decimal("2.00")  # 20 % of the fee; the row is 0 %
    assert money(invoice["TotalAmt"]) == Decimal("112.00")
    no_rate = world.order(world.customer("UK No Rate"), rows=[(product, "1", "100.00", world.rates[1])],
                          shipping_fee="10.00")  # fmt: skip
    link = world.invoice(no_rate)
    assert link.state is InvoiceState.FAILED and "shipping fee needs a tax rate" in (link.error_message or "")
    assert qbo_invoices(world, no_rate) == []


def test_order_without_fee_has_no_shipping_line(make_world: WorldFactory) -> None:
    world = make_world("US")
    order = order_with_fee(world, "No Fee Co", None, None)
    world.invoice(order)
    assert shipping_lines(world, qbo_invoice(world, order)) == []


# -- the first invoice only -------------------------------------------------------------------------------------
def test_parts_carry_the_fee_on_the_first_invoice_and_the_next_one_after_it_is_deleted(
    make_world: WorldFactory,
) -> None:
    world = make_world("US")
    order = two_row_order(world, "Parts Ship Co", shipping_fee="15.00", shipping_tax_rate_id=world.rates[1].id)
    first = deliver(world, order, {0: "1"}, SHIPPED)
    second = deliver(world, order, {1: "3"}, SHIPPED_AGAIN)
    assert order.id is not None
    [one] = world.app.invoicing.invoice_deliveries(world.company_id, order.id, [first.id or 0], combine=True)
    [two] = world.app.invoicing.invoice_deliveries(world.company_id, order.id, [second.id or 0], combine=True)
    assert (one.carries_shipping, two.carries_shipping) == (True, False)
    one_qbo, two_qbo = qbo_invoices(world, order)
    assert [money(line["Amount"]) for line in shipping_lines(world, one_qbo)] == [Decimal("15.00")]
    assert shipping_lines(world, two_qbo) == []

    # The invoice carrying the fee is deleted in QBO: the next invoice made (its delivery again) carries it.
    world.qbo_delete("Invoice", one.qbo_invoice_id or "")
    assert world.app.reconcile.invoice_deleted(world.realm_id, one.qbo_invoice_id or "") == [order.id]
    [again] = world.app.invoicing.invoice_deliveries(world.company_id, order.id, None, combine=True)
    assert again.carries_shipping and again.state is InvoiceState.INVOICED
    live = [i for i in qbo_invoices(world, order) if i["Id"] in (two.qbo_invoice_id, again.qbo_invoice_id)]
    assert len(live) == 2
    fees = [money(line["Amount"]) for invoice in live for line in shipping_lines(world, invoice)]
    assert fees == [Decimal("15.00")]  # on exactly one live invoice: never twice, never lost


def test_the_whole_so_invoice_carries_the_fee_and_after_its_deletion_the_next_one_does(
    make_world: WorldFactory,
) -> None:
    world = make_world("US")
    order = order_with_fee(world, "Whole Ship Co", "6.00", world.rates[0])
    link = world.invoice(order)
    assert link.carries_shipping
    world.qbo_delete("Invoice", link.qbo_invoice_id or "")
    world.app.reconcile.invoice_deleted(world.realm_id, link.qbo_invoice_id or "")
    again = world.invoice(order)
    assert again.number == 2 and again.state is InvoiceState.INVOICED
    [invoice] = [i for i in qbo_invoices(world, order) if i["Id"] == again.qbo_invoice_id]
    assert [money(line["Amount"]) for line in shipping_lines(world, invoice)] == [Decimal("6.00")]


# -- bulk --------------------------------------------------------------------------------------------------------
def bulk(world: World, orders: list[SalesOrder]) -> None:
    world.app.jobs.invoice(world.company_id, [o.id for o in orders if o.id is not None])


def test_bulk_invoices_carry_their_fees_on_the_shipping_line(make_world: WorldFactory) -> None:
    world = make_world("US")
    orders = [order_with_fee(world, f"Bulk On {n}", fee, world.rates[0]) for n, fee in
              enumerate(["2.00", None, "3.50"])]  # fmt: skip
    bulk(world, orders)
    found = {}
    for order in orders:
        assert world.app.orderbook.invoice_link(world.company_id, order.id or 0).state is InvoiceState.INVOICED
        found[order.number] = [
            (item_of(x), money(x["Amount"])) for x in shipping_lines(world, qbo_invoice(world, order))
        ]
    assert list(found.values()) == [
        [("SHIPPING_ITEM_ID", Decimal("2.00"))],
        [],
        [("SHIPPING_ITEM_ID", Decimal("3.50"))],
    ]


def test_bulk_with_shipping_off_makes_the_shipping_item_once_for_the_batch(make_world: WorldFactory) -> None:
    world = make_world("GB")
    shipping_off(world)
    product = world.product("UK-B", "UK bulk thing", price="20.00")
    orders = [
        world.order(world.customer(f"Bulk Off {n}"), rows=[(product, "1", "20.00", world.rates[0])],
                    shipping_fee="5.00", shipping_tax_rate_id=world.rates[0].id)
        for n in range(3)
    ]  # fmt: skip
    bulk(world, orders)
    [item] = shipping_items(world)
    for order in orders:
        invoice = qbo_invoice(world, order)
        [line] = shipping_lines(world, invoice)
        assert item_of(line) == item["Id"]
        assert money(invoice["TotalAmt"]) == Decimal("30.00")  # (20.00 + 5.00) + 20 % VAT


def test_bulk_after_shipping_was_turned_off_behind_the_cached_preferences_lands_on_the_item(
    make_world: WorldFactory,
) -> None:
    world = make_world("US")
    bulk(world, [order_with_fee(world, "Bulk Warm", "1.00", world.rates[0])])  # preferences read: shipping on
    set_shipping(world, False)  # meanwhile, in QuickBooks
    orders = [order_with_fee(world, f"Bulk Late {n}", "2.00", world.rates[1]) for n in range(2)]
    bulk(world, orders)  # QBO refuses the shipping line: the batch reads the preferences again and sends once more
    [item] = shipping_items(world)
    for order in orders:
        assert world.app.orderbook.invoice_link(world.company_id, order.id or 0).state is InvoiceState.INVOICED
        [line] = shipping_lines(world, qbo_invoice(world, order))
        assert item_of(line) == item["Id"] and money(line["Amount"]) == Decimal("2.00")
