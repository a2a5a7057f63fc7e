"""The HTTP face of the sandbox's OAuth 2 (state and rules are in ``oauth.py``).

Routes (``async def`` handlers calling the synchronous, lock-guarded registry directly):

* ``GET /.well-known/openid_configuration`` and ``…/openid_sandbox_configuration`` (with or without the
  trailing slash Intuit's own URLs carry): the discovery document, naming *this* server's endpoints.
  ``intuit-oauth``'s ``AuthClient(environment=<discovery URL>)`` reads ``authorization_endpoint``,
  ``token_endpoint``, ``revocation_endpoint``, ``issuer``, ``jwks_uri`` and ``userinfo_endpoint`` from it.
* ``GET /oauth2/authorize``: the consent page with a company picker; ``POST`` (the form) redirects 302 to the
  ``redirect_uri`` with ``code``, ``state`` and ``realmId`` (or ``error=access_denied`` on Cancel). An unknown
  client or an unregistered redirect URI gets an error page, never a redirect (RFC 6749 §4.1.2.1).
* ``POST /oauth2/v1/tokens/bearer``: HTTP Basic client auth, form body (``authorization_code`` or
  ``refresh_token`` grant) → Intuit's token JSON; errors ``{"error": "invalid_grant"}`` 400,
  ``{"error": "invalid_client"}`` 401. The hard 5-year expiry is added when the request carries
  ``x-include-refresh-token-hard-expires-in: true``.
* ``POST /oauth2/v1/tokens/revoke``: Basic auth, JSON ``{"token": …}`` → 200 with an empty body.
* ``GET /v1/openid_connect/userinfo`` (Bearer) and ``GET /op/v1/jwks`` (an empty key set: the sandbox issues no
  ``id_token``, so nothing ever needs a key — intuit-oauth validates an ``id_token`` only when one is present).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

import jinja2
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from qbo_sandbox import faults, templating
from qbo_sandbox.oauth import ACCOUNTING_SCOPE, App, OAuthError, OAuthRegistry
from qbo_sandbox.text import flaw, is_text

Companies = Callable[[], list[tuple[str, str]]]
HARD_EXPIRY_HEADER = "x-include-refresh-token-hard-expires-in"
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


def discovery_document(base_url: str) -> dict[str, Any]:
    """Intuit's discovery document with every endpoint under ``base_url`` (no trailing slash)."""
    return {
        "issuer": f"{base_url}/op/v1",
        "authorization_endpoint": f"{base_url}/oauth2/authorize",
        "token_endpoint": f"{base_url}/oauth2/v1/tokens/bearer",
        "userinfo_endpoint": f"{base_url}/v1/openid_connect/userinfo",
        "revocation_endpoint": f"{base_url}/oauth2/v1/tokens/revoke",
        "jwks_uri": f"{base_url}/op/v1/jwks",
        "response_types_supported": ["code"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "scopes_supported": ["openid", "email", "profile", "address", "phone"],
        "token_endpoint_auth_methods_supported": ["client_secret_post", "client_secret_basic"],
        "claims_supported": ["aud", "exp", "iat", "iss", "realmid", "sub"],
    }


def build_routes(registry: OAuthRegistry, companies: Companies) -> list[BaseRoute]:
    """Every OAuth route, bound to ``registry``; ``companies`` lists ``(realm_id, name)`` for the picker."""
    env = templating.environment()
    handlers = _Handlers(registry, companies, env)
    discovery = [
        Route(path, handlers.discovery, methods=["GET"])
        for name in ("openid_configuration", "openid_sandbox_configuration")
        for path in (f"/.well-known/{name}", f"/.well-known/{name}/")
    ]
    return [
        *discovery,
        Route("/oauth2/authorize", handlers.authorize_page, methods=["GET"]),
        Route("/oauth2/authorize", handlers.consent, methods=["POST"]),
        Route("/oauth2/v1/tokens/bearer", handlers.token, methods=["POST"]),
        Route("/oauth2/v1/tokens/revoke", handlers.revoke, methods=["POST"]),
        Route("/v1/openid_connect/userinfo", handlers.userinfo, methods=["GET"]),
        Route("/op/v1/jwks", handlers.jwks, methods=["GET"]),
    ]


class _Handlers:
    def __init__(self, registry: OAuthRegistry, companies: Companies, env: jinja2.Environment) -> None:
        self.registry = registry
        self.companies = companies
        self.env = env

    async def discovery(self, request: Request) -> Response:
        return JSONResponse(discovery_document(_base_url(request)))

    async def authorize_page(self, request: Request) -> Response:
        params = dict(request.query_params)
        refusal = self._refuse_authorize(params)
        if refusal is not None:
            return refusal
        return templating.render(
            self.env,
            "consent.html",
            action=request.url.path,
            client_id=params["client_id"],
            redirect_uri=params["redirect_uri"],
            scope=params.get("scope", ""),
            state=params.get("state", ""),
            companies=self.companies(),
        )

    async def consent(self, request: Request) -> Response:
        try:
            params = await _form(request)
        except OAuthError:
            return self._error_page("invalid_request", "The form holds a character that is not Unicode text.")
        refusal = self._refuse_authorize(params)
        if refusal is not None:
            return refusal
        if params.get("decision") == "cancel":
            return _redirect(params, {"error": "access_denied"})
        realm_id = params.get("realmId", "")
        if realm_id not in {realm for realm, _ in self.companies()}:
            return self._error_page("invalid_request", f"No company with realmId {realm_id!r}.")
        code = self.registry.issue_code(params["client_id"], realm_id, params["redirect_uri"], params["scope"])
        return _redirect(params, {"code": code, "realmId": realm_id})

    def _refuse_authorize(self, params: dict[str, str]) -> Response | None:
        """An error page or error redirect for a bad authorize request; None if it is acceptable."""
        app = self.registry.app(params.get("client_id", ""))
        if app is None:
            return self._error_page("invalid_client", "The client_id is not a registered app.")
        if params.get("redirect_uri") not in app.redirect_uris:
            return self._error_page("invalid_request", "The redirect_uri is not registered for this app.")
        if params.get("response_type") != "code":
            return _redirect(params, {"error": "unsupported_response_type"})
        if ACCOUNTING_SCOPE not in params.get("scope", "").split():
            return _redirect(params, {"error": "invalid_scope"})
        return None

    def _error_page(self, error: str, detail: str) -> Response:
        return templating.render(self.env, "oauth_error.html", status=400, error=error, detail=detail)

    async def token(self, request: Request) -> Response:
        try:
            app = self._client(request)
            form = await _form(request)
            hard = request.headers.get(HARD_EXPIRY_HEADER, "").lower() == "true"
            body = self._grant(app, form, hard)
        except OAuthError as error:
            return _oauth_error(error)
        return JSONResponse(body, headers=NO_STORE)

    def _grant(self, app: App, form: dict[str, str], hard: bool) -> dict[str, Any]:
        grant_type = form.get("grant_type")
        if grant_type == "authorization_code":
            if not form.get("code") or not form.get("redirect_uri"):
                raise OAuthError("invalid_request")
            return self.registry.exchange_code(app, form["code"], form["redirect_uri"], hard)
        if grant_type == "refresh_token":
            if not form.get("refresh_token"):
                raise OAuthError("invalid_request")
            return self.registry.refresh(app, form["refresh_token"], hard)
        raise OAuthError("unsupported_grant_type")

    async def revoke(self, request: Request) -> Response:
        try:
            app = self._client(request)
            token = _json_token(await request.body())
            self.registry.revoke(app, token)
        except OAuthError as error:
            return _oauth_error(error)
        return Response(status_code=200)

    async def userinfo(self, request: Request) -> Response:
        try:
            return JSONResponse(self.registry.userinfo(request.headers.get("authorization")))
        except faults.SandboxFault as fault:
            return JSONResponse(fault.to_body(), status_code=fault.status)

    async def jwks(self, request: Request) -> Response:
        return JSONResponse({"keys": []})

    def _client(self, request: Request) -> App:
        """The app authenticated by HTTP Basic; ``invalid_client`` (401) otherwise."""
        scheme, _, encoded = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "basic":
            raise OAuthError("invalid_client", 401)
        try:
            client_id, colon, secret = base64.b64decode(encoded.strip(), validate=True).decode().partition(":")
        except ValueError:  # binascii.Error, UnicodeDecodeError, and a header with non-ASCII characters
            raise OAuthError("invalid_client", 401) from None
        if not colon:
            raise OAuthError("invalid_client", 401)
        return self.registry.check_client(client_id, secret)


async def _form(request: Request) -> dict[str, str]:
    """The posted form; ``invalid_request`` when a field is not Unicode text — a multipart form may name any
    charset, and some (``unicode_escape``, ``utf-7``) decode to lone surrogates, which break the redirect and
    every page that shows them (text.py)."""
    form = {key: str(value) for key, value in (await request.form()).items()}
    if flaw(form) is not None:
        raise OAuthError("invalid_request")
    return form


def _json_token(raw: bytes) -> str:
    try:
        body = json.loads(raw or b"{}")
    except (ValueError, RecursionError):  # RecursionError: nested about 1000 levels deep
        raise OAuthError("invalid_request") from None
    token = body.get("token") if isinstance(body, dict) else None
    if not isinstance(token, str) or not token or not is_text(token):
        raise OAuthError("invalid_request")
    return token


def _oauth_error(error: OAuthError) -> Response:
    headers = dict(NO_STORE)
    if error.status == 401:
        headers["WWW-Authenticate"] = 'Basic realm="qbo_sandbox"'
    return JSONResponse({"error": error.error}, status_code=error.status, headers=headers)


def _redirect(params: dict[str, str], extra: dict[str, str]) -> Response:
    """302 to the (already validated) redirect URI with ``extra`` and the caller's ``state``."""
    query = {**extra, "state": params.get("state", "")}
    separator = "&" if "?" in params["redirect_uri"] else "?"
    return RedirectResponse(params["redirect_uri"] + separator + urlencode(query), status_code=302)


def _base_url(request: Request) -> str:
    return str(request.base_url).rstrip("/")
