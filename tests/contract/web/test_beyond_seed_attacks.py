"""Attacks on issue 14's routes and screens over HTTP (categories, shipping fees, payment status, voided invoices,
customer import, failed invoices, numbering, returns): huge, odd and malformed input, callers from another company
and posts without the CSRF token. Each must be refused with a 4xx and a sentence in the one error shape (or the
page's refusal), never a 500, and leave everything as it was.

The fast attacks use the two-company book (tests/contract/web/conftest.py); the ones that need QuickBooks (an
invoiced SO to return, the connection's settings, the SO card) use a served world connected to qbo_sandbox."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from tests.access_support import person, token_headers
from tests.contract.invoicing.conftest import World, WorldFactory
from tests.contract.invoicing.test_retry_failed import failed_two_ways
from tests.contract.invoicing.test_returns import credit_memos, sold
from tests.contract.web.conftest import Book
from tests.contract.web.test_access_matrix import snapshot
from tests.contract.web.test_category_settings import settings_body
from tests.contract.web.test_entry_pages import _numbers as numbers
from tests.contract.web.test_entry_pages import order_form, problem_beside
from tests.contract.web.test_errors import assert_error_shape
from tests.contract.web.test_so_card_pages import card_url, seller, text

from invoicebridge.domain import PageRequest, SalesOrder

MEGABYTE = "x" * 1_000_000
THIRTY_DECIMALS = "1." + "0" * 29 + "1"


def api_of(book: Book, role: str = "admin") -> TestClient:
    return TestClient(book.web, raise_server_exceptions=False, headers=token_headers(book.app, book.a, role))


def problems_of(answer: httpx.Response) -> dict[str, str]:
    """The refusal's problems by field, after checking it is the one JSON error shape."""
    assert answer.status_code == 422, answer.text
    assert_error_shape(answer.json(), "validation_error")
    return {p["field"]: p["message"] for p in answer.json()["error"]["problems"]}


# -- shipping fees (API) -------------------------------------------------------------------------------------------
TOO_LARGE = "The number is too large (at most 9999999999.9999)."
BAD_FEES = [
    ("1e30", TOO_LARGE),
    (10**30, TOO_LARGE),
    ("1e400", TOO_LARGE),
    ("-5", "The shipping fee cannot be negative."),
    ("NaN", "The number must be finite."),
    ("Infinity", "The number must be finite."),
    (THIRTY_DECIMALS, "Use at most 4 decimal places."),
    ("٣", "'٣' is not written as a plain decimal: use the digits 0-9 and a point, such as \"1000.50\"."),
    (1.5, 'Give amounts as decimal strings such as "12.50", not JSON numbers with a fraction.'),
    (True, "An amount is required, not true/false."),
]


@pytest.mark.parametrize(("fee", "sentence"), BAD_FEES)
def test_a_shipping_fee_that_is_not_one_is_refused_by_name_and_nothing_changes(
    book: Book, fee: object, sentence: str
) -> None:
    api, before = api_of(book), snapshot(book.app)
    base = f"/api/companies/{book.a}/sales-orders"
    new = {"number": "SO-FEE", "customer_id": book.ids["customer_id"],
           "rows": [{"variant_id": book.ids["product_id"], "quantity": "1"}], "shipping_fee": fee}  # fmt: skip
    assert problems_of(api.post(base, json=new)) == {"shipping_fee": sentence}
    assert problems_of(api.patch(f"{base}/{book.ids['order_id']}", json={"shipping_fee": fee})) == {
        "shipping_fee": sentence
    }
    assert snapshot(book.app) == before


@pytest.mark.parametrize("rate", [0, -1, 2**70, "abc", 999_999])
def test_a_shipping_tax_rate_that_is_not_one_of_the_company_is_refused(book: Book, rate: object) -> None:
    api, before = api_of(book), snapshot(book.app)
    answer = api.patch(
        f"/api/companies/{book.a}/sales-orders/{book.ids['order_id']}",
        json={"shipping_fee": "5.00", "shipping_tax_rate_id": rate},
    )
    problem = problems_of(answer)["shipping_tax_rate_id"]
    assert problem in ("There is no tax rate 999999 in this company.", "Give the id as a whole number such as 42.") \
        or problem.startswith("Input should be")  # fmt: skip
    assert snapshot(book.app) == before


