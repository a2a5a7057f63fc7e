"""Settings: secrets never show in a repr (tracebacks, logs, test output); bad values are refused with the reason."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from invoicebridge.settings import Settings


def test_secrets_stay_out_of_reprs() -> None:
    settings = Settings(
        qbo_client_secret="s3cret-app", qbo_webhook_verifier_token="s3cret-hook", token_keys="s3cret-key"
    )
    shown = repr(settings) + str(settings)
    assert "s3cret" not in shown
    assert settings.qbo_client_secret.get_secret_value() == "s3cret-app"
    assert settings.fernet_keys() == ["s3cret-key"]


@pytest.mark.parametrize(
    ("field", "value", "reason"),
    [
        ("qbo_environment", "staging", "qbo_environment must be one of"),
        ("qbo_minor_version", 65, "75 or later"),
        ("cdc_poll_minutes", 0, "between 1 and 59"),
    ],
)
def test_bad_values_are_refused_with_the_reason(field: str, value: object, reason: str) -> None:
    with pytest.raises(ValidationError, match=reason):
        Settings(**{field: value})


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "::1"])
def test_serving_on_loopback_has_no_problems_even_with_generated_keys(host: str) -> None:
    assert Settings(secret_key="", behind_tls=False).serving_problems(host) == []


def test_serving_beyond_loopback_needs_a_configured_secret_key_and_tls() -> None:
    problems = Settings(secret_key="", behind_tls=False).serving_problems("0.0.0.0")
    assert len(problems) == 2
    assert "INVOICEBRIDGE_SECRET_KEY" in problems[0]
    assert "INVOICEBRIDGE_BEHIND_TLS=true" in problems[1]
    keyed = Settings(secret_key="k" * 40, behind_tls=False).serving_problems("10.0.0.5")
    assert len(keyed) == 1
    assert "without TLS" in keyed[0]
    assert Settings(secret_key="k" * 40, behind_tls=True).serving_problems("0.0.0.0") == []


def test_a_short_secret_key_is_refused() -> None:
    with pytest.raises(ValidationError, match="at least 32 characters"):
        Settings(secret_key="too-short")


def test_links_point_at_the_public_url_or_this_process() -> None:
    assert Settings(host="127.0.0.1", port=8123).site_url() == "http://127.0.0.1:8123"
    assert Settings(host="::1", port=80, behind_tls=True).site_url() == "https://[::1]:80"
    assert Settings(public_url="https://invoices.example.com/").site_url() == "https://invoices.example.com"
    for bad in ("invoices.example.com", "javascript:alert(1)", "https://a b"):
        with pytest.raises(ValidationError, match="public_url"):
            Settings(public_url=bad)


def test_the_generated_secret_key_is_kept_and_readable_only_by_its_owner(tmp_path: Path) -> None:
    first = Settings(data_dir=tmp_path).secret_key_bytes()
    assert Settings(data_dir=tmp_path).secret_key_bytes() == first and len(first) >= 32
    assert (tmp_path / "secret.key").stat().st_mode & 0o777 == 0o600
