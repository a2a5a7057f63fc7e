"""The Sell screen over HTTP, against a served company connected to a sandbox company: the Invoice column in
every state, one-click and bulk invoicing with its progress, filters, search, pages, live statuses — and
strangers, other companies and requests without the page's CSRF token turned away."""

from __future__ import annotations

import re
from typing import Any

import httpx
from tests.access_support import log_in, person
from tests.contract.invoicing.conftest import World, WorldFactory

from invoicebridge.domain import SalesOrder

HTMX = {"HX-Request": "true"}


def cell(page: str, order: SalesOrder) -> str:
    """The Invoice cell of `order` in a page."""
    found = re.search(rf'<td id="inv-{order.id}"[^>]*>(.*?)</td>', page, re.S)
    assert found, f"no Invoice cell for {order.number}"
    return re.sub(r"\s+", " ", found.group(1))


def sell(client: httpx.Client, world: World, query: str = "") -> str:
    page = client.get(f"/c/{world.company_id}/sell{query}")
    assert page.status_code == 200, page.text
    return page.text


def seller(world: World) -> httpx.Client:
    return world.browser("seller@books.example", "member")


def test_the_invoice_column_goes_from_not_invoiced_to_a_link_into_quickbooks(make_world: WorldFactory) -> None:
    world = make_world(serve=True)
    order = world.order(world.customer("Column Co"))
    client = seller(world)
    assert "Create invoice" in cell(sell(client, world), order)
    made = client.post(f"/c/{world.company_id}/sell/{order.id}/invoice", headers=HTMX)
    assert made.status_code == 200, made.text
    shown = cell(made.text, order)
    assert "Invoice created (QBO)" in shown
    (invoice,) = [i for i in world.qbo_rows("SELECT * FROM Invoice MAXRESULTS 1000")
                  if i.get("CustomerMemo", {}).get("value") == order.number]  # fmt: skip
    link = re.search(r'href="([^"]+)"', shown)
    assert link is not None
    url = link.group(1).replace("&amp;", "&")
    assert f"txnId={invoice['Id']}&realmId={world.realm_id}" in url
    assert httpx.get(url).status_code == 200  # the sandbox's invoice page


def test_without_javascript_the_button_posts_the_form_and_comes_back_to_the_list(make_world: WorldFactory) -> None:
    world = make_world(serve=True)
    order = world.order(world.customer("No Script Co"))
    client = seller(world)
    back = client.post(f"/c/{world.company_id}/sell/{order.id}/invoice", follow_redirects=False,
                       headers={"Referer": f"{world.url}/c/{world.company_id}/sell?q=No+Script"})  # fmt: skip
    assert back.status_code == 303
    assert back.headers["location"] == f"/c/{world.company_id}/sell?q=No+Script"
    assert "Invoice created (QBO)" in cell(sell(client, world, "?q=No+Script"), order)


def test_a_deleted_invoice_turns_back_in_the_live_statuses(make_world: WorldFactory) -> None:
    world = make_world(serve=True)
    order = world.order(world.customer("Live Co"))
    link = world.invoice(order)
    client = seller(world)
    polled = client.get(f"/c/{world.company_id}/sell/status", params={"ids": f"{order.id},abc,-3,{2**70}"})
    assert 'hx-swap-oob="true"' in polled.text and "Invoice created (QBO)" in cell(polled.text, order)
    world.qbo_delete("Invoice", str(link.qbo_invoice_id))
    world.app.reconcile.invoice_deleted(world.realm_id, str(link.qbo_invoice_id))
    polled = client.get(f"/c/{world.company_id}/sell/status", params={"ids": str(order.id)})
    assert "Not invoiced" in cell(polled.text, order)


