"""OAuthRegistry: codes, tokens, rotation, expiry and revocation, on a clock the tests move."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from qbo_sandbox import faults
from qbo_sandbox.oauth import REFRESH_GRACE, App, OAuthError, OAuthRegistry

REDIRECT = "https://client.example/callback"


class Clock:
    def __init__(self) -> None:
        self.moment = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.moment

    def advance(self, **delta: float) -> None:
        self.moment += timedelta(**delta)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def registry(clock: Clock) -> OAuthRegistry:
    return OAuthRegistry(now=clock)


@pytest.fixture
def app(registry: OAuthRegistry) -> App:
    return registry.register_app([REDIRECT], webhook_url="https://client.example/hooks")


def bearer(tokens: dict[str, object]) -> str:
    return f"Bearer {tokens['access_token']}"


def test_registered_app_has_distinct_credentials_and_is_listed(registry: OAuthRegistry) -> None:
    first = registry.register_app([REDIRECT])
    second = registry.register_app([REDIRECT], webhook_format="legacy")
    assert first.client_id != second.client_id
    assert first.verifier_token != second.verifier_token
    assert [a.client_id for a in registry.apps()] == [first.client_id, second.client_id]
    assert second.webhook_format == "legacy"


def test_issued_tokens_look_like_intuits_response(registry: OAuthRegistry, app: App) -> None:
    tokens = registry.issue_tokens(app.client_id, "9130")
    assert tokens["token_type"] == "bearer"
    assert tokens["expires_in"] == 3600
    assert tokens["x_refresh_token_expires_in"] == 100 * 86400
    assert tokens["x_refresh_token_hard_expires_in"] == 5 * 365 * 86400
    assert registry.authenticate(bearer(tokens), "9130") == app.client_id


def test_access_token_stops_working_after_an_hour(registry: OAuthRegistry, app: App, clock: Clock) -> None:
    tokens = registry.issue_tokens(app.client_id, "9130")
    clock.advance(seconds=3599)
    registry.authenticate(bearer(tokens), "9130")
    clock.advance(seconds=1)
    with pytest.raises(faults.AuthenticationFault) as caught:
        registry.authenticate(bearer(tokens), "9130")
    assert caught.value.errors[0].code == "3200"
    assert caught.value.status == 401


@pytest.mark.parametrize("header", [None, "", "Bearer", "Basic abc", "Bearer not-a-token"])
def test_missing_or_unknown_token_fails_authentication(registry: OAuthRegistry, header: str | None) -> None:
    with pytest.raises(faults.AuthenticationFault):
        registry.authenticate(header, "9130")


def test_token_of_another_company_fails_authorization(registry: OAuthRegistry, app: App) -> None:
    tokens = registry.issue_tokens(app.client_id, "9130")
    with pytest.raises(faults.AuthorizationFault) as caught:
        registry.authenticate(bearer(tokens), "4620")
    assert caught.value.errors[0].code == "3100"


def test_code_is_single_use(registry: OAuthRegistry, app: App) -> None:
    code = registry.issue_code(app.client_id, "9130", REDIRECT, "com.intuit.quickbooks.accounting")
    tokens = registry.exchange_code(app, code, REDIRECT)
    assert registry.authenticate(bearer(tokens), "9130") == app.client_id
    with pytest.raises(OAuthError, match="invalid_grant"):
        registry.exchange_code(app, code, REDIRECT)


def test_code_expires_after_five_minutes(registry: OAuthRegistry, app: App, clock: Clock) -> None:
    code = registry.issue_code(app.client_id, "9130", REDIRECT, "com.intuit.quickbooks.accounting")
    clock.advance(minutes=5)
    with pytest.raises(OAuthError, match="invalid_grant"):
        registry.exchange_code(app, code, REDIRECT)


def test_code_needs_the_same_redirect_uri_and_app(registry: OAuthRegistry, app: App) -> None:
    other = registry.register_app([REDIRECT])
    code = registry.issue_code(app.client_id, "9130", REDIRECT, "com.intuit.quickbooks.accounting")
    with pytest.raises(OAuthError, match="invalid_grant"):
        registry.exchange_code(other, code, REDIRECT)
    code = registry.issue_code(app.client_id, "9130", REDIRECT, "com.intuit.quickbooks.accounting")
    with pytest.raises(OAuthError, match="invalid_grant"):
        registry.exchange_code(app, code, "https://elsewhere.example/cb")


def test_refresh_rotates_and_the_old_token_works_only_during_the_grace(
    registry: OAuthRegistry, app: App, clock: Clock
) -> None:
    first = registry.issue_tokens(app.client_id, "9130")
    second = registry.refresh(app, first["refresh_token"])
    assert second["refresh_token"] != first["refresh_token"]
    assert second["access_token"] != first["access_token"]
    clock.advance(seconds=REFRESH_GRACE.total_seconds() - 1)
    registry.refresh(app, first["refresh_token"])
    clock.advance(seconds=1)
    with pytest.raises(OAuthError, match="invalid_grant"):
        registry.refresh(app, first["refresh_token"])
    assert registry.refresh(app, second["refresh_token"])["expires_in"] == 3600


def test_refresh_token_expires_after_100_unused_days(registry: OAuthRegistry, app: App, clock: Clock) -> None:
    tokens = registry.issue_tokens(app.client_id, "9130")
    clock.advance(days=99)
    tokens = registry.refresh(app, tokens["refresh_token"])
    assert tokens["x_refresh_token_expires_in"] == 100 * 86400
    clock.advance(days=100)
    with pytest.raises(OAuthError, match="invalid_grant"):
        registry.refresh(app, tokens["refresh_token"])
    assert registry.realms_of(app.client_id) == set()


def test_refresh_never_outlives_the_five_year_cap(registry: OAuthRegistry, app: App, clock: Clock) -> None:
    tokens = registry.issue_tokens(app.client_id, "9130")
    for _ in range(19):  # 19 x 96 days = 1824 days: one day short of 5 x 365
        clock.advance(days=96)
        tokens = registry.refresh(app, tokens["refresh_token"], hard_expiry=True)
    assert tokens["x_refresh_token_hard_expires_in"] == 86400
    assert tokens["x_refresh_token_expires_in"] == 86400
    clock.advance(days=1)
    with pytest.raises(OAuthError, match="invalid_grant"):
        registry.refresh(app, tokens["refresh_token"])


def test_hard_expiry_field_only_on_request(registry: OAuthRegistry, app: App) -> None:
    tokens = registry.issue_tokens(app.client_id, "9130")
    assert "x_refresh_token_hard_expires_in" not in registry.refresh(app, tokens["refresh_token"])


def test_refresh_token_of_another_app_is_refused(registry: OAuthRegistry, app: App) -> None:
    other = registry.register_app([REDIRECT])
    tokens = registry.issue_tokens(app.client_id, "9130")
    with pytest.raises(OAuthError, match="invalid_grant"):
        registry.refresh(other, tokens["refresh_token"])


@pytest.mark.parametrize("which", ["access_token", "refresh_token"])
def test_revoking_either_token_ends_the_connection(registry: OAuthRegistry, app: App, which: str) -> None:
    tokens = registry.issue_tokens(app.client_id, "9130")
    registry.revoke(app, tokens[which])
    with pytest.raises(faults.AuthenticationFault):
        registry.authenticate(bearer(tokens), "9130")
    with pytest.raises(OAuthError, match="invalid_grant"):
        registry.refresh(app, tokens["refresh_token"])
    assert registry.realms_of(app.client_id) == set()


def test_realms_of_lists_connected_companies_only(registry: OAuthRegistry, app: App) -> None:
    registry.issue_tokens(app.client_id, "9130")
    doomed = registry.issue_tokens(app.client_id, "4620")
    registry.issue_tokens(registry.register_app([REDIRECT]).client_id, "7777")
    registry.revoke(app, doomed["refresh_token"])
    assert registry.realms_of(app.client_id) == {"9130"}


def test_wrong_client_secret_is_invalid_client(registry: OAuthRegistry, app: App) -> None:
    with pytest.raises(OAuthError) as caught:
        registry.check_client(app.client_id, "wrong")
    assert (caught.value.error, caught.value.status) == ("invalid_client", 401)
    assert registry.check_client(app.client_id, app.client_secret) is app


def test_reset_forgets_apps_and_tokens(registry: OAuthRegistry, app: App) -> None:
    tokens = registry.issue_tokens(app.client_id, "9130")
    registry.reset()
    assert registry.apps() == []
    with pytest.raises(faults.AuthenticationFault):
        registry.authenticate(bearer(tokens), "9130")