def test_another_companys_tax_rate_answers_as_one_that_does_not_exist(book: Book) -> None:
    theirs = book.app.orderbook.create_tax_rate(book.b, "Their VAT", "20").id
    api, before = api_of(book), snapshot(book.app)
    path = f"/api/companies/{book.a}/sales-orders/{book.ids['order_id']}"
    refused = problems_of(api.patch(path, json={"shipping_fee": "5", "shipping_tax_rate_id": theirs}))
    missing = problems_of(api.patch(path, json={"shipping_fee": "5", "shipping_tax_rate_id": 999_999}))
    assert refused == {"shipping_tax_rate_id": f"There is no tax rate {theirs} in this company."}
    assert missing == {"shipping_tax_rate_id": "There is no tax rate 999999 in this company."}
    assert snapshot(book.app) == before


# -- product categories (API) --------------------------------------------------------------------------------------
BAD_CATEGORIES = [
    ("x" * 300, "The category is longer than QuickBooks allows (100 characters)."),
    (MEGABYTE, "The category is longer than QuickBooks allows (100 characters)."),
    ("Garden\x00", "The category contains control characters."),
    ("\u202eevil", "The category contains characters that cannot be shown."),
    (7, "Input should be a valid string."),
]


@pytest.mark.parametrize(("category", "sentence"), BAD_CATEGORIES, ids=["300", "1MB", "NUL", "RTL", "number"])
def test_a_category_that_is_not_one_is_refused_on_create_and_change(
    book: Book, category: object, sentence: str
) -> None:
    api, before = api_of(book), snapshot(book.app)
    base = f"/api/companies/{book.a}/products"
    made = api.post(base, json={"sku": "CAT-1", "name": "n", "sales_price": "1", "category": category})
    assert problems_of(made) == {"category": sentence}
    assert problems_of(api.patch(f"{base}/{book.ids['product_id']}", json={"category": category})) == {
        "category": sentence
    }
    assert snapshot(book.app) == before


@pytest.mark.parametrize("category", ["../..", "'; DROP TABLE products;--", "Garten 🌱", "x" * 100])
def test_a_category_that_only_looks_odd_is_kept_as_typed(book: Book, category: str) -> None:
    api = api_of(book)
    path = f"/api/companies/{book.a}/products/{book.ids['product_id']}"
    assert api.patch(path, json={"category": category}).json()["category"] == category
    assert api.get(path).json()["category"] == category


# -- ids in the new paths --------------------------------------------------------------------------------------------
NEW_PATHS = [
    ("GET", "/sales-orders/{o}/returns/{n}"),
    ("POST", "/sales-orders/{o}/returns/{n}/retry"),
    ("GET", "/sales-orders/{o}/invoices/{n}/link-existing"),
    ("POST", "/sales-orders/{o}/invoices/{n}/link-existing"),
    ("GET", "/bulk-runs/{n}"),
]


@pytest.mark.parametrize("bad", ["0", "-1", str(2**70), "abc", "1e3", "%2e%2e"])
def test_ids_that_cannot_be_stored_are_refused_as_422_in_the_new_paths(book: Book, bad: str) -> None:
    api, before = api_of(book, "member"), snapshot(book.app)
    for method, path in NEW_PATHS:
        answer = api.request(method, f"/api/companies/{book.a}" + path.format(o=book.ids["order_id"], n=bad))
        assert answer.status_code == 422, (path, answer.text)
        assert_error_shape(answer.json(), "validation_error")
        assert [p["field"] for p in answer.json()["error"]["problems"]] == [
            "run_id" if "bulk-runs" in path else "number"
        ]
        so = path.format(o=bad, n=1)
        if "{o}" in path:  # the SO's id in the same paths
            answer = api.request(method, f"/api/companies/{book.a}{so}")
            assert answer.status_code == 422, (so, answer.text)
            assert [p["field"] for p in answer.json()["error"]["problems"]] == ["order_id"]
    assert snapshot(book.app) == before


# -- returns: bodies that are not one ----------------------------------------------------------------------------
WHOLE_ID = "Give the id as a whole number such as 42."


