"""QBO's Fault codes and the one Fault serialiser.

Every rule of the sandbox raises a :class:`SandboxFault` deep in the backend; the HTTP layer renders it
once, with :meth:`SandboxFault.to_body`, in QBO's shape::

    {"Fault": {"Error": [{"Message": ..., "Detail": ..., "code": ..., "element": ...}],
               "type": "ValidationFault"}, "time": "..."}

Tree::

    SandboxFault                     (any QBO Fault; carries status, fault type and every Error entry)
      ├─ ValidationFault             400  codes 610, 2010, 2020, 2050, 2500, 4000, 5010, 6000, 6140, 6240 ...
      │                              (413 with code 6030 for a body over bodylimit.MAX_BODY_BYTES)
      ├─ AuthenticationFault         401  code 3200
      ├─ AuthorizationFault          403  code 3100
      ├─ ThrottleFault               429  code 003001
      └─ SystemFault                 500  code 10000

Source for the shapes and codes: ../../shared/qbo-reference.md (Intuit's "Error codes" page and the
Java SDK's ``com.intuit.ipp.data.Fault``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, ClassVar

# The codes the sandbox raises, named after QBO's own names for them.
OBJECT_NOT_FOUND = "610"
REQUIRED_PARAM_MISSING = "2020"
INVALID_STRING_LENGTH = "2050"  # "String length is either shorter or longer than supported by specification"
INVALID_REFERENCE = "2500"
INVALID_ENUMERATION = "2070"
QUERY_PARSE_ERROR = "4000"
STALE_OBJECT = "5010"
BUSINESS_VALIDATION = "6000"
DUPLICATE_DOC_NUMBER = "6140"
DUPLICATE_NAME = "6240"
AUTHENTICATION_FAILED = "3200"
AUTHORIZATION_FAILED = "3100"
THROTTLE_EXCEEDED = "003001"
SYSTEM_ERROR = "10000"
UNSUPPORTED_OPERATION = "500"
REQUEST_TOO_LARGE = "6030"  # Intuit's "Upload request size exceeds allowed limit"


@dataclass(frozen=True)
class ErrorEntry:
    """One entry of ``Fault.Error``."""

    message: str
    detail: str
    code: str
    element: str = ""

    def to_json(self) -> dict[str, str]:
        return {"Message": self.message, "Detail": self.detail, "code": self.code, "element": self.element}


@dataclass
class SandboxFault(Exception):
    """A QBO Fault: raised anywhere in the sandbox, rendered once by the HTTP layer."""

    errors: list[ErrorEntry] = field(default_factory=list)
    status: ClassVar[int] = 400
    fault_type: ClassVar[str] = "ValidationFault"

    def __str__(self) -> str:
        return "; ".join(f"{e.code} {e.message}: {e.detail}" for e in self.errors)

    def to_body(self, now: datetime | None = None) -> dict[str, Any]:
        """The JSON body QBO sends for this Fault."""
        return {"Fault": self.fault_json(), "time": qbo_time(now)}

    def fault_json(self) -> dict[str, Any]:
        """The ``Fault`` object alone, as a batch item response embeds it."""
        return {"Error": [e.to_json() for e in self.errors], "type": self.fault_type}

    def headers(self) -> dict[str, str]:
        """Extra HTTP headers the response carries (e.g. ``Retry-After`` on a 429); none by default."""
        return {}


class ValidationFault(SandboxFault):
    status = 400
    fault_type = "ValidationFault"


class AuthenticationFault(SandboxFault):
    status = 401
    fault_type = "AUTHENTICATION"


class AuthorizationFault(SandboxFault):
    status = 403
    fault_type = "AuthorizationFault"


@dataclass
class ThrottleFault(SandboxFault):
    status = 429
    fault_type = "ThrottleExceeded"
    retry_after: int | None = None  # seconds; sent as Retry-After (the sandbox's hint, see throttle.py)

    def headers(self) -> dict[str, str]:
        return {} if self.retry_after is None else {"Retry-After": str(self.retry_after)}


class SystemFault(SandboxFault):
    status = 500
    fault_type = "SystemFault"


def validation(code: str, message: str, detail: str, element: str = "") -> ValidationFault:
    """A 400 ValidationFault with one Error entry."""
    return ValidationFault([ErrorEntry(message, detail, code, element)])


def not_found(entity: str, entity_id: str) -> ValidationFault:
    """Code 610: the object does not exist (or was deleted)."""
    return validation(
        OBJECT_NOT_FOUND,
        "Object Not Found",
        f"Object Not Found : Something you're trying to use has been made inactive. "
        f"Check the fields with accounts, customers, items, vendors or employees. ({entity} Id={entity_id})",
    )


def authentication_failed() -> AuthenticationFault:
    """Code 3200: missing, expired or revoked access token (HTTP 401)."""
    return AuthenticationFault(
        [ErrorEntry("message=AuthenticationFailed; errorCode=003200; statusCode=401", "", AUTHENTICATION_FAILED)]
    )


def authorization_failed(realm_id: str) -> AuthorizationFault:
    """Code 3100: the token is valid but not for this company (HTTP 403)."""
    return AuthorizationFault(
        [
            ErrorEntry(
                "message=ApplicationAuthorizationFailed; errorCode=003100; statusCode=403",
                f"The application is not authorized for company {realm_id}",
                AUTHORIZATION_FAILED,
            )
        ]
    )


def throttled(retry_after: int | None = None) -> ThrottleFault:
    """Code 003001: too many requests (HTTP 429); ``retry_after`` seconds becomes a Retry-After header."""
    return ThrottleFault(
        [
            ErrorEntry(
                "message=ThrottleExceeded; errorCode=003001; statusCode=429",
                "The request limit was reached.",
                THROTTLE_EXCEEDED,
            )
        ],
        retry_after,
    )


def system_error(detail: str = "An application error has occurred while processing your request") -> SystemFault:
    """Code 10000: an internal error (HTTP 500); used by fault injection."""
    return SystemFault(
        [ErrorEntry("An application error has occurred while processing your request", detail, SYSTEM_ERROR)]
    )


def qbo_time(now: datetime | None = None) -> str:
    """QBO's ``time`` field format: ``2026-01-05T06:42:19.179-08:00`` (we answer in UTC)."""
    moment = now or datetime.now(UTC)
    return moment.isoformat(timespec="milliseconds")
