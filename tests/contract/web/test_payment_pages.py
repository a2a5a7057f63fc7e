"""Payment status on the pages, over HTTP against a served company connected to a sandbox company: the QuickBooks
settings' checkbox, the Sell screen's Payment column, filter and live cells, the SO card's badge — and nothing of
it for a company that has not opted in. The filter form's empty fields are "any", never a refusal."""

from __future__ import annotations

import re
from decimal import Decimal

from tests.contract.invoicing.conftest import WorldFactory
from tests.contract.invoicing.test_payment_status import Bookkeeper, invoiced, track, wait_for
from tests.contract.web.test_sell_pages import sell, seller

from invoicebridge.domain.payments import PaymentStatus


def numbers(page: str) -> list[str]:
    return re.findall(r">(SO-\d{4})</a></th>", page)


def test_without_the_opt_in_there_is_no_payment_column_nor_filter(make_world: WorldFactory) -> None:
    world = make_world(serve=True)
    order, _, _ = invoiced(world, "Quiet Co")
    client = seller(world)
    page = sell(client, world)
    assert ">Payment</th>" not in page and 'name="payment"' not in page.split("bulk-form")[0]
    assert 'id="pay-' not in page
    assert "Payment</dt>" not in client.get(f"/c/{world.company_id}/so/{order.id}").text


def test_the_sell_screen_shows_filters_and_refreshes_payment_status(make_world: WorldFactory) -> None:
    world = make_world(serve=True)
    track(world)
    paid, paid_invoice, paid_total = invoiced(world, "Paid Page Co")
    unpaid, _, _ = invoiced(world, "Unpaid Page Co")
    not_invoiced = world.order(world.customer("Later Co"))
    Bookkeeper(world).pay(paid_invoice, paid_total)
    wait_for(world, paid, PaymentStatus.PAID)
    client = seller(world)
    page = sell(client, world)
    assert ">Payment</th>" in page
    assert re.search(rf'id="pay-{paid.id}"[^>]*>\s*<span class="status payment paid">Paid</span>', page)
    assert re.search(rf'id="pay-{unpaid.id}"[^>]*>\s*<span class="status payment unpaid">Unpaid</span>', page)
    assert re.search(rf'id="pay-{not_invoiced.id}"[^>]*>\s*—', page)
    # the form as a browser sends it: every field, the empty ones too
    form = "?q=&status=&delivery=&customer=&from=&to="
    assert numbers(sell(client, world, form + "&payment=paid")) == [paid.number]
    assert numbers(sell(client, world, form + "&payment=unpaid")) == [unpaid.number]
    assert numbers(sell(client, world, form + "&payment=nonsense")) == sorted([paid.number, unpaid.number,
                                                                                not_invoiced.number])  # fmt: skip
    assert 'value="paid" selected' in sell(client, world, "?payment=paid")
    live = client.get(f"/c/{world.company_id}/sell/status", params={"ids": f"{paid.id}"}).text
    assert f'id="pay-{paid.id}"' in live and 'hx-swap-oob="true"' in live and "Paid" in live
    card = client.get(f"/c/{world.company_id}/so/{paid.id}").text
    assert re.search(r"<dt>Payment</dt><dd><span [^>]*>Paid</span>", card)


def test_an_admin_turns_payment_status_on_and_off_on_the_quickbooks_page(make_world: WorldFactory) -> None:
    world = make_world(serve=True)
    order, invoice_id, total = invoiced(world, "Switch Co")
    admin = world.browser()
    page = admin.get(f"/c/{world.company_id}/quickbooks").text
    assert 'name="track_payments"' in page and 'id="track_payments" name="track_payments" checked' not in page
    form = _settings_form(page)
    saved = admin.post(f"/c/{world.company_id}/quickbooks/settings", data={**form, "track_payments": "on"})
    assert saved.status_code in (200, 303), saved.text
    connection = world.app.connecting.connection(world.company_id)
    assert connection is not None and connection.settings.track_payments
    assert world.app.orderbook.get_sales_order(world.company_id, order.id or 0).order.payment_status is (
        PaymentStatus.UNPAID
    )
    Bookkeeper(world).pay(invoice_id, total - Decimal("1"))
    wait_for(world, order, PaymentStatus.PARTLY_PAID)
    form = _settings_form(admin.get(f"/c/{world.company_id}/quickbooks").text)
    assert form.get("track_payments") == "on"
    form.pop("track_payments")
    admin.post(f"/c/{world.company_id}/quickbooks/settings", data=form)
    assert world.app.orderbook.get_sales_order(world.company_id, order.id or 0).order.payment_status is None


def test_odd_customer_and_date_values_are_still_refused_in_words(make_world: WorldFactory) -> None:
    world = make_world(serve=True)
    client = seller(world)
    for query in ("?customer=0", "?customer=abc", "?from=2026-13-45", "?to=x"):
        answer = client.get(f"/c/{world.company_id}/sell{query}")
        assert answer.status_code == 422, (query, answer.status_code)


def _settings_form(page: str) -> dict[str, str]:
    """The settings form's fields as the page fills them in (selected options, ticked boxes, the CSRF token)."""
    form = page[page.index('class="settings"') : page.index("Save settings")]
    fields: dict[str, str] = {}
    for name, body in re.findall(r'<select[^>]*name="([^"]+)"[^>]*>(.*?)</select>', form, re.S):
        chosen = re.search(r'<option value="([^"]*)"[^>]*selected', body)
        fields[name] = chosen.group(1) if chosen else ""
    for tag in re.findall(r"<input[^>]*>", form):
        name = re.search(r'name="([^"]+)"', tag)
        if name is None:
            continue
        kind = re.search(r'type="([^"]+)"', tag)
        if kind and kind.group(1) in ("checkbox", "radio"):
            if " checked" in tag:
                value = re.search(r'value="([^"]*)"', tag)
                fields[name.group(1)] = value.group(1) if value else "on"
            continue
        value = re.search(r'value="([^"]*)"', tag)
        fields[name.group(1)] = value.group(1) if value else ""
    return fields
