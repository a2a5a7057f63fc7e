"""A 0 % tax rate maps to the QuickBooks company's no-tax code by itself (outside the US), against qbo_sandbox over
HTTP: saving the settings never waits for it, a 0 % rate added afterwards never blocks invoicing, the mapping shows
and can be changed, and the invoices QBO makes carry that code and no tax. US companies map by hand, as before."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from typing import Any

import pytest
from tests.contract.invoicing.conftest import World, WorldFactory

from invoicebridge.domain import InvoiceState, ValidationError
from invoicebridge.domain.connection import ConnectionSettings

NO_TAX = {"GB": "No VAT", "CA": "Exempt", "AU": "GST free"}  # the sample companies' (sync/no_tax.py)


def code_ids(world: World) -> dict[str, str]:
    return {c["Name"]: c["Id"] for c in world.qbo_rows("SELECT * FROM TaxCode MAXRESULTS 1000")}


def settings_of(world: World) -> ConnectionSettings:
    connection = world.app.connecting.connection(world.company_id)
    assert connection is not None
    return connection.settings


def line_codes(world: World, qbo_id: str) -> list[str]:
    invoice = world.qbo_read("Invoice", qbo_id)
    return [
        line["SalesItemLineDetail"]["TaxCodeRef"]["value"]
        for line in invoice["Line"]
        if line.get("DetailType") == "SalesItemLineDetail"
    ]


def invoiced(world: World, rows: list[tuple[Any, str, str, Any]]) -> str:
    link = world.invoice(world.order(rows=rows))
    assert link.state is InvoiceState.INVOICED, link.error_message
    assert link.qbo_invoice_id is not None
    return link.qbo_invoice_id


@pytest.mark.parametrize("country", ["GB", "CA", "AU"])
def test_a_zero_rate_left_unmapped_is_saved_mapped_to_the_no_tax_code(make_world: WorldFactory, country: str) -> None:
    world = make_world(country)
    taxed, zero = world.rates
    no_tax = code_ids(world)[NO_TAX[country]]
    assert world.app.connecting.choices(world.company_id).no_tax_code_id == no_tax
    sent = replace(settings_of(world), tax_mapping={taxed.id or 0: settings_of(world).tax_mapping[taxed.id or 0]})
    saved = world.app.connecting.save_settings(world.company_id, sent).settings
    assert saved.tax_mapping[zero.id or 0] == no_tax  # shown as mapped
    assert saved.no_tax_code_id == no_tax
    thing = world.product("NT-1", "Untaxed thing")
    qbo_id = invoiced(world, [(thing, "2", "10.00", zero), (thing, "1", "10.00", taxed)])
    assert line_codes(world, qbo_id) == [no_tax, saved.tax_mapping[taxed.id or 0]]


def test_a_zero_rate_added_after_the_settings_never_blocks_invoicing(make_world: WorldFactory) -> None:
    world = make_world("GB")
    world.app.connecting.save_settings(world.company_id, settings_of(world))  # as saved before this rate existed
    later = world.app.orderbook.create_tax_rate(world.company_id, "Zero, later", "0")
    assert later.id not in settings_of(world).tax_mapping
    thing = world.product("NT-2", "Later untaxed thing")
    qbo_id = invoiced(world, [(thing, "3", "10.00", later)])
    assert line_codes(world, qbo_id) == [code_ids(world)["No VAT"]]
    invoice = world.qbo_read("Invoice", qbo_id)
    assert Decimal(str(invoice["TxnTaxDetail"]["TotalTax"])) == 0
    assert Decimal(str(invoice["TotalAmt"])) == Decimal("30.00")


def test_a_taxed_rate_added_after_the_settings_still_waits_for_its_mapping(make_world: WorldFactory) -> None:
    world = make_world("GB")
    later = world.app.orderbook.create_tax_rate(world.company_id, "VAT 5%", "5")
    order = world.order(rows=[(world.product("NT-3", "Reduced thing"), "1", "10.00", later)])
    link = world.invoice(order)
    assert link.state is InvoiceState.FAILED
    assert f"Map every tax rate to a QuickBooks tax code (missing: [{later.id}])." in (link.error_message or "")
    assert world.qbo_rows("SELECT * FROM Item WHERE Sku = 'NT-3'") == []  # refused before anything was sent


def test_a_zero_rate_mapped_by_hand_keeps_its_code(make_world: WorldFactory) -> None:
    world = make_world("GB")
    zero_rated = code_ids(world)["0.0% Z"]  # what the world maps its 0 % rate to by hand
    assert settings_of(world).tax_mapping[world.rates[1].id or 0] == zero_rated
    world.app.connecting.save_settings(world.company_id, settings_of(world))
    assert settings_of(world).tax_mapping[world.rates[1].id or 0] == zero_rated
    qbo_id = invoiced(world, [(world.product("NT-4", "Zero-rated thing"), "1", "10.00", world.rates[1])])
    assert line_codes(world, qbo_id) == [zero_rated]


def test_a_us_company_still_maps_its_zero_rate_by_hand(make_world: WorldFactory) -> None:
    world = make_world("US")
    taxed, zero = world.rates
    sent = replace(settings_of(world), tax_mapping={taxed.id or 0: settings_of(world).tax_mapping[taxed.id or 0]})
    with pytest.raises(ValidationError) as refused:
        world.app.connecting.save_settings(world.company_id, sent)
    assert [(p.field, p.message) for p in refused.value.problems] == [
        ("tax_mapping", f"Map every tax rate to a QuickBooks tax code (missing: [{zero.id}]).")
    ]
    assert world.app.connecting.choices(world.company_id).no_tax_code_id is None
    # …and its 0 % lines say NON, as always
    qbo_id = invoiced(world, [(world.product("NT-5", "US untaxed"), "1", "10.00", zero)])
    assert line_codes(world, qbo_id) == ["NON"]


def test_a_shipping_fee_on_a_zero_rate_added_after_the_settings_takes_the_no_tax_code(make_world: WorldFactory) -> None:
    world = make_world("GB")
    world.app.connecting.save_settings(world.company_id, settings_of(world))  # the no-tax code is known from here
    later = world.app.orderbook.create_tax_rate(world.company_id, "Zero for carriage", "0")
    order = world.order(rows=[(world.product("NT-5", "Shipped thing"), "1", "10.00", world.rates[0])],
                        shipping_fee="4.00", shipping_tax_rate_id=later.id)  # fmt: skip
    link = world.invoice(order)
    assert link.state is InvoiceState.INVOICED, link.error_message
    invoice = world.qbo_read("Invoice", link.qbo_invoice_id or "")
    fee = [line for line in invoice["Line"] if Decimal(str(line.get("Amount", 0))) == Decimal("4.00")]
    assert [line["SalesItemLineDetail"]["TaxCodeRef"]["value"] for line in fee] == [code_ids(world)["No VAT"]]
