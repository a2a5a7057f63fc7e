"""The admin screens and the overview in a real headless Chromium: an admin makes an API token with the keyboard,
sees its secret once, and revokes it through the confirmation page; the overview draws its chart. Every page
passes axe-core and fits 375 px, and none breaks the Content-Security-Policy (no inline style or script)."""

from __future__ import annotations

import re

import httpx
import pytest
from playwright.sync_api import ConsoleMessage, Page, expect
from tests.e2e.screens_support import Site, check_page, screenshot

from invoicebridge.domain import InvoiceState

pytestmark = pytest.mark.browser


def csp_watch(page: Page) -> list[str]:
    """Console messages about the Content-Security-Policy (an inline style or script it refused)."""
    refused: list[str] = []

    def listen(message: ConsoleMessage) -> None:
        if "Content Security Policy" in message.text:
            refused.append(message.text)

    page.on("console", listen)
    return refused


def test_an_admin_creates_a_token_sees_it_once_and_revokes_it(site: Site) -> None:
    page = site.page_for("admin@books.example", "admin")
    refused = csp_watch(page)
    page.goto(site.url("/members"))
    expect(page.get_by_role("row", name=re.compile("admin@books.example"))).to_be_visible()
    check_page(page)

    page.goto(site.url("/api-tokens"))
    check_page(page)
    page.get_by_label("Name").fill("Nightly export")
    page.get_by_label("Role").select_option("member")
    page.get_by_label("Name").press("Enter")  # the keyboard submits the form
    secret = page.get_by_role("textbox", name="Token (member)").input_value()
    assert secret.startswith("ib_")
    expect(page.get_by_text("Copy it now: it is not shown again.")).to_be_visible()
    check_page(page)

    program = httpx.Client(base_url=site.base, headers={"Authorization": f"Bearer {secret}"})
    orders = f"/api/companies/{site.company}/sales-orders"
    try:
        assert program.get(orders).status_code == 200
        page.goto(site.url("/api-tokens"))
        assert secret not in page.content()  # shown once
        page.get_by_role("link", name="Revoke “Nightly export”").click()
        expect(page.get_by_role("heading", name="Revoke the token “Nightly export”?")).to_be_visible()
        check_page(page)
        page.get_by_role("button", name="Revoke the token").click()
        expect(page.get_by_role("status").filter(has_text="The token was revoked")).to_be_visible()
        expect(page.get_by_role("row", name=re.compile("Nightly export"))).to_contain_text("revoked")
        assert program.get(orders).status_code == 401
    finally:
        program.close()
    assert refused == []


def test_the_overview_draws_the_months_chart_and_links_the_failure_to_its_so(site: Site) -> None:
    world = site.world
    for _ in range(2):
        assert world.invoice(world.order()).state is InvoiceState.INVOICED
    world.app.connecting.disconnect(world.company_id)
    failing = world.order()
    assert world.invoice(failing).state is InvoiceState.FAILED

    page = site.page_for("seller@books.example", "member")
    refused = csp_watch(page)
    page.goto(site.url("/overview"))
    chart = page.get_by_role("img", name=re.compile("SOs invoiced and failed per day"))
    expect(chart).to_be_visible()
    assert (chart.bounding_box() or {}).get("height", 0) > 50  # drawn, not collapsed
    expect(page.locator("svg.chart rect.bar.invoiced")).to_have_count(1)
    expect(page.locator("svg.chart rect.bar.failed")).to_have_count(1)
    page.get_by_text("The numbers per day", exact=True).click()
    expect(page.locator("table.per-day tr.today")).to_contain_text("2")
    expect(page.get_by_role("link", name=failing.number)).to_have_attribute(
        "href", f"/c/{site.company}/so/{failing.id}"
    )
    check_page(page)
    screenshot(page, "overview")
    assert refused == []
