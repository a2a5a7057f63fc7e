"""OAuth tokens at rest: Fernet-encrypted (MultiFernet, so keys can rotate), one row per company, and a refresh
that runs under a per-company row lock with the new refresh token stored in the same transaction — two workers
never both refresh, and a rotated refresh token is never lost."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from sqlalchemy import delete, select, text
from sqlalchemy.orm import Session, sessionmaker

from invoicebridge.domain.connection import TokenPair
from invoicebridge.store.tables import TokenRow

Refresh = Callable[[TokenPair], TokenPair | None]  # returns new tokens, or None when the stored ones will do


class TokenDecryptError(Exception):
    """The stored tokens cannot be read with the configured keys (the key changed): reconnect QuickBooks."""


class SqlTokenVault:
    def __init__(self, sessions: sessionmaker[Session], keys: list[str]) -> None:
        if not keys:
            raise ValueError("at least one Fernet key is needed to keep QuickBooks tokens")
        self._sessions = sessions
        self._fernet = MultiFernet([Fernet(key.encode()) for key in keys])

    def load(self, company_id: int) -> TokenPair | None:
        with self._sessions() as session:
            row = session.scalars(select(TokenRow).where(TokenRow.company_id == company_id)).one_or_none()
            return self._decrypt(row.ciphertext) if row else None

    def save(self, company_id: int, tokens: TokenPair) -> None:
        with self._sessions() as session, session.begin():
            self._write(session, company_id, tokens)

    def delete(self, company_id: int) -> None:
        with self._sessions() as session, session.begin():
            session.execute(delete(TokenRow).where(TokenRow.company_id == company_id))

    def refresh_locked(self, company_id: int, refresh: Refresh) -> TokenPair:
        """Lock the company's tokens, hand the current pair to `refresh`, store what it returns — all in one
        transaction. Raises LookupError when there are no tokens (never connected or disconnected)."""
        with self._sessions() as session, session.begin():
            if session.get_bind().dialect.name == "sqlite":
                session.execute(text("UPDATE qbo_tokens SET id = id WHERE company_id = :c"), {"c": company_id})
            query = select(TokenRow).where(TokenRow.company_id == company_id).with_for_update()
            row = session.scalars(query).one_or_none()  # PostgreSQL: FOR UPDATE; SQLite: the write lock above
            if row is None:
                raise LookupError(f"company {company_id} has no QuickBooks tokens")
            current = self._decrypt(row.ciphertext)
            fresh = refresh(current)
            if fresh is None:
                return current
            self._write(session, company_id, fresh)
            return fresh

    def rekey(self) -> tuple[int, list[int]]:
        """Re-encrypt every company's tokens with the newest key (the first configured), each under its row lock
        so a refresh running meanwhile is never undone. Returns (rows re-encrypted, companies whose tokens no
        configured key can read — they must reconnect QuickBooks)."""
        with self._sessions() as session:
            companies = list(session.scalars(select(TokenRow.company_id).order_by(TokenRow.company_id)))
        done, unreadable = 0, []
        for company_id in companies:
            try:
                done += self._rekey_one(company_id)
            except InvalidToken:
                unreadable.append(company_id)
        return done, unreadable

    def _rekey_one(self, company_id: int) -> int:
        with self._sessions() as session, session.begin():
            if session.get_bind().dialect.name == "sqlite":
                session.execute(text("UPDATE qbo_tokens SET id = id WHERE company_id = :c"), {"c": company_id})
            query = select(TokenRow).where(TokenRow.company_id == company_id).with_for_update()
            row = session.scalars(query).one_or_none()
            if row is None:  # disconnected meanwhile
                return 0
            row.ciphertext = self._fernet.rotate(row.ciphertext.encode()).decode()
            return 1

    def _write(self, session: Session, company_id: int, tokens: TokenPair) -> None:
        row = session.scalars(select(TokenRow).where(TokenRow.company_id == company_id)).one_or_none()
        if row is None:
            row = TokenRow(company_id=company_id)
            session.add(row)
        row.ciphertext = self._encrypt(tokens)
        row.updated_at = datetime.now(UTC)

    def _encrypt(self, tokens: TokenPair) -> str:
        plain = {
            "access_token": tokens.access_token, "refresh_token": tokens.refresh_token,
            "access_expires_at": tokens.access_expires_at.isoformat(),
            "refresh_expires_at": tokens.refresh_expires_at.isoformat() if tokens.refresh_expires_at else None,
        }  # fmt: skip
        return self._fernet.encrypt(json.dumps(plain).encode()).decode()

    def _decrypt(self, ciphertext: str) -> TokenPair:
        try:
            plain = json.loads(self._fernet.decrypt(ciphertext.encode()))
        except InvalidToken:
            raise TokenDecryptError("stored QuickBooks tokens cannot be decrypted with the configured keys") from None
        refresh_at = plain.get("refresh_expires_at")
        return TokenPair(
            plain["access_token"], plain["refresh_token"], datetime.fromisoformat(plain["access_expires_at"]),
            datetime.fromisoformat(refresh_at) if refresh_at else None,
        )  # fmt: skip
