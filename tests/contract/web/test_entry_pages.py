"""The order-entry screens over HTTP (customers, products, tax rates, the sales-order form, the CSV import), against
a served company connected to a sandbox company: what the forms save is read back through the order book; what it
refuses comes back beside its field with what was typed kept; strangers, other companies, requests without the
page's CSRF token and malformed input are turned away in words, never with a 500."""

from __future__ import annotations

import html
import re
import socket
from datetime import datetime
from decimal import Decimal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import httpx
from tests.access_support import log_in, person
from tests.contract.invoicing.conftest import World, WorldFactory

from invoicebridge.domain import OrderFilter, PageRequest
from invoicebridge.web.screens.entry_orders import FORM_ROWS, ROW_FIELDS

ADDRESS = {"line1": "1 Infinite Loop", "line2": "", "city": "Cupertino", "region": "CA", "postal_code": "95014",
           "country": "USA"}  # fmt: skip


# -- reading the pages ---------------------------------------------------------------------------------------------
def problem_beside(page: str, field_id: str) -> str:
    """The sentence shown beside a field, after checking the field points at it (aria-describedby)."""
    found = re.search(rf'<p class="field-error" id="{re.escape(field_id)}-error">(.*?)</p>', page, re.S)
    assert found, f"no problem shown beside {field_id}"
    control = re.search(rf'<(?:input|select) id="{re.escape(field_id)}"[^>]*>', page, re.S)
    assert control, f"no control {field_id}"
    assert re.search(rf'aria-describedby="[^"]*\b{re.escape(field_id)}-error\b', control.group(0))
    assert 'aria-invalid="true"' in control.group(0)
    return html.unescape(found.group(1))


def value_in(page: str, field_id: str) -> str:
    control = re.search(rf'<input id="{re.escape(field_id)}"[^>]*>', page, re.S)
    assert control, f"no input {field_id}"
    value = re.search(r' value="([^"]*)"', control.group(0))
    assert value
    return html.unescape(value.group(1))


def chosen_in(page: str, field_id: str) -> str:
    select = re.search(rf'<select id="{re.escape(field_id)}".*?</select>', page, re.S)
    assert select, f"no select {field_id}"
    option = re.search(r'<option value="([^"]*)" selected>', select.group(0))
    return html.unescape(option.group(1)) if option else ""


def labelled(page: str) -> None:
    """Every visible control has a <label for> naming it."""
    ids = re.findall(r'<(?:input|select)(?![^>]*type="hidden")[^>]* id="([^"]+)"', page)
    assert ids
    for control in ids:
        assert f'<label for="{control}">' in page, control


def member(world: World) -> httpx.Client:
    return world.browser("clerk@books.example", "member")


def c(world: World, path: str) -> str:
    return f"/c/{world.company_id}{path}"


def customer_form(**changes: str) -> dict[str, str]:
    form = {"display_name": "Ada Lovelace", "email": "ada@example.com", "currency": "USD"}
    for kind in ("billing_address", "shipping_address"):
        form |= {f"{kind}.{part}": value for part, value in ADDRESS.items()}
    return form | changes


def order_form(world: World, **changes: str) -> dict[str, str]:
    customer, product = world.customers[0], world.products[0]
    return {"number": "SO-WEB-1", "customer_id": str(customer.id), "created_at": "2026-03-01T09:30",
            "delivery_deadline": "2026-03-15", "currency": "", "rows[1].variant_id": str(product.id),
            "rows[1].quantity": "2", "rows[1].unit_price": "", "rows[1].tax_rate_id": str(world.rates[0].id),
            "rows[1].description": "First", "action": "save"} | changes  # fmt: skip


# -- customers, products, tax rates --------------------------------------------------------------------------------
def test_a_customer_is_added_and_changed_through_the_forms(make_world: WorldFactory) -> None:
    world = make_world(serve=True)
    client = member(world)
    blank = client.get(c(world, "/customers/new"))
    assert blank.status_code == 200
    assert value_in(blank.text, "currency") == "USD"  # the company's home currency to start with
    labelled(blank.text)

    made = client.post(c(world, "/customers/new"), data=customer_form(), follow_redirects=False)
    assert made.status_code == 303, made.text
    (customer,) = world.app.orderbook.list_customers(world.company_id, PageRequest()).items
    assert (customer.display_name, customer.email, customer.billing_address.city) == (
        "Ada Lovelace", "ada@example.com", "Cupertino")  # fmt: skip
    listed = client.get(made.headers["location"])
    assert "Saved customer Ada Lovelace." in listed.text

    edit = client.get(c(world, f"/customers/{customer.id}/edit"))
    assert value_in(edit.text, "shipping_address-postal_code") == "95014"
    changed = customer_form(display_name="Ada King", **{"shipping_address.city": "Palo Alto"})
    saved = client.post(c(world, f"/customers/{customer.id}/edit"), data=changed, follow_redirects=False)
    assert saved.status_code == 303
    again = world.app.orderbook.get_customer(world.company_id, customer.id or 0)
    assert (again.display_name, again.shipping_address.city, again.billing_address.city) == (
        "Ada King", "Palo Alto", "Cupertino")  # fmt: skip


