"""The shipping fee in a real headless Chromium: entered on the sales-order form (a bad one refused beside its
field), shown on the SO card, and explained on the invoice preview — QuickBooks' shipping line while shipping is on
in its sales-form settings, the item "Shipping" once it is off. Every page passes axe-core and a 375 px screen."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from playwright.sync_api import expect
from tests.contract.invoicing.test_shipping import set_shipping
from tests.e2e.screens_support import Site, check_page, screenshot

from invoicebridge.domain import NotFound

pytestmark = pytest.mark.browser


def test_a_fee_is_entered_shown_and_its_way_explained_on_the_preview(site: Site) -> None:
    world = site.world
    customer = world.customer("Shipping Browser Co")
    product = world.product("SHIP-B", "Boxed thing", "20.00")
    page = site.page_for()

    page.goto(site.url("/so/new"))
    page.get_by_label("SO number").fill("SO-SHIP")
    page.get_by_label("Customer").select_option(str(customer.id))
    page.locator("#rows-1-variant_id").select_option(str(product.id))
    page.locator("#rows-1-quantity").fill("1")
    page.get_by_label("Shipping fee", exact=True).fill("6.50")
    page.get_by_label("Shipping tax rate").select_option(str(world.rates[0].id))
    check_page(page)
    page.get_by_role("button", name="Save sales order").click()
    page.wait_for_url(re.compile(r"/so/\d+$"))

    order = world.app.orderbook.get_sales_order_by_number(world.company_id, "SO-SHIP").order
    assert (order.shipping_fee, order.shipping_tax_rate_id) == (Decimal("6.50"), world.rates[0].id)
    expect(page.locator("#shipping-fee")).to_have_text(f"6.50 ({world.rates[0].name}), on the first invoice")

    page.goto(site.url(f"/so/{order.id}/preview"))
    shipping = page.get_by_role("region", name="Shipping fee")
    expect(shipping).to_contain_text("6.50 USD.")
    expect(shipping).to_contain_text(
        "The shipping fee goes on QuickBooks' shipping line, because shipping is on in your sales-form settings."
    )
    check_page(page)

    set_shipping(world, False)  # the bookkeeper turns shipping off in QuickBooks
    world.app.connecting.refresh_preferences(world.company_id)
    page.reload()
    expect(page.get_by_role("region", name="Shipping fee")).to_contain_text(
        "a line on the item 'Shipping', because shipping is off in QuickBooks' sales-form settings"
    )
    check_page(page)
    screenshot(page, "so-preview-shipping")

    page.goto(site.url(f"/so/{order.id}/edit"))
    expect(page.get_by_label("Shipping fee", exact=True)).to_have_value("6.50")


def test_a_bad_fee_is_refused_beside_its_field_and_what_was_typed_stays(site: Site) -> None:
    world = site.world
    customer = world.customer("Bad Fee Co")
    product = world.product("SHIP-R", "Refused thing")
    page = site.page_for()
    page.goto(site.url("/so/new"))
    page.get_by_label("SO number").fill("SO-BADFEE")
    page.get_by_label("Customer").select_option(str(customer.id))
    page.locator("#rows-1-variant_id").select_option(str(product.id))
    page.locator("#rows-1-quantity").fill("1")
    page.get_by_label("Shipping fee", exact=True).fill("-2")
    page.get_by_role("button", name="Save sales order").click()

    expect(page.get_by_role("alert")).to_contain_text("The sales order was not saved")
    expect(page.locator("#shipping_fee-error")).to_have_text("The shipping fee cannot be negative.")
    expect(page.get_by_label("Shipping fee", exact=True)).to_have_value("-2")
    expect(page.get_by_label("Shipping fee", exact=True)).to_be_focused()
    check_page(page)
    with pytest.raises(NotFound):
        world.app.orderbook.get_sales_order_by_number(world.company_id, "SO-BADFEE")  # nothing was stored
