"""`invoicebridge user …` and `invoicebridge token …`: people, their roles in companies, and API tokens.

Passwords are read only from a hidden prompt, typed twice: never from an option, which would end up in the
shell's history and in `ps`, and never printed. The secrets handed out here (login links, API tokens) are
printed once; only their hashes are stored.

The main app's callback puts its settings loader in the typer context (`ctx.obj`), so `--env-file` works the
same for these commands as for the others.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from invoicebridge.bootstrap import Container, build
from invoicebridge.domain import Conflict, NotFound, PageRequest, ValidationError
from invoicebridge.domain.access import MIN_PASSWORD, Role, clean_display_name, normalise_email
from invoicebridge.domain.checks import MAX_ID
from invoicebridge.domain.paging import MAX_PAGE
from invoicebridge.settings import Settings
from invoicebridge.sync.people import People, Person

users = typer.Typer(help="People: accounts, the companies they belong to and their roles.", no_args_is_help=True)
tokens = typer.Typer(help="API tokens of a company (sent as 'Authorization: Bearer …').", no_args_is_help=True)
console = Console()
err = Console(stderr=True)

SettingsLoader = Callable[[], Settings]
REFUSALS = (ValidationError, NotFound, Conflict)
LINK_LIFETIME_TEXT = "valid 24 h, usable once"


def company_option(help: str) -> Any:
    """A --company option: a database id, refused by the option when it could be none (a larger one would fail deep
    in a query with a traceback; 0 would quietly mean "the only company")."""
    return typer.Option(min=1, max=MAX_ID, help=help)


COMPANY_OPTION = company_option("company id; needed when the book has several")  # for commands that can do without


# -- the commands ----------------------------------------------------------------------------------------------
@users.command("create")
def create_user(
    ctx: typer.Context,
    email: Annotated[str, typer.Argument(help="the e-mail address they log in with")],
    name: Annotated[str | None, typer.Option(help="display name (default: the e-mail's local part)")] = None,
    no_password: Annotated[
        bool, typer.Option("--no-password", help="no password: print a one-time login link instead")
    ] = False,
) -> None:
    """Create a user; asks for the password twice (hidden), or prints a one-time login link with --no-password."""
    with _container(ctx) as container:
        address = _new_address(container.people, email, name)
        password = None if no_password else _ask_password()
        user = container.people.create_user(address, name, password)
        console.print(f"Created user {escape(user.email)} ({escape(user.display_name)}).")
        if no_password:
            _print_login_link(container, user.email)
        hint = f"Add them to a company: invoicebridge user add {user.email} --company ID --role member"
        console.print(hint, soft_wrap=True, highlight=False, markup=False)


@users.command("add")
def add_member(
    ctx: typer.Context,
    email: Annotated[str, typer.Argument()],
    company: Annotated[int, company_option("company id")],
    role: Annotated[Role, typer.Option(help="admin: connection, settings, members, tokens; member: orders")],
) -> None:
    """Add a user to a company, or change their role there."""
    with _container(ctx) as container:
        member = container.people.add_member(company, email, role)
        console.print(f"{escape(member.email)} is {member.role} of company {company}.")


@users.command("password")
def set_password(ctx: typer.Context, email: Annotated[str, typer.Argument()]) -> None:
    """Set a user's password (asked twice, hidden); every browser session of theirs ends."""
    with _container(ctx) as container:
        user = container.people.user(email)  # an unknown e-mail is refused before anyone types a password
        container.people.set_password(user.email, _ask_password())
        console.print(f"Password set for {escape(user.email)}; their browser sessions have ended.")


@users.command("list")
def list_users(ctx: typer.Context) -> None:
    """Every user, their companies and roles, and whether they have a password."""
    with _container(ctx) as container:
        people = container.people.everyone()
        names = _company_names(container, {company for person in people for company in person.roles})
    if not people:
        console.print("No users yet: invoicebridge user create EMAIL")
        return
    console.print(_people_table(people, names))


@users.command("login-link")
def login_link(ctx: typer.Context, email: Annotated[str, typer.Argument()]) -> None:
    """Print a one-time login link (valid 24 h) for a user, e.g. one without a password."""
    with _container(ctx) as container:
        _print_login_link(container, email)