def test_a_failure_shows_its_sentence_and_retry_makes_the_invoice(make_world: WorldFactory) -> None:
    world = make_world(serve=True, custom_txn_numbers=True)
    customer = world.customer("Clash Co")
    order = world.order(customer, number="SO-CLASH")
    world.qbo_create("Invoice", {"CustomerRef": {"value": "1"}, "DocNumber": "SO-CLASH",
                                 "Line": [{"DetailType": "SalesItemLineDetail", "Amount": 1,
                                           "SalesItemLineDetail": {"ItemRef": {"value": "1"}}}]})  # fmt: skip
    client = seller(world)
    failed = cell(client.post(f"/c/{world.company_id}/sell/{order.id}/invoice", headers=HTMX).text, order)
    assert "Invoice failed" in failed
    assert "Invoice number SO-CLASH is already used in QuickBooks." in failed
    assert "Retry" in failed
    clash = world.qbo_rows("SELECT * FROM Invoice WHERE DocNumber = 'SO-CLASH'")[0]
    world.qbo_delete("Invoice", clash["Id"])  # the bookkeeper removes the clash
    retried = cell(client.post(f"/c/{world.company_id}/sell/{order.id}/invoice", headers=HTMX).text, order)
    assert "Invoice created (QBO)" in retried and "SO-CLASH" in retried


def test_bulk_invoicing_shows_progress_that_survives_a_reload(make_world: WorldFactory) -> None:
    world = make_world(serve=True)
    customer = world.customer("Bulk Co")
    orders = [world.order(customer) for _ in range(5)]
    client = seller(world)
    chosen = {"so": [str(o.id) for o in orders[:3]]}
    started = client.post(f"/c/{world.company_id}/sell/bulk", data=chosen, follow_redirects=False)
    assert started.status_code == 303
    run = started.headers["location"].split("run=")[1]
    page = sell(client, world, f"?run={run}")
    flat = re.sub(r"\s+", " ", page)
    assert "Creating 3 invoices" in flat
    assert "<strong>3</strong> done · <strong>0</strong> failed · <strong>0</strong> left" in flat
    panel = client.get(f"/c/{world.company_id}/sell/bulk/{run}").text  # what the panel polls
    assert "<strong>3</strong> done" in panel and "hx-trigger" not in panel  # finished: it stops polling
    for order in orders[:3]:
        assert "Invoice created (QBO)" in cell(page, order)
    assert "Not invoiced" in cell(page, orders[3])


def test_bulk_on_all_matching_invoices_exactly_the_filtered_orders(make_world: WorldFactory) -> None:
    world = make_world(serve=True)
    wanted, other = world.customer("Matching Co"), world.customer("Elsewhere Co")
    mine = [world.order(wanted) for _ in range(3)]
    theirs = world.order(other)
    client = seller(world)
    form = {"all_matching": "1", "q": "matching", "status": "", "delivery": "", "from": "", "to": ""}
    started = client.post(f"/c/{world.company_id}/sell/bulk", data=form, follow_redirects=False)
    assert started.status_code == 303
    page = sell(client, world)
    assert all("Invoice created (QBO)" in cell(page, o) for o in mine)
    assert "Not invoiced" in cell(page, theirs)


def test_bulk_on_all_matching_keeps_the_customer_filter_and_refuses_one_it_cannot_read(
    make_world: WorldFactory,
) -> None:
    world = make_world(serve=True)
    wanted, other = world.customer("Chosen Co"), world.customer("Unchosen Co")
    mine, theirs = world.order(wanted), world.order(other)
    client = seller(world)
    base = {"all_matching": "1", "q": "", "status": "", "delivery": "", "from": "", "to": ""}
    for bad in ({"customer": "abc"}, {"customer": "0"}, {"from": "2026-13-45"}):
        refused = client.post(f"/c/{world.company_id}/sell/bulk", data={**base, **bad}, follow_redirects=False)
        assert refused.status_code == 422, bad
    assert "Not invoiced" in cell(sell(client, world), mine)  # nothing was queued by a refused form
    started = client.post(f"/c/{world.company_id}/sell/bulk", data={**base, "customer": str(wanted.id)},
                          follow_redirects=False)  # fmt: skip
    assert started.status_code == 303
    page = sell(client, world)
    assert "Invoice created (QBO)" in cell(page, mine)
    assert "Not invoiced" in cell(page, theirs)


def test_bulk_with_nothing_selected_says_so_and_queues_nothing(make_world: WorldFactory) -> None:
    world = make_world(serve=True)
    world.order(world.customer("Idle Co"))
    refused = seller(world).post(f"/c/{world.company_id}/sell/bulk", data={"so": ["x", "0"]})
    assert refused.status_code == 422
    assert "Select at least one sales order." in refused.text