def return_bodies(row: int) -> list[tuple[Any, str, str]]:
    line = {"row_id": row, "quantity": "1"}
    return [
        ({"lines": [line] * 10_000}, "lines", "List should have at most 750 items after validation, not 10000."),
        ({"lines": []}, "lines", "List should have at least 1 item after validation, not 0."),
        ({"lines": None}, "lines", "Input should be a valid list."),
        ([line], "body", "Input should be a valid dictionary or object to extract fields from."),
        ({"lines": [line], "refund": "all"}, "refund", "Extra inputs are not permitted."),
        ({"lines": [{**line, "price": "0"}]}, "lines.0.price", "Extra inputs are not permitted."),
        ({"lines": [{"row_id": "abc", "quantity": "1"}]}, "lines.0.row_id", WHOLE_ID),
        ({"lines": [{"row_id": 1.0, "quantity": "1"}]}, "lines.0.row_id", WHOLE_ID),
        ({"lines": [{"row_id": row, "quantity": 1.5}]}, "lines.0.quantity",
         'Give amounts as decimal strings such as "12.50", not JSON numbers with a fraction.'),
        ({"lines": [line], "returned_at": "2026-05-01T09:30:00"}, "returned_at",
         "Give a date and time with its zone, such as 2026-03-01T09:30:00-05:00 or 2026-03-01T14:30:00Z."),
        ({"lines": [line], "returned_at": "0001-01-01T00:00:00Z"}, "returned_at",
         "Give a time between the years 1 and 9999 that exists in every time zone."),
        ({"lines": [line], "returned_at": "9999-12-31T23:59:59-14:00"}, "returned_at",
         "Give a time between the years 1 and 9999 that exists in every time zone."),
        ({"lines": [line], "returned_at": 1767225600}, "returned_at",
         "Give a date and time with its zone, such as 2026-03-01T09:30:00-05:00 or 2026-03-01T14:30:00Z."),
    ]  # fmt: skip


@pytest.mark.parametrize("case", range(13))
def test_a_return_body_that_is_not_one_is_refused_by_field_and_nothing_is_recorded(book: Book, case: int) -> None:
    body, field, sentence = return_bodies(int(book.ids["row_id"]))[case]
    api, before = api_of(book, "member"), snapshot(book.app)
    answer = api.post(f"/api/companies/{book.a}/sales-orders/{book.ids['order_id']}/returns", json=body)
    assert problems_of(answer) == {field: sentence}
    assert snapshot(book.app) == before


def test_a_body_that_is_not_json_is_refused_on_every_new_post(book: Book) -> None:
    api, before = api_of(book), snapshot(book.app)
    order = f"/api/companies/{book.a}/sales-orders/{book.ids['order_id']}"
    for path in (
        f"{order}/returns",
        f"/api/companies/{book.a}/failed-invoices/retry",
        f"/api/companies/{book.a}/qbo/settings",
    ):
        method = "PUT" if path.endswith("settings") else "POST"
        answer = api.request(method, path, content=b'{"lines": [', headers={"content-type": "application/json"})
        assert answer.status_code == 422, (path, answer.text)
        assert_error_shape(answer.json(), "validation_error")
        assert answer.json()["error"]["problems"][0]["message"] == "JSON decode error."
    assert snapshot(book.app) == before


# -- failed invoices: the retry's reason -------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("body", "field", "sentence"),
    [
        ({"reason": "x" * 65}, "reason", "String should have at most 64 characters."),
        ({"reason": MEGABYTE}, "reason", "String should have at most 64 characters."),
        ({"reason": ""}, "reason", "String should have at least 1 character."),
        ({"reason": 5}, "reason", "Input should be a valid string."),
        ({"reason": ["a"]}, "reason", "Input should be a valid string."),
        ({"reason": None, "everything": True}, "everything", "Extra inputs are not permitted."),
        ([], "body", "Input should be a valid dictionary or object to extract fields from."),
    ],
    ids=["65", "1MB", "empty", "number", "list", "extra", "array"],
)
def test_a_retry_reason_that_is_not_one_is_refused(book: Book, body: Any, field: str, sentence: str) -> None:
    api, before = api_of(book, "member"), snapshot(book.app)
    answer = api.post(f"/api/companies/{book.a}/failed-invoices/retry", json=body)
    assert problems_of(answer) == {field: sentence}
    assert snapshot(book.app) == before


