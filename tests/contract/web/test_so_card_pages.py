"""The SO card over HTTP, against a served company connected to a sandbox company: the order and its invoices,
recording deliveries (refusals next to their fields), *Create invoice*, *Invoice some…* (one invoice or one each),
retrying a failed invoice, the preview that creates nothing, the audit trail, the live refresh — and strangers,
other companies, malformed ids and requests without the page's CSRF token turned away. What exists in QBO is
the truth: invoices are counted in the sandbox."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime

import httpx
from tests.access_support import CSRF, person
from tests.contract.invoicing.conftest import World, WorldFactory

from invoicebridge.domain import SalesOrder
from invoicebridge.domain.connection import RECONNECT_MESSAGE

HTMX = {"HX-Request": "true"}
INVOICES = "SELECT * FROM Invoice MAXRESULTS 1000"


def seller(world: World) -> httpx.Client:
    return world.browser("seller@books.example", "member")


def card_url(world: World, order: SalesOrder, tail: str = "") -> str:
    return f"/c/{world.company_id}/so/{order.id}{tail}"


def text(page: httpx.Response) -> str:
    """The page as a person reads it: tags out, entities decoded, white space folded."""
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", page.text)))


def two_rows(world: World, name: str, number: str | None = None) -> SalesOrder:
    """4 × PART-A at 12.50 and 3 × PART-B at 10.00 for a new customer."""
    a = world.product("PART-A", "Part A", "12.50") if not world.products else world.products[0]
    b = world.product("PART-B", "Part B", "10.00") if len(world.products) < 2 else world.products[1]
    customer = world.customer(name, f"{name.split()[0].lower()}@buyer.example")
    rows = [(a, "4", "12.50", world.rates[0]), (b, "3", "10.00", world.rates[1])]
    return world.order(customer, rows=rows, number=number, created_at=datetime(2026, 3, 1, 3, 30, tzinfo=UTC))


def deliver(world: World, order: SalesOrder, a: str | None, b: str | None) -> int:
    """Record a delivery straight through the order book; its id."""
    assert order.id is not None
    quantities = {row.id or 0: q for row, q in zip(order.rows, (a, b), strict=True) if q}
    updated = world.app.orderbook.record_delivery(world.company_id, order.id, quantities)
    return updated.deliveries[-1].id or 0


def ours(world: World, order: SalesOrder) -> list[dict[str, object]]:
    """The SO's invoices in QBO (each carries the SO number in CustomerMemo)."""
    return [i for i in world.qbo_rows(INVOICES) if i.get("CustomerMemo", {}).get("value") == order.number]


def test_the_card_shows_the_order_and_records_a_delivery_or_says_why_not(make_world: WorldFactory) -> None:
    world = make_world(serve=True)
    order = two_rows(world, "Card Co")
    client = seller(world)
    card = client.get(card_url(world, order))
    assert card.status_code == 200
    shown = text(card)
    for fact in (order.number, "Card Co", "card@buyer.example", "2026-02-28", "PART-A Part A", "PART-B Part B",
                 "Sales tax", "No tax", "Total before tax (USD) 80.00", "Not shipped", "Not invoiced"):  # fmt: skip
        assert fact in shown, fact
    a, b = (f"rows[{row.id}].quantity" for row in order.rows)

    too_many = client.post(card_url(world, order, "/deliveries"), data={a: "5", b: ""})
    assert too_many.status_code == 422
    assert f"Cannot deliver 5 of row {order.rows[0].id}: only 4 were ordered." in text(too_many)
    assert 'aria-invalid="true"' in too_many.text and 'value="5"' in too_many.text  # kept, marked, explained

    recorded = client.post(card_url(world, order, "/deliveries"), data={a: "1", b: ""}, follow_redirects=False)
    assert recorded.status_code == 303 and recorded.headers["location"] == card_url(world, order, "#deliveries")
    everything = client.post(card_url(world, order, "/deliveries"), data={"everything": "1"}, headers=HTMX)
    assert everything.status_code == 200 and 'id="so-card"' in everything.text
    assert "<html" not in everything.text  # the card alone, for htmx to swap in
    shown = text(everything)
    assert "1 × PART-A" in shown and "3 × PART-A, 3 × PART-B" in shown and "Everything ordered is delivered." in shown
    view = world.app.orderbook.get_sales_order(world.company_id, order.id or 0)
    assert [len(d.quantities) for d in view.order.deliveries] == [1, 2]