def test_a_refused_customer_shows_each_problem_beside_its_field_and_keeps_what_was_typed(
    make_world: WorldFactory,
) -> None:
    world = make_world(serve=True)
    client = member(world)
    typed = customer_form(display_name="N" * 10_000, email="ada at example", currency="ZZZ",
                          **{"billing_address.postal_code": "9" * 40})  # fmt: skip
    refused = client.post(c(world, "/customers/new"), data=typed)

    assert refused.status_code == 422
    page = refused.text
    assert "longer than QuickBooks allows (500 characters)" in problem_beside(page, "display_name")
    assert "not a valid e-mail address" in problem_beside(page, "email")
    assert "ISO 4217" in problem_beside(page, "currency")
    # The order book names the address, not its part (see the report): the problem is shown on the address.
    billing = re.search(r'<p class="field-error" id="billing_address-error">(.*?)</p>', page)
    assert billing and "longer than QuickBooks allows (30 characters)" in billing.group(1)
    assert value_in(page, "billing_address-postal_code") == "9" * 40
    assert value_in(page, "display_name") == "N" * 10_000
    assert value_in(page, "email") == "ada at example"
    assert 'href="#billing_address"' in page  # the summary links to the address
    assert world.app.orderbook.list_customers(world.company_id, PageRequest()).items == ()


def test_products_and_tax_rates_are_added_changed_and_refused_in_words(make_world: WorldFactory) -> None:
    world = make_world(serve=True)
    client = member(world)
    product = {"sku": "WID-1", "name": "Widget", "sales_price": "12.50", "unit_cost": ""}
    assert client.post(c(world, "/products/new"), data=product, follow_redirects=False).status_code == 303
    (made,) = world.app.orderbook.list_products(world.company_id, PageRequest()).items
    assert (made.sales_price, made.unit_cost) == (Decimal("12.50"), Decimal(0))
    moved = product | {"sales_price": "13.75", "unit_cost": "4.10"}
    assert client.post(c(world, f"/products/{made.id}/edit"), data=moved, follow_redirects=False).status_code == 303
    changed = world.app.orderbook.get_product(world.company_id, made.id or 0)
    assert (changed.sales_price, changed.unit_cost) == (Decimal("13.75"), Decimal("4.10"))
    assert "13.75" in client.get(c(world, "/products")).text

    huge = client.post(c(world, "/products/new"), data=product | {"sku": "WID-2", "sales_price": "1e9999"})
    assert huge.status_code == 422
    assert "too large" in problem_beside(huge.text, "sales_price")
    assert value_in(huge.text, "sales_price") == "1e9999"
    taken = client.post(c(world, "/products/new"), data=product)
    assert taken.status_code == 409
    assert problem_beside(taken.text, "sku") == "SKU WID-1 is already used by another product in this company."

    rate = world.rates[0]
    page = client.get(c(world, "/tax-rates"))
    assert rate.name in page.text
    assert client.post(c(world, "/tax-rates/new"), data={"name": "Reduced", "percent": "5.5"},
                       follow_redirects=False).status_code == 303  # fmt: skip
    over = client.post(c(world, f"/tax-rates/{rate.id}/edit"), data={"name": rate.name, "percent": "150"})
    assert over.status_code == 422
    assert problem_beside(over.text, "percent") == "The tax percent cannot be more than 100."
    renamed = {"name": "State sales tax", "percent": "8.625"}
    assert client.post(c(world, f"/tax-rates/{rate.id}/edit"), data=renamed, follow_redirects=False).status_code == 303
    names = {r.name for r in world.app.orderbook.list_tax_rates(world.company_id, PageRequest()).items}
    assert {"State sales tax", "Reduced"} <= names


def test_the_customer_list_pages_with_a_next_page_link(make_world: WorldFactory) -> None:
    world = make_world(serve=True)
    for n in range(52):
        world.customer(f"Customer {n:02d}")
    client = member(world)
    first = client.get(c(world, "/customers")).text
    assert "Customer 49" in first
    assert "Customer 50" not in first
    link = re.search(r'<a href="([^"]+)" rel="next">Next page</a>', first)
    assert link
    second = client.get(html.unescape(link.group(1))).text
    assert "Customer 50" in second and "Customer 51" in second and "Customer 00" not in second
    assert "Next page" not in second
    assert client.get(c(world, "/customers?after=not-a-cursor")).status_code == 200  # the first page