# -- served: another company's objects answer as ones that do not exist --------------------------------------------
def stranger(world: World) -> tuple[int, httpx.Client]:
    """An admin of a second company in the same app, with a client acting as its API token."""
    founder = person(world.app, "boss@rival.example")
    rival = world.app.people.found_company(founder.id or 0, "Rival", "USD", "America/Chicago").id or 0
    return rival, world._client(token_headers(world.app, rival, "admin"))


def unnamed(answer: httpx.Response) -> str:
    """The refusal's sentence with the SO's id taken out (theirs and a missing one differ only there)."""
    return re.sub(r"sales order \d+", "sales order N", answer.json()["error"]["message"])


def test_another_companys_returns_invoices_and_runs_answer_exactly_like_missing_ones(
    make_world: WorldFactory,
) -> None:
    world = make_world(serve=True)
    order = sold(world)
    returns = f"/api/companies/{world.company_id}/sales-orders/{order.id}/returns"
    assert world.api().post(returns, json={"lines": [{"row_id": order.rows[0].id, "quantity": "1"}]}).status_code == 201
    rival, client = stranger(world)
    before = snapshot(world.app)
    mine = f"/api/companies/{rival}"
    for method, path in [("GET", "/sales-orders/{o}/returns"), ("POST", "/sales-orders/{o}/returns"), *NEW_PATHS]:
        if "{o}" not in path:
            continue
        body = {"lines": [{"row_id": order.rows[0].id, "quantity": "1"}]} if path.endswith("/returns") else None
        theirs = client.request(method, mine + path.format(o=order.id, n=1), json=body)
        missing = client.request(method, mine + path.format(o=999_999, n=1), json=body)
        assert theirs.status_code == missing.status_code == 404, (path, theirs.text)
        assert_error_shape(theirs.json(), "not_found")
        assert unnamed(theirs) == unnamed(missing), path
    for method, path in [("GET", "/failed-invoices"), ("POST", "/failed-invoices/retry"), ("GET", "/bulk-runs/1")]:
        theirs = client.request(
            method, f"/api/companies/{world.company_id}{path}", json={} if method == "POST" else None
        )
        assert (theirs.status_code, theirs.json()["error"]["message"]) == (404, f"No company {world.company_id}.")
    assert snapshot(world.app) == before
    assert len(credit_memos(world, order)) == 1


# -- served: returns of an invoiced SO -------------------------------------------------------------------------------
def returned_now(world: World, order: SalesOrder) -> list[Any]:
    return world.app.returns.of_order(world.company_id, order.id or 0)


QUANTITY_REFUSALS = [
    (THIRTY_DECIMALS, "Use at most 4 decimal places."),
    ("1e400", TOO_LARGE),
    (str(10**30), TOO_LARGE),
    ("NaN", "The number must be finite."),
    ("sNaN", "The number must be finite."),
    ("-1", "The quantity returned of row {row} must be more than 0."),
    ("0", "The quantity returned of row {row} must be more than 0."),
    ("abc", "'abc' is not a number."),
    ("1e2", "'1e2' is not written as a plain decimal: use the digits 0-9 and a point, such as \"1000.50\"."),
    ("5", "Cannot return 5 of row {row}: 4 were delivered and invoiced."),
]


def test_return_quantities_that_are_not_ones_are_refused_by_row_and_nothing_reaches_quickbooks(
    make_world: WorldFactory,
) -> None:
    world = make_world(serve=True)
    order = sold(world)
    row = order.rows[0].id
    api = world.api("member")
    path = f"/api/companies/{world.company_id}/sales-orders/{order.id}/returns"
    for quantity, sentence in QUANTITY_REFUSALS:
        answer = api.post(path, json={"lines": [{"row_id": row, "quantity": quantity}]})
        assert problems_of(answer) == {f"lines[{row}].quantity": sentence.format(row=row)}, quantity
    unknown = api.post(path, json={"lines": [{"row_id": 2**62, "quantity": "1"}]})
    assert problems_of(unknown) == {f"lines[{2**62}].quantity": f"{order.number} has no row {2**62}."}
    assert returned_now(world, order) == [] and credit_memos(world, order) == []


