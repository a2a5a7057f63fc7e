"""Intuit's OAuth 2 as the sandbox plays it: apps, authorization codes, access and refresh tokens.

State lives in :class:`OAuthRegistry` (in memory, guarded by a lock, clock injectable); the HTTP face
(discovery, consent page, token and revoke endpoints) is :func:`routes`, in ``oauth_routes.py``.

Lifetimes and what each is based on:

* access token: 3600 s (Intuit: "valid for 60 minutes"); older access tokens stay valid until they expire.
* authorization code: single use, 5 minutes (unconfirmed: Intuit only says codes are short-lived).
* refresh token: 100 days rolling (``x_refresh_token_expires_in``), never beyond the connection's
  5-year hard cap (Intuit's refresh-token policy of 2025-11-12). The hard cap is reported in
  ``x_refresh_token_hard_expires_in`` (seconds left), the name Intuit's SDKs and clients use; Intuit sends it
  only when the request carries ``x-include-refresh-token-hard-expires-in: true``, and so does the sandbox.
* rotation: every refresh returns a *new* refresh token; the one presented keeps working for
  :data:`REFRESH_GRACE` (24 hours) after it was first replaced, then fails with ``invalid_grant``. Intuit says
  the previous token stops "after a while"; its JS client's README once said "24 hours after you receive a
  new one" (intuit/oauth-jsclient issue #74). Intuit itself rotates the value only every ~24 h; the sandbox
  rotates on every refresh so clients that keep a stale token are caught sooner.
* revoke: revoking either token of a connection ends the whole connection (every token issued through it),
  and the app is no longer connected to that company (:meth:`OAuthRegistry.realms_of`).
"""

from __future__ import annotations

import copy
import secrets
import threading
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal

from qbo_sandbox import faults
from qbo_sandbox.text import flaw

if TYPE_CHECKING:
    from starlette.routing import BaseRoute

ACCOUNTING_SCOPE = "com.intuit.quickbooks.accounting"
ACCESS_TOKEN_LIFETIME = timedelta(seconds=3600)
REFRESH_TOKEN_LIFETIME = timedelta(days=100)
REFRESH_TOKEN_HARD_LIFETIME = timedelta(days=5 * 365)
REFRESH_GRACE = timedelta(hours=24)
CODE_LIFETIME = timedelta(minutes=5)

WebhookFormat = Literal["cloudevents", "legacy"]


class OAuthError(Exception):
    """An OAuth 2 error answered as ``{"error": code}`` (RFC 6749 §5.2), with its HTTP status."""

    def __init__(self, error: str, status: int = 400) -> None:
        super().__init__(error)
        self.error = error
        self.status = status


@dataclass
class App:
    """A registered app (Intuit's "Keys & credentials" plus its webhook settings)."""

    client_id: str
    client_secret: str
    verifier_token: str
    redirect_uris: list[str]
    webhook_url: str | None = None
    webhook_format: WebhookFormat = "cloudevents"


@dataclass
class _Connection:
    """One app connected to one company; every token hangs off a connection."""

    client_id: str
    realm_id: str
    scope: str
    hard_expires_at: datetime
    revoked: bool = False


@dataclass
class _AccessToken:
    connection: _Connection
    expires_at: datetime


@dataclass
class _RefreshToken:
    connection: _Connection
    expires_at: datetime
    replaced_at: datetime | None = None


@dataclass
class _Code:
    client_id: str
    realm_id: str
    redirect_uri: str
    scope: str
    expires_at: datetime


@dataclass
class _State:
    apps: dict[str, App] = field(default_factory=dict)
    codes: dict[str, _Code] = field(default_factory=dict)
    access: dict[str, _AccessToken] = field(default_factory=dict)
    refresh: dict[str, _RefreshToken] = field(default_factory=dict)
    connections: list[_Connection] = field(default_factory=list)


def _utc_now() -> datetime:
    return datetime.now(UTC)