# -- sales orders --------------------------------------------------------------------------------------------------
def test_an_order_is_made_with_a_row_added_and_prices_from_the_products(make_world: WorldFactory) -> None:
    world = make_world(serve=True)
    world.customer("Grace Hopper", "grace@example.com")
    world.product("SKU-1", "Thing one", "10.00")
    second = world.product("SKU-2", "Thing two", "7.25")
    client = member(world)
    blank = client.get(c(world, "/so/new"))
    assert blank.status_code == 200
    shown = datetime.fromisoformat(value_in(blank.text, "created_at")).replace(tzinfo=ZoneInfo("America/Los_Angeles"))
    assert abs((datetime.now(ZoneInfo("UTC")) - shown).total_seconds()) < 120  # now, in the company's zone
    labelled(blank.text)

    form = order_form(world, action="add-row")
    grown = client.post(c(world, "/so/new"), data=form)
    assert grown.status_code == 200
    assert value_in(grown.text, "rows-1-description") == "First"  # kept
    assert chosen_in(grown.text, "rows-2-variant_id") == ""  # a new, empty row
    assert _numbers(world) == []

    form |= {"action": "save", "rows[2].variant_id": str(second.id), "rows[2].quantity": "3",
             "rows[2].unit_price": "7.00", "rows[2].tax_rate_id": "", "rows[2].description": ""}  # fmt: skip
    saved = client.post(c(world, "/so/new"), data=form, follow_redirects=False)
    assert saved.status_code == 303, saved.text
    order = world.app.orderbook.get_sales_order_by_number(world.company_id, "SO-WEB-1").order
    assert saved.headers["location"] == c(world, f"/so/{order.id}")
    assert [(r.quantity, r.unit_price, r.tax_rate_id) for r in order.rows] == [
        (Decimal(2), Decimal("10.00"), world.rates[0].id), (Decimal(3), Decimal("7.00"), None)]  # fmt: skip
    assert order.created_at == datetime(2026, 3, 1, 9, 30, tzinfo=ZoneInfo("America/Los_Angeles"))
    assert (str(order.delivery_deadline), order.currency) == ("2026-03-15", "USD")


def test_a_refused_order_shows_each_problem_beside_its_field(make_world: WorldFactory) -> None:
    world = make_world(serve=True)
    world.customer("Grace Hopper")
    world.product("SKU-1", "Thing one")
    client = member(world)
    typed = order_form(
        world,
        customer_id="",
        created_at="yesterday",
        **{"rows[1].quantity": "-1", "rows[1].unit_price": "1e9999", "rows[1].variant_id": "99999999999999999999"},
    )
    refused = client.post(c(world, "/so/new"), data=typed)

    assert refused.status_code == 422
    page = refused.text
    assert problem_beside(page, "customer_id") == "Choose a customer."
    assert "YYYY-MM-DD" in problem_beside(page, "created_at")
    assert "There is no product" in problem_beside(page, "rows-1-variant_id")
    assert problem_beside(page, "rows-1-quantity") == "The quantity (row 1) must be more than 0."
    assert "too large" in problem_beside(page, "rows-1-unit_price")
    assert (value_in(page, "created_at"), value_in(page, "rows-1-quantity")) == ("yesterday", "-1")
    assert value_in(page, "number") == "SO-WEB-1"

    at_the_end = client.post(c(world, "/so/new"), data=order_form(world, created_at="9999-12-31T23:59:59"))
    assert at_the_end.status_code == 422  # later than UTC can hold once read in Los Angeles
    assert "YYYY-MM-DD" in problem_beside(at_the_end.text, "created_at")

    world.order(number="SO-TAKEN")
    taken = client.post(c(world, "/so/new"), data=order_form(world, number="SO-TAKEN"))
    assert taken.status_code == 409
    assert problem_beside(taken.text, "number") == "Sales order number SO-TAKEN is already used in this company."
    assert _numbers(world) == ["SO-TAKEN"]


