"""Secrets handed out once and stored as hashes: passwords (argon2id, slow on purpose) and random tokens
(session cookies, API tokens, login links, OAuth nonces: 256 random bits, so a fast SHA-256 is enough)."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError


@cache
def _hasher() -> PasswordHasher:
    return PasswordHasher()  # argon2id with the library's RFC 9106 defaults; stateless, so one is shared


@cache
def _nobody() -> str:
    """A hash of a password nobody has: checked when the e-mail is unknown, so both answers take as long."""
    return _hasher().hash(secrets.token_urlsafe(32))


def hash_password(password: str) -> str:
    return _hasher().hash(password)


def password_matches(password_hash: str | None, password: str) -> bool:
    """True when `password` is the one behind `password_hash`. Takes as long for a missing hash."""
    try:
        return _hasher().verify(password_hash or _nobody(), password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def new_token(prefix: str = "") -> str:
    """A fresh random secret, URL-safe."""
    return prefix + secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    """What is stored for a random secret (hex SHA-256)."""
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def sign(key: bytes, message: str) -> str:
    """An HMAC-SHA256 of `message` (hex), for values we hand out and must recognise (CSRF tokens, OAuth state)."""
    return hmac.new(key, message.encode("utf-8", "surrogatepass"), hashlib.sha256).hexdigest()


def same(a: str, b: str) -> bool:
    """Constant-time comparison (of ASCII values; anything else simply differs)."""
    try:
        return hmac.compare_digest(a.encode("ascii"), b.encode("ascii"))
    except UnicodeEncodeError:
        return False