class OAuthRegistry:
    """Apps, codes and tokens of the sandbox; thread-safe; ``now`` is the clock (tz-aware UTC)."""

    def __init__(self, now: Callable[[], datetime] = _utc_now) -> None:
        self._now = now
        self._lock = threading.RLock()
        self._state = _State()

    # --- apps -------------------------------------------------------------------------------------------
    def register_app(
        self,
        redirect_uris: Sequence[str],
        webhook_url: str | None = None,
        webhook_format: WebhookFormat = "cloudevents",
    ) -> App:
        """Register an app with fresh credentials; ``webhook_url`` None means no webhooks are sent to it."""
        if webhook_format not in ("cloudevents", "legacy"):
            raise ValueError(f"webhook_format must be 'cloudevents' or 'legacy', not {webhook_format!r}")
        app = App(
            client_id="AB" + secrets.token_hex(24),
            client_secret=secrets.token_urlsafe(30),
            verifier_token=str(uuid.uuid4()),
            redirect_uris=list(redirect_uris),
            webhook_url=webhook_url,
            webhook_format=webhook_format,
        )
        with self._lock:
            self._state.apps[app.client_id] = app
        return app

    def apps(self) -> list[App]:
        """Every registered app, in registration order."""
        with self._lock:
            return list(self._state.apps.values())

    def app(self, client_id: str) -> App | None:
        """The app with this client id, or None."""
        with self._lock:
            return self._state.apps.get(client_id)

    def update_app(self, client_id: str, webhook_url: str | None, webhook_format: WebhookFormat) -> App:
        """Change where (and in which format) the app's webhooks go. Raises KeyError for an unknown client id."""
        if webhook_format not in ("cloudevents", "legacy"):
            raise ValueError(f"webhook_format must be 'cloudevents' or 'legacy', not {webhook_format!r}")
        with self._lock:
            app = self._state.apps[client_id]
            app.webhook_url, app.webhook_format = webhook_url, webhook_format
            return app

    def snapshot(self) -> object:
        """Everything the registry holds, as one picklable object (for --db persistence)."""
        with self._lock:
            return copy.deepcopy(self._state)

    def restore(self, snapshot: object) -> list[str]:
        """Adopt a :meth:`snapshot` (from --db). An app holding a string that is not Unicode text — an older
        sandbox stored such redirect URIs and webhook URLs (text.py) — is left out with its codes, connections
        and tokens, as is any other entry holding one; returns a sentence for each kind left out. Raises
        TypeError for something that is not a snapshot."""
        if not isinstance(snapshot, _State):
            raise TypeError("not a registry snapshot")
        kept, left_out = _readable(snapshot)
        with self._lock:
            self._state = kept
        return left_out

    def check_client(self, client_id: str, client_secret: str) -> App:
        """The app whose credentials these are; raises :class:`OAuthError` ``invalid_client`` (401) if none."""
        with self._lock:
            app = self._state.apps.get(client_id)
        if app is None or not secrets.compare_digest(app.client_secret, client_secret):
            raise OAuthError("invalid_client", 401)
        return app

    # --- the authorization code grant --------------------------------------------------------------------
    def issue_code(self, client_id: str, realm_id: str, redirect_uri: str, scope: str) -> str:
        """A single-use authorization code for the consent just given (the caller validated the request)."""
        code = "AB" + secrets.token_urlsafe(32)
        with self._lock:
            self._state.codes[code] = _Code(client_id, realm_id, redirect_uri, scope, self._now() + CODE_LIFETIME)
        return code

    def exchange_code(self, app: App, code: str, redirect_uri: str, hard_expiry: bool = False) -> dict[str, Any]:
        """Trade a code for tokens (once). Raises ``invalid_grant`` if unknown, used, expired, issued to another
        app or to another redirect URI."""
        with self._lock:
            grant = self._state.codes.pop(code, None)
            if grant is None or grant.expires_at <= self._now() or grant.client_id != app.client_id:
                raise OAuthError("invalid_grant")
            if grant.redirect_uri != redirect_uri:
                raise OAuthError("invalid_grant")
            return self._connect(app.client_id, grant.realm_id, grant.scope, hard_expiry)

    def issue_tokens(self, client_id: str, realm_id: str, scope: str = ACCOUNTING_SCOPE) -> dict[str, Any]:
        """Connect the app to the company without the consent page and return Intuit's token response JSON
        (for the control API and tests). Raises KeyError for an unknown client id."""
        with self._lock:
            if client_id not in self._state.apps:
                raise KeyError(client_id)
            return self._connect(client_id, realm_id, scope, hard_expiry=True)

    def _connect(self, client_id: str, realm_id: str, scope: str, hard_expiry: bool) -> dict[str, Any]:
        connection = _Connection(client_id, realm_id, scope, self._now() + REFRESH_TOKEN_HARD_LIFETIME)
        self._state.connections.append(connection)
        return self._mint(connection, hard_expiry)

    def _mint(self, connection: _Connection, hard_expiry: bool) -> dict[str, Any]:
        now = self._now()
        access, refresh = secrets.token_urlsafe(48), "AB11" + secrets.token_urlsafe(36)
        refresh_expiry = min(now + REFRESH_TOKEN_LIFETIME, connection.hard_expires_at)
        self._state.access[access] = _AccessToken(connection, now + ACCESS_TOKEN_LIFETIME)
        self._state.refresh[refresh] = _RefreshToken(connection, refresh_expiry)
        body: dict[str, Any] = {
            "token_type": "bearer",
            "access_token": access,
            "expires_in": int(ACCESS_TOKEN_LIFETIME.total_seconds()),
            "refresh_token": refresh,
            "x_refresh_token_expires_in": _seconds_until(refresh_expiry, now),
        }
        if hard_expiry:
            body["x_refresh_token_hard_expires_in"] = _seconds_until(connection.hard_expires_at, now)
        return body

    # --- refresh and revoke ------------------------------------------------------------------------------
    def refresh(self, app: App, refresh_token: str, hard_expiry: bool = False) -> dict[str, Any]:
        """New access and refresh tokens; the presented refresh token keeps working for :data:`REFRESH_GRACE`
        after it was first replaced. Raises ``invalid_grant`` for an unknown, expired, revoked, out-of-grace or
        other app's refresh token."""
        with self._lock:
            now = self._now()
            token = self._state.refresh.get(refresh_token)
            if token is None or not self._refresh_usable(token, now) or token.connection.client_id != app.client_id:
                raise OAuthError("invalid_grant")
            if token.replaced_at is None:
                token.replaced_at = now
            return self._mint(token.connection, hard_expiry)

    @staticmethod
    def _refresh_usable(token: _RefreshToken, now: datetime) -> bool:
        if token.connection.revoked or token.expires_at <= now:
            return False
        return token.replaced_at is None or now < token.replaced_at + REFRESH_GRACE

    def revoke(self, app: App, token: str) -> None:
        """End the connection the (access or refresh) token belongs to. Raises ``invalid_grant`` if the token is
        unknown or another app's (unconfirmed: Intuit documents only "400 on failure"); revoking an already
        revoked connection's token succeeds again."""
        with self._lock:
            found = self._state.refresh.get(token) or self._state.access.get(token)
            if found is None or found.connection.client_id != app.client_id:
                raise OAuthError("invalid_grant")
            found.connection.revoked = True

    # --- the API's view ----------------------------------------------------------------------------------
    def authenticate(self, authorization: str | None, realm_id: str) -> str:
        """The client id behind an ``Authorization: Bearer …`` header for a call to ``realm_id``.

        Raises faults.authentication_failed() (401, code 3200) for a missing, malformed, unknown, expired or
        revoked token, and faults.authorization_failed(realm_id) (403, code 3100) for a valid token of another
        company."""
        scheme, _, value = (authorization or "").strip().partition(" ")
        if scheme.lower() != "bearer" or not value.strip():
            raise faults.authentication_failed()
        with self._lock:
            token = self._state.access.get(value.strip())
            if token is None or token.connection.revoked or token.expires_at <= self._now():
                raise faults.authentication_failed()
            if token.connection.realm_id != realm_id:
                raise faults.authorization_failed(realm_id)
            return token.connection.client_id

    def userinfo(self, authorization: str | None) -> dict[str, Any]:
        """OpenID userinfo for a valid access token: a stable ``sub`` per app and company; raises
        faults.authentication_failed() otherwise."""
        scheme, _, value = (authorization or "").strip().partition(" ")
        with self._lock:
            token = self._state.access.get(value.strip()) if scheme.lower() == "bearer" else None
            if token is None or token.connection.revoked or token.expires_at <= self._now():
                raise faults.authentication_failed()
            key = f"{token.connection.client_id}:{token.connection.realm_id}"
        sub = str(uuid.uuid5(uuid.NAMESPACE_URL, key))
        return {"sub": sub, "email": "sandbox-user@example.com", "emailVerified": True}

    def realms_of(self, client_id: str) -> set[str]:
        """Companies the app is connected to now: a live (unrevoked, unexpired) refresh token exists."""
        with self._lock:
            now = self._now()
            return {
                token.connection.realm_id
                for token in self._state.refresh.values()
                if token.connection.client_id == client_id and self._refresh_usable(token, now)
            }

    def connected_apps(self, realm_id: str) -> set[str]:
        """Client ids of the apps connected to the company now (the converse of :meth:`realms_of`)."""
        with self._lock:
            now = self._now()
            return {
                token.connection.client_id
                for token in self._state.refresh.values()
                if token.connection.realm_id == realm_id and self._refresh_usable(token, now)
            }

    def reset(self) -> None:
        """Forget every app, code and token."""
        with self._lock:
            self._state = _State()


