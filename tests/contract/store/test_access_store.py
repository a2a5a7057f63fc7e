"""People, sessions, API tokens and login links on SQLite and PostgreSQL: the same use cases, both databases."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

import pytest
from tests.contract.store.conftest import _sql_factory

from invoicebridge.domain import Conflict, NotFound, Unauthenticated, ValidationError
from invoicebridge.domain.access import Role
from invoicebridge.sync.api_tokens import ApiTokens
from invoicebridge.sync.people import People
from invoicebridge.sync.ports import UnitOfWork
from invoicebridge.sync.sessions import SessionPolicy, Sessions

NOW = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
PASSWORD = "correct horse battery staple"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def uow(request: pytest.FixtureRequest) -> Iterator[Callable[[], UnitOfWork]]:
    yield from _sql_factory(request.getfixturevalue(f"{request.param}_url"))


def clock() -> datetime:
    return NOW


def test_people_belong_to_companies_with_roles(uow: Callable[[], UnitOfWork]) -> None:
    people = People(uow, clock)
    ada = people.create_user(" Ada@Example.com ", "Ada", PASSWORD)
    assert (ada.email, ada.display_name) == ("ada@example.com", "Ada")
    assert ada.password_hash and PASSWORD not in ada.password_hash and ada.password_hash.startswith("$argon2id$")
    with pytest.raises(Conflict):
        people.create_user("ADA@example.com", None, PASSWORD)
    company = people.found_company(ada.id or 0, "Acme", "USD", "UTC").id or 0
    people.create_user("bob@example.com", None, None)
    people.add_member(company, "bob@example.com", "member")
    assert [(m.email, m.role) for m in people.members(company)] == [
        ("ada@example.com", Role.ADMIN), ("bob@example.com", Role.MEMBER),
    ]  # fmt: skip
    with pytest.raises(Conflict, match="last admin"):
        people.remove_member(company, ada.id or 0)
    with pytest.raises(Conflict, match="last admin"):
        people.add_member(company, "ada@example.com", "member")
    with pytest.raises(NotFound):
        people.add_member(company, "nobody@example.com", "member")
    with pytest.raises(NotFound):
        people.add_member(999, "bob@example.com", "member")
    with pytest.raises(ValidationError):
        people.add_member(company, "bob@example.com", "owner")


@pytest.mark.parametrize("password", ["short", "password1234", "aaaaaaaaaaaaaaa", "ada@example.com", "x" * 1025])
def test_weak_passwords_are_refused_and_nothing_is_stored(uow: Callable[[], UnitOfWork], password: str) -> None:
    people = People(uow, clock)
    with pytest.raises(ValidationError) as refused:
        people.create_user("ada@example.com", None, password)
    assert password not in str(refused.value)
    with pytest.raises(NotFound):
        people.user("ada@example.com")


def test_sessions_and_tokens_round_trip(uow: Callable[[], UnitOfWork]) -> None:
    people, sessions = People(uow, clock), Sessions(uow, clock, SessionPolicy(b"s" * 32))
    ada = people.create_user("ada@example.com", None, PASSWORD)
    company = people.found_company(ada.id or 0, "Acme", "USD", "UTC").id or 0
    started = sessions.login("ada@example.com", PASSWORD, "127.0.0.1")
    caller = sessions.caller(started.cookie)
    assert caller is not None and caller.roles == {company: Role.ADMIN}
    assert sessions.csrf_matches(started.cookie, started.csrf)
    sessions.logout(started.cookie)
    assert sessions.caller(started.cookie) is None

    tokens = ApiTokens(uow, clock)
    made = tokens.create(company, "ci", "member", ada.id)
    token_caller = tokens.caller(made.secret)
    assert token_caller is not None and token_caller.roles == {company: Role.MEMBER}
    with pytest.raises(NotFound):
        tokens.revoke(company + 1, made.token.id or 0)
    tokens.revoke(company, made.token.id or 0)
    assert tokens.caller(made.secret) is None


@pytest.mark.parametrize("email", ["ada\x00@example.com", "\udcff@example.com", "x" * 5000, "", "ａｄａ@例え.jp"])
def test_odd_e_mails_at_login_are_just_wrong(uow: Callable[[], UnitOfWork], email: str) -> None:
    sessions = Sessions(uow, clock, SessionPolicy(b"s" * 32))
    with pytest.raises(Unauthenticated, match=r"Wrong e-mail or password\."):
        sessions.login(email, PASSWORD, "127.0.0.1")


def test_a_login_link_opens_one_session_only(uow: Callable[[], UnitOfWork]) -> None:
    People(uow, clock).create_user("ada@example.com", None, None)
    sessions = Sessions(uow, clock, SessionPolicy(b"s" * 32))
    with pytest.raises(Unauthenticated):
        sessions.login("ada@example.com", "", "127.0.0.1")  # no password set: only a link opens a session
    link = sessions.login_link("ada@example.com", timedelta(minutes=5))
    assert sessions.caller(sessions.login_with_link(link).cookie) is not None
    with pytest.raises(Unauthenticated):
        sessions.login_with_link(link)
