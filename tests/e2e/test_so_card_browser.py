"""The SO card in headless Chromium: a seller opens an order, records a partial delivery, invoices it with
*Invoice some…* and finds the invoice with its link into QuickBooks — htmx swapping the card in place, the page
passing axe-core and the 375 px check. Saves docs/screenshots/so-card.png."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from playwright.sync_api import expect
from tests.e2e.screens_support import Site, check_page, screenshot

pytestmark = pytest.mark.browser


def test_a_seller_records_a_partial_delivery_and_invoices_it(site: Site) -> None:
    world = site.world
    quay = {"line1": "1 Quay St", "city": "Oakland", "postal_code": "94607"}
    customer = world.customer("Harbour Supplies", "orders@harbour.example", billing_address=quay)
    a, b = world.product("ROPE-10", "Mooring rope 10 m", "12.50"), world.product("BUOY-S", "Small buoy", "10.00")
    order = world.order(customer, rows=[(a, "4", "12.50", world.rates[0]), (b, "3", "10.00", world.rates[1])],
                        number="SO-2041", created_at=datetime(2026, 3, 2, 17, 0, tzinfo=UTC))  # fmt: skip
    page = site.page_for()
    page.goto(site.url(f"/so/{order.id}"))
    page.get_by_role("link", name="Preview the invoice").click()
    expect(page.locator("pre.payload")).to_contain_text('"CustomerMemo"')
    check_page(page)
    page.get_by_role("link", name="← Sales order SO-2041").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Sales order SO-2041")
    expect(page.locator(".facts")).to_contain_text("Not invoiced")

    page.get_by_label("ROPE-10 Mooring rope 10 m").fill("2")
    page.get_by_label("BUOY-S Small buoy").fill("")
    page.get_by_role("button", name="Record delivery").click()
    expect(page.locator(".facts")).to_contain_text("Partly delivered")  # the card swapped in place
    expect(page.locator("#deliveries table")).to_contain_text("2 × ROPE-10")

    page.get_by_text("Invoice some…").click()
    page.get_by_label(re.compile(r"Delivery 1 \(")).check()
    page.get_by_label("One invoice for the chosen deliveries").check()
    page.get_by_role("button", name="Invoice chosen deliveries").click()
    invoice = page.locator("article.invoice")
    expect(invoice).to_have_count(1)
    expect(invoice).to_contain_text("Invoice created (QBO)")
    expect(invoice).to_contain_text("Delivery 1")
    link = invoice.get_by_role("link", name=re.compile("opens QuickBooks in a new tab"))
    expect(link).to_have_attribute("target", "_blank")
    (made,) = [i for i in world.qbo_rows("SELECT * FROM Invoice MAXRESULTS 1000")
               if i.get("CustomerMemo", {}).get("value") == "SO-2041"]  # fmt: skip
    expect(link).to_have_attribute("href", re.compile(rf"txnId={made['Id']}(&|$)"))
    expect(page.locator(".facts")).to_contain_text("Partly invoiced (0 of 2 rows, 25.00 of 80.00 USD)")

    check_page(page)
    screenshot(page, "so-card")

    expect(page.get_by_role("button", name="Create invoice")).to_have_count(0)  # invoiced in parts from now on
    page.get_by_role("link", name="QuickBooks calls for this order").click()
    expect(page.locator(".audit > li").first).to_contain_text("POST")
    check_page(page)
