"""Repositories of the access side: users and memberships, browser sessions, API tokens, OAuth states, one-time
login links and the login throttle. Lookups by secret go through its hash; nothing here sees a secret in clear."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from invoicebridge.domain import Conflict, NotFound
from invoicebridge.domain.access import (
    ApiToken,
    LoginLink,
    Member,
    Membership,
    OAuthState,
    Role,
    Throttle,
    User,
    WebSession,
)
from invoicebridge.store.access_tables import (
    ApiTokenRow,
    LoginLinkRow,
    LoginThrottleRow,
    MembershipRow,
    OAuthStateRow,
    UserRow,
    WebSessionRow,
)
from invoicebridge.store.repositories import flush_or_conflict


class SqlUsers:
    def __init__(self, session: Session) -> None:
        self._s = session

    def add(self, user: User) -> User:
        row = UserRow(
            email=user.email, display_name=user.display_name, password_hash=user.password_hash,
            created_at=user.created_at,
        )  # fmt: skip
        self._s.add(row)
        flush_or_conflict(self._s, Conflict("email", f"A user with the e-mail {user.email} exists already."))
        return _user(row)

    def get(self, user_id: int) -> User:
        row = self._s.get(UserRow, user_id)
        if row is None:
            raise NotFound("user", user_id)
        return _user(row)

    def by_email(self, email: str) -> User | None:
        row = self._s.scalars(select(UserRow).where(UserRow.email == email)).one_or_none()
        return _user(row) if row else None

    def set_password(self, user_id: int, password_hash: str) -> None:
        self._s.execute(update(UserRow).where(UserRow.id == user_id).values(password_hash=password_hash))

    def all(self) -> list[User]:
        return [_user(row) for row in self._s.scalars(select(UserRow).order_by(UserRow.id))]


class SqlMemberships:
    def __init__(self, session: Session) -> None:
        self._s = session

    def put(self, membership: Membership) -> None:
        """Adds the membership, or changes the role of an existing one."""
        row = self._row(membership.company_id, membership.user_id)
        if row is None:
            row = MembershipRow(company_id=membership.company_id, user_id=membership.user_id)
            self._s.add(row)
        row.role = membership.role.value
        flush_or_conflict(self._s, Conflict("user", "The membership was changed at the same time; try again."))

    def remove(self, company_id: int, user_id: int) -> bool:
        gone = self._s.execute(
            delete(MembershipRow).where(MembershipRow.company_id == company_id, MembershipRow.user_id == user_id)
        )
        return bool(getattr(gone, "rowcount", 0))

    def roles_of(self, user_id: int) -> dict[int, Role]:
        rows = self._s.scalars(select(MembershipRow).where(MembershipRow.user_id == user_id))
        return {row.company_id: Role(row.role) for row in rows}

    def members(self, company_id: int) -> list[Member]:
        query = (
            select(MembershipRow, UserRow)
            .join(UserRow, UserRow.id == MembershipRow.user_id)
            .where(MembershipRow.company_id == company_id)
            .order_by(UserRow.email)
        )
        return [Member(u.id, u.email, u.display_name, Role(m.role)) for m, u in self._s.execute(query)]

    def _row(self, company_id: int, user_id: int) -> MembershipRow | None:
        query = select(MembershipRow).where(MembershipRow.company_id == company_id, MembershipRow.user_id == user_id)
        return self._s.scalars(query).one_or_none()


class SqlWebSessions:
    def __init__(self, session: Session) -> None:
        self._s = session

    def add(self, web_session: WebSession) -> WebSession:
        row = WebSessionRow(
            token_hash=web_session.token_hash, user_id=web_session.user_id, created_at=web_session.created_at,
            last_seen_at=web_session.last_seen_at, expires_at=web_session.expires_at, revoked_at=None,
        )  # fmt: skip
        self._s.add(row)
        self._s.flush()
        return _web_session(row)

    def by_hash(self, token_hash: str) -> WebSession | None:
        row = self._s.scalars(select(WebSessionRow).where(WebSessionRow.token_hash == token_hash)).one_or_none()
        return _web_session(row) if row else None

    def touch(self, session_id: int, at: datetime) -> None:
        self._s.execute(update(WebSessionRow).where(WebSessionRow.id == session_id).values(last_seen_at=at))

    def revoke(self, session_id: int, at: datetime) -> None:
        self._s.execute(
            update(WebSessionRow)
            .where(WebSessionRow.id == session_id, WebSessionRow.revoked_at.is_(None))
            .values(revoked_at=at)
        )

    def revoke_all_of(self, user_id: int, at: datetime) -> None:
        self._s.execute(
            update(WebSessionRow)
            .where(WebSessionRow.user_id == user_id, WebSessionRow.revoked_at.is_(None))
            .values(revoked_at=at)
        )


class SqlApiTokens:
    def __init__(self, session: Session) -> None:
        self._s = session

    def add(self, token: ApiToken) -> ApiToken:
        row = ApiTokenRow(
            company_id=token.company_id, name=token.name, role=token.role.value, prefix=token.prefix,
            token_hash=token.token_hash, created_at=token.created_at, created_by=token.created_by,
            last_used_at=None, revoked_at=None,
        )  # fmt: skip
        self._s.add(row)
        self._s.flush()
        return _api_token(row)

    def by_hash(self, token_hash: str) -> ApiToken | None:
        row = self._s.scalars(select(ApiTokenRow).where(ApiTokenRow.token_hash == token_hash)).one_or_none()
        return _api_token(row) if row else None

    def of_company(self, company_id: int) -> list[ApiToken]:
        query = select(ApiTokenRow).where(ApiTokenRow.company_id == company_id).order_by(ApiTokenRow.id)
        return [_api_token(row) for row in self._s.scalars(query)]

    def touch(self, token_id: int, at: datetime) -> None:
        self._s.execute(update(ApiTokenRow).where(ApiTokenRow.id == token_id).values(last_used_at=at))

    def revoke(self, company_id: int, token_id: int, at: datetime) -> ApiToken:
        """Raises NotFound for a token of another company (or none)."""
        row = self._s.scalars(
            select(ApiTokenRow).where(ApiTokenRow.company_id == company_id, ApiTokenRow.id == token_id)
        ).one_or_none()
        if row is None:
            raise NotFound("API token", token_id)
        row.revoked_at = row.revoked_at or at
        self._s.flush()
        return _api_token(row)


class SqlOAuthStates:
    def __init__(self, session: Session) -> None:
        self._s = session

    def add(self, state: OAuthState) -> None:
        self._s.add(OAuthStateRow(
            nonce=state.nonce, company_id=state.company_id, user_id=state.user_id,
            replace_realm=state.replace_realm, expires_at=state.expires_at, used_at=None,
        ))  # fmt: skip
        self._s.flush()

    def get(self, nonce: str) -> OAuthState | None:
        row = self._s.get(OAuthStateRow, nonce, with_for_update=True)  # two callbacks at once: one wins
        if row is None:
            return None
        return OAuthState(row.nonce, row.company_id, row.user_id, row.replace_realm, row.expires_at, row.used_at)

    def use(self, nonce: str, at: datetime) -> bool:
        """Marks the state used; False when it was used already (by a concurrent callback)."""
        done = self._s.execute(
            update(OAuthStateRow)
            .where(OAuthStateRow.nonce == nonce, OAuthStateRow.used_at.is_(None))
            .values(used_at=at)
        )
        return bool(getattr(done, "rowcount", 0))

    def forget_expired(self, before: datetime) -> None:
        self._s.execute(delete(OAuthStateRow).where(OAuthStateRow.expires_at < before))


class SqlLoginLinks:
    def __init__(self, session: Session) -> None:
        self._s = session

    def add(self, link: LoginLink) -> None:
        self._s.add(LoginLinkRow(token_hash=link.token_hash, user_id=link.user_id, expires_at=link.expires_at))
        self._s.flush()

    def use(self, token_hash: str, at: datetime) -> int | None:
        """The link's user, marking the link used — None when unknown, used already or expired."""
        row = self._s.get(LoginLinkRow, token_hash, with_for_update=True)
        if row is None or row.used_at is not None or row.expires_at <= at:
            return None
        row.used_at = at
        self._s.flush()
        return row.user_id


