"""The order-entry screens in a real headless Chromium: a customer and a sales order entered through the forms (a
second row added with the "Add a row" button), a refused order shown beside its fields, a CSV file uploaded with a
refused line — and every page passing axe-core and a 375 px screen."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from playwright.sync_api import expect
from tests.e2e.screens_support import Site, check_page, screenshot

from invoicebridge.domain import OrderFilter, PageRequest

pytestmark = pytest.mark.browser

CSV = b"so_number,customer_name,sku,quantity,unit_price\nSO-B-1,Upload Co,UP-1,2,9.50\nSO-B-2,Upload Co,UP-1,-3,9.50\n"


def test_a_customer_and_an_order_with_two_rows_are_entered_through_the_forms(site: Site) -> None:
    world = site.world
    first = world.product("SKU-1", "Thing one", "10.00")
    second = world.product("SKU-2", "Thing two", "4.50")
    page = site.page_for()

    page.goto(site.url("/customers"))
    check_page(page)
    page.get_by_role("link", name="New customer").click()
    check_page(page)
    page.get_by_label("Display name").fill("Browser Customer")
    page.get_by_label("E-mail").fill("browser@example.com")
    page.locator("#billing_address-city").fill("Oakland")
    page.get_by_role("button", name="Save customer").click()
    expect(page.get_by_role("status")).to_have_text("Saved customer Browser Customer.")
    check_page(page)
    (customer,) = world.app.orderbook.list_customers(world.company_id, PageRequest()).items

    for path in ("/products", "/tax-rates"):
        page.goto(site.url(path))
        check_page(page)

    page.goto(site.url("/so/new"))
    check_page(page)
    page.get_by_label("SO number").fill("SO-BROWSER")
    page.get_by_label("Customer").select_option(str(customer.id))
    page.locator("#rows-1-variant_id").select_option(str(first.id))
    page.locator("#rows-1-quantity").fill("2")
    page.get_by_role("button", name="Add a row").click()
    expect(page.locator("#rows-2-variant_id")).to_be_focused()  # the new row, ready for the keyboard
    expect(page.get_by_label("SO number")).to_have_value("SO-BROWSER")  # what was typed stays
    page.keyboard.press("ArrowDown")  # keyboard only: the first product
    page.locator("#rows-2-variant_id").select_option(str(second.id))
    page.locator("#rows-2-quantity").fill("3")
    page.locator("#rows-2-unit_price").fill("4.00")
    page.locator("#rows-2-quantity").press("Enter")  # Enter in a field saves (not "Remove row")
    page.wait_for_url(re.compile(r"/so/\d+$"))

    order = world.app.orderbook.get_sales_order_by_number(world.company_id, "SO-BROWSER").order
    assert page.url.endswith(f"/so/{order.id}")
    assert [(r.variant_id, r.quantity, r.unit_price) for r in order.rows] == [
        (first.id, Decimal(2), Decimal("10.00")), (second.id, Decimal(3), Decimal("4.00"))]  # fmt: skip


def test_a_refused_order_shows_its_problems_beside_the_fields(site: Site) -> None:
    site.world.customer("Refused Co")
    site.world.product("SKU-R", "Refusable")
    page = site.page_for()
    page.goto(site.url("/so/new"))
    page.get_by_label("SO number").fill("SO-REFUSED")
    page.locator("#rows-1-quantity").fill("0")
    page.get_by_role("button", name="Save sales order").click()

    expect(page.get_by_role("alert")).to_contain_text("The sales order was not saved")
    expect(page.locator("#customer_id-error")).to_have_text("Choose a customer.")
    expect(page.locator("#rows-1-quantity-error")).to_have_text("The quantity (row 1) must be more than 0.")
    expect(page.get_by_label("Customer")).to_be_focused()  # the first field with a problem
    expect(page.get_by_label("SO number")).to_have_value("SO-REFUSED")
    check_page(page)
    screenshot(page, "entry-order-refused")


def test_an_uploaded_file_with_a_refused_line_is_reported(site: Site) -> None:
    page = site.page_for()
    page.goto(site.url("/import"))
    check_page(page)
    page.get_by_label("CSV file").set_input_files(files=[{"name": "orders.csv", "mimeType": "text/csv", "buffer": CSV}])
    page.get_by_role("button", name="Import").click()

    expect(page.get_by_role("status")).to_contain_text("Imported 1 sales order, skipped 0, refused 1.")
    refused = page.locator("tr", has_text="SO-B-2")
    expect(refused).to_contain_text("3")
    expect(refused).to_contain_text("The quantity (row 1) must be more than 0.")
    check_page(page)
    screenshot(page, "entry-import-report")
    world = site.world
    found = world.app.orderbook.list_sales_orders(world.company_id, OrderFilter(), PageRequest()).items
    assert [view.order.number for view in found] == ["SO-B-1"]