def test_create_invoice_after_a_preview_that_created_nothing(make_world: WorldFactory) -> None:
    world = make_world(serve=True)
    order = two_rows(world, "Whole Co")
    client = seller(world)
    before = world.qbo_count("Invoice"), world.qbo_count("Customer"), world.qbo_count("Item")
    preview = client.get(card_url(world, order, "/preview"))
    assert preview.status_code == 200
    shown = text(preview)
    assert '"CustomerMemo": {' in shown and f'"value": "{order.number}"' in shown and '"TxnDate": "2026-02-28"' in shown
    assert "Whole Co: will be created in QuickBooks" in shown and "PART-A Will be created" in shown
    assert (world.qbo_count("Invoice"), world.qbo_count("Customer"), world.qbo_count("Item")) == before

    made = client.post(card_url(world, order, "/invoice"), follow_redirects=False)
    assert made.status_code == 303
    (invoice,) = ours(world, order)
    card = client.get(card_url(world, order))
    assert "Invoice created (QBO)" in text(card)
    link = re.search(r'<a href="([^"]+)" target="_blank" rel="noopener noreferrer">', card.text)
    assert link and f"txnId={invoice['Id']}" in link.group(1).replace("&amp;", "&").split("?")[1].split("&")
    assert httpx.get(link.group(1).replace("&amp;", "&")).status_code == 200  # the sandbox's invoice page
    again = client.post(card_url(world, order, "/invoice"), headers=HTMX)  # a second click: the same invoice
    assert again.status_code == 200 and "Create invoice" not in text(again)
    audit = text(client.get(card_url(world, order, "/audit")))
    assert "POST" in audit and "/invoice" in audit and "Request body" in audit
    assert len(ours(world, order)) == 1


def test_invoice_some_makes_one_combined_invoice_then_one_each(make_world: WorldFactory) -> None:
    world = make_world(serve=True)
    order = two_rows(world, "Parts Co")
    first, second = deliver(world, order, "1", "1"), deliver(world, order, "1", None)
    client = seller(world)
    none = client.post(card_url(world, order, "/invoices"), data={"combine": "one"})
    assert none.status_code == 422 and "Choose at least one delivery to invoice." in text(none)

    preview = text(client.get(card_url(world, order, "/preview"), params={"deliveries": [first, second]}))
    assert re.findall(r'"Qty": "(\d+)(?:\.0*)?"', preview) == ["2", "1"]  # 1 + 1 of A, 1 of B
    combined = client.post(card_url(world, order, "/invoices"), data={"deliveries": [first, second], "combine": "one"},
                           headers=HTMX)  # fmt: skip
    assert combined.status_code == 200
    assert "Deliveries 1, 2" in text(combined) and "Partly invoiced (0 of 2 rows, 35.00 of 80.00 USD)" in text(combined)
    assert len(ours(world, order)) == 1

    third, fourth = deliver(world, order, "1", None), deliver(world, order, "1", "2")
    each = client.post(card_url(world, order, "/invoices"), data={"deliveries": [third, fourth], "combine": "each"},
                       follow_redirects=False)  # fmt: skip
    assert each.status_code == 303
    made = ours(world, order)
    assert len(made) == 3
    assert sorted(sum(float(line["Amount"]) for line in i["Line"] if line.get("DetailType") == "SalesItemLineDetail")
                  for i in made) == [12.5, 32.5, 35.0]  # fmt: skip
    card = text(client.get(card_url(world, order)))
    assert "Invoice 2 · Delivery 3" in card and "Invoice 3 · Delivery 4" in card and "Invoice created (QBO)" in card
    twice = client.post(card_url(world, order, "/invoices"), data={"deliveries": [first], "combine": "one"})
    assert twice.status_code == 422 and "Delivery 1 is already invoiced" in text(twice)
    whole = client.post(card_url(world, order, "/invoice"))
    assert whole.status_code == 409 and "can no longer be invoiced as a whole" in text(whole)
    assert len(ours(world, order)) == 3


def test_a_failed_invoice_shows_its_reason_and_retry_makes_it(make_world: WorldFactory) -> None:
    world = make_world(serve=True, custom_txn_numbers=True)
    order = two_rows(world, "Clash Co", number="SO-CARD-CLASH")
    customer, item = world.qbo_rows("SELECT * FROM Customer")[0], world.qbo_rows("SELECT * FROM Item")[0]
    line = {"DetailType": "SalesItemLineDetail", "Amount": 1, "SalesItemLineDetail": {"ItemRef": {"value": item["Id"]}}}
    taken = world.qbo_create("Invoice", {"DocNumber": order.number, "CustomerRef": {"value": customer["Id"]},
                                         "Line": [line]})  # fmt: skip
    client = seller(world)
    failed = client.post(card_url(world, order, "/invoice"), headers=HTMX)
    shown = text(failed)
    assert "Invoice failed" in shown and "Invoice number SO-CARD-CLASH is already used in QuickBooks." in shown
    assert "Code: 6140" in shown and "Retry invoice 1" in shown
    world.qbo_delete("Invoice", taken["Id"])  # the bookkeeper removes the clash
    retried = client.post(card_url(world, order, "/invoices/1/retry"), follow_redirects=False)
    assert retried.status_code == 303
    (invoice,) = ours(world, order)
    assert invoice["DocNumber"] == "SO-CARD-CLASH"
    assert "Invoice created (QBO)" in text(client.get(card_url(world, order)))


