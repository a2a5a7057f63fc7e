"""`invoicebridge …`: demo, serve, db upgrade, import. Reads settings once and passes them down."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
import uvicorn
from rich.console import Console
from rich.progress import Progress

from invoicebridge.bootstrap import Container, build
from invoicebridge.demo import seed_demo
from invoicebridge.domain import InvoiceBridgeError, PageRequest
from invoicebridge.settings import Settings
from invoicebridge.store.migrate import upgrade
from invoicebridge.sync.order_import import ImportFileError, ImportReport, OrderImporter
from invoicebridge.web.app import create_app

app = typer.Typer(help="invoicebridge: sales orders in, QuickBooks Online invoices out.", no_args_is_help=True)
db = typer.Typer(help="Database schema.", no_args_is_help=True)
app.add_typer(db, name="db")
console = Console()
err = Console(stderr=True)


def _settings(**overrides: object) -> Settings:
    try:
        given: dict[str, Any] = {k: v for k, v in overrides.items() if v is not None}
        return Settings(**given)
    except ValueError as error:
        err.print(f"[red]Invalid settings:[/red] {error}")
        raise typer.Exit(2) from None


def _serve(container: Container, host: str, port: int) -> None:
    console.print(f"API:      http://{host}:{port}/api/docs")
    console.print(f"OpenAPI:  http://{host}:{port}/api/openapi.json")
    uvicorn.run(create_app(container), host=host, port=port, log_level=container.settings.log_level)


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="defaults to INVOICEBRIDGE_HOST")] = None,
    port: Annotated[int | None, typer.Option(help="defaults to INVOICEBRIDGE_PORT")] = None,
) -> None:
    """Serve the API, configured from INVOICEBRIDGE_* variables (migrates the database first)."""
    settings = _settings(host=host, port=port)
    container = build(settings, migrate=True)
    try:
        _serve(container, settings.host, settings.port)
    finally:
        container.close()


@app.command()
def demo(
    data_dir: Annotated[Path, typer.Option(help="where the demo's SQLite file lives")] = Path("var/demo"),
    host: Annotated[str, typer.Option()] = "127.0.0.1",
    port: Annotated[int, typer.Option()] = 8000,
    no_serve: Annotated[bool, typer.Option("--no-serve", help="create the data and exit")] = False,
) -> None:
    """Create a demo order book on SQLite with sample data, then serve the API."""
    settings = _settings(data_dir=data_dir, database_url="", host=host, port=port)
    container = build(settings, migrate=True)
    try:
        summary = seed_demo(container.orderbook, datetime.now(UTC))
        verb = "Created" if summary.created else "Found"
        console.print(f"{verb} demo company {summary.company.name!r} (id {summary.company.id}) in {data_dir}")
        if not no_serve:
            _serve(container, host, port)
    finally:
        container.close()


@db.command("upgrade")
def db_upgrade() -> None:
    """Create or migrate the database schema (INVOICEBRIDGE_DATABASE_URL, or the SQLite file in the data dir)."""
    settings = _settings()
    upgrade(settings.resolved_database_url())
    console.print("Database schema is up to date.")


@app.command("import")
def import_orders(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True, help="CSV, docs/import.md")],
    company: Annotated[int | None, typer.Option(help="company id; needed when the book has several")] = None,
) -> None:
    """Import sales orders from CSV: idempotent by SO number; a refused SO is reported and nothing of it stored."""
    container = build(_settings(), migrate=True)
    try:
        company_id = company or _only_company(container)
        with Progress(console=err, transient=True) as progress:
            task = progress.add_task("Importing", total=None)
            report = OrderImporter(container.uow, lambda: datetime.now(UTC)).run(
                company_id,
                file.read_text(encoding="utf-8-sig"),
                lambda done, total: progress.update(task, completed=done, total=total),
            )
    except (ImportFileError, InvoiceBridgeError) as error:
        err.print(f"[red]Nothing imported:[/red] {error}")
        raise typer.Exit(1) from None
    finally:
        container.close()
    _print_report(report)
    if report.refused:
        raise typer.Exit(1)


def _only_company(container: Container) -> int:
    companies = container.orderbook.list_companies(PageRequest(limit=500)).items
    if len(companies) != 1:
        listed = ", ".join(f"{c.id} ({c.name})" for c in companies) or "none yet"
        err.print(f"[red]Say which company with --company.[/red] Companies: {listed}")
        raise typer.Exit(2)
    return companies[0].id or 0


def _print_report(report: ImportReport) -> None:
    console.print(f"Imported {len(report.imported)}, skipped {len(report.skipped)}, refused {len(report.refused)}.")
    for line, number, reason in report.skipped:
        console.print(f"  skipped {number} (line {line}): {reason}")
    for refused in report.refused:
        for line, field, message in refused.problems:
            console.print(f"  refused {refused.so_number or '(no number)'} line {line} {field}: {message}")


def main() -> None:
    app()


if __name__ == "__main__":
    main()
