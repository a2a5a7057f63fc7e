"""The OAuth HTTP routes, driven in-process the way a client and a browser would."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from qbo_sandbox.oauth import App, OAuthRegistry, routes

REDIRECT = "https://client.example/callback"
SCOPE = "com.intuit.quickbooks.accounting"


@pytest.fixture
def registry() -> OAuthRegistry:
    return OAuthRegistry()


@pytest.fixture
def app(registry: OAuthRegistry) -> App:
    return registry.register_app([REDIRECT])


@pytest.fixture
def client(registry: OAuthRegistry) -> Iterator[TestClient]:
    companies = [("9130", "Sandbox Company US"), ("4620", "Sandbox Company GB")]
    with TestClient(Starlette(routes=routes(registry, lambda: companies)), base_url="http://sandbox.test") as c:
        yield c


def basic(app: App, secret: str | None = None) -> dict[str, str]:
    raw = f"{app.client_id}:{secret or app.client_secret}".encode()
    return {"Authorization": "Basic " + base64.b64encode(raw).decode()}


def authorize_params(app: App, **overrides: str) -> dict[str, str]:
    return {
        "client_id": app.client_id,
        "response_type": "code",
        "scope": SCOPE,
        "redirect_uri": REDIRECT,
        "state": "xyz",
        **overrides,
    }


def consent(client: TestClient, app: App, realm: str = "4620") -> dict[str, list[str]]:
    form = {**authorize_params(app), "realmId": realm, "decision": "connect"}
    response = client.post("/oauth2/authorize", data=form, follow_redirects=False)
    assert response.status_code == 302
    location = urlsplit(response.headers["location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == REDIRECT
    return parse_qs(location.query)


@pytest.mark.parametrize("path", ["/.well-known/openid_configuration", "/.well-known/openid_sandbox_configuration/"])
def test_discovery_names_this_servers_endpoints(client: TestClient, path: str) -> None:
    doc = client.get(path).json()
    assert doc["token_endpoint"] == "http://sandbox.test/oauth2/v1/tokens/bearer"
    assert doc["revocation_endpoint"] == "http://sandbox.test/oauth2/v1/tokens/revoke"
    assert doc["authorization_endpoint"] == "http://sandbox.test/oauth2/authorize"
    assert {"issuer", "jwks_uri", "userinfo_endpoint"} <= doc.keys()


def test_consent_page_offers_every_company(client: TestClient, app: App) -> None:
    page = client.get("/oauth2/authorize", params=authorize_params(app))
    assert page.status_code == 200
    assert "Sandbox Company US (9130)" in page.text
    assert "Sandbox Company GB (4620)" in page.text


def test_consent_redirects_with_code_state_and_realm(client: TestClient, app: App) -> None:
    query = consent(client, app)
    assert query["state"] == ["xyz"]
    assert query["realmId"] == ["4620"]
    assert query["code"][0]


def test_cancel_redirects_with_access_denied(client: TestClient, app: App) -> None:
    form = {**authorize_params(app), "realmId": "4620", "decision": "cancel"}
    response = client.post("/oauth2/authorize", data=form, follow_redirects=False)
    assert parse_qs(urlsplit(response.headers["location"]).query) == {"error": ["access_denied"], "state": ["xyz"]}


@pytest.mark.parametrize(
    ("override", "error"),
    [({"client_id": "nope"}, "invalid_client"), ({"redirect_uri": "https://evil.example/cb"}, "invalid_request")],
)
def test_unknown_client_or_redirect_gets_an_error_page_not_a_redirect(
    client: TestClient, app: App, override: dict[str, str], error: str
) -> None:
    page = client.get("/oauth2/authorize", params=authorize_params(app, **override), follow_redirects=False)
    assert page.status_code == 400
    assert error in page.text


def test_scope_without_accounting_is_refused_by_redirect(client: TestClient, app: App) -> None:
    page = client.get("/oauth2/authorize", params=authorize_params(app, scope="openid"), follow_redirects=False)
    assert page.status_code == 302
    assert "error=invalid_scope" in page.headers["location"]


def test_code_exchange_then_refresh_then_revoke(client: TestClient, app: App, registry: OAuthRegistry) -> None:
    code = consent(client, app)["code"][0]
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT}
    tokens = client.post("/oauth2/v1/tokens/bearer", data=form, headers=basic(app)).json()
    assert tokens["token_type"] == "bearer"
    assert tokens["expires_in"] == 3600
    assert "x_refresh_token_hard_expires_in" not in tokens
    assert registry.authenticate(f"Bearer {tokens['access_token']}", "4620") == app.client_id
    again = client.post("/oauth2/v1/tokens/bearer", data=form, headers=basic(app))
    assert (again.status_code, again.json()) == (400, {"error": "invalid_grant"})

    refreshed = client.post(
        "/oauth2/v1/tokens/bearer",
        data={"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]},
        headers={**basic(app), "x-include-refresh-token-hard-expires-in": "true"},
    ).json()
    assert refreshed["refresh_token"] != tokens["refresh_token"]
    assert refreshed["x_refresh_token_hard_expires_in"] > refreshed["x_refresh_token_expires_in"]

    revoked = client.post("/oauth2/v1/tokens/revoke", json={"token": refreshed["refresh_token"]}, headers=basic(app))
    assert revoked.status_code == 200
    assert registry.realms_of(app.client_id) == set()


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Basic !!!"}, {"Authorization": "Bearer x"}])
def test_token_endpoint_without_valid_client_auth_is_invalid_client(
    client: TestClient, headers: dict[str, str]
) -> None:
    response = client.post("/oauth2/v1/tokens/bearer", data={"grant_type": "refresh_token"}, headers=headers)
    assert (response.status_code, response.json()) == (401, {"error": "invalid_client"})


def test_wrong_secret_is_invalid_client(client: TestClient, app: App) -> None:
    form = {"grant_type": "refresh_token", "refresh_token": "x"}
    response = client.post("/oauth2/v1/tokens/bearer", data=form, headers=basic(app, "wrong"))
    assert response.status_code == 401


def test_unknown_grant_type_is_refused(client: TestClient, app: App) -> None:
    response = client.post("/oauth2/v1/tokens/bearer", data={"grant_type": "password"}, headers=basic(app))
    assert (response.status_code, response.json()) == (400, {"error": "unsupported_grant_type"})


def test_userinfo_needs_a_valid_access_token(client: TestClient, app: App, registry: OAuthRegistry) -> None:
    tokens = registry.issue_tokens(app.client_id, "9130")
    ok = client.get("/v1/openid_connect/userinfo", headers={"Authorization": f"Bearer {tokens['access_token']}"})
    assert ok.status_code == 200
    assert ok.json()["sub"]
    assert client.get("/v1/openid_connect/userinfo").status_code == 401
