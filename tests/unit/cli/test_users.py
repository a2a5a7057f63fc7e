"""`invoicebridge user …`, `token …` and `serve`'s refusal to serve unsafely beyond localhost.

Passwords come only from a hidden prompt and never show in the output; refusals are one red sentence and exit 1.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner, Result

from invoicebridge.bootstrap import Container, build
from invoicebridge.cli import app
from invoicebridge.settings import Settings
from invoicebridge.web.app import create_app

PASSWORD = "violet-harbour-lantern-42"
OTHER_PASSWORD = "copper-meadow-saddle-17"
LINK = re.compile(r"http://127\.0\.0\.1:8000/login/link\?token=(\S+)")
SECRET = re.compile(r"^(ib_\S+)$", re.MULTILINE)


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("INVOICEBRIDGE_DATA_DIR", str(tmp_path))
    for name in ("DATABASE_URL", "HOST", "PORT", "SECRET_KEY", "BEHIND_TLS"):
        monkeypatch.delenv(f"INVOICEBRIDGE_{name}", raising=False)
    return tmp_path


@pytest.fixture
def container(env: Path) -> Iterator[Container]:
    built = build(Settings(data_dir=env), migrate=True)
    yield built
    built.close()


@pytest.fixture
def company(container: Container) -> int:
    return container.orderbook.create_company("Acme", "USD", "America/Chicago").id or 0


def run(*args: str, typed: str | None = None) -> Result:
    return CliRunner().invoke(app, list(args), input=typed)


def twice(password: str) -> str:
    return f"{password}\n{password}\n"


def refused(result: Result, message: str) -> None:
    assert result.exit_code == 1, result.output
    assert message in result.output
    assert "Traceback" not in result.output
    assert isinstance(result.exception, SystemExit)


# -- user create ---------------------------------------------------------------------------------------------
def test_user_create_asks_for_the_password_twice_hidden_and_the_user_can_log_in(container: Container) -> None:
    result = run("user", "create", "Ann@Example.com", "--name", "Ann Lee", typed=twice(PASSWORD))
    assert result.exit_code == 0, result.output
    assert PASSWORD not in result.output
    assert result.output.count("Password") == 1  # the prompt, once; click's confirmation prompt follows it
    assert "Repeat for confirmation" in result.output
    assert "Created user ann@example.com (Ann Lee)." in result.output
    assert container.sessions.login("ann@example.com", PASSWORD, "127.0.0.1").cookie


def test_two_different_passwords_create_nobody(container: Container) -> None:
    result = run("user", "create", "ann@example.com", typed=f"{PASSWORD}\n{OTHER_PASSWORD}\n")
    assert result.exit_code != 0
    assert PASSWORD not in result.output and OTHER_PASSWORD not in result.output
    assert container.people.everyone() == []


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("short-one", "A password needs at least 12 characters."),
        ("password1234", "This password is too common or too simple: choose another."),
        ("ann@example.com", "A password must not be the e-mail address."),
    ],
)
def test_a_weak_password_is_refused_with_the_policy_and_nothing_is_created(
    container: Container, password: str, message: str
) -> None:
    result = run("user", "create", "ann@example.com", typed=twice(password))
    refused(result, message)
    assert container.people.everyone() == []


def test_a_taken_e_mail_is_refused_before_any_password_is_asked(container: Container) -> None:
    assert run("user", "create", "ann@example.com", "--no-password").exit_code == 0
    result = run("user", "create", "ANN@example.com", typed=twice(PASSWORD))
    refused(result, "A user with the e-mail ann@example.com exists already.")
    assert "Password" not in result.output
    assert len(container.people.everyone()) == 1


def test_a_bad_e_mail_is_refused(env: Path) -> None:
    refused(run("user", "create", "not-an-address", "--no-password"), "This is not an e-mail address.")


def test_user_create_without_password_prints_a_one_time_login_link_that_works_once(container: Container) -> None:
    result = run("user", "create", "bob@example.com", "--no-password")
    assert result.exit_code == 0, result.output
    assert "Password" not in result.output
    assert "valid 24 h" in result.output
    link = LINK.search(result.output)
    assert link is not None, result.output
    assert container.people.user("bob@example.com").password_hash is None
    with TestClient(create_app(container)) as web:
        first = web.get(f"/login/link?token={link[1]}", follow_redirects=False)
        assert first.status_code == 303
        assert first.headers["location"] == "/"
        assert "ib_session=" in first.headers["set-cookie"]
        web.cookies.clear()
        second = web.get(f"/login/link?token={link[1]}", follow_redirects=False)
        assert "ib_session=" not in second.headers.get("set-cookie", "")
        assert second.status_code == 401


# -- user add, password, list, login-link --------------------------------------------------------------------
def test_user_add_makes_a_member_then_changes_the_role(container: Container, company: int) -> None:
    run("user", "create", "ann@example.com", "--no-password")
    added = run("user", "add", "ann@example.com", "--company", str(company), "--role", "admin")
    assert added.exit_code == 0, added.output
    assert f"ann@example.com is admin of company {company}." in added.output
    run("user", "create", "bob@example.com", "--no-password")
    run("user", "add", "bob@example.com", "--company", str(company), "--role", "member")
    changed = run("user", "add", "bob@example.com", "--company", str(company), "--role", "admin")
    assert changed.exit_code == 0, changed.output
    roles = {m.email: m.role.value for m in container.people.members(company)}
    assert roles == {"ann@example.com": "admin", "bob@example.com": "admin"}


def test_user_add_refuses_an_unknown_company_user_or_role_and_the_last_admin_leaving(
    container: Container, company: int
) -> None:
    run("user", "create", "ann@example.com", "--no-password")
    refused(run("user", "add", "ann@example.com", "--company", "999", "--role", "member"), "No company has the id 999.")
    refused(
        run("user", "add", "nobody@example.com", "--company", str(company), "--role", "member"),
        "No user has the e-mail nobody@example.com.",
    )
    wrong_role = run("user", "add", "ann@example.com", "--company", str(company), "--role", "owner")
    assert wrong_role.exit_code == 2
    assert "owner" in wrong_role.output
    run("user", "add", "ann@example.com", "--company", str(company), "--role", "admin")
    refused(
        run("user", "add", "ann@example.com", "--company", str(company), "--role", "member"),
        "This is the company's last admin: make someone else admin first.",
    )
    assert [m.role.value for m in container.people.members(company)] == ["admin"]


def test_user_password_sets_it_and_ends_the_users_sessions(container: Container) -> None:
    run("user", "create", "ann@example.com", typed=twice(PASSWORD))
    session = container.sessions.login("ann@example.com", PASSWORD, "127.0.0.1")
    result = run("user", "password", "ann@example.com", typed=twice(OTHER_PASSWORD))
    assert result.exit_code == 0, result.output
    assert OTHER_PASSWORD not in result.output
    assert "sessions have ended" in result.output
    assert container.sessions.caller(session.cookie) is None
    assert container.sessions.login("ann@example.com", OTHER_PASSWORD, "127.0.0.1").cookie


def test_user_password_refuses_a_weak_one_and_keeps_the_old(container: Container) -> None:
    run("user", "create", "ann@example.com", typed=twice(PASSWORD))
    refused(run("user", "password", "ann@example.com", typed=twice("tiny")), "A password needs at least 12 characters.")
    assert container.sessions.login("ann@example.com", PASSWORD, "127.0.0.1").cookie


def test_user_password_for_an_unknown_e_mail_is_refused_before_the_prompt(env: Path) -> None:
    result = run("user", "password", "nobody@example.com", typed=twice(PASSWORD))
    refused(result, "No user has the e-mail nobody@example.com.")
    assert "Password" not in result.output


def test_user_list_shows_companies_roles_and_whether_a_password_is_set_never_the_hash(
    container: Container, company: int
) -> None:
    run("user", "create", "ann@example.com", "--name", "Ann", typed=twice(PASSWORD))
    run("user", "create", "bob@example.com", "--name", "Bob", "--no-password")
    run("user", "add", "ann@example.com", "--company", str(company), "--role", "admin")
    result = run("user", "list")
    assert result.exit_code == 0, result.output
    ann = next(line for line in result.output.splitlines() if "ann@example.com" in line)
    bob = next(line for line in result.output.splitlines() if "bob@example.com" in line)
    assert "Ann" in ann and f"{company} Acme (admin)" in ann and "set" in ann and "not set" not in ann
    assert "Bob" in bob and "not set" in bob
    stored = container.people.user("ann@example.com").password_hash
    assert stored and stored not in result.output
    assert "argon2" not in result.output


def test_user_list_without_users_says_how_to_create_one(env: Path) -> None:
    result = run("user", "list")
    assert result.exit_code == 0
    assert "user create" in result.output


def test_user_login_link_prints_a_fresh_link_on_the_configured_port(env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    run("user", "create", "ann@example.com", "--no-password")
    monkeypatch.setenv("INVOICEBRIDGE_PORT", "8123")
    result = run("user", "login-link", "ann@example.com")
    assert result.exit_code == 0, result.output
    assert re.search(r"^http://127\.0\.0\.1:8123/login/link\?token=\S+$", result.output, re.MULTILINE)
    refused(run("user", "login-link", "nobody@example.com"), "No user has this e-mail.")


# -- token create --------------------------------------------------------------------------------------------
def test_token_create_prints_a_secret_once_that_opens_only_its_company(container: Container, company: int) -> None:
    other = container.orderbook.create_company("Other", "USD", "America/Chicago").id
    result = run("token", "create", "--company", str(company), "--name", "shop import")
    assert result.exit_code == 0, result.output
    assert "shown only now" in result.output
    secret = SECRET.search(result.output)
    assert secret is not None, result.output
    bearer = {"Authorization": f"Bearer {secret[1]}"}
    with TestClient(create_app(container)) as api:
        assert api.get(f"/api/companies/{company}", headers=bearer).status_code == 200
        assert api.get(f"/api/companies/{other}", headers=bearer).status_code == 404
        assert api.get(f"/api/companies/{company}").status_code == 401
    [token] = container.api_tokens.of_company(company)
    assert (token.name, token.role.value) == ("shop import", "member")
    assert secret[1] not in repr(token)


def test_token_create_refuses_an_unknown_company_and_an_empty_name(env: Path, company: int) -> None:
    refused(run("token", "create", "--company", "999", "--name", "x"), "No company has the id 999.")
    refused(run("token", "create", "--company", str(company), "--name", "  "), "A token needs a name")


# -- serve ---------------------------------------------------------------------------------------------------
def test_serve_beyond_localhost_without_secret_key_or_tls_refuses_and_starts_nothing(env: Path) -> None:
    result = run("serve", "--host", "0.0.0.0")
    assert result.exit_code == 2, result.output
    assert "INVOICEBRIDGE_SECRET_KEY" in result.output
    assert "INVOICEBRIDGE_BEHIND_TLS" in result.output
    assert not (env / "invoicebridge.db").exists()  # refused before migrating, let alone binding


def test_serve_beyond_localhost_with_a_secret_key_still_needs_tls(env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INVOICEBRIDGE_SECRET_KEY", "k" * 40)
    result = run("serve", "--host", "0.0.0.0")
    assert result.exit_code == 2, result.output
    assert "INVOICEBRIDGE_SECRET_KEY" not in result.output
    assert "INVOICEBRIDGE_BEHIND_TLS" in result.output
    assert "k" * 40 not in result.output