def test_a_row_listed_twice_is_refused_not_halved(make_world: WorldFactory) -> None:
    world = make_world(serve=True)
    order = sold(world)
    b = order.rows[1].id
    path = f"/api/companies/{world.company_id}/sales-orders/{order.id}/returns"
    twice = world.api("member").post(
        path, json={"lines": [{"row_id": b, "quantity": "2"}, {"row_id": b, "quantity": "1"}]}
    )
    assert problems_of(twice) == {
        "lines.1.row_id": f"Row {b} is listed twice: give each row once, with all of it that came back."
    }
    assert returned_now(world, order) == [] and credit_memos(world, order) == []

    client = seller(world)  # the card's form, posted with the row's field twice
    posted = client.post(card_url(world, order, "/returns"), data={f"lines[{b}].quantity": ["1", "3"]})
    assert posted.status_code == 422
    assert f"Row {b} came twice in the form: type its quantity once." in text(posted)
    assert returned_now(world, order) == [] and credit_memos(world, order) == []


def test_a_return_dated_long_ago_still_shows_on_its_card(make_world: WorldFactory) -> None:
    world = make_world(serve=True)
    order = sold(world)
    path = f"/api/companies/{world.company_id}/sales-orders/{order.id}/returns"
    made = world.api("member").post(path, json={"lines": [{"row_id": order.rows[0].id, "quantity": "1"}],
                                                "returned_at": "1900-01-02T12:00:00Z"})  # fmt: skip
    assert made.status_code == 201, made.text
    card = seller(world).get(card_url(world, order))
    assert card.status_code == 200 and "Return 1 · 1900-01-02" in text(card)


@pytest.mark.parametrize("quantity", ["1e400", "NaN", "sNaN", "-1", "\u202e1", "../", THIRTY_DECIMALS, "1" + "0" * 40])
def test_the_card_refuses_an_odd_return_quantity_beside_its_row(make_world: WorldFactory, quantity: str) -> None:
    world = make_world(serve=True)
    order = sold(world)
    a = order.rows[0].id
    answer = seller(world).post(card_url(world, order, "/returns"), data={f"lines[{a}].quantity": quantity})
    assert answer.status_code == 422, answer.text
    assert 'aria-invalid="true"' in answer.text  # the sentence sits beside the row's field
    assert re.search(r"(not a number|finite|more than 0|too large|decimal places|plain decimal)", text(answer))
    assert returned_now(world, order) == [] and credit_memos(world, order) == []


def test_the_new_forms_refuse_a_post_without_the_csrf_token(make_world: WorldFactory) -> None:
    world = make_world(serve=True, custom_txn_numbers=True)
    order = sold(world)
    failed_two_ways(world)
    client = seller(world)
    del client.headers["X-CSRF-Token"]
    before = snapshot(world.app)
    s = f"/c/{world.company_id}"
    for path, form in [
        (card_url(world, order, "/returns"), {f"lines[{order.rows[0].id}].quantity": "1"}),
        (card_url(world, order, "/returns/1/retry"), {}),
        (card_url(world, order, "/invoices/1/link-existing"), {}),
        (f"{s}/failed-invoices/retry", {"reason": ""}),
        (f"{s}/customers/import-qbo", {}),
    ]:
        answer = client.post(path, data=form)
        assert answer.status_code == 403, (path, answer.text)
    assert snapshot(world.app) == before
    assert credit_memos(world, order) == []


@pytest.mark.parametrize(
    "reason", ["no-such-group", "\x00", "../../etc", "'; DELETE FROM invoice_links;--", "x" * 5000]
)
def test_the_failed_invoices_page_refuses_a_reason_that_is_no_group_in_words(
    make_world: WorldFactory, reason: str
) -> None:
    world = make_world(serve=True, custom_txn_numbers=True)
    failed_two_ways(world)
    client = seller(world)
    before = snapshot(world.app)
    answer = client.post(f"/c/{world.company_id}/failed-invoices/retry", data={"reason": reason})
    assert answer.status_code == 409, answer.text
    assert "These invoices are not failed any more: they were retried or made meanwhile." in text(answer)
    assert snapshot(world.app) == before


