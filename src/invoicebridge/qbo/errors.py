"""Every failure of a QuickBooks Online call, one class per kind, chosen by :func:`from_fault` alone.

Tree::

    QboError                      root: status, code, message, detail, element, intuit_tid, request_id, errors
      ├─ ValidationError          400 ValidationFault without a more specific code (e.g. 2020, 2010)
      │    ├─ DuplicateDocNumber  6140  the DocNumber is used by another transaction
      │    ├─ DuplicateName       6240  DisplayName/Name used by another customer, vendor, employee or item
      │    ├─ StaleObject         5010  the SyncToken is not the latest
      │    ├─ ObjectNotFound      610   the object does not exist or was deleted
      │    ├─ InvalidReference    2500  a *Ref names an object that does not exist
      │    ├─ BusinessValidation  6000  a business rule refused the request
      │    └─ QueryError          4000 / 4001  the query (or CDC's changedSince) could not be parsed or run
      ├─ AuthenticationError      401 / 3200  expired, revoked or missing access token
      ├─ AuthorizationError       403 / 3100  the token is not valid for this company
      ├─ Throttled                429 / 003001  too many requests (retryable; ``retry_after`` seconds if sent)
      ├─ ServerError              5xx / 10000  QBO failed; nothing was done (retryable)
      ├─ OutcomeUnknown           no answer (timeout, dropped connection): the request may have been applied
      └─ OAuthError               the token endpoint refused (``error`` e.g. "invalid_grant")

``message`` is QBO's short sentence, ``detail`` its technical detail; ``str(error)`` joins them with the code.
"""

from __future__ import annotations

import re
from typing import Any, ClassVar

__all__ = [
    "AuthenticationError",
    "AuthorizationError",
    "BusinessValidation",
    "DuplicateDocNumber",
    "DuplicateName",
    "InvalidReference",
    "OAuthError",
    "ObjectNotFound",
    "OutcomeUnknown",
    "QboError",
    "QueryError",
    "ServerError",
    "StaleObject",
    "Throttled",
    "ValidationError",
    "from_fault",
    "taken_by",
]


class QboError(Exception):
    """Root of every QBO failure; ``errors`` keeps every entry of ``Fault.Error`` as QBO sent it."""

    retryable: ClassVar[bool] = False

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        code: str = "",
        detail: str = "",
        element: str = "",
        intuit_tid: str | None = None,
        errors: list[dict[str, Any]] | None = None,
        request_id: str | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.detail = detail
        self.element = element
        self.intuit_tid = intuit_tid
        self.request_id = request_id  # the requestid the call carried (set by the client), for the audit trail
        self.errors: list[dict[str, Any]] = list(errors or [])

    def __str__(self) -> str:
        parts = [f"[{self.code}]" if self.code else "", self.message, f"({self.detail})" if self.detail else ""]
        text = " ".join(part for part in parts if part)
        return f"{text} intuit_tid={self.intuit_tid}" if self.intuit_tid else text


class ValidationError(QboError):
    """HTTP 400: QBO refused the request as invalid."""


class DuplicateDocNumber(ValidationError):
    """6140: the DocNumber is already used (the Detail names the existing ``TxnId``)."""

    @property
    def taken_by(self) -> tuple[str, str] | None:
        """(TxnType, TxnId) of the transaction holding the number, from the first entry whose Detail says; None
        when none does."""
        details = [self.detail, *(str(e.get("Detail", "")) for e in self.errors)]
        return next((found for found in map(taken_by, details) if found), None)


# Intuit's 6140 Detail: "… DocNumber=SO-1042 is assigned to TxnType=Invoice with TxnId=45823" (qbo-reference.md,
# "Errors"). Read loosely (spacing, case), and only this shape: any other Detail names no transaction.
_TAKEN_BY = re.compile(r"TxnType\s*=\s*([A-Za-z]+)\s+with\s+TxnId\s*=\s*([0-9A-Za-z]{1,32})", re.IGNORECASE)


def taken_by(detail: str) -> tuple[str, str] | None:
    """(TxnType, TxnId) named by a duplicate-number Detail (QBO's, or a text that quotes it); None when it names
    none."""
    found = _TAKEN_BY.search(detail or "")
    return (found.group(1), found.group(2)) if found else None


class DuplicateName(ValidationError):
    """6240: the name is already used by another customer, vendor or employee (or item)."""


class StaleObject(ValidationError):
    """5010: the SyncToken sent is not the object's latest; read it again."""


