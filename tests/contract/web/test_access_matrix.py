"""Every route the app registers, read from its router (a new route cannot be forgotten), called as nobody, as a
person or token of another company, and as a member on admin routes: refused every time, and nothing changes.

The lists below are the whole access policy of the app. A route that is not in them is taken for an ordinary
company route (members may use it); a route without a company in its path must be listed as public or as one
for any logged-in caller, or this test fails.
"""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa
from fastapi import FastAPI
from fastapi.routing import APIRoute, iter_route_contexts
from fastapi.testclient import TestClient
from tests.access_support import log_in, token_headers
from tests.contract.web.conftest import Book
from tests.contract.web.test_errors import assert_error_shape

from invoicebridge.bootstrap import Container

PUBLIC = {
    ("GET", "/healthz"),
    ("POST", "/webhooks/qbo"),  # refused without Intuit's signature (tests/contract/invoicing/test_back_from_qbo.py)
    ("GET", "/login"),
    ("POST", "/login"),
    ("GET", "/login/link"),  # needs a one-time secret (test_sessions.py)
}
ANY_CALLER = {  # need a caller, but no company in the path
    ("GET", "/"),
    ("GET", "/api/docs"),
    ("GET", "/api/openapi.json"),
    ("GET", "/api/me"),
    ("GET", "/api/companies"),
    ("POST", "/api/companies"),
    ("POST", "/logout"),
    ("GET", "/oauth/qbo/callback"),  # and bound to the admin who started connecting (test_oauth_binding.py)
}
C = "/api/companies/{company_id}"
ADMIN = {
    ("GET", f"{C}/qbo/connect"),
    ("DELETE", f"{C}/qbo"),
    ("GET", f"{C}/qbo/choices"),
    ("PUT", f"{C}/qbo/settings"),
    ("GET", f"{C}/members"),
    ("PUT", f"{C}/members"),
    ("DELETE", f"{C}/members/{{user_id}}"),
    ("GET", f"{C}/api-tokens"),
    ("POST", f"{C}/api-tokens"),
    ("DELETE", f"{C}/api-tokens/{{token_id}}"),
}
S = "/c/{company_id}"  # the web app's screens: pages that answer refusals as pages
ADMIN |= {
    ("GET", f"{S}/quickbooks"), ("GET", f"{S}/quickbooks/connect"), ("GET", f"{S}/quickbooks/switch"),
    ("GET", f"{S}/quickbooks/disconnect"), ("POST", f"{S}/quickbooks/disconnect"),
    ("POST", f"{S}/quickbooks/preferences"), ("POST", f"{S}/quickbooks/settings"),
    ("GET", f"{S}/members"), ("POST", f"{S}/members"), ("GET", f"{S}/members/{{user_id}}/remove"),
    ("POST", f"{S}/members/{{user_id}}/remove"), ("POST", f"{S}/members/{{user_id}}/role"),
    ("GET", f"{S}/api-tokens"), ("POST", f"{S}/api-tokens"), ("GET", f"{S}/api-tokens/{{token_id}}/revoke"),
    ("POST", f"{S}/api-tokens/{{token_id}}/revoke"),
}  # fmt: skip
VOLATILE = {"last_seen_at", "last_used_at"}  # touched by any authenticated request, by design


def routes(app: FastAPI) -> list[tuple[str, str]]:
    """(method, path) of every route the app registers, through included routers (FastAPI resolves those
    lazily: iter_route_contexts is how its own OpenAPI generation walks them)."""
    found = {
        (method, str(context.path))
        for context in iter_route_contexts(app.routes)
        if isinstance(context.original_route, APIRoute)
        for method in context.methods or ()
        if method != "HEAD"
    }
    return sorted(found)


def url(book: Book, path: str, company: int) -> str:
    ids = {**book.ids, "company_id": company}
    if "/by-number/" not in path:  # an SO's invoices and returns count from 1: a path that reaches the handler
        ids["number"] = 1
    return path.format(**ids)


