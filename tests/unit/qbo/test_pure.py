"""Pure helpers: JSON with Decimal, retry delays, Retry-After, token responses, the authorization URL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from urllib.parse import parse_qs, urlsplit

import pytest

from invoicebridge.qbo import jsonio
from invoicebridge.qbo.auth import Discovery, OAuthApp, StaticTokenSource, authorization_url, parse_tokens
from invoicebridge.qbo.client import QboConfig
from invoicebridge.qbo.errors import OAuthError, OutcomeUnknown, ServerError, Throttled, ValidationError
from invoicebridge.qbo.retry import backoff_delay, parse_retry_after, should_retry

NOW = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)
DISCOVERY = Discovery("https://a/authorize", "https://a/token", "https://a/revoke", "https://a/userinfo", "https://a")


def test_amounts_round_trip_exactly() -> None:
    body = jsonio.loads('{"Amount": 424.98, "Qty": 3, "Rate": 0.1}')

    assert body == {"Amount": Decimal("424.98"), "Qty": 3, "Rate": Decimal("0.1")}
    assert jsonio.dumps(body) == '{"Amount":424.98,"Qty":3,"Rate":0.1}'
    assert jsonio.dumps({"A": Decimal("150.00")}) == '{"A":150}'


def test_non_finite_amounts_are_refused() -> None:
    with pytest.raises(ValueError, match="not a JSON number"):
        jsonio.dumps({"A": Decimal("NaN")})


def test_throttling_is_always_retried_other_failures_only_when_replay_is_safe() -> None:
    assert should_retry(Throttled("t"), replay_safe=False)
    assert should_retry(ServerError("s"), replay_safe=True)
    assert not should_retry(ServerError("s"), replay_safe=False)
    assert not should_retry(OutcomeUnknown("o"), replay_safe=False)
    assert not should_retry(ValidationError("v"), replay_safe=True)


def test_backoff_doubles_up_to_the_ceiling_with_jitter() -> None:
    top = [backoff_delay(ServerError("s"), n, 0.5, 3.0, lambda: 1.0) for n in range(1, 6)]
    bottom = backoff_delay(ServerError("s"), 3, 0.5, 3.0, lambda: 0.0)

    assert top == [0.5, 1.0, 2.0, 3.0, 3.0]
    assert bottom == 1.0


def test_retry_after_wins_over_backoff() -> None:
    assert backoff_delay(Throttled("t", retry_after=7.0), 1, 0.5, 3.0, lambda: 1.0) == 7.0
    assert backoff_delay(Throttled("t"), 2, 0.5, 3.0, lambda: 1.0) == 1.0


def test_retry_after_in_seconds_or_as_a_date() -> None:
    assert parse_retry_after("2") == 2.0
    assert parse_retry_after("Mon, 05 Jan 2026 12:00:10 GMT", now=NOW) == 10.0
    assert parse_retry_after("soon") is None
    assert parse_retry_after(None) is None


def test_token_response_lifetimes_start_at_the_clock() -> None:
    body = {"access_token": "a", "refresh_token": "r", "expires_in": 3600, "x_refresh_token_expires_in": 8640000}

    tokens = parse_tokens(body, NOW)

    assert tokens.access_expires_at == NOW + timedelta(hours=1)
    assert tokens.refresh_expires_at == NOW + timedelta(days=100)
    assert tokens.refresh_hard_expires_at is None


def test_a_token_response_without_a_field_is_an_oauth_error() -> None:
    with pytest.raises(OAuthError, match="invalid_token_response"):
        parse_tokens({"access_token": "a"}, NOW)


def test_authorization_url_carries_what_intuit_needs() -> None:
    app = OAuthApp("cid", "secret", "https://me/callback")

    url = authorization_url(app, DISCOVERY, state="s1")

    query = parse_qs(urlsplit(url).query)
    assert url.startswith("https://a/authorize?")
    assert {k: v[0] for k, v in query.items()} == {
        "client_id": "cid",
        "response_type": "code",
        "scope": "com.intuit.quickbooks.accounting",
        "redirect_uri": "https://me/callback",
        "state": "s1",
    }
    assert "secret" not in repr(app)


def test_static_token_source_never_changes() -> None:
    source = StaticTokenSource("t")

    assert (source.access_token(), source.force_refresh()) == ("t", "t")


def test_config_refuses_retired_minor_versions() -> None:
    with pytest.raises(ValueError, match="75"):
        QboConfig(api_base="https://x/v3", minor_version=65)
