"""Intuit's OAuth 2 as the running sandbox plays it, end to end with the API over real HTTP: discovery, the
consent page and its redirect, code exchange, refresh rotation, expiry by the sandbox clock, another company's
token, revoke."""

from __future__ import annotations

import base64
import html
import re
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from tests.contract.sandbox.conftest import Qbo
from tests.contract.sandbox.serving_support import assert_fault, create_invoice, invoice_body
from tests.webhook_receiver import running_receiver

REDIRECT = "https://client.example/qbo/callback"
SCOPE = "com.intuit.quickbooks.accounting"
AUTH_MESSAGE = "message=AuthenticationFailed; errorCode=003200; statusCode=401"


def _basic(app: dict[str, Any]) -> dict[str, str]:
    raw = f"{app['client_id']}:{app['client_secret']}".encode()
    return {"Authorization": "Basic " + base64.b64encode(raw).decode(), "Accept": "application/json"}


def _setup(control: httpx.Client, *names: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    app = control.post("/_sandbox/apps", json={"redirect_uris": [REDIRECT]}).json()
    companies = [control.post("/_sandbox/companies", json={"name": name}).json() for name in names]
    return app, companies


def _authorize_params(app: dict[str, Any], state: str = "st-123") -> dict[str, str]:
    return {"client_id": app["client_id"], "redirect_uri": REDIRECT, "response_type": "code", "scope": SCOPE,
            "state": state}  # fmt: skip


def _consent(control: httpx.Client, app: dict[str, Any], realm_id: str, state: str = "st-123") -> dict[str, str]:
    """Post the consent form as the page would; the redirect's query parameters."""
    form = {**_authorize_params(app, state), "realmId": realm_id, "decision": "connect"}
    answer = control.post("/oauth2/authorize", data=form)
    assert answer.status_code == 302, answer.text
    location = urlsplit(answer.headers["location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == REDIRECT
    return {key: values[0] for key, values in parse_qs(location.query).items()}


def _exchange(control: httpx.Client, app: dict[str, Any], code: str) -> httpx.Response:
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT}
    return control.post("/oauth2/v1/tokens/bearer", data=form, headers=_basic(app))


def _refresh(control: httpx.Client, app: dict[str, Any], refresh_token: str) -> httpx.Response:
    form = {"grant_type": "refresh_token", "refresh_token": refresh_token}
    return control.post("/oauth2/v1/tokens/bearer", data=form, headers=_basic(app))


def _connected(control: httpx.Client, app: dict[str, Any], company: dict[str, Any]) -> Qbo:
    code = _consent(control, app, company["realm_id"])["code"]
    tokens = _exchange(control, app, code)
    assert tokens.status_code == 200, tokens.text
    return Qbo(control, app, company, tokens.json())


def _info(qbo: Qbo) -> httpx.Response:
    return qbo.get(f"companyinfo/{qbo.realm_id}")


def _assert_unauthenticated(response: httpx.Response) -> None:
    error = assert_fault(response, 401, "AUTHENTICATION", "3200")
    assert error == {"Message": AUTH_MESSAGE, "Detail": "", "code": "3200", "element": ""}


@pytest.mark.parametrize(
    "path",
    [
        "/.well-known/openid_configuration",
        "/.well-known/openid_configuration/",
        "/.well-known/openid_sandbox_configuration",
        "/.well-known/openid_sandbox_configuration/",
    ],
)
def test_discovery_names_this_servers_endpoints(control: httpx.Client, path: str) -> None:
    answer = control.get(path)
    assert answer.status_code == 200
    base = str(control.base_url).rstrip("/")
    document = answer.json()
    assert {key: document[key] for key in ("issuer", "authorization_endpoint", "token_endpoint",
                                           "userinfo_endpoint", "revocation_endpoint", "jwks_uri")} == {
        "issuer": f"{base}/op/v1",
        "authorization_endpoint": f"{base}/oauth2/authorize",
        "token_endpoint": f"{base}/oauth2/v1/tokens/bearer",
        "userinfo_endpoint": f"{base}/v1/openid_connect/userinfo",
        "revocation_endpoint": f"{base}/oauth2/v1/tokens/revoke",
        "jwks_uri": f"{base}/op/v1/jwks",
    }  # fmt: skip
    assert document["response_types_supported"] == ["code"]
    assert "client_secret_basic" in document["token_endpoint_auth_methods_supported"]
    jwks = control.get(urlsplit(document["jwks_uri"]).path)
    assert jwks.status_code == 200
    assert jwks.json() == {"keys": []}


def test_the_authorize_page_lists_the_companies(control: httpx.Client) -> None:
    app, companies = _setup(control, "Alpha & Sons", "Beta Ltd")
    page = control.get("/oauth2/authorize", params=_authorize_params(app))
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    options = re.findall(r'<option value="(\d+)">([^<]*)</option>', page.text)
    assert [(realm, html.unescape(label)) for realm, label in options] == [
        (c["realm_id"], f"{c['name']} ({c['realm_id']})") for c in companies
    ]
    assert f'name="client_id" value="{app["client_id"]}"' in page.text
    assert 'name="state" value="st-123"' in page.text


def test_the_authorize_page_refuses_unknown_clients_and_redirects(control: httpx.Client) -> None:
    app, _ = _setup(control, "Alpha")
    unknown = control.get("/oauth2/authorize", params={**_authorize_params(app), "client_id": "nope"})
    assert unknown.status_code == 400
    assert "invalid_client" in unknown.text
    foreign = control.get(
        "/oauth2/authorize", params={**_authorize_params(app), "redirect_uri": "https://evil.example/"}
    )
    assert foreign.status_code == 400
    assert "invalid_request" in foreign.text
    no_scope = control.get("/oauth2/authorize", params={**_authorize_params(app), "scope": "openid"})
    assert no_scope.status_code == 302
    assert no_scope.headers["location"] == f"{REDIRECT}?error=invalid_scope&state=st-123"


def test_consent_redirects_with_code_state_and_realm(control: httpx.Client) -> None:
    app, (_, beta) = _setup(control, "Alpha", "Beta")
    query = _consent(control, app, beta["realm_id"], state="xyz 1")
    assert set(query) == {"code", "state", "realmId"}
    assert query["state"] == "xyz 1"
    assert query["realmId"] == beta["realm_id"]
    assert query["code"]


def test_cancel_redirects_with_access_denied(control: httpx.Client) -> None:
    app, (alpha,) = _setup(control, "Alpha")
    form = {**_authorize_params(app), "realmId": alpha["realm_id"], "decision": "cancel"}
    answer = control.post("/oauth2/authorize", data=form)
    assert answer.status_code == 302
    assert answer.headers["location"] == f"{REDIRECT}?error=access_denied&state=st-123"


def test_code_exchange_gives_tokens_that_work_with_the_api(control: httpx.Client) -> None:
    app, (alpha,) = _setup(control, "Alpha")
    code = _consent(control, app, alpha["realm_id"])["code"]
    answer = _exchange(control, app, code)
    assert answer.status_code == 200
    assert answer.headers["cache-control"] == "no-store"
    tokens = answer.json()
    assert set(tokens) == {"token_type", "access_token", "expires_in", "refresh_token", "x_refresh_token_expires_in"}
    assert tokens["token_type"] == "bearer"
    assert tokens["expires_in"] == 3600
    assert tokens["x_refresh_token_expires_in"] == 8640000
    qbo = Qbo(control, app, alpha, tokens)
    assert _info(qbo).json()["CompanyInfo"]["CompanyName"] == "Alpha"
    again = _exchange(control, app, code)  # a code is single use
    assert again.status_code == 400
    assert again.json() == {"error": "invalid_grant"}
    userinfo = control.get("/v1/openid_connect/userinfo", headers=qbo.headers())
    assert userinfo.status_code == 200
    assert set(userinfo.json()) == {"sub", "email", "emailVerified"}


def test_the_token_endpoint_needs_the_apps_credentials(control: httpx.Client) -> None:
    app, (alpha,) = _setup(control, "Alpha")
    code = _consent(control, app, alpha["realm_id"])["code"]
    wrong = _exchange(control, {**app, "client_secret": "wrong"}, code)
    assert wrong.status_code == 401
    assert wrong.json() == {"error": "invalid_client"}
    assert wrong.headers["www-authenticate"] == 'Basic realm="qbo_sandbox"'
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT}
    no_basic = control.post("/oauth2/v1/tokens/bearer", data=form)
    assert no_basic.status_code == 401
    assert no_basic.json() == {"error": "invalid_client"}
    other_redirect = control.post("/oauth2/v1/tokens/bearer", data={**form, "redirect_uri": "https://x.example/"},
                                  headers=_basic(app))  # fmt: skip
    assert other_redirect.status_code == 400
    assert other_redirect.json() == {"error": "invalid_grant"}


def test_refresh_rotates_the_refresh_token(control: httpx.Client) -> None:
    app, (alpha,) = _setup(control, "Alpha")
    qbo = _connected(control, app, alpha)
    first = qbo.tokens
    answer = _refresh(control, app, first["refresh_token"])
    assert answer.status_code == 200
    second = answer.json()
    assert second["refresh_token"] != first["refresh_token"]
    assert second["access_token"] != first["access_token"]
    assert _info(Qbo(control, app, alpha, second)).status_code == 200
    assert _info(qbo).status_code == 200  # the older access token lives until it expires
    # the replaced refresh token keeps working for 24 hours, then fails; the newest keeps working
    control.post("/_sandbox/clock/advance", json={"seconds": 25 * 3600}).raise_for_status()
    stale = _refresh(control, app, first["refresh_token"])
    assert stale.status_code == 400
    assert stale.json() == {"error": "invalid_grant"}
    assert _refresh(control, app, second["refresh_token"]).status_code == 200


def test_an_expired_access_token_is_refused_until_refreshed(control: httpx.Client) -> None:
    app, (alpha,) = _setup(control, "Alpha")
    qbo = _connected(control, app, alpha)
    control.post("/_sandbox/clock/advance", json={"seconds": 3599}).raise_for_status()
    assert _info(qbo).status_code == 200
    control.post("/_sandbox/clock/advance", json={"seconds": 2}).raise_for_status()
    _assert_unauthenticated(_info(qbo))
    _assert_unauthenticated(qbo.post("invoice", json={}))  # refused before the body is looked at
    assert control.get("/v1/openid_connect/userinfo", headers=qbo.headers()).status_code == 401
    refreshed = _refresh(control, app, qbo.tokens["refresh_token"])
    assert refreshed.status_code == 200
    qbo.tokens = refreshed.json()
    assert _info(qbo).status_code == 200


def test_a_token_for_another_company_is_forbidden(control: httpx.Client) -> None:
    app, (alpha, beta) = _setup(control, "Alpha", "Beta")
    qbo = _connected(control, app, alpha)
    elsewhere = control.get(f"/v3/company/{beta['realm_id']}/companyinfo/{beta['realm_id']}", headers=qbo.headers())
    error = assert_fault(elsewhere, 403, "AuthorizationFault", "3100")
    assert error["Message"] == "message=ApplicationAuthorizationFailed; errorCode=003100; statusCode=403"
    assert error["Detail"] == f"The application is not authorized for company {beta['realm_id']}"


@pytest.mark.parametrize("header", [None, "Bearer", "Basic abc", "Bearer not-a-token"])
def test_missing_or_unknown_tokens_are_unauthenticated(control: httpx.Client, header: str | None) -> None:
    _, (alpha,) = _setup(control, "Alpha")
    headers = {"Accept": "application/json", **({"Authorization": header} if header else {})}
    _assert_unauthenticated(control.get(f"/v3/company/{alpha['realm_id']}/companyinfo/{alpha['realm_id']}",
                                        headers=headers))  # fmt: skip


@pytest.mark.parametrize("which", ["access_token", "refresh_token"])
def test_revoke_ends_the_connection(control: httpx.Client, which: str) -> None:
    app, (alpha,) = _setup(control, "Alpha")
    qbo = _connected(control, app, alpha)
    revoked = control.post("/oauth2/v1/tokens/revoke", json={"token": qbo.tokens[which]}, headers=_basic(app))
    assert revoked.status_code == 200
    assert revoked.content == b""
    _assert_unauthenticated(_info(qbo))
    again = _refresh(control, app, qbo.tokens["refresh_token"])
    assert again.status_code == 400
    assert again.json() == {"error": "invalid_grant"}


def test_revoke_refuses_unknown_tokens_and_other_apps(control: httpx.Client) -> None:
    app, (alpha,) = _setup(control, "Alpha")
    other = control.post("/_sandbox/apps", json={"redirect_uris": [REDIRECT]}).json()
    qbo = _connected(control, app, alpha)
    unknown = control.post("/oauth2/v1/tokens/revoke", json={"token": "nope"}, headers=_basic(app))
    assert unknown.status_code == 400
    assert unknown.json() == {"error": "invalid_grant"}
    foreign = control.post("/oauth2/v1/tokens/revoke", json={"token": qbo.tokens["access_token"]},
                           headers=_basic(other))  # fmt: skip
    assert foreign.status_code == 400
    assert _info(qbo).status_code == 200


def test_a_revoked_app_gets_no_more_webhooks(control: httpx.Client) -> None:
    app, (alpha,) = _setup(control, "Alpha")
    qbo = _connected(control, app, alpha)
    with running_receiver() as receiver:
        control.post("/_sandbox/webhooks/flush").raise_for_status()
        control.patch(f"/_sandbox/apps/{app['client_id']}", json={"webhook_url": receiver.url}).raise_for_status()
        create_invoice(qbo, invoice_body(qbo))
        control.post("/_sandbox/webhooks/flush").raise_for_status()
        assert len(receiver.received()) == 1
        body = invoice_body(qbo)
        control.post("/oauth2/v1/tokens/revoke", json={"token": qbo.tokens["refresh_token"]},
                     headers=_basic(app)).raise_for_status()  # fmt: skip
        other = control.post("/_sandbox/apps", json={"redirect_uris": [REDIRECT]}).json()
        writer = Qbo(control, other, alpha, control.post("/_sandbox/tokens", json={
            "client_id": other["client_id"], "realm_id": alpha["realm_id"]}).json())  # fmt: skip
        create_invoice(writer, body)
        control.post("/_sandbox/webhooks/flush").raise_for_status()
        assert len(receiver.received()) == 1


def test_the_consent_form_round_trips_like_a_browser(control: httpx.Client) -> None:
    """Submit the form the page serves (its action and hidden fields, the chosen company) as a browser does."""
    app, (_, beta) = _setup(control, "Alpha", "Beta")
    state = "a\"b'<c>&d é"
    page = control.get("/oauth2/authorize", params=_authorize_params(app, state))
    assert page.status_code == 200
    form = re.search(r'<form method="post" action="([^"]*)"', page.text)
    assert form is not None
    action = html.unescape(form.group(1))
    hidden = re.findall(r'<input type="hidden" name="([^"]*)" value="([^"]*)"', page.text)
    fields = {html.unescape(name): html.unescape(value) for name, value in hidden}
    assert fields["state"] == state
    answer = control.post(action, data={**fields, "realmId": beta["realm_id"], "decision": "connect"})
    assert answer.status_code == 302
    query = {key: values[0] for key, values in parse_qs(urlsplit(answer.headers["location"]).query).items()}
    assert query["state"] == state
    assert query["realmId"] == beta["realm_id"]
    assert _exchange(control, app, query["code"]).status_code == 200


def test_token_endpoint_errors(control: httpx.Client) -> None:
    app, _ = _setup(control, "Alpha")
    post = control.post
    assert post("/oauth2/v1/tokens/bearer", data={"grant_type": "password"}, headers=_basic(app)).json() == {
        "error": "unsupported_grant_type"
    }
    missing_code = post("/oauth2/v1/tokens/bearer", data={"grant_type": "authorization_code", "redirect_uri": REDIRECT},
                        headers=_basic(app))  # fmt: skip
    assert missing_code.status_code == 400
    assert missing_code.json() == {"error": "invalid_request"}
    missing_refresh = post("/oauth2/v1/tokens/bearer", data={"grant_type": "refresh_token"}, headers=_basic(app))
    assert missing_refresh.status_code == 400
    assert missing_refresh.json() == {"error": "invalid_request"}
    no_type = control.get("/oauth2/authorize", params={**_authorize_params(app), "response_type": "token"})
    assert no_type.status_code == 302
    assert no_type.headers["location"] == f"{REDIRECT}?error=unsupported_response_type&state=st-123"
    unknown_realm = post("/oauth2/authorize", data={**_authorize_params(app), "realmId": "123", "decision": "connect"})
    assert unknown_realm.status_code == 400
    assert "invalid_request" in unknown_realm.text


def test_codes_and_refresh_tokens_expire_on_the_sandbox_clock(control: httpx.Client) -> None:
    app, (alpha,) = _setup(control, "Alpha")
    code = _consent(control, app, alpha["realm_id"])["code"]
    control.post("/_sandbox/clock/advance", json={"seconds": 301}).raise_for_status()
    late = _exchange(control, app, code)
    assert late.status_code == 400
    assert late.json() == {"error": "invalid_grant"}
    qbo = _connected(control, app, alpha)
    control.post("/_sandbox/clock/advance", json={"seconds": 100 * 86400 + 1}).raise_for_status()
    expired = _refresh(control, app, qbo.tokens["refresh_token"])
    assert expired.status_code == 400
    assert expired.json() == {"error": "invalid_grant"}


def test_the_hard_expiry_is_reported_on_request(control: httpx.Client) -> None:
    app, (alpha,) = _setup(control, "Alpha")
    qbo = _connected(control, app, alpha)
    form = {"grant_type": "refresh_token", "refresh_token": qbo.tokens["refresh_token"]}
    headers = {**_basic(app), "x-include-refresh-token-hard-expires-in": "true"}
    answer = control.post("/oauth2/v1/tokens/bearer", data=form, headers=headers)
    assert answer.status_code == 200
    body = answer.json()
    assert 5 * 365 * 86400 - 60 <= body["x_refresh_token_hard_expires_in"] <= 5 * 365 * 86400
    assert body["x_refresh_token_expires_in"] == 100 * 86400
