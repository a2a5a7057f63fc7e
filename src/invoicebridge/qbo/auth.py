"""Intuit OAuth 2: discovery, the authorization-code flow, refresh with rotation, revocation, token sources.

Every function takes the ``httpx.Client`` to use (the transport is the test seam) and raises
:class:`~invoicebridge.qbo.errors.OAuthError` when the endpoint refuses (``error`` as Intuit sent it, e.g.
``invalid_grant``) or cannot be reached (``error`` "unreachable"). Token lifetimes become aware datetimes at
the moment of the answer, read from an injected clock.

The :class:`TokenSource` protocol is what :class:`~invoicebridge.qbo.client.QboClient` asks for a token; the
production source (per-company lock, encrypted store) lives outside this package.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol
from urllib.parse import urlencode

import httpx

from invoicebridge.qbo.errors import OAuthError

__all__ = [
    "ACCOUNTING_SCOPE",
    "Discovery",
    "MemoryTokenSource",
    "OAuthApp",
    "StaticTokenSource",
    "TokenSource",
    "Tokens",
    "authorization_url",
    "exchange_code",
    "load_discovery",
    "parse_tokens",
    "refresh_tokens",
    "revoke",
]

ACCOUNTING_SCOPE = "com.intuit.quickbooks.accounting"
PRODUCTION_DISCOVERY = "https://developer.intuit.com/.well-known/openid_configuration/"
SANDBOX_DISCOVERY = "https://developer.intuit.com/.well-known/openid_sandbox_configuration/"
# Asks Intuit for the refresh token's absolute (5-year) expiry, x_refresh_token_hard_expires_in (policy of
# 2025-11-12; header name as used by Intuit's clients and honoured by qbo_sandbox's oauth_routes).
HARD_EXPIRY_HEADER = "x-include-refresh-token-hard-expires-in"
REFRESH_MARGIN = timedelta(seconds=60)

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Tokens:
    """One token response: both tokens and when each stops working (aware datetimes)."""

    access_token: str
    refresh_token: str
    access_expires_at: datetime
    refresh_expires_at: datetime
    refresh_hard_expires_at: datetime | None = None  # the 5-year cap, when Intuit reports it

    def access_expires_within(self, margin: timedelta, now: datetime) -> bool:
        return self.access_expires_at - margin <= now


@dataclass(frozen=True)
class Discovery:
    """The endpoints of Intuit's OpenID discovery document."""

    authorization_endpoint: str
    token_endpoint: str
    revocation_endpoint: str
    userinfo_endpoint: str
    issuer: str


@dataclass(frozen=True)
class OAuthApp:
    """An app registered with Intuit (or qbo_sandbox)."""

    client_id: str
    client_secret: str
    redirect_uri: str
    scope: str = ACCOUNTING_SCOPE

    def __repr__(self) -> str:  # keep the secret out of logs and tracebacks
        return f"OAuthApp(client_id={self.client_id!r}, redirect_uri={self.redirect_uri!r}, scope={self.scope!r})"


def load_discovery(http: httpx.Client, url: str) -> Discovery:
    """Read the discovery document at ``url``; OAuthError("invalid_discovery") if it lacks an endpoint."""
    response = _send(http, "GET", url, headers={"Accept": "application/json"})
    if response.status_code != 200:
        raise OAuthError("invalid_discovery", status=response.status_code, detail=f"GET {url}")
    body = _json_object(response)
    try:
        return Discovery(
            authorization_endpoint=str(body["authorization_endpoint"]),
            token_endpoint=str(body["token_endpoint"]),
            revocation_endpoint=str(body["revocation_endpoint"]),
            userinfo_endpoint=str(body["userinfo_endpoint"]),
            issuer=str(body["issuer"]),
        )
    except KeyError as missing:
        raise OAuthError("invalid_discovery", status=200, detail=f"{url} lacks {missing}") from None


def authorization_url(app: OAuthApp, discovery: Discovery, state: str) -> str:
    """The consent page URL; the redirect back carries ``code``, ``state`` and ``realmId``."""
    query = {
        "client_id": app.client_id,
        "response_type": "code",
        "scope": app.scope,
        "redirect_uri": app.redirect_uri,
        "state": state,
    }
    separator = "&" if "?" in discovery.authorization_endpoint else "?"
    return discovery.authorization_endpoint + separator + urlencode(query)


def exchange_code(
    http: httpx.Client, app: OAuthApp, discovery: Discovery, code: str, now: Clock | datetime | None = None
) -> Tokens:
    """Trade an authorization code for tokens; OAuthError (e.g. invalid_grant for a used or expired code)."""
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": app.redirect_uri}
    return _token_request(http, app, discovery, form, now)


