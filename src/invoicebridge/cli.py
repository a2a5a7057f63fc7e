"""`invoicebridge …`: demo, serve, worker, db upgrade, import, invoice, return; `user …` and `token …` live in
cli_access. Reads settings once and passes them down.

The demo is the one place invoicebridge and qbo_sandbox meet (DESIGN §2): it runs the sandbox in-process, with
its state in the demo's data directory, and connects the demo company to it."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
import uvicorn
from rich.console import Console
from rich.markup import escape
from rich.progress import Progress

from invoicebridge import cli_bulk, cli_retry, demo_setup
from invoicebridge.bootstrap import Container, build
from invoicebridge.cli_access import COMPANY_OPTION, login_url, only_company, tokens, users
from invoicebridge.cli_keys import keys
from invoicebridge.cli_qbo import qbo
from invoicebridge.cli_returns import return_goods
from invoicebridge.demo import ensure_demo_admin, seed_demo
from invoicebridge.domain import InvoiceBridgeError, InvoiceLink, InvoiceScope, InvoiceState
from invoicebridge.jobs import worker as worker_module
from invoicebridge.settings import Settings
from invoicebridge.store.migrate import upgrade
from invoicebridge.sync.order_import import MAX_FILE_BYTES, ImportReport, OrderImporter
from invoicebridge.web.app import create_app
from qbo_sandbox.sandbox import SandboxConfig
from qbo_sandbox.server import SandboxServer

app = typer.Typer(help="invoicebridge: sales orders in, QuickBooks Online invoices out.", no_args_is_help=True)
db = typer.Typer(help="Database schema.", no_args_is_help=True)
app.add_typer(db, name="db")
app.add_typer(users, name="user")
app.add_typer(tokens, name="token")
app.add_typer(keys, name="keys")
app.add_typer(qbo, name="qbo")
app.command("return")(return_goods)  # returns → credit memos (cli_returns.py)
console = Console()
err = Console(stderr=True)


ENV_FILE: Path | None = None  # set by --env-file


@app.callback()
def _options(
    ctx: typer.Context,
    env_file: Annotated[
        Path | None,
        typer.Option("--env-file", help="read INVOICEBRIDGE_* settings from this file (the demo writes one)"),
    ] = None,
) -> None:
    global ENV_FILE
    if env_file is not None and not env_file.is_file():
        err.print(f"[red]No such settings file:[/red] {env_file}")
        raise typer.Exit(2)
    ENV_FILE = env_file
    ctx.obj = _settings  # how the `user` and `token` commands read the same settings


def _settings(env_file: Path | None = None, **overrides: object) -> Settings:
    try:
        given: dict[str, Any] = {k: v for k, v in overrides.items() if v is not None}
        return Settings(_env_file=env_file or ENV_FILE, **given)
    except ValueError as error:
        err.print(f"[red]Invalid settings:[/red] {error}")
        raise typer.Exit(2) from None


def _serve(container: Container, host: str, port: int) -> None:
    console.print(f"API:      http://{host}:{port}/api/docs")
    console.print(f"OpenAPI:  http://{host}:{port}/api/openapi.json")
    settings = container.settings
    uvicorn.run(
        create_app(container), host=host, port=port, log_level=settings.log_level, proxy_headers=True,
        forwarded_allow_ips=settings.trusted_proxies,
    )  # fmt: skip


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="defaults to INVOICEBRIDGE_HOST")] = None,
    port: Annotated[int | None, typer.Option(min=1, max=65535, help="defaults to INVOICEBRIDGE_PORT")] = None,
) -> None:
    """Serve the API, configured from INVOICEBRIDGE_* variables (migrates the database first)."""
    settings = _settings(host=host, port=port)
    problems = settings.serving_problems(settings.host)
    for problem in problems:
        err.print(f"[red]{problem}[/red]")
    if problems:
        raise typer.Exit(2)  # before anything is migrated or bound
    container = build(settings, migrate=True)
    try:
        _serve(container, settings.host, settings.port)
    finally:
        container.close()


@app.command()
def demo(
    data_dir: Annotated[Path, typer.Option(help="where the demo's SQLite files live")] = Path("var/demo"),
    port: Annotated[int, typer.Option(min=1, max=65535, help="its web app's port, on 127.0.0.1 only")] = 8000,
    sandbox_port: Annotated[int, typer.Option(min=1, max=65535, help="the built-in QuickBooks sandbox's port")] = 8765,
    no_serve: Annotated[bool, typer.Option("--no-serve", help="create the data and exit")] = False,
) -> None:
    """The demo: sample order book on SQLite, the built-in QuickBooks sandbox connected, worker and API served.
    It listens on 127.0.0.1 only: its admin logs in by a printed link and its keys are generated files."""
    host = demo_setup.HOST
    sandbox = SandboxServer(SandboxConfig(), port=sandbox_port, db=_ensure(data_dir) / "sandbox.db")
    sandbox.start()
    container: Container | None = None
    try:
        qbo = demo_setup.sandbox_app(sandbox.url, data_dir, demo_setup.web_url(port))
        env_file = demo_setup.write_env_file(data_dir, sandbox.url, qbo, port)
        settings = _settings(env_file, data_dir=data_dir, database_url="", host=host, port=port)
        container = build(settings, migrate=True)
        summary = seed_demo(container.orderbook, datetime.now(UTC))
        verb = "Created" if summary.created else "Found"
        console.print(f"{verb} demo company {summary.company.name!r} (id {summary.company.id}) in {data_dir}")
        demo_setup.connect(container, summary.company.id or 0, sandbox.url, qbo)
        console.print(f"QuickBooks sandbox: {sandbox.url}/app (company {qbo['realm_id']}), connected.")
        hint = f"Invoice from another shell: invoicebridge --env-file {env_file} invoice SO-1001"
        console.print(hint, soft_wrap=True, highlight=False, markup=False)
        _print_demo_login(container, summary.company.id or 0, env_file)
        if not no_serve:
            consumer = worker_module.consumer(container.jobs.huey)
            consumer.start()
            try:
                _serve(container, host, port)
            finally:
                consumer.stop(graceful=True)
    finally:
        if container is not None:
            container.close()
        sandbox.stop()


@app.command()
def worker(
    workers: Annotated[int, typer.Option(min=1, max=64, help="worker threads")] = 2,
) -> None:
    """Run queued jobs (invoicing, webhooks, COGS) and the periodic CDC poll, until Ctrl-C / SIGTERM."""
    container = build(_settings(), migrate=True)
    try:
        console.print(f"Worker with {workers} threads; CDC poll every {container.settings.cdc_poll_minutes} min.")
        worker_module.run(container.jobs.huey, workers)
    finally:
        container.close()


@app.command()
def invoice(
    numbers: Annotated[list[str] | None, typer.Argument(help="SO numbers, e.g. SO-1001")] = None,
    company: Annotated[int | None, COMPANY_OPTION] = None,
    delivered: Annotated[
        bool, typer.Option("--delivered", help="invoice what was delivered and is not invoiced yet (partial invoicing)")
    ] = False,
    separate: Annotated[
        bool, typer.Option("--separate", help="with --delivered: one invoice per delivery instead of one for all")
    ] = False,
    all_not_invoiced: Annotated[
        bool, typer.Option("--all-not-invoiced", help="every SO with no invoice in QuickBooks yet (failed ones again)")
    ] = False,
    retry_failed: Annotated[
        bool, typer.Option("--retry-failed", help="every failed invoice again, listed by reason (a bulk run)")
    ] = False,
    workers: Annotated[
        int, typer.Option(min=0, max=64, help="for a queued run: worker threads in this process while the bar is "
                          "shown (0: the running `invoicebridge worker` processes do the work)")
    ] = 0,
) -> None:  # fmt: skip
    """Create the QuickBooks invoice of each SO now (the whole SO, or with --delivered its delivered parts) and
    print the outcome and the link. With --all-not-invoiced, or more than 20 SO numbers, the SOs are queued
    instead (a bulk run, as on the Sell screen) and a progress bar follows them; failed SOs are listed at the end.
    With --retry-failed, every failed invoice is listed by reason and queued again the same way."""
    if separate and not delivered:
        raise typer.BadParameter("--separate goes with --delivered", param_hint="--separate")
    if retry_failed and (numbers or all_not_invoiced or delivered):
        raise typer.BadParameter("--retry-failed takes no SO numbers and no other choice", param_hint="--retry-failed")
    if not retry_failed and all_not_invoiced == bool(numbers):
        raise typer.BadParameter("name the SOs or use --all-not-invoiced (one of the two)", param_hint="NUMBERS")
    if all_not_invoiced and delivered:
        raise typer.BadParameter("--all-not-invoiced invoices whole SOs; name the SOs for --delivered")
    container = build(_settings(), migrate=True)
    try:
        company_id = company or only_company(container)
        if retry_failed:
            status = cli_retry.retry_failed(container, company_id, workers, console)
        elif all_not_invoiced or (len(numbers or []) > cli_bulk.FEW and not delivered):
            status = _invoice_queued(container, company_id, numbers or [], workers)
        else:
            status = 1 if _invoice_now(container, company_id, numbers or [], delivered, separate) else 0
    finally:
        container.close()
    if status:
        raise typer.Exit(status)


def _invoice_now(container: Container, company_id: int, numbers: list[str], delivered: bool, separate: bool) -> int:
    """A few SOs, one after the other in this process, a line each; how many failed."""
    failed = 0
    for number in numbers:
        try:
            order = container.orderbook.get_sales_order_by_number(company_id, number).order
            links = (
                container.invoicing.invoice_deliveries(company_id, order.id or 0, None, combine=not separate)
                if delivered
                else [container.invoicing.create_invoice(company_id, order.id or 0)]
            )
        except InvoiceBridgeError as error:
            err.print(f"{number}: [red]{error}[/red]")
            failed += 1
            continue
        failed += sum(not _print_invoice(container, company_id, number, link) for link in links)
    return failed


def _invoice_queued(container: Container, company_id: int, numbers: list[str], workers: int) -> int:
    """Many SOs (the named ones, or every one not invoiced): queued and followed with a bar; the exit status."""
    if not numbers:
        return cli_bulk.invoice_many(container, company_id, cli_bulk.not_invoiced_ids(container, company_id),
                                     workers, console)  # fmt: skip
    ids, unknown = cli_bulk.ids_of(container, company_id, numbers)
    for number in unknown:
        err.print(f"{escape(number)}: [red]no such sales order[/red]", highlight=False)
    if not ids:
        return 1
    status = cli_bulk.invoice_many(container, company_id, ids, workers, console)
    return status or (1 if unknown else 0)


def _print_invoice(container: Container, company_id: int, number: str, link: InvoiceLink) -> bool:
    """One line per invoice (and the detail of a failure); True when it exists in QuickBooks."""
    url = container.invoice_url(company_id, link.qbo_invoice_id)
    part = "" if link.scope is InvoiceScope.WHOLE else f" (deliveries {', '.join(map(str, link.delivery_ids))})"
    if link.qbo_invoice_id and link.state is InvoiceState.INVOICED:
        console.print(f"{number}{part}: {link.status_text} — invoice {link.doc_number or link.qbo_invoice_id}  {url}")
        return True
    reason = f" — {link.error_message}" if link.error_message else ""
    console.print(f"{number}{part}: [yellow]{link.status_text}[/yellow]{reason}")
    if link.error_detail:
        console.print(f"  {link.error_detail}", style="dim")
    return False


def _print_demo_login(container: Container, company_id: int, env_file: Path) -> None:
    admin = ensure_demo_admin(container.people, company_id)
    link = login_url(container.settings, container.sessions.login_link(admin.email))
    console.print(f"Open the demo's Sell screen — this one-time link (valid 24 h) logs you in as {admin.email}:")
    console.print(f"  {link}", soft_wrap=True, highlight=False, markup=False)  # one line, so it can be clicked
    hints = (
        f"Set a password:     invoicebridge --env-file {env_file} user password {admin.email}",
        f"Get an API token:   invoicebridge --env-file {env_file} token create --company {company_id} --name curl",
    )
    for hint in hints:
        console.print(hint, soft_wrap=True, highlight=False, markup=False)


def _ensure(directory: Path) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    return directory


@db.command("upgrade")
def db_upgrade() -> None:
    """Create or migrate the database schema (INVOICEBRIDGE_DATABASE_URL, or the SQLite file in the data dir)."""
    settings = _settings()
    upgrade(settings.resolved_database_url())
    console.print("Database schema is up to date.")


@app.command("import")
def import_orders(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True, help="CSV, docs/import.md")],
    company: Annotated[int | None, COMPANY_OPTION] = None,
) -> None:
    """Import sales orders from CSV: idempotent by SO number; a refused SO is reported and nothing of it stored."""
    try:
        with file.open("rb") as handle:
            data = handle.read(MAX_FILE_BYTES + 1)  # one byte more than the importer takes: a huge file is refused
    except OSError as error:
        reason = escape(f"cannot read {file} ({error.strerror}).")
        err.print(f"[red]Nothing imported:[/red] {reason}", emoji=False, soft_wrap=True)
        raise typer.Exit(1) from None
    container = build(_settings(), migrate=True)
    try:
        company_id = company or only_company(container)
        with Progress(console=err, transient=True) as progress:
            task = progress.add_task("Importing", total=None)
            report = OrderImporter(container.uow, lambda: datetime.now(UTC)).run(
                company_id, data, lambda done, total: progress.update(task, completed=done, total=total)
            )
    except InvoiceBridgeError as error:  # ImportFileError among them: the file was refused whole
        err.print(f"[red]Nothing imported:[/red] {escape(str(error))}", emoji=False, soft_wrap=True)
        raise typer.Exit(1) from None
    finally:
        container.close()
    _print_report(report)
    if report.refused:
        raise typer.Exit(1)


def _print_report(report: ImportReport) -> None:
    """The counts, then one line per skip and per problem. What comes from the file is printed as plain text: a
    value such as "[/b]" is no rich markup (it would raise) and ":fire:" no emoji."""

    def say(text: str) -> None:
        console.print(text, markup=False, emoji=False, soft_wrap=True)  # one line each, whatever the width

    say(f"Imported {len(report.imported)}, skipped {len(report.skipped)}, refused {len(report.refused)}.")
    for line, number, reason in report.skipped:
        say(f"  skipped {number} (line {line}): {reason}")
    for refused in report.refused:
        for line, field, message in refused.problems:
            where = f"line {line} {field}".rstrip()
            say(f"  refused {refused.so_number or '(no number)'} {where}: {message}")


def main() -> None:
    app()


if __name__ == "__main__":
    main()
