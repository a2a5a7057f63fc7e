"""People and access: users, their roles in companies, browser sessions, API tokens, OAuth states.

Pure rules only. Secrets (passwords, session ids, tokens) never appear here in clear: what is stored is a hash,
and the clear value exists only in the response that hands it out once.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from invoicebridge.domain.errors import Problem, ValidationError

MIN_PASSWORD = 12
MAX_PASSWORD = 1024  # argon2 takes any length; a bound keeps a login from hashing megabytes
MAX_EMAIL = 254
MAX_DISPLAY_NAME = 100
MAX_TOKEN_NAME = 100
EMAIL = re.compile(r"^[^@\s\x00-\x1f\x7f]+@[^@\s\x00-\x1f\x7f]+\.[^@\s\x00-\x1f\x7f]+$")
# The most common passwords of 12 characters or more in public breach lists (the shorter ones fail on length).
COMMON_PASSWORDS = frozenset(
    {
        "123456789012", "1234567890123", "12345678901234", "123456789123", "1q2w3e4r5t6y", "111111111111",
        "000000000000", "123123123123", "qwertyuiopasdfghjkl", "qwertyuiop12", "qwerty123456", "qwertyuiopas",
        "password1234", "password12345", "password123!", "passwordpassword", "p@ssw0rd1234", "passw0rd1234",
        "iloveyou1234", "abc123456789", "abcdefghijkl", "abcd12345678", "letmein12345", "welcome12345",
        "welcome123456", "changeme1234", "administrator", "admin1234567", "administrator1", "football1234",
        "baseball1234", "monkey123456", "sunshine1234", "princess1234", "1qaz2wsx3edc", "zaq12wsxcde3",
        "trustno1trustno1", "superman1234", "starwars1234", "invoicebridge", "invoicebridge1", "quickbooks123",
        "qwerty12345678", "asdfghjkl123", "aaaaaaaaaaaa", "secretsecret", "mypassword12", "mypassword123",
    }
)  # fmt: skip


class Role(StrEnum):
    """What a person may do in one company."""

    ADMIN = "admin"  # the QBO connection, settings, members, API tokens — and everything a member does
    MEMBER = "member"  # the order book and invoicing


@dataclass(frozen=True)
class User:
    id: int | None
    email: str
    display_name: str
    password_hash: str | None  # None: the user logs in by a one-time link until a password is set
    created_at: datetime


@dataclass(frozen=True)
class Membership:
    company_id: int
    user_id: int
    role: Role


@dataclass(frozen=True)
class Member:
    """A membership with the person behind it, as lists of members show it."""

    user_id: int
    email: str
    display_name: str
    role: Role


@dataclass(frozen=True)
class Caller:
    """Who is calling and which companies they may see — resolved once per request."""

    user_id: int | None  # None for an API token
    label: str  # an e-mail, or "token <name>"
    roles: Mapping[int, Role] = field(default_factory=dict)
    session_id: int | None = None  # a browser session: state-changing requests need its CSRF token
    token_id: int | None = None

    def role_in(self, company_id: int) -> Role | None:
        return self.roles.get(company_id)


@dataclass(frozen=True)
class WebSession:
    """A browser session. `token_hash` is the SHA-256 of the cookie value; the cookie value is never stored."""

    id: int | None
    token_hash: str
    user_id: int
    created_at: datetime
    last_seen_at: datetime
    expires_at: datetime  # the absolute expiry
    revoked_at: datetime | None = None

    def alive(self, now: datetime, idle: timedelta) -> bool:
        return self.revoked_at is None and now < self.expires_at and now - self.last_seen_at < idle


@dataclass(frozen=True)
class ApiToken:
    """A company's API token, as lists show it (the secret itself is shown once, at creation)."""

    id: int | None
    company_id: int
    name: str
    role: Role
    prefix: str  # the first characters of the token, so people can tell tokens apart
    token_hash: str
    created_at: datetime
    created_by: int | None
    last_used_at: datetime | None = None
    revoked_at: datetime | None = None

    @property
    def active(self) -> bool:
        return self.revoked_at is None


@dataclass(frozen=True)
class OAuthState:
    """One QuickBooks connect attempt: who started it, for which company; usable once, until `expires_at`."""

    nonce: str
    company_id: int
    user_id: int
    replace_realm: bool  # the admin confirmed that another QBO company may replace the connected one
    expires_at: datetime
    used_at: datetime | None = None


@dataclass(frozen=True)
class LoginLink:
    """A one-time login link (the demo prints one): the SHA-256 of its secret, its user, its expiry."""

    token_hash: str
    user_id: int
    expires_at: datetime
    used_at: datetime | None = None


@dataclass(frozen=True)
class Throttle:
    """Failed logins counted for one key (an account's e-mail or a client address)."""

    key: str
    failures: int
    last_failure_at: datetime
    locked_until: datetime | None = None


def normalise_email(value: object) -> str:
    """The e-mail as stored and compared: trimmed, lower-case. Raises ValidationError."""
    if not isinstance(value, str) or not value.strip():
        raise ValidationError.single("email", "An e-mail address is required.")
    email = value.strip().lower()
    if len(email) > MAX_EMAIL or not EMAIL.match(email) or not email.isprintable():
        raise ValidationError.single("email", "This is not an e-mail address.")
    return email


def clean_display_name(value: object, email: str) -> str:
    """A display name (the e-mail's local part when none is given). Raises ValidationError."""
    name = value.strip() if isinstance(value, str) else ""
    name = name or email.split("@", 1)[0]
    if len(name) > MAX_DISPLAY_NAME or not name.isprintable():
        raise ValidationError.single("display_name", f"A display name has at most {MAX_DISPLAY_NAME} characters.")
    return name


def password_problems(password: str, email: str = "") -> list[Problem]:
    """Why this password is refused (empty when it is fine). Never includes the password in a message."""
    problems: list[str] = []
    if len(password) < MIN_PASSWORD:
        problems.append(f"A password needs at least {MIN_PASSWORD} characters.")
    elif len(password) > MAX_PASSWORD:
        problems.append(f"A password has at most {MAX_PASSWORD} characters.")
    elif password.lower() in COMMON_PASSWORDS or len(set(password)) < 4:
        problems.append("This password is too common or too simple: choose another.")
    elif email and password.lower() in (email, email.split("@", 1)[0]):
        problems.append("A password must not be the e-mail address.")
    return [Problem("password", message) for message in problems]


def parse_role(value: object) -> Role:
    try:
        return Role(str(value))
    except ValueError:
        raise ValidationError.single("role", "A role is 'admin' or 'member'.") from None


def clean_token_name(value: object) -> str:
    name = value.strip() if isinstance(value, str) else ""
    if not name or len(name) > MAX_TOKEN_NAME or not name.isprintable():
        raise ValidationError.single("name", f"A token needs a name of 1 to {MAX_TOKEN_NAME} characters.")
    return name
