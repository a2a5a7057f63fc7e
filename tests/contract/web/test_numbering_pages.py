"""Numbering conflicts on the screens and the API, over real HTTP against a served company connected to a sandbox
company: the prefix and the opt-in on the QuickBooks screen and `PUT …/qbo/settings`, the QBO invoice a
duplicate-number refusal names (SO card, Sell list), and *Link to this invoice* from the SO card."""

from __future__ import annotations

from typing import Any

import httpx
from tests.access_support import log_in, person
from tests.contract.invoicing.conftest import World, WorldFactory, make_world  # noqa: F401 — the fixture
from tests.contract.invoicing.test_numbering import qbo_customer, settle, taken_by_hand
from tests.contract.web.test_quickbooks_pages import Page, page_of, saved
from tests.contract.web.test_sell_pages import cell
from tests.contract.web.test_so_card_pages import HTMX, card_url, seller, text

from invoicebridge.domain import InvoiceState, SalesOrder
from invoicebridge.qbo.links import invoice_url


def settings_form(world: World, **extra: str) -> dict[str, str]:
    """The settings form as saved now, with `extra` fields changed."""
    settings = saved(world)
    form = {"revenue_account_id": settings.revenue_account_id or "", "mode": settings.mode.value}
    form |= {f"tax_mapping.{rate}": code for rate, code in settings.tax_mapping.items()}
    return form | extra


def clashing(world: World, number: str, amount: str) -> tuple[SalesOrder, dict[str, Any]]:
    """An SO (2 × 15.00) and an invoice made by hand in QBO with its number, for its QBO customer."""
    customer_id = qbo_customer(world, f"Buyer {number}", f"{number.lower()}@buyer.example")
    order = world.order(world.customers[-1], number=number)
    return order, taken_by_hand(world, number, customer_id, [amount])


def link_of(world: World, taken: dict[str, Any]) -> str:
    return invoice_url("local", world.realm_id, str(taken["Id"]), sandbox_base=world.sandbox.url)


def test_an_admin_sets_the_prefix_and_the_link_offer_on_the_quickbooks_screen(make_world: WorldFactory) -> None:  # noqa: F811
    world = make_world("US", custom_txn_numbers=True, serve=True)
    admin = world.browser()
    sent = settings_form(world, invoice_number_prefix=" INV- ", offer_link_duplicates="on")
    answer = admin.post(f"{page_of(world)}/settings", data=sent, follow_redirects=False)
    assert answer.status_code == 303, answer.text
    assert (saved(world).invoice_number_prefix, saved(world).offer_link_duplicates) == ("INV-", True)
    page = Page(admin.get(page_of(world)).text)
    assert "offer_link_duplicates" in page.ticked and 'value="INV-"' in admin.get(page_of(world)).text

    refused = admin.post(f"{page_of(world)}/settings", data=settings_form(world, invoice_number_prefix="X" * 21))
    assert refused.status_code == 422, refused.text
    assert Page(refused.text).errors["invoice-number-prefix"] == (
        "The invoice number prefix is longer than QuickBooks allows (20 characters)."
    )
    assert saved(world).invoice_number_prefix == "INV-"  # nothing changed
    assert "offer_link_duplicates" not in Page(refused.text).ticked  # the form as sent: the box was not ticked


def test_the_api_saves_and_shows_the_numbering_settings_and_refuses_a_bad_prefix(make_world: WorldFactory) -> None:  # noqa: F811
    world = make_world("US", custom_txn_numbers=True, serve=True)
    api = world.api()
    settings = saved(world)
    body = {"revenue_account_id": settings.revenue_account_id,
            "tax_mapping": {str(k): v for k, v in settings.tax_mapping.items()}}  # fmt: skip
    ok = api.put(f"/api/companies/{world.company_id}/qbo/settings",
                 json={**body, "invoice_number_prefix": "INV-", "offer_link_duplicates": True})  # fmt: skip
    assert ok.status_code == 200, ok.text
    shown = api.get(f"/api/companies/{world.company_id}/qbo").json()["settings"]
    assert (shown["invoice_number_prefix"], shown["offer_link_duplicates"]) == ("INV-", True)
    bad = api.put(f"/api/companies/{world.company_id}/qbo/settings", json={**body, "invoice_number_prefix": "A\u2028B"})
    assert bad.status_code == 422, bad.text
    assert bad.json()["error"]["problems"] == [
        {"field": "invoice_number_prefix", "message": "The invoice number prefix may hold printable characters only."}
    ]
    assert saved(world).invoice_number_prefix == "INV-"