class ObjectNotFound(ValidationError):
    """610: the object does not exist, or was deleted or made inactive."""


class InvalidReference(ValidationError):
    """2500: a reference (CustomerRef, ItemRef, …) names no object."""


class BusinessValidation(ValidationError):
    """6000: a business rule refused the request."""


class QueryError(ValidationError):
    """4000/4001: the query text (or a CDC parameter) is not acceptable."""


class AuthenticationError(QboError):
    """401 / 3200: the access token is missing, expired or revoked."""


class AuthorizationError(QboError):
    """403 / 3100: the token is valid but not for this company (or scope)."""


class Throttled(QboError):
    """429 / 003001: too many requests; wait ``retry_after`` seconds when QBO says how long."""

    retryable = True

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.retry_after = retry_after


class ServerError(QboError):
    """5xx / 10000: QBO failed before doing the work."""

    retryable = True


class OutcomeUnknown(QboError):
    """No answer came (timeout, connection dropped): the request may or may not have been applied."""

    retryable = True


class OAuthError(QboError):
    """The OAuth token/revoke endpoint refused, or could not be reached (``error`` then "unreachable")."""

    def __init__(self, error: str, *, status: int | None = None, detail: str = "") -> None:
        super().__init__(f"OAuth error: {error}", status=status, code=error, detail=detail)
        self.error = error

    @property
    def needs_reconnect(self) -> bool:
        """True when only a new consent helps: the refresh token is expired, revoked or otherwise invalid."""
        return self.error == "invalid_grant"


# Codes are compared without leading zeros: QBO writes the throttle code "003001" and the auth codes "3200".
_BY_CODE: dict[str, type[QboError]] = {
    "6140": DuplicateDocNumber,
    "6240": DuplicateName,
    "5010": StaleObject,
    "610": ObjectNotFound,
    "2500": InvalidReference,
    "6000": BusinessValidation,
    "4000": QueryError,
    "4001": QueryError,
    "3200": AuthenticationError,
    "3100": AuthorizationError,
    "3001": Throttled,
    "10000": ServerError,
}
# A batch item's Fault has no HTTP status: its ``type`` stands in for it.
_STATUS_BY_TYPE = {
    "validationfault": 400,
    "authentication": 401,
    "authenticationfault": 401,
    "authorizationfault": 403,
    "throttleexceeded": 429,
    "systemfault": 500,
}


def from_fault(
    status: int | None, body: object, intuit_tid: str | None, *, retry_after: float | None = None
) -> QboError:
    """The error for a QBO Fault response (or batch item Fault, with ``status`` None).

    The class is the first entry whose code is known; otherwise it follows the HTTP status (or the Fault type).
    Bodies that are not a Fault (a proxy's HTML page, an empty body) still give an error chosen by status.
    """
    fault = _fault_object(body)
    entries = [e for e in fault.get("Error", []) if isinstance(e, dict)] if fault else []
    by_status = status if status is not None else _STATUS_BY_TYPE.get(str(fault.get("type", "")).lower())
    cls = next((_BY_CODE[c] for c in (_code(e) for e in entries) if c in _BY_CODE), None) or _by_status(by_status)
    first = entries[0] if entries else {}
    kwargs: dict[str, Any] = {
        "status": status,
        "code": str(first.get("code", "")),
        "detail": str(first.get("Detail", "")),
        "element": str(first.get("element", "")),
        "intuit_tid": intuit_tid,
        "errors": entries,
    }
    message = str(first.get("Message", "")) or _status_message(status)
    if cls is Throttled:
        return Throttled(message, retry_after=retry_after, **kwargs)
    return cls(message, **kwargs)


def _fault_object(body: object) -> dict[str, Any]:
    if isinstance(body, dict):
        fault = body.get("Fault", body.get("fault"))
        if isinstance(fault, dict):
            return fault
    return {}


def _code(entry: dict[str, Any]) -> str:
    return str(entry.get("code", "")).strip().lstrip("0")


def _by_status(status: int | None) -> type[QboError]:
    if status is None:
        return QboError
    if status == 401:
        return AuthenticationError
    if status == 403:
        return AuthorizationError
    if status == 429:
        return Throttled
    if status >= 500:
        return ServerError
    if status == 400:
        return ValidationError
    return QboError


def _status_message(status: int | None) -> str:
    return f"QuickBooks answered HTTP {status}" if status is not None else "QuickBooks reported a failure"
