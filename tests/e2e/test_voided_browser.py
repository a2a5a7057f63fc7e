"""An invoice voided in QuickBooks, in headless Chromium: a seller follows the SO's invoice link into (sandbox)
QuickBooks and presses Void there; the Sell screen's row turns to `Invoice voided (QBO)` without a reload, still
linking to the voided invoice, and *Invoice again* makes a new invoice numbered "SO-3001-2"; on the SO card a
voided invoice shows its link and *Invoice again* too. Every page passes axe-core and the 375 px check. Saves
docs/screenshots/so-card-voided.png."""

from __future__ import annotations

import re
import time

import pytest
from playwright.sync_api import Browser, Locator, Page, expect
from tests.contract.invoicing.conftest import World, WorldFactory
from tests.e2e.screens_support import Site, check_page, screenshot

from invoicebridge.domain import InvoiceStatus, SalesOrder

pytestmark = pytest.mark.browser
LIVE = 15_000  # ms: the Sell screen polls every 3 s; the webhook arrives within a second


@pytest.fixture
def numbered(make_world: WorldFactory, chromium: Browser) -> Site:
    """A served company with custom transaction numbers on: invoices carry the SO number as DocNumber."""
    return Site(make_world(serve=True, custom_txn_numbers=True), chromium)


def cell(page: Page, order: SalesOrder) -> Locator:
    return page.locator(f"#inv-{order.id}")


def wait_voided(world: World, order: SalesOrder) -> None:
    """Until the sandbox's webhook has reached our app and the SO reads voided (5 s at most)."""
    started = time.monotonic()
    while world.app.orderbook.get_sales_order(world.company_id, order.id or 0).invoices.status is not (
        InvoiceStatus.VOIDED
    ):
        assert time.monotonic() - started < 5, "the void did not come back within 5 seconds"
        time.sleep(0.05)


def test_a_seller_voids_an_invoice_in_quickbooks_and_invoices_the_order_again(numbered: Site) -> None:
    world = numbered.world
    order = world.order(world.customer("Tidewater Traders", "orders@tidewater.example"), number="SO-3001")
    page = numbered.page_for()
    page.goto(numbered.url("/sell?q=SO-3001"))
    cell(page, order).get_by_role("button", name="Create invoice").click()
    expect(cell(page, order)).to_contain_text("Invoice created (QBO)")
    with page.context.expect_page() as opened:
        cell(page, order).get_by_role("link", name=re.compile("SO-3001")).click()
    quickbooks = opened.value
    quickbooks.wait_for_load_state()
    quickbooks.get_by_role("button", name="Void").click()  # what a bookkeeper does in QuickBooks
    expect(quickbooks.locator("body")).to_contain_text("Voided")
    quickbooks.close()

    expect(cell(page, order)).to_contain_text("Invoice voided (QBO)", timeout=LIVE)  # no reload: the live statuses
    voided = cell(page, order).get_by_role("link", name=re.compile("SO-3001"))
    first_id = world.app.orderbook.get_sales_order(world.company_id, order.id or 0).link.qbo_invoice_id
    expect(voided).to_have_attribute("href", re.compile(rf"txnId={first_id}(&|$)"))
    check_page(page)
    page.goto(numbered.url("/sell?status=voided"))  # the Invoice filter's "Voided in QuickBooks" finds it
    expect(page.get_by_label("Invoice", exact=True)).to_have_value("voided")
    expect(page.locator("td.invoice-cell")).to_have_count(1)
    expect(cell(page, order)).to_contain_text("Invoice voided (QBO)")

    cell(page, order).get_by_role("button", name="Invoice again").click()
    expect(cell(page, order)).to_contain_text("Invoice created (QBO)")
    expect(cell(page, order).get_by_role("link")).to_have_text(re.compile(r"^SO-3001-2"))
    numbers = sorted(str(i.get("DocNumber")) for i in world.qbo_rows("SELECT * FROM Invoice MAXRESULTS 1000")
                     if i.get("CustomerMemo", {}).get("value") == "SO-3001")  # fmt: skip
    assert numbers == ["SO-3001", "SO-3001-2"]  # the voided one keeps its number in QuickBooks
    page.context.close()


def test_the_so_card_shows_a_voided_invoice_with_its_link_and_invoice_again(numbered: Site) -> None:
    world = numbered.world
    order = world.order(world.customer("Estuary Outfitters"), number="SO-3002")
    first = world.invoice(order)
    answer = world.control.post("/app/invoice/void", data={"txnId": first.qbo_invoice_id, "realmId": world.realm_id})
    assert answer.status_code == 303  # voided in (sandbox) QuickBooks
    wait_voided(world, order)

    page = numbered.page_for()
    page.goto(numbered.url(f"/so/{order.id}"))
    facts = page.locator(".facts")
    expect(facts).to_contain_text("Invoice voided (QBO)")
    expect(facts.get_by_role("link", name=re.compile("SO-3002"))).to_have_attribute(
        "href", re.compile(rf"txnId={first.qbo_invoice_id}(&|$)")
    )
    invoice = page.locator("article.invoice")
    expect(invoice).to_have_count(1)
    expect(invoice).to_contain_text("Invoice voided (QBO)")
    expect(invoice.get_by_role("link", name=re.compile("opens QuickBooks in a new tab"))).to_have_count(1)
    check_page(page)
    screenshot(page, "so-card-voided")

    invoice.get_by_role("button", name="Invoice again").click()  # htmx swaps the card in place
    expect(page.locator("article.invoice")).to_have_count(2)
    second = page.locator("article.invoice").nth(1)
    expect(second).to_contain_text("Invoice created (QBO)")
    expect(second).to_contain_text("SO-3002-2")
    expect(facts).to_contain_text("Invoice created (QBO)")
    expect(page.get_by_role("button", name="Invoice again")).to_have_count(0)  # invoiced again: nothing left
    check_page(page)
    page.context.close()