@tokens.command("create")
def create_token(
    ctx: typer.Context,
    company: Annotated[int, company_option("company id")],
    name: Annotated[str, typer.Option(help="what the token is for, e.g. 'shop import'")],
    role: Annotated[Role, typer.Option(help="what the token may do")] = Role.MEMBER,
) -> None:
    """Create an API token for a company and print its secret, once."""
    with _container(ctx) as container:
        made = container.api_tokens.create(company, name, role, None)
    console.print(f"Created API token '{escape(made.token.name)}' ({made.token.role}) for company {company}:")
    console.print(made.secret, soft_wrap=True, highlight=False, markup=False)
    console.print(
        "It is shown only now: store it safely (only its hash is kept). Send it as 'Authorization: Bearer …'."
    )


# -- helpers ---------------------------------------------------------------------------------------------------
@contextmanager
def _container(ctx: typer.Context) -> Iterator[Container]:
    """The application for one command; a refusal becomes a red message and exit status 1, never a traceback."""
    load: SettingsLoader = ctx.obj if callable(ctx.obj) else Settings
    container = build(load(), migrate=True)
    try:
        yield container
    except REFUSALS as error:
        for line in refusal_lines(error):
            err.print(f"[red]{escape(line)}[/red]")
        raise typer.Exit(1) from None
    finally:
        container.close()


def refusal_lines(error: ValidationError | NotFound | Conflict) -> list[str]:
    """The sentences a person reads for a refusal (each problem of a ValidationError on its own line)."""
    if isinstance(error, ValidationError):
        return [problem.message for problem in error.problems]
    if isinstance(error, NotFound) and error.kind == "user":
        return [f"No user has the e-mail {error.key}."]
    if isinstance(error, NotFound) and error.kind == "company":
        return [f"No company has the id {error.key}."]
    return [str(error)]


def _new_address(people: People, email: str, name: str | None) -> str:
    """The normalised e-mail, refused before the password prompt when it is invalid or taken."""
    address = normalise_email(email)
    clean_display_name(name, address)
    try:
        people.user(address)
    except NotFound:
        return address
    raise Conflict("email", f"A user with the e-mail {address} exists already.")


def _ask_password() -> str:
    password: str = typer.prompt(
        f"Password (at least {MIN_PASSWORD} characters)", hide_input=True, confirmation_prompt=True
    )
    return password


def _print_login_link(container: Container, email: str) -> None:
    url = login_url(container.settings, container.sessions.login_link(email))
    console.print(f"One-time login link for {escape(normalise_email(email))} ({LINK_LIFETIME_TEXT}):")
    console.print(url, soft_wrap=True, highlight=False, markup=False)  # soft_wrap: a URL must stay on one line


def login_url(settings: Settings, secret: str) -> str:
    """The link `GET /login/link` serves, on the site's address (INVOICEBRIDGE_PUBLIC_URL, or host and port)."""
    return f"{settings.site_url()}/login/link?token={secret}"


def _company_names(container: Container, ids: Iterable[int]) -> dict[int, str]:
    names: dict[int, str] = {}
    wanted = sorted(ids)
    for start in range(0, len(wanted), MAX_PAGE):
        page = container.orderbook.list_companies(PageRequest(limit=MAX_PAGE), wanted[start : start + MAX_PAGE])
        names.update({company.id or 0: company.name for company in page.items})
    return names


def _people_table(people: list[Person], names: dict[int, str]) -> Table:
    table = Table("E-mail", "Name", "Companies (role)", "Password")
    table.columns[0].no_wrap = True  # e-mails are copied from here: keep each on one line
    for person in people:
        companies = "\n".join(
            f"{company} {escape(names.get(company, '?'))} ({role})" for company, role in sorted(person.roles.items())
        )
        password = "set" if person.user.password_hash else "not set (login link)"
        table.add_row(escape(person.user.email), escape(person.user.display_name), companies or "—", password)
    return table


def only_company(container: Container) -> int:
    """The one company of this installation, for commands whose --company was left out; exits 2 listing them
    when there are none or several."""
    companies = container.orderbook.list_companies(PageRequest(limit=500)).items
    if len(companies) != 1:
        listed = ", ".join(f"{c.id} ({escape(c.name)})" for c in companies) or "none yet"
        err.print(f"[red]Say which company with --company.[/red] Companies: {listed}")
        raise typer.Exit(2)
    return companies[0].id or 0
