"""from_fault: the one mapping from a QBO Fault to an error class."""

from __future__ import annotations

from typing import Any

import pytest

from invoicebridge.qbo.errors import (
    AuthenticationError,
    AuthorizationError,
    BusinessValidation,
    DuplicateDocNumber,
    DuplicateName,
    InvalidReference,
    OAuthError,
    ObjectNotFound,
    QboError,
    QueryError,
    ServerError,
    StaleObject,
    Throttled,
    ValidationError,
    from_fault,
)


def fault(*codes: str, kind: str = "ValidationFault") -> dict[str, Any]:
    errors = [{"Message": f"m{c}", "Detail": f"d{c}", "code": c, "element": f"e{c}"} for c in codes]
    return {"Fault": {"Error": errors, "type": kind}, "time": "2026-01-05T06:42:19.179-08:00"}


@pytest.mark.parametrize(
    ("status", "code", "cls"),
    [
        (400, "6140", DuplicateDocNumber),
        (400, "6240", DuplicateName),
        (400, "5010", StaleObject),
        (400, "610", ObjectNotFound),
        (400, "2500", InvalidReference),
        (400, "6000", BusinessValidation),
        (400, "4000", QueryError),
        (400, "4001", QueryError),
        (400, "2020", ValidationError),
        (401, "3200", AuthenticationError),
        (403, "3100", AuthorizationError),
        (429, "003001", Throttled),
        (500, "10000", ServerError),
        (503, "10000", ServerError),
    ],
)
def test_each_code_maps_to_its_class(status: int, code: str, cls: type[QboError]) -> None:
    error = from_fault(status, fault(code), "tid-1")

    assert type(error) is cls
    assert (error.status, error.code, error.intuit_tid) == (status, code, "tid-1")
    assert (error.message, error.detail, error.element) == (f"m{code}", f"d{code}", f"e{code}")


def test_the_first_known_code_among_the_entries_wins_and_every_entry_is_kept() -> None:
    error = from_fault(400, fault("2020", "6240", "6140"), None)

    assert isinstance(error, DuplicateName)
    assert error.code == "2020"  # the first entry's fields describe the error
    assert [e["code"] for e in error.errors] == ["2020", "6240", "6140"]


@pytest.mark.parametrize(
    ("status", "cls"),
    [(400, ValidationError), (401, AuthenticationError), (403, AuthorizationError), (429, Throttled),
     (502, ServerError), (404, QboError)],
)  # fmt: skip
def test_a_body_without_a_fault_maps_by_status(status: int, cls: type[QboError]) -> None:
    error = from_fault(status, "<html>Bad Gateway</html>", None)

    assert type(error) is cls
    assert error.errors == []
    assert str(status) in error.message


def test_a_batch_fault_without_status_maps_by_type() -> None:
    assert type(from_fault(None, fault("9999", kind="SystemFault"), None)) is ServerError
    assert type(from_fault(None, fault("9999"), None)) is ValidationError
    assert from_fault(None, fault("6240"), None).status is None


def test_throttled_carries_retry_after_and_is_retryable() -> None:
    error = from_fault(429, fault("003001", kind="ThrottleExceeded"), None, retry_after=2.5)

    assert isinstance(error, Throttled)
    assert error.retry_after == 2.5
    assert error.retryable
    assert not from_fault(400, fault("6240"), None).retryable


def test_str_keeps_code_sentence_detail_and_tid() -> None:
    assert str(from_fault(400, fault("6240"), "tid-9")) == "[6240] m6240 (d6240) intuit_tid=tid-9"


def test_oauth_error_needs_reconnect_only_for_invalid_grant() -> None:
    assert OAuthError("invalid_grant", status=400).needs_reconnect
    assert not OAuthError("invalid_client", status=401).needs_reconnect
    assert OAuthError("invalid_grant").error == "invalid_grant"
