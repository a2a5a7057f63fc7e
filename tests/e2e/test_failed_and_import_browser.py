"""The *Failed invoices* screen and *Import customers from QuickBooks* in a real headless Chromium: failures
listed by reason, retried one group and then all (the Sell screen's progress panel follows each retry); the
import's report with its clash, and a second run that creates nothing. Each page passes axe-core and 375 px."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, expect
from tests.contract.invoicing.conftest import WorldFactory
from tests.contract.invoicing.test_customer_import import active_qbo_customers, our_customers
from tests.contract.invoicing.test_retry_failed import failed_two_ways, invoices_of
from tests.e2e.screens_support import Site, check_page, screenshot

pytestmark = pytest.mark.browser


@pytest.fixture
def numbered_site(make_world: WorldFactory, chromium: Browser) -> Site:
    """A served company with custom transaction numbers on (a number QuickBooks has already is refused)."""
    return Site(make_world(serve=True, custom_txn_numbers=True), chromium)


def test_failed_invoices_are_listed_by_reason_and_retried_group_then_all(numbered_site: Site) -> None:
    site, world = numbered_site, numbered_site.world
    taken, down, by_hand = failed_two_ways(world)
    page = site.page_for()
    page.goto(site.url("/sell"))
    page.get_by_role("link", name="Failed invoices, by reason").click()

    duplicate = page.locator("section.failed-group", has_text="is already used in QuickBooks")
    expect(page.locator("section.failed-group")).to_have_count(2)
    expect(duplicate.get_by_role("heading")).to_have_text("Invoice number [SO number] is already used in QuickBooks.")
    expect(duplicate).to_contain_text(", ".join(o.number for o in taken))
    expect(page.get_by_role("button", name="Retry all 6")).to_be_visible()
    check_page(page)
    screenshot(page, "failed-invoices")

    for invoice_id in by_hand:  # the bookkeeper fixes the cause in QuickBooks
        world.qbo_delete("Invoice", invoice_id)
    duplicate.get_by_role("button", name="Retry these 3").click()
    page.wait_for_url(site.url("/sell") + "?run=*")
    expect(page.locator(".progress")).to_contain_text("3 done")

    page.goto(site.url("/failed-invoices"))
    expect(page.locator("section.failed-group")).to_have_count(1)
    page.get_by_role("button", name="Retry all 3").click()
    page.wait_for_url(site.url("/sell") + "?run=*")
    expect(page.locator(".progress")).to_contain_text("3 done")
    assert all(len(invoices_of(world, order)) == 1 for order in taken + down)

    page.goto(site.url("/failed-invoices"))
    expect(page.get_by_text("No invoice has failed.")).to_be_visible()


def test_customers_are_imported_from_quickbooks_with_the_clash_reported(site: Site) -> None:
    world = site.world
    world.customer("Bird lovers (ours)", "birds@intuit.com")
    page = site.page_for()
    page.goto(site.url("/customers"))
    page.get_by_role("link", name="Import from QuickBooks").click()
    check_page(page)

    page.get_by_role("button", name="Import customers from QuickBooks").click()
    imported = len(active_qbo_customers(world)) - 1
    report = page.locator("#import-report")
    expect(report).to_contain_text(f"{imported} created · 0 already linked · 1 e-mail clash · 0 refused")
    clash = page.get_by_role("table", name="Not created: the e-mail is taken")
    row = clash.get_by_role("row", name="Amy's Bird Sanctuary")
    expect(row).to_contain_text("Birds@Intuit.com")
    expect(row.get_by_role("link", name="Bird lovers (ours)")).to_be_visible()  # ours, which has the e-mail
    check_page(page)
    screenshot(page, "customer-import")

    page.get_by_role("button", name="Import again").click()
    expect(report).to_contain_text(f"0 created · {imported} already linked")
    assert len(our_customers(world)) == imported + 1
