"""Intuit's own OAuth client (intuit-oauth's AuthClient) against the sandbox, pointed at it by discovery URL.

A user connects an app exactly as with Intuit: AuthClient(environment=<discovery URL>), the authorization URL
followed in a "browser" (httpx driving the consent page), the code exchanged, tokens refreshed and revoked.
"""

from __future__ import annotations

import html
import re
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
import uvicorn
from intuitlib.client import AuthClient
from intuitlib.enums import Scopes
from intuitlib.exceptions import AuthClientError
from starlette.applications import Starlette

from qbo_sandbox.oauth import App, OAuthRegistry, routes

REDIRECT = "https://client.example/qbo/callback"
REALM = "9341453908059321"


@dataclass
class OAuthServer:
    url: str
    registry: OAuthRegistry


@pytest.fixture(scope="module")
def sandbox() -> Iterator[OAuthServer]:
    registry = OAuthRegistry()
    app = Starlette(routes=routes(registry, lambda: [(REALM, "Sandbox Company US 1")]))
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    while not server.started:
        threading.Event().wait(0.01)
    yield OAuthServer(f"http://127.0.0.1:{sock.getsockname()[1]}", registry)
    server.should_exit = True
    thread.join()
    sock.close()


@pytest.fixture
def app(sandbox: OAuthServer) -> App:
    return sandbox.registry.register_app([REDIRECT])


@pytest.fixture
def auth_client(sandbox: OAuthServer, app: App) -> Iterator[AuthClient]:
    client = AuthClient(
        app.client_id, app.client_secret, REDIRECT, f"{sandbox.url}/.well-known/openid_sandbox_configuration/"
    )
    yield client
    client.close()


def connect_in_browser(auth_url: str, realm_id: str = REALM) -> dict[str, str]:
    """Open the authorization URL, submit its form with the company picked and Connect pressed, as a browser
    would; return the query of the redirect to the app."""
    with httpx.Client(follow_redirects=False) as browser:
        page = browser.get(auth_url)
        assert page.status_code == 200
        action = re.search(r'<form method="post" action="([^"]+)"', page.text)
        assert action is not None
        hidden = re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', page.text)
        assert f'<option value="{realm_id}">' in page.text
        form = {name: html.unescape(value) for name, value in hidden} | {"realmId": realm_id, "decision": "connect"}
        answer = browser.post(str(page.url.join(html.unescape(action.group(1)))), data=form)
    assert answer.status_code == 302
    location = answer.headers["location"]
    assert location.startswith(REDIRECT + "?")
    return {key: values[0] for key, values in parse_qs(urlsplit(location).query).items()}


def test_auth_client_reads_the_sandbox_endpoints_from_discovery(sandbox: OAuthServer, auth_client: AuthClient) -> None:
    assert auth_client.token_endpoint == f"{sandbox.url}/oauth2/v1/tokens/bearer"
    assert auth_client.revoke_endpoint == f"{sandbox.url}/oauth2/v1/tokens/revoke"
    assert auth_client.auth_endpoint.startswith(sandbox.url)


def test_code_exchange_gives_tokens_that_open_the_company(sandbox: OAuthServer, auth_client: AuthClient) -> None:
    redirect = connect_in_browser(auth_client.get_authorization_url([Scopes.ACCOUNTING]))
    assert redirect["state"] == auth_client.state_token
    auth_client.get_bearer_token(redirect["code"], realm_id=redirect["realmId"])
    assert auth_client.realm_id == REALM
    assert auth_client.expires_in == 3600
    assert auth_client.x_refresh_token_expires_in == 100 * 86400
    assert sandbox.registry.authenticate(f"Bearer {auth_client.access_token}", REALM) == auth_client.client_id


def test_refresh_rotates_the_refresh_token(sandbox: OAuthServer, auth_client: AuthClient, app: App) -> None:
    tokens = sandbox.registry.issue_tokens(app.client_id, REALM)
    auth_client.refresh(refresh_token=tokens["refresh_token"])
    assert auth_client.refresh_token != tokens["refresh_token"]
    assert auth_client.access_token != tokens["access_token"]
    assert sandbox.registry.authenticate(f"Bearer {auth_client.access_token}", REALM) == app.client_id


def test_a_used_code_is_refused_with_invalid_grant(auth_client: AuthClient) -> None:
    redirect = connect_in_browser(auth_client.get_authorization_url([Scopes.ACCOUNTING]))
    auth_client.get_bearer_token(redirect["code"])
    with pytest.raises(AuthClientError) as caught:
        auth_client.get_bearer_token(redirect["code"])
    assert caught.value.status_code == 400
    assert b"invalid_grant" in caught.value.content


def test_revoke_disconnects_the_app(sandbox: OAuthServer, auth_client: AuthClient, app: App) -> None:
    tokens = sandbox.registry.issue_tokens(app.client_id, REALM)
    auth_client.refresh(refresh_token=tokens["refresh_token"])
    assert auth_client.revoke() is True
    assert sandbox.registry.realms_of(app.client_id) == set()
    with pytest.raises(AuthClientError) as caught:
        auth_client.refresh()
    assert caught.value.status_code == 400


def test_wrong_client_secret_is_refused_with_invalid_client(sandbox: OAuthServer, app: App) -> None:
    client = AuthClient(app.client_id, "not-the-secret", REDIRECT, f"{sandbox.url}/.well-known/openid_configuration")
    with pytest.raises(AuthClientError) as caught:
        client.refresh(refresh_token="anything")
    client.close()
    assert caught.value.status_code == 401
