"""Settings: secrets never show in a repr (tracebacks, logs, test output); bad values are refused with the reason."""

from __future__ import annotations

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
