"""Test helpers for access: people, logging in through the real login form, API tokens.

Every helper goes through the product's own use cases and pages, so a test that logs in this way proves the
login works too."""

from __future__ import annotations

import re
from typing import Protocol

import httpx

from invoicebridge.bootstrap import Container
from invoicebridge.domain.access import User

PASSWORD = "a long test password 42"
CSRF = re.compile(r'<meta name="csrf-token" content="([^"]+)">')


class Browser(Protocol):
    """What both fastapi.testclient.TestClient and httpx.Client offer."""

    headers: httpx.Headers
    cookies: httpx.Cookies

    def get(self, url: str, **kwargs: object) -> httpx.Response: ...
    def post(self, url: str, **kwargs: object) -> httpx.Response: ...


def person(app: Container, email: str, company_id: int | None = None, role: str = "admin") -> User:
    """A user with the test password; with `company_id`, a member of it with `role`."""
    user = app.people.create_user(email, None, PASSWORD)
    if company_id is not None:
        app.people.add_member(company_id, email, role)
    return user


def log_in(client: Browser, email: str, password: str = PASSWORD) -> str:
    """Logs in through the login form; afterwards the client sends the session's CSRF token on every request.
    Returns that token."""
    answer = client.post("/login", data={"email": email, "password": password}, follow_redirects=False)
    assert answer.status_code == 303, answer.text
    home = client.get("/", follow_redirects=True)  # a person of one company lands on its Sell screen
    found = CSRF.search(home.text)
    assert found, home.text
    client.headers["X-CSRF-Token"] = found.group(1)
    return found.group(1)


def token_headers(app: Container, company_id: int, role: str = "admin", name: str = "tests") -> dict[str, str]:
    """Headers that act as a new API token of the company."""
    secret = app.api_tokens.create(company_id, name, role, None).secret
    return {"Authorization": f"Bearer {secret}"}