def refresh_tokens(
    http: httpx.Client, app: OAuthApp, discovery: Discovery, refresh_token: str, now: Clock | datetime | None = None
) -> Tokens:
    """New tokens for a refresh token. Intuit may rotate the refresh token: always store the returned one.

    OAuthError("invalid_grant") when the refresh token is expired, revoked or superseded (``needs_reconnect``).
    """
    form = {"grant_type": "refresh_token", "refresh_token": refresh_token}
    return _token_request(http, app, discovery, form, now)


def revoke(http: httpx.Client, app: OAuthApp, discovery: Discovery, token: str) -> None:
    """Revoke a refresh (or access) token, which disconnects the company; OAuthError when refused."""
    response = _send(
        http,
        "POST",
        discovery.revocation_endpoint,
        json={"token": token},
        auth=(app.client_id, app.client_secret),
        headers={"Accept": "application/json"},
    )
    if response.status_code != 200:
        raise _oauth_error(response)


class TokenSource(Protocol):
    """Where the client gets its bearer token for one company."""

    def access_token(self) -> str:
        """A valid access token, refreshed first if it expires within 60 seconds."""
        ...

    def force_refresh(self) -> str:
        """A freshly refreshed access token (after QBO answered 401 to the current one)."""
        ...


class StaticTokenSource:
    """A fixed token that cannot be refreshed (tests, scripts): ``force_refresh`` returns the same token."""

    def __init__(self, token: str) -> None:
        self._token = token

    def access_token(self) -> str:
        return self._token

    def force_refresh(self) -> str:
        return self._token


class MemoryTokenSource:
    """Tokens held in memory and refreshed through the token endpoint under a lock (one process, one company).

    ``on_refresh`` receives every new :class:`Tokens` so a caller can persist the rotated refresh token.
    """

    def __init__(
        self,
        http: httpx.Client,
        app: OAuthApp,
        discovery: Discovery,
        tokens: Tokens,
        now: Clock = utc_now,
        on_refresh: Callable[[Tokens], None] | None = None,
    ) -> None:
        self._http, self._app, self._discovery = http, app, discovery
        self._now, self._on_refresh = now, on_refresh
        self._lock = threading.Lock()
        self.tokens = tokens

    def access_token(self) -> str:
        with self._lock:
            if self.tokens.access_expires_within(REFRESH_MARGIN, self._now()):
                self._refresh()
            return self.tokens.access_token

    def force_refresh(self) -> str:
        with self._lock:
            self._refresh()
            return self.tokens.access_token

    def _refresh(self) -> None:
        self.tokens = refresh_tokens(self._http, self._app, self._discovery, self.tokens.refresh_token, self._now)
        if self._on_refresh is not None:
            self._on_refresh(self.tokens)


def _token_request(
    http: httpx.Client, app: OAuthApp, discovery: Discovery, form: dict[str, str], now: Clock | datetime | None
) -> Tokens:
    response = _send(
        http,
        "POST",
        discovery.token_endpoint,
        data=form,
        auth=(app.client_id, app.client_secret),
        headers={"Accept": "application/json", HARD_EXPIRY_HEADER: "true"},
    )
    if response.status_code != 200:
        raise _oauth_error(response)
    return parse_tokens(_json_object(response), _moment(now))


def parse_tokens(body: dict[str, Any], at: datetime) -> Tokens:
    """Tokens from an Intuit token response received at ``at``; OAuthError("invalid_token_response")."""
    try:
        hard = body.get("x_refresh_token_hard_expires_in")
        return Tokens(
            access_token=str(body["access_token"]),
            refresh_token=str(body["refresh_token"]),
            access_expires_at=at + timedelta(seconds=int(body["expires_in"])),
            refresh_expires_at=at + timedelta(seconds=int(body["x_refresh_token_expires_in"])),
            refresh_hard_expires_at=None if hard is None else at + timedelta(seconds=int(hard)),
        )
    except (KeyError, TypeError, ValueError) as error:
        raise OAuthError("invalid_token_response", status=200, detail=f"missing or bad field: {error}") from None


def _moment(now: Clock | datetime | None) -> datetime:
    moment = utc_now() if now is None else now if isinstance(now, datetime) else now()
    if moment.tzinfo is None:
        raise ValueError("the clock must give timezone-aware datetimes")
    return moment


def _send(http: httpx.Client, method: str, url: str, **kwargs: Any) -> httpx.Response:
    try:
        return http.request(method, url, **kwargs)
    except httpx.HTTPError as error:
        raise OAuthError("unreachable", detail=f"{method} {url}: {type(error).__name__}") from error


def _json_object(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        body = None
    if not isinstance(body, dict):
        raise OAuthError("invalid_response", status=response.status_code, detail="the body is not a JSON object")
    return body


def _oauth_error(response: httpx.Response) -> OAuthError:
    try:
        body = response.json()
    except ValueError:
        body = None
    error = body.get("error") if isinstance(body, dict) else None
    detail = body.get("error_description", "") if isinstance(body, dict) else response.text[:200]
    return OAuthError(str(error or f"http_{response.status_code}"), status=response.status_code, detail=str(detail))
