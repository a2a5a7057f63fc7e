"""Numbering conflicts in headless Chromium: an admin sets an invoice-number prefix and opts in to *Link to this
invoice* on the QuickBooks screen; a seller's invoice is refused because an invoice made by hand in QuickBooks has
its number; the SO card names that invoice with its link, and *Link to this invoice* makes it the SO's invoice —
nothing new in QuickBooks. Pages pass axe-core and the 375 px check. Saves docs/screenshots/so-card-number-clash.png."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser, expect
from tests.contract.invoicing.conftest import WorldFactory
from tests.contract.invoicing.test_numbering import qbo_customer, taken_by_hand
from tests.e2e.screens_support import Site, check_page, screenshot

pytestmark = pytest.mark.browser


@pytest.fixture
def numbered(make_world: WorldFactory, chromium: Browser) -> Site:
    """A served company whose QuickBooks company has custom transaction numbers on."""
    return Site(make_world(serve=True, custom_txn_numbers=True), chromium)


def test_a_number_clash_names_the_qbo_invoice_and_links_it(numbered: Site) -> None:
    site, world = numbered, numbered.world
    admin = site.page_for("admin@books.example", "admin")
    admin.goto(site.url("/quickbooks"))
    admin.get_by_label("Invoice number prefix (optional)").fill("INV-")
    admin.get_by_label("Offer to link duplicate-number invoices").check()
    admin.get_by_role("button", name="Save settings").click()
    expect(admin.get_by_role("status")).to_contain_text("The settings were saved.")
    expect(admin.get_by_label("Invoice number prefix (optional)")).to_have_value("INV-")
    check_page(admin)

    customer_id = qbo_customer(world, "Pier Traders", "orders@pier.example")
    order = world.order(world.customers[-1], number="SO-3001")  # 2 × 15.00
    taken = taken_by_hand(world, "INV-SO-3001", customer_id, ["30.00"])
    invoices = world.qbo_count("Invoice")

    page = site.page_for()
    page.goto(site.url(f"/so/{order.id}"))
    page.get_by_role("button", name="Create invoice").click()
    invoice = page.locator("article.invoice")
    expect(invoice).to_contain_text("Invoice failed")
    expect(invoice).to_contain_text(
        f"Invoice number INV-SO-3001 is already used in QuickBooks. QuickBooks invoice {taken['Id']} has this number."
    )
    existing = invoice.get_by_role("link", name=re.compile(f"Open QuickBooks invoice {taken['Id']}"))
    expect(existing).to_have_attribute("href", re.compile(rf"txnId={taken['Id']}(&|$)"))
    check_page(page)
    screenshot(page, "so-card-number-clash")

    invoice.get_by_role("button", name="Link to this invoice").click()
    expect(invoice).to_contain_text("Invoice created (QBO)")
    expect(invoice.get_by_role("link", name=re.compile("INV-SO-3001"))).to_have_attribute(
        "href", re.compile(rf"txnId={taken['Id']}(&|$)")
    )
    expect(page.get_by_role("button", name="Link to this invoice")).to_have_count(0)
    expect(page.locator(".facts")).to_contain_text("Invoice created (QBO)")
    assert world.qbo_count("Invoice") == invoices  # linked, not made again
    check_page(page)