def _readable(state: _State) -> tuple[_State, list[str]]:
    """``state`` without the entries a lone surrogate makes unusable, and what was left out."""
    apps = {cid: app for cid, app in state.apps.items() if flaw((cid, app)) is None}
    connections = [c for c in state.connections if c.client_id in apps and flaw(c) is None]
    live = {id(c) for c in connections}  # tokens share their connection object (pickle keeps that)
    kept = _State(
        apps=apps,
        codes={key: code for key, code in state.codes.items() if code.client_id in apps and flaw((key, code)) is None},
        access={key: t for key, t in state.access.items() if id(t.connection) in live and flaw(key) is None},
        refresh={key: t for key, t in state.refresh.items() if id(t.connection) in live and flaw(key) is None},
        connections=connections,
    )
    kinds = ("apps", "codes", "access", "refresh", "connections")
    labels = {"access": "access tokens", "refresh": "refresh tokens", "codes": "authorization codes"}
    return kept, [
        f"{gone} {labels.get(kind, kind)} left out of the state file: each held a string that is not Unicode "
        f"text, or belonged to an app or connection that did"
        for kind in kinds
        if (gone := len(getattr(state, kind)) - len(getattr(kept, kind)))
    ]


def _seconds_until(moment: datetime, now: datetime) -> int:
    return max(0, int((moment - now).total_seconds()))


def routes(registry: OAuthRegistry, companies: Callable[[], list[tuple[str, str]]]) -> list[BaseRoute]:
    """The OAuth HTTP routes (discovery, consent page, token, revoke, userinfo, jwks); ``companies`` lists
    ``(realm_id, name)`` for the consent page's company picker. See ``oauth_routes.py``."""
    from qbo_sandbox.oauth_routes import build_routes  # it imports this module; import late to avoid a cycle

    return build_routes(registry, companies)