def test_rows_are_added_and_removed_without_javascript_up_to_what_the_form_carries(make_world: WorldFactory) -> None:
    world = make_world(serve=True)
    world.customer("Grace Hopper")
    world.product("SKU-1", "Thing one")
    client = member(world)
    two = order_form(world) | {"rows[2].quantity": "9", "rows[2].description": "Second"}
    shrunk = client.post(c(world, "/so/new"), data=two | {"action": "remove-1"})
    assert shrunk.status_code == 200
    assert (value_in(shrunk.text, "rows-1-quantity"), value_in(shrunk.text, "rows-1-description")) == ("9", "Second")
    assert 'id="rows-2-quantity"' not in shrunk.text

    full = order_form(world, action="add-row")
    full |= {f"rows[{i}].{name}": "" for i in range(2, FORM_ROWS + 1) for name in ROW_FIELDS}
    refused = client.post(c(world, "/so/new"), data=full)
    assert refused.status_code == 200
    assert f"This form takes at most {FORM_ROWS} rows" in refused.text
    assert f'id="rows-{FORM_ROWS + 1}-quantity"' not in refused.text
    assert _numbers(world) == []


def test_an_order_is_changed_until_it_is_invoiced_then_the_refusal_is_shown(make_world: WorldFactory) -> None:
    world = make_world(serve=True)
    order = world.order(world.customer("Edit Co"), number="SO-EDIT")
    client = member(world)
    page = client.get(c(world, f"/so/{order.id}/edit"))
    assert page.status_code == 200
    assert value_in(page.text, "rows-1-quantity") == "2"
    assert value_in(page.text, "rows-1-unit_price") == "15.00"

    form = _form_of(page.text) | {"rows[1].quantity": "5", "delivery_deadline": "2026-04-01", "action": "save"}
    saved = client.post(c(world, f"/so/{order.id}/edit"), data=form, follow_redirects=False)
    assert saved.status_code == 303, saved.text
    changed = world.app.orderbook.get_sales_order(world.company_id, order.id or 0).order
    assert (changed.rows[0].quantity, str(changed.delivery_deadline)) == (Decimal(5), "2026-04-01")
    assert changed.created_at == order.created_at  # untouched fields are not rewritten

    world.invoice(changed)
    refused = client.post(c(world, f"/so/{order.id}/edit"), data=form | {"rows[1].quantity": "7"})
    assert refused.status_code == 409
    assert "Sales order SO-EDIT is 'Invoice created (QBO)' and can no longer be changed." in html.unescape(refused.text)
    assert value_in(refused.text, "rows-1-quantity") == "7"
    after = world.app.orderbook.get_sales_order(world.company_id, order.id or 0).order
    assert after.rows[0].quantity == Decimal(5)


# -- the CSV import ------------------------------------------------------------------------------------------------
CSV = (
    "so_number,customer_name,sku,quantity,unit_price,created_at\n"
    "SO-CSV-1,Csv Customer,CSV-1,2,9.50,2026-02-01\n"
    "SO-CSV-2,Csv Customer,CSV-1,0,9.50,2026-02-01\n"
)


def test_an_upload_imports_the_good_order_and_reports_the_refused_line(make_world: WorldFactory) -> None:
    world = make_world(serve=True)
    client = member(world)
    page = client.get(c(world, "/import"))
    assert page.status_code == 200
    assert "customer_email" in page.text and "unit_price" in page.text  # the columns are explained
    labelled(page.text)

    answer = client.post(c(world, "/import"), files={"file": ("orders.csv", CSV.encode(), "text/csv")})
    assert answer.status_code == 200, answer.text
    report = html.unescape(re.sub(r"\s+", " ", answer.text))
    assert "Imported 1 sales order, skipped 0, refused 1." in report
    row = re.search(r"<tr><td>(\d+)</td><td>SO-CSV-2</td><td>(\w+)</td><td>([^<]+)</td></tr>", report)
    assert row, report
    assert row.groups() == ("3", "quantity", "The quantity (row 1) must be more than 0.")
    assert world.app.orderbook.get_sales_order_by_number(world.company_id, "SO-CSV-1").order.rows[0].quantity == 2
    assert _numbers(world) == ["SO-CSV-1"]


def test_files_that_cannot_be_read_are_refused_in_words(make_world: WorldFactory) -> None:
    world = make_world(serve=True)
    client = member(world)
    latin = CSV.replace("Csv Customer", "Café").encode("latin-1")
    refused = client.post(c(world, "/import"), files={"file": ("orders.csv", latin, "text/csv")})
    assert refused.status_code == 422
    assert "The file is not UTF-8 text (byte 0xE9 at line 2)" in problem_beside(refused.text, "file")
    empty = client.post(c(world, "/import"), files={"file": ("orders.csv", b"", "text/csv")})
    assert empty.status_code == 422
    assert problem_beside(empty.text, "file") == "Choose a CSV file that is not empty."
    headless = client.post(c(world, "/import"), files={"file": ("x.csv", b"a,b\n1,2\n", "text/csv")})
    assert headless.status_code == 422
    assert "Nothing was imported" in problem_beside(headless.text, "file")
    assert _announced_upload(world, client, 20 * 1024 * 1024) == 413
    assert _numbers(world) == []


