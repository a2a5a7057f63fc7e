"""The QuickBooks screen's income accounts by product category and its "No tax" default, in a real headless
Chromium: a UK company whose products carry categories and whose order book gained a 0 % rate after its settings
were saved. The admin sees that rate mapped to "No VAT" already, gives one category its own income account, saves,
and the next item QuickBooks gets for that category posts there."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, expect
from tests.contract.invoicing.conftest import WorldFactory
from tests.contract.invoicing.test_categories import income_account, posted_to
from tests.e2e.screens_support import Site, check_page

from invoicebridge.domain import InvoiceState

pytestmark = pytest.mark.browser


def test_an_admin_gives_a_category_its_income_account_and_a_new_zero_rate_is_already_mapped(
    make_world: WorldFactory, chromium: Browser
) -> None:
    world = make_world("GB", serve=True)
    site = Site(world, chromium)
    garden = income_account(world, "Garden sales")
    rake = world.app.orderbook.create_product(world.company_id, "RAKE-1", "Rake", "12.00", "5.00", "Garden")
    world.app.orderbook.create_product(world.company_id, "BOOK-1", "Book", "8.00", "2.00", "Books")
    later = world.app.orderbook.create_tax_rate(world.company_id, "Out of scope", "0")
    no_vat = world.qbo_rows("SELECT * FROM TaxCode WHERE Name = 'No VAT'")[0]["Id"]

    page = site.page_for("admin@books.example", role="admin")
    page.goto(site.url("/quickbooks"))
    expect(page.get_by_text("Invoicing is ready.")).to_be_visible()  # the new 0 % rate blocks nothing
    expect(page.get_by_label("Out of scope (0 %)")).to_have_value(no_vat)
    section = page.get_by_role("group", name="Income accounts by product category")
    expect(section.get_by_label("Books", exact=True)).to_have_value("")  # the revenue account
    check_page(page)

    section.get_by_label("Garden", exact=True).select_option(label="Garden sales")
    page.click("text=Save settings")
    expect(page.get_by_text("The settings were saved.")).to_be_visible()
    expect(page.get_by_role("group", name="Income accounts by product category").get_by_label("Garden", exact=True)
           ).to_have_value(garden)  # fmt: skip
    check_page(page)
    page.context.close()

    connection = world.app.connecting.connection(world.company_id)
    assert connection is not None
    assert connection.settings.category_accounts == {"Garden": garden}
    assert connection.settings.tax_mapping[later.id or 0] == no_vat  # saved as shown
    link = world.invoice(world.order(rows=[(rake, "1", "12.00", later)]))
    assert link.state is InvoiceState.INVOICED, link.error_message
    assert posted_to(world, "RAKE-1") == garden