# -- served: the QuickBooks settings ---------------------------------------------------------------------------------
NOT_BOOLEAN = "Input should be a valid boolean."  # strict: true or false only, never 1, "yes" or "maybe"
SETTINGS_REFUSALS = [
    ({"category_accounts": {"x" * 150: "1"}}, "category_accounts." + "x" * 150,
     "The category is longer than QuickBooks allows (100 characters)."),
    ({"category_accounts": {"Garden\x00": "1"}}, "category_accounts.Garden\x00",
     "The category contains control characters."),
    ({"category_accounts": {"\u202e": "1"}}, "category_accounts.\u202e",
     "The category contains characters that cannot be shown."),
    ({"category_accounts": {"Garden": "../"}}, "category_accounts.Garden",
     "Account ../ is not an active Income account in QuickBooks."),
    ({"category_accounts": {" ": "1"}}, "category_accounts. ", "Name the category."),
    ({"category_accounts": {str(i): "1" for i in range(1001)}}, "category_accounts",
     "Dictionary should have at most 1000 items after validation, not more."),
    ({"category_accounts": {"Garden": None}}, "category_accounts.Garden", "Input should be a valid string."),
    ({"invoice_number_prefix": "x" * 100}, "invoice_number_prefix",
     "The invoice number prefix is longer than QuickBooks allows (20 characters)."),
    ({"invoice_number_prefix": "INV\x00"}, "invoice_number_prefix",
     "The invoice number prefix contains control characters."),
    ({"invoice_number_prefix": "\u202e"}, "invoice_number_prefix",
     "The invoice number prefix may hold printable characters only."),
    ({"track_payments": 2}, "track_payments", NOT_BOOLEAN),
    ({"offer_link_duplicates": "maybe"}, "offer_link_duplicates", NOT_BOOLEAN),
    ({"track_payments": "yes"}, "track_payments", NOT_BOOLEAN),
    ({"track_payment": True}, "track_payment", "Extra inputs are not permitted."),
]  # fmt: skip


def test_settings_that_are_not_ones_are_refused_by_field_and_nothing_is_saved(make_world: WorldFactory) -> None:
    world = make_world(serve=True)
    api = world.api("admin")
    before = snapshot(world.app)
    path = f"/api/companies/{world.company_id}/qbo/settings"
    for change, field, sentence in SETTINGS_REFUSALS:
        problems = problems_of(api.put(path, json=settings_body(world, **change)))
        assert problems.get(field, "").startswith(sentence.rstrip(".")), (change, problems)
    after = snapshot(world.app)
    after.pop("qbo_usage"), before.pop("qbo_usage")  # checking the accounts reads QuickBooks, which is metered
    assert after == before


def test_a_thousand_categories_naming_long_account_ids_are_refused_by_name_not_a_502(make_world: WorldFactory) -> None:
    world = make_world(serve=True)
    api = world.api("admin")
    before = snapshot(world.app)
    wanted = {f"Cat {i}": f"{i:0>100}" for i in range(1000)}  # one query naming them all passed QBO's query length
    answer = api.put(
        f"/api/companies/{world.company_id}/qbo/settings", json=settings_body(world, category_accounts=wanted)
    )
    problems = problems_of(answer)
    assert len(problems) == 1000
    assert problems["category_accounts.Cat 7"] == f"Account {7:0>100} is not an active Income account in QuickBooks."
    after = snapshot(world.app)
    after.pop("qbo_usage"), before.pop("qbo_usage")
    assert after == before


# -- served: the sales-order form, the product form and the CSV import -----------------------------------------------
@pytest.mark.parametrize(
    ("fee", "sentence"),
    [("1e400", TOO_LARGE), ("NaN", "The number must be finite."), ("-1", "The shipping fee cannot be negative."),
     (THIRTY_DECIMALS, "Use at most 4 decimal places."), ("5,00", "'5,00' is not a number.")],
)  # fmt: skip
def test_the_order_form_refuses_an_odd_shipping_fee_beside_it(
    make_world: WorldFactory, fee: str, sentence: str
) -> None:
    world = make_world(serve=True)
    world.customer("Fee Co")
    world.product("FEE-1", "Fee thing")
    client = seller(world)
    answer = client.post(f"/c/{world.company_id}/so/new", data=order_form(world, shipping_fee=fee))
    assert answer.status_code == 422, answer.text
    assert problem_beside(answer.text, "shipping_fee") == sentence
    assert numbers(world) == []


