"""The SO card's Returns section in headless Chromium: a seller returns part of a delivered, invoiced order, sees the
credit memo made with its link into QuickBooks (followed, to the sandbox's credit memo page), and is told why
returning more than is left is refused — htmx swapping the card in place, the page passing axe-core and the 375 px
check. Saves docs/screenshots/so-card-returns.png."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from playwright.sync_api import expect
from tests.e2e.screens_support import Site, check_page, screenshot

from invoicebridge.domain import InvoiceState

pytestmark = pytest.mark.browser


def test_a_seller_returns_part_of_an_invoiced_order_as_a_credit_memo(site: Site) -> None:
    world = site.world
    customer = world.customer("Harbour Supplies", "orders@harbour.example")
    a, b = world.product("ROPE-10", "Mooring rope 10 m", "12.50"), world.product("BUOY-S", "Small buoy", "10.00")
    order = world.order(customer, rows=[(a, "4", "12.50", world.rates[0]), (b, "3", "10.00", world.rates[1])],
                        number="SO-2051", created_at=datetime(2026, 3, 2, 17, 0, tzinfo=UTC))  # fmt: skip
    assert order.id is not None
    world.app.orderbook.record_delivery(world.company_id, order.id, {r.id or 0: r.quantity for r in order.rows})
    assert world.invoice(order).state is InvoiceState.INVOICED

    page = site.page_for()
    page.goto(site.url(f"/so/{order.id}"))
    returns = page.locator("#returns")
    expect(returns).to_contain_text("Nothing returned.")
    returns.get_by_label(re.compile(r"^ROPE-10 Mooring rope 10 m")).fill("1")
    returns.get_by_role("button", name="Record return").click()
    memo = page.locator("article.return")
    expect(memo).to_have_count(1)  # the card swapped in place
    expect(memo).to_contain_text("Credit memo created (QBO)")
    expect(memo).to_contain_text("1 × ROPE-10")
    (made,) = [cm for cm in world.qbo_rows("SELECT * FROM CreditMemo MAXRESULTS 1000")
               if cm.get("CustomerMemo", {}).get("value") == "Return of SO-2051"]  # fmt: skip
    link = memo.get_by_role("link", name=re.compile("opens QuickBooks in a new tab"))
    expect(link).to_have_attribute("target", "_blank")
    expect(link).to_have_attribute("href", re.compile(rf"/app/creditmemo\?txnId={made['Id']}(&|$)"))
    expect(page.locator("#returns")).to_contain_text("up to 3")  # what is left of the rope

    page.locator("#returns").get_by_label(re.compile(r"^ROPE-10 Mooring rope 10 m")).fill("5")
    page.locator("#returns").get_by_role("button", name="Record return").click()
    expect(page.locator("#returns .field-error")).to_have_text(
        f"Cannot return 5 of row {order.rows[0].id}: 4 were delivered and invoiced, 1 of them already returned."
    )
    expect(page.locator("article.return")).to_have_count(1)  # nothing recorded
    check_page(page)
    screenshot(page, "so-card-returns")

    page.goto(link.get_attribute("href") or "")
    expect(page.locator("#customer-memo")).to_have_text("Return of SO-2051")  # the sandbox's credit memo page
