"""Payment status in headless Chromium: an admin turns it on in the QuickBooks settings; a bookkeeper records
payments in (sandbox) QuickBooks; the Sell screen's Payment column follows without a reload, its Payment filter
lists only the SOs asked for, and the SO card shows the badge. Every page passes axe-core and the 375 px check.
Saves docs/screenshots/sell-payment-status.png."""

from __future__ import annotations

from decimal import Decimal

import pytest
from playwright.sync_api import expect
from tests.contract.invoicing.test_payment_status import Bookkeeper, invoiced, wait_for
from tests.e2e.screens_support import Site, check_page, screenshot

from invoicebridge.domain.payments import PaymentStatus

pytestmark = pytest.mark.browser
LIVE = 15_000  # ms: the Sell screen polls every 3 s; the webhook arrives within a second


def turn_on(site: Site) -> None:
    page = site.page_for("admin@books.example", role="admin")
    page.goto(site.url("/quickbooks"))
    box = page.get_by_label("Show whether sales orders are paid")
    expect(box).not_to_be_checked()  # off by default
    box.check()
    page.click("text=Save settings")
    expect(page.get_by_text("The settings were saved.")).to_be_visible()
    expect(page.get_by_label("Show whether sales orders are paid")).to_be_checked()
    check_page(page)
    page.context.close()


def test_the_sell_screen_shows_and_filters_payment_status_and_the_card_shows_it(site: Site) -> None:
    world = site.world
    seller = site.page_for()
    seller.goto(site.url("/sell"))
    expect(seller.get_by_role("columnheader", name="Payment")).to_have_count(0)  # not tracked: no column
    expect(seller.get_by_label("Payment")).to_have_count(0)
    turn_on(site)
    paid, paid_invoice, paid_total = invoiced(world, "Harbour Bakery")
    open_order, open_invoice, open_total = invoiced(world, "Lantern Books")
    bookkeeper = Bookkeeper(world)
    bookkeeper.pay(paid_invoice, paid_total)
    wait_for(world, paid, PaymentStatus.PAID)

    seller.goto(site.url("/sell"))
    expect(seller.locator(f"#pay-{paid.id}")).to_have_text("Paid")
    expect(seller.locator(f"#pay-{open_order.id}")).to_have_text("Unpaid")
    bookkeeper.pay(open_invoice, open_total - Decimal("1.00"))  # while the screen is open
    expect(seller.locator(f"#pay-{open_order.id}")).to_have_text("Partly paid", timeout=LIVE)  # no reload
    check_page(seller)
    screenshot(seller, "sell-payment-status")

    seller.get_by_label("Payment").select_option(label="Paid")
    seller.get_by_role("button", name="Apply").click()
    expect(seller.locator("table.orders tbody tr")).to_have_count(1)
    expect(seller.locator("table.orders tbody")).to_contain_text(paid.number)
    seller.get_by_label("Payment").select_option(label="Partly paid")
    seller.get_by_role("button", name="Apply").click()
    expect(seller.locator("table.orders tbody tr")).to_have_count(1)
    expect(seller.locator("table.orders tbody")).to_contain_text(open_order.number)

    seller.get_by_role("link", name=open_order.number).click()
    expect(seller.locator("#payment-status")).to_have_text("Partly paid")
    check_page(seller)
    bookkeeper.pay(open_invoice, Decimal("1.00"))
    expect(seller.locator("#payment-status")).to_have_text("Paid", timeout=LIVE)  # the card follows too
    seller.context.close()