def body_for(method: str, path: str, book: Book) -> dict[str, Any] | None:
    """A valid body where the route takes one, so a missing check would really change something."""
    if method in ("GET", "DELETE"):
        return None
    row = {"variant_id": int(book.ids["product_id"]), "quantity": "1"}
    bodies: dict[str, dict[str, Any]] = {
        "/api/companies": {"name": "Intruder Inc", "home_currency": "USD", "timezone": "UTC"},
        f"{C}/customers": {"display_name": "Intruder"},
        f"{C}/customers/{{customer_id}}": {"display_name": "Changed"},
        f"{C}/products": {"sku": "X-1", "name": "X", "sales_price": "1.00"},
        f"{C}/products/{{product_id}}": {"name": "Changed"},
        f"{C}/tax-rates": {"name": "X", "percent": "1"},
        f"{C}/tax-rates/{{rate_id}}": {"name": "Changed"},
        f"{C}/sales-orders": {"number": "SO-X", "customer_id": int(book.ids["customer_id"]), "rows": [row]},
        f"{C}/sales-orders/{{order_id}}": {"delivery_deadline": "2027-01-01"},
        f"{C}/sales-orders/{{order_id}}/deliveries": {"rows": [{"row_id": 1, "quantity": "1"}]},
        f"{C}/sales-orders/{{order_id}}/returns": {"lines": [{"row_id": int(book.ids["row_id"]), "quantity": "1"}]},
        f"{C}/invoices": {"sales_order_ids": [int(book.ids["order_id"])]},
        f"{C}/qbo/settings": {"revenue_account_id": "1", "tax_mapping": {}},
        f"{C}/members": {"email": "member@a.example", "role": "admin"},
        f"{C}/api-tokens": {"name": "stolen", "role": "admin"},
        f"{C}/failed-invoices/retry": {"reason": None},  # every failed invoice (members may: it is invoicing)
    }
    return bodies.get(path, {})