@pytest.mark.parametrize(
    ("category", "sentence"),
    [("x" * 300, "The category is longer than QuickBooks allows (100 characters)."),
     ("Garden\x00", "The category contains control characters."),
     ("\u202eevil", "The category contains characters that cannot be shown.")],
    ids=["300", "NUL", "RTL"],
)  # fmt: skip
def test_the_product_form_refuses_an_odd_category_beside_it(
    make_world: WorldFactory, category: str, sentence: str
) -> None:
    world = make_world(serve=True)
    sent = {"sku": "CAT-9", "name": "Rake", "sales_price": "4.00", "unit_cost": "", "category": category}
    answer = seller(world).post(f"/c/{world.company_id}/products/new", data=sent)
    assert answer.status_code == 422, answer.text
    assert problem_beside(answer.text, "category") == sentence
    assert [p.sku for p in world.app.orderbook.list_products(world.company_id, PageRequest()).items] == []


CSV_HEADER = "so_number,customer_name,sku,quantity,unit_price,shipping_fee,shipping_tax_name,category\n"


@pytest.mark.parametrize(
    ("cells", "column", "sentence"),
    [("1.00,1e400,,", "shipping_fee", TOO_LARGE),
     ("1.00,NaN,,", "shipping_fee", "The number must be finite."),
     ("1.00,-5,,", "shipping_fee", "The shipping fee cannot be negative."),
     (f"1.00,{THIRTY_DECIMALS},,", "shipping_fee", "Use at most 4 decimal places."),
     ("1.00,5,No such tax,", "shipping_tax_name", "There is no tax rate No such tax in the order book."),
     ("1.00,,," + "x" * 300, "category", "The category is longer than QuickBooks allows (100 characters).")],
    ids=["1e400", "NaN", "negative", "30-decimals", "unknown-rate", "category-300"],
)  # fmt: skip
def test_the_import_refuses_an_odd_shipping_fee_or_category_by_line(
    make_world: WorldFactory, cells: str, column: str, sentence: str
) -> None:
    world = make_world(serve=True)
    csv = CSV_HEADER + f"SO-CSV-1,Ada,CSV-1,1,{cells}\n"
    answer = seller(world).post(f"/c/{world.company_id}/import", files={"file": ("o.csv", csv.encode(), "text/csv")})
    assert answer.status_code == 200, answer.text
    report = text(answer)
    assert "Imported 0 sales orders, skipped 0, refused 1." in report
    assert f"2 SO-CSV-1 {column} {sentence}" in report, report
    assert numbers(world) == []


# -- filters and the retry's reason against real failures ----------------------------------------------------------
@pytest.mark.parametrize(
    ("query", "sentence"),
    [({"payment_status": "bogus"}, "Input should be 'unpaid', 'partly_paid' or 'paid'."),
     ({"payment_status": "x" * 10_000}, "Input should be 'unpaid', 'partly_paid' or 'paid'."),
     ({"invoice_status": "'; DROP TABLE sales_orders;--"},
      "Input should be 'not_invoiced', 'partly_invoiced', 'invoiced' or 'voided'.")],
    ids=["bogus", "10k", "sql"],
)  # fmt: skip
def test_a_payment_or_invoice_status_filter_that_is_not_one_is_refused(
    book: Book, query: dict[str, str], sentence: str
) -> None:
    answer = api_of(book, "member").get(f"/api/companies/{book.a}/sales-orders", params=query)
    assert problems_of(answer) == {next(iter(query)): sentence}


def test_a_retry_of_a_group_that_does_not_exist_is_404_and_queues_nothing(make_world: WorldFactory) -> None:
    world = make_world(serve=True, custom_txn_numbers=True)
    failed_two_ways(world)
    api = world.api("member")
    before = snapshot(world.app)
    for reason in ["no-such-group", "\x00", "../../etc", "'; DELETE FROM invoice_links;--", "x" * 64]:
        answer = api.post(f"/api/companies/{world.company_id}/failed-invoices/retry", json={"reason": reason})
        assert answer.status_code == 404, (reason, answer.text)
        assert_error_shape(answer.json(), "not_found")
    assert snapshot(world.app) == before
