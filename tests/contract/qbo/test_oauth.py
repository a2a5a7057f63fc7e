"""OAuth against qbo_sandbox: discovery, the consent form, code exchange, refresh rotation and revocation."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from tests.contract.qbo.conftest import REDIRECT_URI, Company

from invoicebridge.qbo.auth import (
    MemoryTokenSource,
    OAuthApp,
    authorization_url,
    exchange_code,
    load_discovery,
    refresh_tokens,
    revoke,
)
from invoicebridge.qbo.errors import OAuthError

NOW = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)


def consent(http: httpx.Client, url: str, realm_id: str) -> dict[str, str]:
    """Open the consent page, submit its form for ``realm_id``; the redirect's query parameters."""
    page = http.get(url)
    assert page.status_code == 200, page.text
    assert 'name="realmId"' in page.text
    query = {key: values[0] for key, values in parse_qs(urlsplit(url).query).items()}
    form = {**query, "realmId": realm_id, "decision": "connect"}
    redirect = http.post(url.split("?")[0], data=form)
    assert redirect.status_code == 302, redirect.text
    location = redirect.headers["location"]
    assert location.startswith(REDIRECT_URI)
    return {key: values[0] for key, values in parse_qs(urlsplit(location).query).items()}


def test_discovery_names_the_sandbox_endpoints(company: Company, http: httpx.Client) -> None:
    discovery = load_discovery(http, company.discovery_url)

    assert discovery == company.discovery


def test_discovery_of_a_missing_document_is_an_oauth_error(company: Company, http: httpx.Client) -> None:
    with pytest.raises(OAuthError) as raised:
        load_discovery(http, f"{company.base_url}/.well-known/nothing")

    assert raised.value.error == "invalid_discovery"


def test_code_flow_gives_tokens_that_call_the_api(company: Company, http: httpx.Client) -> None:
    discovery = load_discovery(http, company.discovery_url)
    url = authorization_url(company.oauth_app, discovery, state="xyz")

    redirect = consent(http, url, company.realm_id)
    tokens = exchange_code(http, company.oauth_app, discovery, redirect["code"], now=NOW)

    assert redirect["state"] == "xyz"
    assert redirect["realmId"] == company.realm_id
    assert tokens.access_expires_at == NOW + timedelta(seconds=3600)
    assert tokens.refresh_expires_at > NOW + timedelta(days=99)
    assert tokens.refresh_hard_expires_at is not None and tokens.refresh_hard_expires_at > tokens.refresh_expires_at
    info = http.get(discovery.userinfo_endpoint, headers={"Authorization": f"Bearer {tokens.access_token}"})
    assert info.status_code == 200


def test_a_code_is_used_once(company: Company, http: httpx.Client) -> None:
    discovery = company.discovery
    code = consent(http, authorization_url(company.oauth_app, discovery, "s"), company.realm_id)["code"]
    exchange_code(http, company.oauth_app, discovery, code)

    with pytest.raises(OAuthError) as raised:
        exchange_code(http, company.oauth_app, discovery, code)

    assert raised.value.error == "invalid_grant"
    assert raised.value.status == 400
    assert raised.value.needs_reconnect


def test_refresh_rotates_the_refresh_token(company: Company, http: httpx.Client) -> None:
    first = company.tokens

    second = refresh_tokens(http, company.oauth_app, company.discovery, first.refresh_token, now=lambda: NOW)

    assert second.refresh_token != first.refresh_token
    assert second.access_token != first.access_token
    assert second.access_expires_at == NOW + timedelta(seconds=3600)


def test_a_wrong_client_secret_is_invalid_client(company: Company, http: httpx.Client) -> None:
    app = OAuthApp(company.app["client_id"], "wrong", REDIRECT_URI)

    with pytest.raises(OAuthError) as raised:
        refresh_tokens(http, app, company.discovery, company.tokens.refresh_token)

    assert raised.value.error == "invalid_client"
    assert not raised.value.needs_reconnect


def test_revoke_ends_the_connection(company: Company, http: httpx.Client) -> None:
    tokens = company.tokens

    revoke(http, company.oauth_app, company.discovery, tokens.refresh_token)

    with pytest.raises(OAuthError) as raised:
        refresh_tokens(http, company.oauth_app, company.discovery, tokens.refresh_token)
    assert raised.value.needs_reconnect


def test_an_unreachable_token_endpoint_is_an_oauth_error(company: Company, http: httpx.Client) -> None:
    discovery = company.discovery
    dead = type(discovery)(**{**discovery.__dict__, "token_endpoint": "http://127.0.0.1:9/token"})

    with pytest.raises(OAuthError) as raised:
        refresh_tokens(http, company.oauth_app, dead, "anything")

    assert raised.value.error == "unreachable"


def test_memory_token_source_refreshes_a_token_about_to_expire(company: Company, http: httpx.Client) -> None:
    tokens = company.tokens
    seen: list[str] = []
    late = lambda: tokens.access_expires_at - timedelta(seconds=30)  # noqa: E731
    source = MemoryTokenSource(
        http, company.oauth_app, company.discovery, tokens, now=late, on_refresh=lambda t: seen.append(t.refresh_token)
    )

    token = source.access_token()

    assert token != tokens.access_token
    assert seen == [source.tokens.refresh_token]