def snapshot(app: Container) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, but for the last-seen times any authenticated request touches."""
    tables: dict[str, list[tuple[Any, ...]]] = {}
    with app.engine.connect() as connection:
        for name in sa.inspect(app.engine).get_table_names():
            table = sa.Table(name, sa.MetaData(), autoload_with=connection)
            columns = [c for c in table.columns if c.name not in VOLATILE]
            tables[name] = sorted(tuple(map(str, row)) for row in connection.execute(sa.select(*columns)))
    return tables


def call(client: TestClient, book: Book, method: str, path: str, company: int) -> Any:
    if path.startswith("/c/") and method == "POST":  # the screens take forms, as browsers send them
        return client.request(method, url(book, path, company), data=form_for(path, book), follow_redirects=False)
    return client.request(method, url(book, path, company), json=body_for(method, path, book), follow_redirects=False)


def form_for(path: str, book: Book) -> dict[str, Any]:
    """A form a screen would accept, so a missing check would really change something."""
    forms: dict[str, dict[str, Any]] = {
        f"{S}/sell/bulk": {"so": [str(book.ids["order_id"])]},
        f"{S}/members": {"email": "member@a.example", "role": "admin"},
        f"{S}/members/{{user_id}}/role": {"role": "admin"},
        f"{S}/api-tokens": {"name": "stolen", "role": "admin"},
        f"{S}/customers": {"display_name": "Intruder"},
        f"{S}/products": {"sku": "X-1", "name": "X", "sales_price": "1.00", "unit_cost": "0"},
        f"{S}/tax-rates": {"name": "X", "percent": "1"},
        f"{S}/so/{{order_id}}/deliveries": {f"qty_{book.ids['row_id']}": "1"},
        f"{S}/so/{{order_id}}/returns": {f"lines[{book.ids['row_id']}].quantity": "1"},
        f"{S}/failed-invoices/retry": {"reason": ""},  # every failed invoice (members may: it is invoicing)
    }
    return forms.get(path, {})


def test_every_route_is_classified(book: Book) -> None:
    registered = set(routes(book.web))
    assert registered >= PUBLIC | ANY_CALLER | ADMIN, "a listed route is gone: update the policy lists"
    unscoped = {(m, p) for m, p in registered if "{company_id}" not in p} - PUBLIC - ANY_CALLER
    assert unscoped == set(), "a route without a company must be listed as PUBLIC or ANY_CALLER"
    assert len(registered) > 40  # the walk below really covers the app


def test_nobody_is_refused_everywhere_but_the_public_routes(book: Book) -> None:
    before = snapshot(book.app)
    client = TestClient(book.web, raise_server_exceptions=False)
    for method, path in routes(book.web):
        if (method, path) in PUBLIC:
            continue
        answer = call(client, book, method, path, book.a)
        if path.startswith("/api/") and path != "/api/docs":
            assert answer.status_code == 401, (method, path, answer.text)
            assert_error_shape(answer.json(), "unauthenticated")
            assert answer.headers["www-authenticate"] == "Bearer"
        else:  # a page: to the login page, and back afterwards
            assert answer.status_code == 303, (method, path, answer.text)
            assert answer.headers["location"].startswith("/login?next=")
    assert snapshot(book.app) == before


def caller(book: Book, credentials: str, email: str, company: int, role: str) -> TestClient:
    """A client acting as that person: logged in through the form ("session"), or as a token of theirs."""
    client = TestClient(book.web, raise_server_exceptions=False)
    if credentials == "session":
        log_in(client, email)
    else:
        client.headers.update(token_headers(book.app, company, role))
    return client


@pytest.mark.parametrize("credentials", ["session", "token"])
def test_another_companys_people_get_404_as_for_no_company(book: Book, credentials: str) -> None:
    client = caller(book, credentials, "admin@b.example", book.b, "admin")
    before = snapshot(book.app)
    scoped = [(m, p) for m, p in routes(book.web) if "{company_id}" in p]
    for method, path in scoped:
        answer = call(client, book, method, path, book.a)
        assert answer.status_code == 404, (method, path, answer.text)
        if path.startswith("/c/"):  # a screen: the page that says so, as for a company that does not exist
            assert "There is no such page" in answer.text, (method, path)
            assert call(client, book, method, path, 999_999).status_code == 404
            continue
        assert_error_shape(answer.json(), "not_found")
        missing = call(client, book, method, path, 999_999)
        assert (missing.status_code, missing.json()) == (404, {"error": {
            "code": "not_found", "message": "No company 999999.", "problems": []}})  # fmt: skip
        assert answer.json()["error"]["message"] == f"No company {book.a}."
    assert snapshot(book.app) == before


@pytest.mark.parametrize("credentials", ["session", "token"])
def test_members_get_403_on_admin_routes(book: Book, credentials: str) -> None:
    client = caller(book, credentials, "member@a.example", book.a, "member")
    before = snapshot(book.app)
    for method, path in sorted(ADMIN):
        answer = call(client, book, method, path, book.a)
        assert answer.status_code == 403, (method, path, answer.text)
        if path.startswith("/c/"):
            assert "Only an admin of this company may do this." in answer.text, (method, path)
        else:
            assert_error_shape(answer.json(), "forbidden")
    assert snapshot(book.app) == before


def test_ids_past_what_a_database_holds_answer_404_not_500(book: Book) -> None:
    client = TestClient(book.web, raise_server_exceptions=False, headers=token_headers(book.app, book.a))
    for company in (2**63, 2**64, -1, 0):
        answer = client.get(f"/api/companies/{company}/customers")
        assert answer.status_code == 404, (company, answer.text)
    for path in (f"/api/companies/{book.a}/api-tokens/{2**63}", f"/api/companies/{book.a}/members/{2**63}"):
        assert client.delete(path).status_code == 422


def test_the_api_docs_work_with_a_token_and_declare_both_schemes(book: Book) -> None:
    client = TestClient(book.web, raise_server_exceptions=False, headers=token_headers(book.app, book.a, "member"))
    assert client.get("/api/docs").status_code == 200
    document = client.get("/api/openapi.json").json()
    assert document["components"]["securitySchemes"] == {
        "HTTPBearer": {"type": "http", "scheme": "bearer", "description": "an API token: `Authorization: Bearer ib_…`"},
        "APIKeyCookie": {"type": "apiKey", "in": "cookie", "name": "ib_session",
                         "description": "a browser session (log in at /login)"},
    }  # fmt: skip
    open_ones = [(m, p) for p, ops in document["paths"].items() for m, op in ops.items() if not op.get("security")]
    assert open_ones == [("get", "/healthz")]  # every other operation declares that it needs one of them