class SqlLoginThrottle:
    def __init__(self, session: Session) -> None:
        self._s = session

    def get(self, key: str) -> Throttle | None:
        row = self._s.get(LoginThrottleRow, key)
        return Throttle(row.key, row.failures, row.last_failure_at, row.locked_until) if row else None

    def put(self, throttle: Throttle) -> None:
        row = self._s.get(LoginThrottleRow, throttle.key)
        if row is None:
            row = LoginThrottleRow(key=throttle.key)
            self._s.add(row)
        row.failures, row.last_failure_at, row.locked_until = (
            throttle.failures, throttle.last_failure_at, throttle.locked_until,
        )  # fmt: skip
        flush_or_conflict(self._s, Conflict("email", "Another login attempt was counted at the same time."))

    def clear(self, key: str) -> None:
        self._s.execute(delete(LoginThrottleRow).where(LoginThrottleRow.key == key))


def _user(row: UserRow) -> User:
    return User(row.id, row.email, row.display_name, row.password_hash, row.created_at)


def _web_session(row: WebSessionRow) -> WebSession:
    return WebSession(
        row.id, row.token_hash, row.user_id, row.created_at, row.last_seen_at, row.expires_at, row.revoked_at
    )


def _api_token(row: ApiTokenRow) -> ApiToken:
    return ApiToken(
        row.id, row.company_id, row.name, Role(row.role), row.prefix, row.token_hash, row.created_at, row.created_by,
        row.last_used_at, row.revoked_at,
    )  # fmt: skip
