"""The access schema: users, memberships, browser sessions, API tokens, OAuth states, login links and the
login throttle. Secrets are stored as hashes only (argon2id for passwords, SHA-256 for random tokens)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from invoicebridge.store.tables import Base, company_fk

HASH = String(64)  # hex SHA-256


def user_fk(*, nullable: bool = False) -> Mapped[int]:
    on_delete = "SET NULL" if nullable else "CASCADE"
    return mapped_column(ForeignKey("users.id", ondelete=on_delete), index=True, nullable=nullable)


class UserRow(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)  # stored lower-case
    display_name: Mapped[str] = mapped_column(String(100))
    password_hash: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime]


class MembershipRow(Base):
    __tablename__ = "memberships"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    company_id: Mapped[int] = company_fk()
    user_id: Mapped[int] = user_fk()
    role: Mapped[str] = mapped_column(String(16))
    __table_args__ = (UniqueConstraint("company_id", "user_id", name="uq_memberships_company_user"),)


class WebSessionRow(Base):
    __tablename__ = "web_sessions"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(HASH, unique=True)
    user_id: Mapped[int] = user_fk()
    created_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]


class ApiTokenRow(Base):
    __tablename__ = "api_tokens"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    company_id: Mapped[int] = company_fk()
    name: Mapped[str] = mapped_column(String(100))
    role: Mapped[str] = mapped_column(String(16))
    prefix: Mapped[str] = mapped_column(String(16))
    token_hash: Mapped[str] = mapped_column(HASH, unique=True)
    created_at: Mapped[datetime]
    created_by: Mapped[int | None] = user_fk(nullable=True)
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]


class OAuthStateRow(Base):
    __tablename__ = "oauth_states"
    nonce: Mapped[str] = mapped_column(String(64), primary_key=True)
    company_id: Mapped[int] = company_fk()
    user_id: Mapped[int] = user_fk()
    replace_realm: Mapped[bool] = mapped_column(Boolean)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]


class LoginLinkRow(Base):
    __tablename__ = "login_links"
    token_hash: Mapped[str] = mapped_column(HASH, primary_key=True)
    user_id: Mapped[int] = user_fk()
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]


class LoginThrottleRow(Base):
    __tablename__ = "login_throttle"
    key: Mapped[str] = mapped_column(String(300), primary_key=True)  # "account:<e-mail>" or "address:<ip>"
    failures: Mapped[int]
    last_failure_at: Mapped[datetime]
    locked_until: Mapped[datetime | None]