def test_filters_search_and_pages_neither_repeat_nor_skip(make_world: WorldFactory) -> None:
    world = make_world(serve=True)
    customer = world.customer("Paging Co")
    orders = [world.order(customer, number=f"PG-{n:03d}") for n in range(55)]
    client = seller(world)
    first = sell(client, world, "?q=pg-")
    seen = re.findall(r">(PG-\d{3})</a></th>", first)
    assert len(seen) == 50
    after = re.search(r'href="/c/\d+/sell\?([^"]*after=\d+[^"]*)" rel="next"', first)
    assert after is not None
    world.order(customer, number="PG-999")  # added while paging: it comes last, nothing shifts
    second = sell(client, world, "?" + after.group(1).replace("&amp;", "&"))
    seen += re.findall(r">(PG-\d{3})</a></th>", second)
    assert seen == [o.number for o in orders] + ["PG-999"]
    assert re.findall(r">(PG-\d{3})</a></th>", sell(client, world, "?q=PG-01")) == [f"PG-01{n}" for n in range(10)]
    world.invoice(orders[0])
    invoiced = sell(client, world, "?status=invoiced&q=PG")
    assert re.findall(r">(PG-\d{3})</a></th>", invoiced) == ["PG-000"]
    by_customer = sell(client, world, "?q=paging+co&status=not_invoiced")
    assert "PG-000" not in by_customer and "PG-001" in by_customer
    other = world.customer("Other Buyer")
    theirs = world.order(other, number="PG-OTHER")
    chosen = sell(client, world, f"?customer={other.id}")
    assert f'<option value="{other.id}" selected>Other Buyer</option>' in chosen  # the drop-down keeps the choice
    assert re.findall(r">(PG-[A-Z0-9]+)</a></th>", chosen) == [theirs.number]


def test_odd_filter_values_are_ignored_or_refused_in_words_never_a_500(make_world: WorldFactory) -> None:
    world = make_world(serve=True)
    client = seller(world)
    for query in ("?status=drop+table", "?delivery=%00", "?q=%E2%80%AE%00", "?from=2026-13-45", "?after=-1",
                  "?q=" + "x" * 101, "?after=99999999999999999999999", "?run=0"):  # fmt: skip
        answer = client.get(f"/c/{world.company_id}/sell{query}")
        assert answer.status_code in (200, 422), (query, answer.status_code)


def test_strangers_other_companies_and_pages_without_the_csrf_token_are_turned_away(
    make_world: WorldFactory,
) -> None:
    world = make_world(serve=True)
    order = world.order(world.customer("Guarded Co"))
    stranger = httpx.Client(base_url=world.url)
    world.clients.append(stranger)  # closed with the world
    answer = stranger.get(f"/c/{world.company_id}/sell", follow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"].startswith("/login?next=")
    assert stranger.post(f"/c/{world.company_id}/sell/{order.id}/invoice").status_code in (401, 403, 303)
    other = person(world.app, "outsider@elsewhere.example")  # admin of another company on the same site
    world.app.people.found_company(other.id or 0, "Elsewhere Ltd", "USD", "America/Chicago")
    outsider = httpx.Client(base_url=world.url)
    world.clients.append(outsider)
    log_in(outsider, "outsider@elsewhere.example")
    shown = outsider.get(f"/c/{world.company_id}/sell")
    assert shown.status_code == 404 and "Not found" in shown.text
    tried = outsider.post(f"/c/{world.company_id}/sell/{order.id}/invoice", headers=HTMX)
    assert tried.status_code == 404 and "Not found" in tried.text
    client = seller(world)
    del client.headers["X-CSRF-Token"]
    assert client.post(f"/c/{world.company_id}/sell/{order.id}/invoice", headers=HTMX).status_code == 403
    assert world.qbo_count("Invoice") == _sample_invoices(world)


def _sample_invoices(world: World) -> Any:
    return len([i for i in world.qbo_rows("SELECT * FROM Invoice MAXRESULTS 1000") if "CustomerMemo" not in i])
