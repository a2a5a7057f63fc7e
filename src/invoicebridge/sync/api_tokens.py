"""API tokens: per company, named, created by an admin, shown once, stored hashed, revocable, with the time
they were last used. A token acts for its one company with the role it was given."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from invoicebridge.domain.access import ApiToken, Caller, clean_token_name, parse_role
from invoicebridge.sync.ports import UnitOfWorkFactory
from invoicebridge.sync.secrets import new_token, token_hash
from invoicebridge.sync.sessions import TOUCH_EVERY

Clock = Callable[[], datetime]
TOKEN_PREFIX = "ib_"  # tells people (and secret scanners) what kind of secret this is
SHOWN_PREFIX = 10


@dataclass(frozen=True)
class NewToken:
    token: ApiToken
    secret: str  # shown once; only its hash is stored


class ApiTokens:
    def __init__(self, uow: UnitOfWorkFactory, clock: Clock) -> None:
        self._uow, self._clock = uow, clock

    def create(self, company_id: int, name: object, role: object, created_by: int | None) -> NewToken:
        """Raises ValidationError (name, role) or NotFound (company)."""
        label, chosen = clean_token_name(name), parse_role(role)
        secret = new_token(TOKEN_PREFIX)
        token = ApiToken(
            None, company_id, label, chosen, secret[:SHOWN_PREFIX], token_hash(secret), self._clock(), created_by
        )
        with self._uow() as uow:
            uow.companies.get(company_id)
            stored = uow.api_tokens.add(token)
            uow.commit()
        return NewToken(stored, secret)

    def of_company(self, company_id: int) -> list[ApiToken]:
        with self._uow() as uow:
            return uow.api_tokens.of_company(company_id)

    def revoke(self, company_id: int, token_id: int) -> ApiToken:
        """Raises NotFound for a token of another company. Revoking twice is fine."""
        with self._uow() as uow:
            revoked = uow.api_tokens.revoke(company_id, token_id, self._clock())
            uow.commit()
        return revoked

    def caller(self, secret: str) -> Caller | None:
        """Who this token acts as, or None (unknown or revoked)."""
        now = self._clock()
        with self._uow() as uow:
            found = uow.api_tokens.by_hash(token_hash(secret))
            if found is None or not found.active:
                return None
            if found.last_used_at is None or now - found.last_used_at >= TOUCH_EVERY:
                uow.api_tokens.touch(found.id or 0, now)
                uow.commit()
        return Caller(None, f"token {found.name}", {found.company_id: found.role}, token_id=found.id)
