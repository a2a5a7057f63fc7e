"""People: users, passwords and who belongs to which company with which role.

Used by the CLI (`invoicebridge user …`), the demo and the members API. Every call is one unit of work: it
validates first, then stores everything or nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from invoicebridge.domain import Company, NotFound, ValidationError, new_company
from invoicebridge.domain.access import (
    Member,
    Membership,
    Role,
    User,
    clean_display_name,
    normalise_email,
    parse_role,
    password_problems,
)
from invoicebridge.domain.errors import Conflict
from invoicebridge.sync.ports import UnitOfWork, UnitOfWorkFactory
from invoicebridge.sync.secrets import hash_password

Clock = Callable[[], datetime]


@dataclass(frozen=True)
class Person:
    """A user with the companies they belong to, as `user list` shows them."""

    user: User
    roles: dict[int, Role]


class People:
    def __init__(self, uow: UnitOfWorkFactory, clock: Clock) -> None:
        self._uow = uow
        self._clock = clock

    def create_user(self, email: object, display_name: object = None, password: str | None = None) -> User:
        """A new user; without a password they log in by a one-time link until they set one.
        Raises ValidationError (bad e-mail, weak password) or Conflict (e-mail taken)."""
        address = normalise_email(email)
        name = clean_display_name(display_name, address)
        if password is not None:
            _check_password(password, address)
        user = User(None, address, name, hash_password(password) if password is not None else None, self._clock())
        with self._uow() as uow:
            stored = uow.users.add(user)
            uow.commit()
        return stored

    def set_password(self, email: object, password: str) -> User:
        """Sets a new password and ends every browser session of that user."""
        with self._uow() as uow:
            user = _user_by_email(uow, email)
            _check_password(password, user.email)
            uow.users.set_password(user.id or 0, hash_password(password))
            uow.web_sessions.revoke_all_of(user.id or 0, self._clock())
            uow.commit()
        return user

    def user(self, email: object) -> User:
        with self._uow() as uow:
            return _user_by_email(uow, email)

    def add_member(self, company_id: int, email: object, role: object) -> Member:
        """Adds the user to the company, or changes their role there. Raises NotFound, ValidationError."""
        chosen = parse_role(role)
        with self._uow() as uow:
            uow.companies.get(company_id)
            user = _user_by_email(uow, email)
            if chosen is Role.MEMBER:
                _keep_an_admin(uow, company_id, user.id or 0)
            uow.memberships.put(Membership(company_id, user.id or 0, chosen))
            uow.commit()
        return Member(user.id or 0, user.email, user.display_name, chosen)

    def remove_member(self, company_id: int, user_id: int) -> None:
        """Raises NotFound when the user is no member; Conflict when they are the company's last admin."""
        with self._uow() as uow:
            _keep_an_admin(uow, company_id, user_id)
            if not uow.memberships.remove(company_id, user_id):
                raise NotFound("member", user_id)
            uow.commit()

    def members(self, company_id: int) -> list[Member]:
        with self._uow() as uow:
            return uow.memberships.members(company_id)

    def everyone(self) -> list[Person]:
        with self._uow() as uow:
            return [Person(user, uow.memberships.roles_of(user.id or 0)) for user in uow.users.all()]

    def found_company(self, user_id: int, name: object, home_currency: object, timezone: object) -> Company:
        """A new company with its creator as its first admin, in one transaction."""
        company = new_company(name, home_currency, timezone)
        with self._uow() as uow:
            uow.users.get(user_id)
            stored = uow.companies.add(company)
            uow.memberships.put(Membership(stored.id or 0, user_id, Role.ADMIN))
            uow.commit()
        return stored


def _check_password(password: str, email: str) -> None:
    problems = password_problems(password, email)
    if problems:
        raise ValidationError(problems)


def _user_by_email(uow: UnitOfWork, email: object) -> User:
    address = normalise_email(email)
    user = uow.users.by_email(address)
    if user is None:
        raise NotFound("user", address)
    return user


def _keep_an_admin(uow: UnitOfWork, company_id: int, leaving_user_id: int) -> None:
    """A company keeps at least one admin: nobody could connect QuickBooks or add members otherwise."""
    admins = [m.user_id for m in uow.memberships.members(company_id) if m.role is Role.ADMIN]
    if admins == [leaving_user_id]:
        raise Conflict("user", "This is the company's last admin: make someone else admin first.")
