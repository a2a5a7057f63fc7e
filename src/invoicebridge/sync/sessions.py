"""Logging in and browser sessions: password login with throttling, one-time login links, server-side sessions
(idle and absolute expiry, revocable) and the CSRF token bound to each session.

The cookie holds a random secret; the database holds its SHA-256, so a copy of the database opens no session.
The CSRF token is an HMAC of the cookie's secret with the server's secret key: nothing more to store, and a
page from another site can neither read nor compute it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from invoicebridge.domain import TooManyAttempts, Unauthenticated, ValidationError
from invoicebridge.domain.access import Caller, LoginLink, Throttle, User, WebSession, normalise_email
from invoicebridge.sync.ports import UnitOfWork, UnitOfWorkFactory
from invoicebridge.sync.secrets import new_token, password_matches, same, sign, token_hash

Clock = Callable[[], datetime]
WRONG = "Wrong e-mail or password."
TOUCH_EVERY = timedelta(minutes=1)  # last_seen_at is written at most this often: not one write per request


@dataclass(frozen=True)
class SessionPolicy:
    secret_key: bytes
    idle: timedelta = timedelta(hours=12)
    lifetime: timedelta = timedelta(days=7)


@dataclass(frozen=True)
class ThrottleRule:
    """`free` failures cost nothing; each further one doubles the wait (up to `max_wait`); `lock_after`
    failures lock the key for `lock_for`. Failures older than `forget_after` are forgotten."""

    free: int
    lock_after: int
    max_wait: timedelta = timedelta(minutes=1)
    lock_for: timedelta = timedelta(minutes=15)
    forget_after: timedelta = timedelta(minutes=15)


ACCOUNT_RULE = ThrottleRule(free=3, lock_after=10)
ADDRESS_RULE = ThrottleRule(free=10, lock_after=50)


@dataclass(frozen=True)
class Started:
    """A new session: the cookie value (handed to the browser once) and its CSRF token."""

    cookie: str
    csrf: str
    session: WebSession


class Sessions:
    def __init__(self, uow: UnitOfWorkFactory, clock: Clock, policy: SessionPolicy) -> None:
        self._uow, self._clock, self._policy = uow, clock, policy

    # -- logging in ------------------------------------------------------------------------------------
    def login(self, email: str, password: str, address: str) -> Started:
        """A session for the right e-mail and password. Raises TooManyAttempts while this account or address is
        slowed down or locked, Unauthenticated("Wrong e-mail or password.") otherwise — the same answer for an
        unknown e-mail and a wrong password, taking as long."""
        keys = (_account_key(email), f"address:{address[:200]}")
        now = self._clock()
        with self._uow() as uow:
            for key, rule in zip(keys, (ACCOUNT_RULE, ADDRESS_RULE), strict=True):
                _refuse_while_throttled(uow, key, rule, now)
            user = _user(uow, email)
            if user is None or not password_matches(user.password_hash, password):
                for key, rule in zip(keys, (ACCOUNT_RULE, ADDRESS_RULE), strict=True):
                    _count_failure(uow, key, rule, now)
                uow.commit()
                raise Unauthenticated(WRONG)
            uow.login_throttle.clear(keys[0])
            started = self._start(uow, user.id or 0, now)
            uow.commit()
        return started

    def login_with_link(self, token: str) -> Started:
        """A session from a one-time login link; the link is spent. Raises Unauthenticated."""
        now = self._clock()
        with self._uow() as uow:
            user_id = uow.login_links.use(token_hash(token), now)
            if user_id is None:
                raise Unauthenticated("This login link is used, expired or wrong: ask for a new one.")
            started = self._start(uow, user_id, now)
            uow.commit()
        return started

    def login_link(self, email: object, lifetime: timedelta = timedelta(hours=24)) -> str:
        """A one-time login link's secret for this user. Raises NotFound/ValidationError."""
        token = new_token()
        with self._uow() as uow:
            user = _user(uow, email)
            if user is None:
                raise ValidationError.single("email", "No user has this e-mail.")
            uow.login_links.add(LoginLink(token_hash(token), user.id or 0, self._clock() + lifetime))
            uow.commit()
        return token

    # -- sessions --------------------------------------------------------------------------------------
    def caller(self, cookie: str) -> Caller | None:
        """Who holds this cookie, or None (unknown, revoked, idle too long, or past its lifetime)."""
        now = self._clock()
        with self._uow() as uow:
            found = uow.web_sessions.by_hash(token_hash(cookie))
            if found is None or not found.alive(now, self._policy.idle):
                return None
            if now - found.last_seen_at >= TOUCH_EVERY:
                uow.web_sessions.touch(found.id or 0, now)
            user = uow.users.get(found.user_id)
            roles = uow.memberships.roles_of(found.user_id)
            uow.commit()
        return Caller(user.id, user.email, roles, session_id=found.id)

    def logout(self, cookie: str) -> None:
        """Revokes the session behind this cookie (nothing happens for an unknown one)."""
        with self._uow() as uow:
            found = uow.web_sessions.by_hash(token_hash(cookie))
            if found is not None:
                uow.web_sessions.revoke(found.id or 0, self._clock())
                uow.commit()

    def csrf_token(self, cookie: str) -> str:
        return sign(self._policy.secret_key, f"csrf:{cookie}")

    def csrf_matches(self, cookie: str, given: str | None) -> bool:
        return given is not None and same(given, self.csrf_token(cookie))

    def _start(self, uow: UnitOfWork, user_id: int, now: datetime) -> Started:
        cookie = new_token()  # a new id at every login: a session id planted before login is worth nothing
        stored = uow.web_sessions.add(
            WebSession(None, token_hash(cookie), user_id, now, now, now + self._policy.lifetime)
        )
        return Started(cookie, self.csrf_token(cookie), stored)


def _account_key(email: str) -> str:
    return f"account:{token_hash(email.strip().lower())}"  # any bytes in, a fixed-size key out (no NUL stored)


def _user(uow: UnitOfWork, email: object) -> User | None:
    try:
        return uow.users.by_email(normalise_email(email))
    except ValidationError:
        return None


def _refuse_while_throttled(uow: UnitOfWork, key: str, rule: ThrottleRule, now: datetime) -> None:
    throttle = uow.login_throttle.get(key)
    if throttle is None:
        return
    if throttle.locked_until is not None and now < throttle.locked_until:
        raise TooManyAttempts(_seconds(throttle.locked_until - now))
    if now - throttle.last_failure_at >= rule.forget_after or throttle.failures < rule.free:
        return
    wait = min(timedelta(seconds=2 ** (throttle.failures - rule.free)), rule.max_wait)
    if now < throttle.last_failure_at + wait:
        raise TooManyAttempts(_seconds(throttle.last_failure_at + wait - now))


def _count_failure(uow: UnitOfWork, key: str, rule: ThrottleRule, now: datetime) -> None:
    before = uow.login_throttle.get(key)
    fresh = before is None or now - before.last_failure_at >= rule.forget_after
    failures = 1 if fresh or before is None else before.failures + 1
    locked = now + rule.lock_for if failures >= rule.lock_after else None
    uow.login_throttle.put(Throttle(key, 0 if locked else failures, now, locked))


def _seconds(delta: timedelta) -> int:
    return max(1, int(delta.total_seconds() + 0.999))
