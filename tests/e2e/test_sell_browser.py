"""The product's main path in a real headless Chromium: an admin logs in, connects QuickBooks on the sandbox's
consent page, chooses the settings, and from the Sell screen invoices an SO, follows its link into (sandbox)
QuickBooks, deletes the invoice there and watches the row turn back to `Not invoiced` without a reload; then a
bulk of 20 with its progress panel, and a failure (a duplicate number with custom numbers on) with its sentence
and Retry. Every page on the way passes axe-core and the 375 px check; the Sell screen's screenshot is the one the
README shows."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect
from tests.contract.invoicing.conftest import WorldFactory
from tests.e2e.screens_support import Site, check_page, screenshot

from invoicebridge.domain import SalesOrder

pytestmark = pytest.mark.browser
LIVE = 15_000  # ms: the Sell screen polls every 3 s; the webhook arrives within a second


def cell(page: Page, order: SalesOrder) -> object:
    return page.locator(f"#inv-{order.id}")


def connect_and_choose_settings(site: Site, page: Page) -> None:
    """What an admin does first: connect QuickBooks (the sandbox's consent page) and choose the settings."""
    world = site.world
    page.goto(site.url("/quickbooks"))
    page.get_by_role("link", name="Connect to QuickBooks").click()
    page.wait_for_url(f"{world.sandbox.url}/oauth2/authorize?*")
    page.select_option("#realmId", world.realm_id)
    page.click("button[value=connect]")
    page.wait_for_url(site.url("/quickbooks") + "*")
    page.get_by_label("Revenue (income) account", exact=True).select_option(label="Sales of Product Income")
    page.get_by_label("Sales tax (8.625 %)", exact=True).select_option(label="California")
    page.get_by_label("No tax (0 %)", exact=True).select_option(label="NON")
    page.click("text=Save settings")
    expect(page.get_by_text("Invoicing is ready.")).to_be_visible()


def test_the_main_path_from_connecting_to_a_deleted_invoice_coming_back(site: Site) -> None:
    world = site.world
    world.app.connecting.disconnect(world.company_id)  # start as a new company would: not connected
    customer = world.customer("Bayside Bikes", "orders@bayside.example")
    order = world.order(customer, number="SO-1001")
    page = site.page_for("admin@books.example", role="admin")
    assert page.url == site.url("/sell")  # the home page of a person of one company
    expect(page.locator(".banner")).to_contain_text("QuickBooks is not connected")
    expect(cell(page, order).get_by_role("button", name="Create invoice")).to_be_disabled()

    connect_and_choose_settings(site, page)
    page.get_by_role("link", name="Sell", exact=True).click()
    expect(page.locator(".banner")).to_have_count(0)
    check_page(page)

    cell(page, order).get_by_role("button", name="Create invoice").click()
    expect(cell(page, order)).to_contain_text("Invoice created (QBO)")
    link = cell(page, order).get_by_role("link")
    with page.context.expect_page() as opened:
        link.click()  # opens QuickBooks (here: the sandbox's invoice page) in a new tab
    quickbooks = opened.value
    quickbooks.wait_for_load_state()
    expect(quickbooks.locator("body")).to_contain_text("SO-1001")
    quickbooks.get_by_role("button", name="Delete").click()  # what a bookkeeper does in QuickBooks
    quickbooks.close()
    expect(cell(page, order)).to_contain_text("Not invoiced", timeout=LIVE)  # no reload: the live statuses
    expect(cell(page, order).get_by_role("button", name="Create invoice")).to_be_enabled()
    page.context.close()


def test_a_bulk_of_twenty_shows_its_progress(site: Site) -> None:
    world = site.world
    customer = world.customer("Bulk Buyers")
    orders = [world.order(customer, number=f"BULK-{n:02d}") for n in range(20)]
    page = site.page_for()
    page.goto(site.url("/sell?q=BULK"))
    for order in orders:
        page.check(f"#pick-{order.id}")
    page.get_by_role("button", name="Create invoices for the selected").click()
    page.wait_for_url(re.compile(r".*/sell\?run=\d+"))
    panel = page.locator("#bulk-progress")
    expect(panel).to_contain_text("Creating 20 invoices")
    expect(panel).to_contain_text(re.compile(r"20\s+done\s+·\s+0\s+failed\s+·\s+0\s+left"), timeout=LIVE)
    page.reload()  # the panel survives a reload
    expect(page.locator("#bulk-progress")).to_contain_text("Creating 20 invoices")
    check_page(page)
    for order in orders:
        expect(cell(page, order)).to_contain_text("Invoice created (QBO)")
    page.context.close()


def test_a_failure_shows_its_sentence_and_retry_makes_the_invoice(make_world: WorldFactory, site: Site) -> None:
    world = make_world(serve=True, custom_txn_numbers=True)
    numbered = Site(world, site.browser)
    order = world.order(world.customer("Clash Cycles"), number="SO-2001")
    world.qbo_create("Invoice", {"CustomerRef": {"value": "1"}, "DocNumber": "SO-2001",
                                 "Line": [{"DetailType": "SalesItemLineDetail", "Amount": 1,
                                           "SalesItemLineDetail": {"ItemRef": {"value": "1"}}}]})  # fmt: skip
    page = numbered.page_for()
    page.goto(numbered.url("/sell"))
    cell(page, order).get_by_role("button", name="Create invoice").click()
    expect(cell(page, order)).to_contain_text("Invoice failed")
    expect(cell(page, order)).to_contain_text("Invoice number SO-2001 is already used in QuickBooks.")
    check_page(page)
    clash = world.qbo_rows("SELECT * FROM Invoice WHERE DocNumber = 'SO-2001'")[0]
    world.qbo_delete("Invoice", clash["Id"])  # the bookkeeper removes the clash in QuickBooks
    cell(page, order).get_by_role("button", name="Retry").click()
    expect(cell(page, order)).to_contain_text("Invoice created (QBO)")
    expect(cell(page, order).get_by_role("link")).to_contain_text("SO-2001")
    page.context.close()


def test_the_sell_screen_shows_every_invoice_state(site: Site) -> None:
    """The README's picture: SOs not invoiced, invoiced, partly invoiced and failed, side by side."""
    world = site.world
    shop, cafe = world.customer("Harbour Hardware", "buy@harbour.example"), world.customer("Corner Cafe")
    bolts, beans = world.product("BOLT-M8", "M8 bolts, box of 100", "24.00"), world.product("BEAN-1", "Coffee beans")
    rate = world.rates[0]
    waiting = [world.order(shop, [(bolts, "3", "24.00", rate)], number="SO-1041"),
               world.order(cafe, [(beans, "10", "15.50", rate)], number="SO-1042")]  # fmt: skip
    mixed = [(beans, "4", "15.50", rate), (bolts, "2", "24.00", rate)]
    done = [world.order(shop, [(bolts, "1", "24.00", rate)], number="SO-1043"),
            world.order(cafe, mixed, number="SO-1044")]  # fmt: skip
    for order in done:
        world.invoice(order)
    partly = world.order(shop, [(bolts, "10", "24.00", rate), (beans, "5", "15.50", rate)], number="SO-1045")
    world.app.orderbook.record_delivery(world.company_id, partly.id or 0, {partly.rows[0].id or 0: "6"})
    world.app.invoicing.invoice_deliveries(world.company_id, partly.id or 0, None, combine=True)
    failed = world.order(cafe, [(beans, "2", "15.50", rate)], number="SO-1046")
    world.inject("fail_before_commit", match="invoice", method="POST", count=20, status=503)
    world.invoice(failed)
    page = site.page_for("seller@books.example")
    expect(cell(page, waiting[0])).to_contain_text("Not invoiced")
    expect(cell(page, done[1])).to_contain_text("Invoice created (QBO)")
    expect(cell(page, partly)).to_contain_text("Partly invoiced (0 of 2 rows, 144.00 of 317.50 USD)")
    expect(cell(page, failed)).to_contain_text("Invoice failed")
    expect(cell(page, failed).get_by_role("button", name="Retry")).to_be_visible()
    check_page(page)
    screenshot(page, "sell")
    page.context.close()


def test_the_login_page_and_the_not_found_page_pass_the_checks_too(site: Site) -> None:
    context = site.browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.goto(f"{site.base}/login")
    check_page(page)
    context.close()
    page = site.page_for()
    answer = page.goto(site.url("/so/999999"))
    assert answer is not None and answer.status == 404
    expect(page.get_by_role("heading", name="Not found")).to_be_visible()
    check_page(page)
    page.context.close()
