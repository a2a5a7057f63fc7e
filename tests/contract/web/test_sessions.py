"""Logging in and out, session expiry, login throttling, one-time login links and API token revocation — through
the real pages and API, with the clock of the sessions moved by hand."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from tests.access_support import PASSWORD, log_in, person

from invoicebridge.bootstrap import Container, build
from invoicebridge.settings import Settings
from invoicebridge.sync.api_tokens import ApiTokens
from invoicebridge.sync.sessions import ACCOUNT_RULE, ADDRESS_RULE, SessionPolicy, Sessions
from invoicebridge.web.app import create_app
from invoicebridge.web.auth import SESSION_COOKIE

IDLE, LIFETIME = timedelta(hours=1), timedelta(hours=8)


@dataclass
class Clock:
    now: datetime

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@dataclass
class Site:
    app: Container
    clock: Clock
    company: int

    def client(self) -> TestClient:
        return TestClient(create_app(self.app), raise_server_exceptions=False)


@pytest.fixture
def site(tmp_path: Path) -> Iterator[Site]:
    app = build(Settings(data_dir=tmp_path), migrate=True)
    clock = Clock(datetime(2026, 11, 2, 9, 0, tzinfo=UTC))
    app.sessions = Sessions(app.uow, clock, SessionPolicy(b"k" * 32, IDLE, LIFETIME))
    app.api_tokens = ApiTokens(app.uow, clock)
    owner = person(app, "owner@example.com")
    company = app.people.found_company(owner.id or 0, "Acme", "USD", "UTC").id or 0
    yield Site(app, clock, company)
    app.close()


def attempt(client: TestClient, email: str, password: str) -> int:
    return client.post("/login", data={"email": email, "password": password}, follow_redirects=False).status_code


def test_login_sets_an_httponly_lax_cookie_and_wrong_credentials_say_only_that(site: Site) -> None:
    client = site.client()
    for email, password in (("owner@example.com", "not the password!"), ("nobody@example.com", PASSWORD)):
        answer = client.post("/login", data={"email": email, "password": password})
        assert answer.status_code == 401
        assert "Wrong e-mail or password." in answer.text
        assert SESSION_COOKIE not in answer.headers.get("set-cookie", "")
    answer = client.post("/login", data={"email": "Owner@Example.com ", "password": PASSWORD}, follow_redirects=False)
    assert answer.status_code == 303
    cookie = answer.headers["set-cookie"]
    assert cookie.startswith(f"{SESSION_COOKIE}=") and "HttpOnly" in cookie and "SameSite=lax" in cookie
    assert "Secure" not in cookie  # served over plain http on localhost; behind_tls turns it on
    assert client.get("/api/me").json()["label"] == "owner@example.com"


def test_cookies_are_secure_behind_tls(site: Site) -> None:
    site.app.settings = site.app.settings.model_copy(update={"behind_tls": True})
    answer = site.client().post("/login", data={"email": "owner@example.com", "password": PASSWORD},
                                follow_redirects=False)  # fmt: skip
    assert "Secure" in answer.headers["set-cookie"]


def test_a_new_session_id_at_every_login(site: Site) -> None:
    def session_set_by_login() -> str:
        answer = site.client().post(
            "/login", data={"email": "owner@example.com", "password": PASSWORD},
            headers={"Cookie": f"{SESSION_COOKIE}=planted-by-someone-else"}, follow_redirects=False,
        )  # fmt: skip
        return answer.headers["set-cookie"].split(";")[0].split("=", 1)[1]

    first, second = session_set_by_login(), session_set_by_login()
    assert "planted-by-someone-else" not in (first, second)
    assert first != second


def test_logout_revokes_the_session_on_the_server(site: Site) -> None:
    client = site.client()
    log_in(client, "owner@example.com")
    kept = client.cookies[SESSION_COOKIE]
    assert client.post("/logout", follow_redirects=False).status_code == 303
    thief = site.client()
    thief.cookies.set(SESSION_COOKIE, kept)  # the old cookie, replayed: worth nothing now
    assert thief.get("/api/me").status_code == 401
    assert thief.get("/", follow_redirects=False).headers["location"] == "/login?next=%2F"


def test_a_session_ends_after_idle_time_and_after_its_lifetime(site: Site) -> None:
    client = site.client()
    log_in(client, "owner@example.com")
    site.clock.advance(minutes=59)
    assert client.get("/api/me").status_code == 200  # in use: the idle timer starts again
    site.clock.advance(minutes=59)
    assert client.get("/api/me").status_code == 200
    site.clock.advance(hours=1)
    assert client.get("/api/me").status_code == 401  # idle an hour
    log_in(client, "owner@example.com")
    for _ in range(8):  # busy all day long: still ends at its absolute lifetime
        site.clock.advance(minutes=55)
        assert client.get("/api/me").status_code == 200
    site.clock.advance(minutes=41)
    assert client.get("/api/me").status_code == 401


def test_a_new_password_ends_every_session_of_that_user(site: Site) -> None:
    client = site.client()
    log_in(client, "owner@example.com")
    site.app.people.set_password("owner@example.com", "another long passphrase")
    assert client.get("/api/me").status_code == 401


def test_failed_logins_back_off_then_lock_the_account(site: Site) -> None:
    client = site.client()
    for _ in range(ACCOUNT_RULE.free):
        assert attempt(client, "owner@example.com", "wrong password 123") == 401
    assert attempt(client, "owner@example.com", PASSWORD) == 429  # even the right password: slowed down
    site.clock.advance(seconds=1)
    assert attempt(client, "owner@example.com", "wrong password 123") == 401
    assert attempt(client, "owner@example.com", "wrong password 123") == 429
    waited = 2
    for _ in range(ACCOUNT_RULE.lock_after - ACCOUNT_RULE.free - 1):
        site.clock.advance(seconds=waited)
        assert attempt(client, "owner@example.com", "wrong password 123") == 401
        waited = min(waited * 2, 60)
    locked = client.post("/login", data={"email": "owner@example.com", "password": PASSWORD})
    assert locked.status_code == 429 and "try again in 15 min" in locked.text
    assert locked.headers["retry-after"] == "900"
    site.clock.advance(minutes=14)
    assert attempt(client, "owner@example.com", PASSWORD) == 429
    site.clock.advance(minutes=1)
    assert attempt(client, "owner@example.com", PASSWORD) == 303


def test_unknown_accounts_are_throttled_like_real_ones(site: Site) -> None:
    client = site.client()
    answers = [attempt(client, "ghost@example.com", "whatever it is 1") for _ in range(ACCOUNT_RULE.free + 1)]
    assert answers == [401] * ACCOUNT_RULE.free + [429]


def test_failures_from_one_address_are_slowed_across_accounts(site: Site) -> None:
    client = site.client()
    for n in range(ADDRESS_RULE.free):
        assert attempt(client, f"guess{n}@example.com", "wrong password 123") == 401
    assert attempt(client, "owner@example.com", PASSWORD) == 429  # same address: slowed down too


def test_a_login_link_works_once(site: Site) -> None:
    token = site.app.sessions.login_link("owner@example.com")
    client = site.client()
    opened = client.get(f"/login/link?token={token}", follow_redirects=False)
    assert (opened.status_code, opened.headers["location"]) == (303, "/")
    assert client.get("/api/me").json()["label"] == "owner@example.com"
    again = site.client().get(f"/login/link?token={token}", follow_redirects=False)
    assert again.status_code == 401 and "This login link is used, expired or wrong" in again.text
    assert SESSION_COOKIE not in again.headers.get("set-cookie", "")
    stale = site.app.sessions.login_link("owner@example.com")
    site.clock.advance(hours=25)
    assert site.client().get(f"/login/link?token={stale}").status_code == 401


def test_a_revoked_api_token_is_refused(site: Site) -> None:
    made = site.app.api_tokens.create(site.company, "ci", "member", None)
    client = site.client()
    client.headers["Authorization"] = f"Bearer {made.secret}"
    assert client.get(f"/api/companies/{site.company}/customers").status_code == 200
    assert site.app.api_tokens.of_company(site.company)[0].last_used_at == site.clock.now
    site.app.api_tokens.revoke(site.company, made.token.id or 0)
    refused = client.get(f"/api/companies/{site.company}/customers")
    assert refused.status_code == 401
    assert refused.json()["error"]["message"] == "This API token is unknown or was revoked."


def test_the_token_is_shown_once_and_stored_only_as_a_hash(site: Site) -> None:
    client = site.client()
    log_in(client, "owner@example.com")
    made = client.post(f"/api/companies/{site.company}/api-tokens", json={"name": "ci", "role": "member"})
    assert made.status_code == 201
    secret = made.json()["token"]
    assert secret.startswith("ib_") and made.json()["prefix"] == secret[:10]
    listed = client.get(f"/api/companies/{site.company}/api-tokens").json()
    assert "token" not in listed[0] and secret not in str(listed)
    with site.app.engine.connect() as connection:
        stored = " ".join(str(row) for row in connection.exec_driver_sql("SELECT * FROM api_tokens"))
    assert secret not in stored


def test_after_login_the_browser_goes_back_only_to_this_site(site: Site) -> None:
    client = site.client()
    for wanted, landed in (("/api/docs", "/api/docs"), ("//evil.example/x", "/"), ("https://evil.example", "/"),
                           ("/\\evil.example", "/")):  # fmt: skip
        answer = client.post("/login", data={"email": "owner@example.com", "password": PASSWORD, "next": wanted},
                             follow_redirects=False)  # fmt: skip
        assert answer.headers["location"] == landed


def test_a_login_form_posted_from_another_site_is_refused(site: Site) -> None:
    client = site.client()
    form = {"email": "owner@example.com", "password": PASSWORD}
    foreign = client.post("/login", data=form, headers={"Origin": "https://evil.example"}, follow_redirects=False)
    assert foreign.status_code == 403
    assert SESSION_COOKIE not in foreign.headers.get("set-cookie", "")
    own = client.post("/login", data=form, headers={"Origin": "http://testserver"}, follow_redirects=False)
    assert own.status_code == 303


def test_pages_and_answers_carry_the_security_headers(site: Site) -> None:
    answer = site.client().get("/login")
    csp = answer.headers["content-security-policy"]
    assert "script-src 'self';" in csp and "'unsafe-inline'" not in csp and "frame-ancestors 'none'" in csp
    assert answer.headers["referrer-policy"] == "same-origin"
    assert answer.headers["x-content-type-options"] == "nosniff"
    assert "strict-transport-security" not in answer.headers  # plain http on localhost
    site.app.settings = site.app.settings.model_copy(update={"behind_tls": True})
    assert site.client().get("/healthz").headers["strict-transport-security"] == "max-age=31536000"