def test_with_inventory_the_card_shows_the_cogs_journal_entry(make_world: WorldFactory) -> None:
    world = make_world(serve=True, inventory=True)
    order = two_rows(world, "Stock Co")
    client = seller(world)
    assert "No journal entry yet" in text(client.get(card_url(world, order)))
    client.post(card_url(world, order, "/deliveries"), data={"everything": "1"})
    client.post(card_url(world, order, "/invoice"))
    (entry,) = world.qbo_rows("SELECT * FROM JournalEntry MAXRESULTS 1000")
    cogs = text(client.get(card_url(world, order)))
    assert re.search(rf"Whole order Posted [\d.,]+ {entry['Id']} \d{{4}}-\d\d-\d\d", cogs), cogs


def test_the_card_refreshes_itself_until_the_invoice_is_deleted_in_quickbooks(make_world: WorldFactory) -> None:
    world = make_world(serve=True)
    order = two_rows(world, "Live Co")
    link = world.invoice(order)
    client = seller(world)
    card = client.get(card_url(world, order))
    polling = re.search(r'hx-get="([^"]+/card\?seen=[0-9a-f]+)" hx-trigger="every \d+s"', card.text)
    assert polling
    unchanged = client.get(polling.group(1), headers=HTMX)
    assert unchanged.status_code == 204
    world.qbo_delete("Invoice", str(link.qbo_invoice_id))
    world.app.reconcile.invoice_deleted(world.realm_id, str(link.qbo_invoice_id))
    changed = client.get(polling.group(1), headers=HTMX)
    assert changed.status_code == 200 and "Deleted in QuickBooks" in text(changed)
    assert "Create invoice" in text(changed) and "Not invoiced" in text(changed)


def test_strangers_other_companies_bad_ids_and_missing_csrf_tokens_are_turned_away(make_world: WorldFactory) -> None:
    world = make_world(serve=True)
    order = two_rows(world, "Private Co")
    stranger = httpx.Client(base_url=world.url)
    world.clients.append(stranger)
    away = stranger.get(card_url(world, order), follow_redirects=False)
    assert away.status_code == 303 and away.headers["location"].startswith("/login?next=")

    other = person(world.app, "other@elsewhere.example")
    theirs = world.app.people.found_company(other.id or 0, "Elsewhere", "USD", "America/Chicago").id
    outsider = world.browser("other@elsewhere.example", "member")  # also a member here, for the CSRF token …
    world.app.people.remove_member(world.company_id, other.id or 0)  # … then not any more
    for path in (card_url(world, order), f"/c/{theirs}/so/{order.id}", f"/c/{theirs}/so/{order.id}/preview"):
        page = outsider.get(path)
        assert page.status_code == 404 and "<html" in page.text and "Not found" in page.text, path
    member = seller(world)
    for path in ("/c/{c}/so/0", "/c/{c}/so/abc", "/c/{c}/so/99999999999999999999999", "/c/{c}/so/99999",
                 f"/c/{{c}}/so/{order.id}/invoices/abc/retry"):  # fmt: skip
        page = (
            member.get(path.format(c=world.company_id))
            if "retry" not in path
            else member.post(path.format(c=world.company_id))
        )
        assert page.status_code == 404 and "<html" in page.text, path

    token = CSRF.search(member.get(card_url(world, order)).text)
    assert token and token.group(1) == member.headers["X-CSRF-Token"]
    del member.headers["X-CSRF-Token"]
    refused = member.post(card_url(world, order, "/invoice"))
    assert refused.status_code == 403 and "CSRF" in refused.text
    assert ours(world, order) == []


def test_without_a_connection_the_buttons_wait_and_the_preview_says_why(make_world: WorldFactory) -> None:
    world = make_world(serve=True)
    order = two_rows(world, "Waiting Co")
    world.app.connecting.disconnect(world.company_id)
    admin = world.browser("boss@books.example", "admin")
    card = admin.get(card_url(world, order))
    assert re.search(r'id="create-invoice" disabled aria-describedby="blocked-why"', card.text)
    assert (
        "Connect QuickBooks first." in text(card)  # disconnected: not "expired", nothing was revoked
        and f'href="/c/{world.company_id}/quickbooks"' in card.text
    )
    preview = admin.get(card_url(world, order, "/preview"))
    assert preview.status_code == 200 and RECONNECT_MESSAGE in text(preview)
