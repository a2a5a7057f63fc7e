"""Errors of the order book and the invoice link, one class per kind of refusal.

Tree::

    InvoiceBridgeError              root of everything invoicebridge raises on purpose
      ├─ ValidationError            bad input, refused before anything is stored or sent; lists every Problem
      ├─ NotFound                   the thing asked for does not exist in this company
      ├─ Conflict                   would break a uniqueness rule (SO number, SKU)
      ├─ InvalidTransition          an invoice-link state change the state machine does not allow
      ├─ NotConnected               no usable QuickBooks connection (never connected, expired or revoked)
      ├─ Unauthenticated            no valid session or API token (401; pages send the browser to the login page)
      ├─ Forbidden                  a known caller who may not do this: a member on an admin action, no CSRF token
      └─ TooManyAttempts            failed logins slowed down (back-off, then a temporary lock)

Every message is a sentence a person understands; technical detail, when there is any, travels apart.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


class InvoiceBridgeError(Exception):
    """Root of every error invoicebridge raises on purpose."""


@dataclass(frozen=True)
class Problem:
    """One reason an input was refused: the field it concerns and a sentence saying why."""

    field: str
    message: str


class ValidationError(InvoiceBridgeError):
    """Bad input, refused with every problem found (not only the first)."""

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems = tuple(problems)
        if not self.problems:
            raise ValueError("a ValidationError needs at least one problem")
        super().__init__("; ".join(f"{p.field}: {p.message}" for p in self.problems))

    @classmethod
    def single(cls, field: str, message: str) -> ValidationError:
        return cls([Problem(field, message)])


class NotFound(InvoiceBridgeError):
    """The object does not exist (in this company)."""

    def __init__(self, kind: str, key: object) -> None:
        self.kind = kind
        self.key = str(key)
        # A company is the scope itself: "in this company" would make no sense there.
        super().__init__(f"No company {self.key}." if kind == "company" else f"No {kind} {self.key} in this company.")


class Conflict(InvoiceBridgeError):
    """The change would break a uniqueness rule."""

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        self.message = message
        super().__init__(message)


class InvalidTransition(InvoiceBridgeError):
    """The invoice link cannot move from its state the way that was asked."""


class NotConnected(InvoiceBridgeError):
    """Invoicing needs a usable QuickBooks connection; the message says what to do."""

    def __init__(self, message: str) -> None:
        self.message = message
        super().__init__(message)


class Unauthenticated(InvoiceBridgeError):
    """The caller is not logged in (no session, no token, or one that expired or was revoked)."""

    def __init__(self, message: str = "Log in, or send an API token as 'Authorization: Bearer …'.") -> None:
        self.message = message
        super().__init__(message)


class Forbidden(InvoiceBridgeError):
    """The caller is known but may not do this (a member on an admin action, a missing CSRF token)."""

    def __init__(self, message: str) -> None:
        self.message = message
        super().__init__(message)


class TooManyAttempts(InvoiceBridgeError):
    """Logins from this account or address are slowed down after failures; try again after `retry_after` s."""

    def __init__(self, retry_after: int) -> None:
        self.retry_after = max(1, retry_after)
        minutes, seconds = divmod(self.retry_after, 60)
        wait = f"{minutes} min" if minutes and not seconds else f"{self.retry_after} s"
        super().__init__(f"Too many failed logins: try again in {wait}.")