# -- who may -------------------------------------------------------------------------------------------------------
def test_strangers_other_companies_and_posts_without_the_token_are_turned_away(make_world: WorldFactory) -> None:
    world = make_world(serve=True)
    customer = world.customer("Mine")
    order = world.order(customer)
    pages = ["/customers", "/customers/new", f"/customers/{customer.id}/edit", "/products", "/tax-rates",
             "/so/new", f"/so/{order.id}/edit", "/import"]  # fmt: skip
    stranger = httpx.Client(base_url=world.url)
    for path in pages:
        answer = stranger.get(c(world, path), follow_redirects=False)
        assert answer.status_code == 303 and answer.headers["location"].startswith("/login?next="), path
    assert stranger.post(c(world, "/customers/new"), data=customer_form(), follow_redirects=False).status_code == 303
    stranger.close()

    other = world.app.orderbook.create_company("Other Co", "USD", "UTC")
    outsider_id = person(world.app, "outsider@else.example", other.id, "admin").id
    assert outsider_id
    outsider = httpx.Client(base_url=world.url)
    log_in(outsider, "outsider@else.example")
    for path in pages:
        answer = outsider.get(c(world, path))
        assert answer.status_code == 404, path
        assert "There is no such page, or it is not yours to see." in html.unescape(answer.text)
    assert outsider.post(c(world, f"/customers/{customer.id}/edit"), data=customer_form()).status_code == 404
    theirs = world.app.orderbook.create_customer(other.id or 0, "Theirs")
    client = member(world)
    for path in (f"/customers/{theirs.id}/edit", "/customers/abc/edit", f"/so/{2**64}/edit", "/products/0/edit"):
        assert client.get(c(world, path)).status_code == 404, path
    outsider.close()

    del client.headers["X-CSRF-Token"]
    refused = client.post(c(world, "/customers/new"), data=customer_form(display_name="Forged"))
    assert refused.status_code == 403
    assert client.post(c(world, "/import"), files={"file": ("o.csv", CSV.encode(), "text/csv")}).status_code == 403
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get(c(world, "/customers/new")).text)
    assert token
    with_field = client.post(c(world, "/customers/new"), data=customer_form(display_name="Fielded",
                             csrf_token=token.group(1)), follow_redirects=False)  # fmt: skip
    assert with_field.status_code == 303
    names = [x.display_name for x in world.app.orderbook.list_customers(world.company_id, PageRequest()).items]
    assert names == ["Mine", "Fielded"]
    assert _numbers(world) == [order.number]


# -- helpers -------------------------------------------------------------------------------------------------------
def _numbers(world: World) -> list[str]:
    found = world.app.orderbook.list_sales_orders(world.company_id, OrderFilter(), PageRequest())
    return [view.order.number for view in found.items]


def _form_of(page: str) -> dict[str, str]:
    """The values an unchanged form would post back."""
    values = {html.unescape(n): html.unescape(v) for n, v in re.findall(
        r'<input id="[^"]+" name="([^"]+)" type="[^"]+" value="([^"]*)"', page)}  # fmt: skip
    for name, body in re.findall(r'<select id="[^"]+" name="([^"]+)".*?>(.*?)</select>', page, re.S):
        chosen = re.search(r'<option value="([^"]*)" selected>', body)
        values[html.unescape(name)] = html.unescape(chosen.group(1)) if chosen else ""
    return values


def _announced_upload(world: World, client: httpx.Client, size: int) -> int:
    """POST a multipart upload announcing `size` bytes (without sending them): the status the server answers."""
    parts = urlsplit(world.url)
    cookies = "; ".join(f"{name}={value}" for name, value in client.cookies.items())
    head = (f"POST {c(world, '/import')} HTTP/1.1\r\nHost: {parts.netloc}\r\nCookie: {cookies}\r\n"
            f"X-CSRF-Token: {client.headers.get('X-CSRF-Token', '')}\r\n"
            f"Content-Type: multipart/form-data; boundary=b\r\nContent-Length: {size}\r\n\r\n")  # fmt: skip
    with socket.create_connection((parts.hostname or "", parts.port or 80), timeout=30) as connection:
        connection.sendall(head.encode("latin-1"))
        status_line = connection.recv(4096).split(b"\r\n", 1)[0]
    return int(status_line.split()[1])