def test_the_card_and_the_sell_list_name_the_qbo_invoice_that_has_the_number(make_world: WorldFactory) -> None:  # noqa: F811
    world = make_world("US", custom_txn_numbers=True, serve=True)
    order, taken = clashing(world, "SO-SEEN", "30.00")
    client = seller(world)
    row = cell(client.post(f"/c/{world.company_id}/sell/{order.id}/invoice", headers=HTMX).text, order)
    assert (
        f"Invoice number SO-SEEN is already used in QuickBooks. QuickBooks invoice {taken['Id']} has this number."
        in row
    )
    assert f'href="{link_of(world, taken)}"'.replace("&", "&amp;") in row
    card = client.get(card_url(world, order))
    assert f"Open QuickBooks invoice {taken['Id']}" in text(card)
    assert f'href="{link_of(world, taken)}"'.replace("&", "&amp;") in card.text
    assert "Link to this invoice" not in text(card)  # the company did not opt in


def test_link_to_this_invoice_from_the_card_links_or_says_why_not(make_world: WorldFactory) -> None:  # noqa: F811
    world = make_world("US", custom_txn_numbers=True, serve=True)
    settle(world, offer_link_duplicates=True)
    same, taken = clashing(world, "SO-SAME", "30.00")
    other, _ = clashing(world, "SO-OTHER", "31.00")
    client = seller(world)
    for order in (same, other):
        assert world.invoice(order).state is InvoiceState.FAILED
    invoices = world.qbo_count("Invoice")

    refused = client.post(card_url(world, other, "/invoices/1/link-existing"), follow_redirects=False)
    assert refused.status_code == 409, refused.text
    assert "comes to 31.00 before tax; this invoice of the order comes to 30.00" in text(refused)
    assert "Link to this invoice" in text(refused)  # still offered: the bookkeeper may fix the invoice in QBO

    linked = client.post(card_url(world, same, "/invoices/1/link-existing"), headers=HTMX)
    assert linked.status_code == 200, linked.text
    shown = text(linked)
    assert "Invoice created (QBO)" in shown and f"linked to the existing QuickBooks invoice {taken['Id']}" in shown
    assert "Link to this invoice" not in shown
    assert world.qbo_count("Invoice") == invoices
    assert world.app.orderbook.invoice_link(world.company_id, same.id or 0, 1).qbo_invoice_id == str(taken["Id"])


def test_another_companys_people_cannot_link_or_look(make_world: WorldFactory) -> None:  # noqa: F811
    world = make_world("US", custom_txn_numbers=True, serve=True)
    settle(world, offer_link_duplicates=True)
    order, _ = clashing(world, "SO-MINE", "30.00")
    world.invoice(order)
    other = world.app.orderbook.create_company("Other Co", "USD", "UTC")
    person(world.app, "stranger@other.example", other.id, "admin")
    stranger = httpx.Client(base_url=world.url, timeout=60)
    world.clients.append(stranger)  # closed with the world
    log_in(stranger, "stranger@other.example")
    api = f"/api/companies/{world.company_id}/sales-orders/{order.id}/invoices/1/link-existing"
    assert stranger.get(api).status_code == 404
    assert stranger.post(api).status_code == 404
    assert stranger.post(card_url(world, order, "/invoices/1/link-existing")).status_code == 404
    assert world.app.orderbook.invoice_link(world.company_id, order.id or 0, 1).state is InvoiceState.FAILED
