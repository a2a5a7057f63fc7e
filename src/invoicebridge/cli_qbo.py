"""`invoicebridge qbo usage`: the month's counted QuickBooks calls per company, Core (writes) and CorePlus (reads),
and the deployment's CorePlus total against the monthly budget (INVOICEBRIDGE_QBO_COREPLUS_MONTHLY_BUDGET).

Intuit caps CorePlus calls per app and month across all the companies it serves (docs/quickbooks.md,
"Metering"): the total line is the one that matters; the table says which companies spend the reads."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from invoicebridge import cli_qbo_import
from invoicebridge.bootstrap import Container, build
from invoicebridge.cli_access import SettingsLoader, company_option
from invoicebridge.domain import InvoiceBridgeError
from invoicebridge.domain.paging import MAX_PAGE, PageRequest
from invoicebridge.qbo.errors import QboError
from invoicebridge.settings import Settings
from invoicebridge.sync.meter import MonthUsage, valid_month

qbo = typer.Typer(help="QuickBooks: the month's counted API calls; importing its customers.", no_args_is_help=True)
console = Console()
err = Console(stderr=True)


@qbo.command("usage")
def usage(
    ctx: typer.Context,
    company: Annotated[int | None, company_option("only this company (by id)")] = None,
    month: Annotated[str | None, typer.Option(help="YYYY-MM (UTC); default: this month")] = None,
) -> None:
    """Counted QuickBooks calls of each company in the month, and every company's CorePlus calls against the
    monthly budget. Exit status 0 even past the warning share: it is shown, in yellow."""
    if month is not None and not valid_month(month):
        err.print(f"[red]Not a month:[/red] {escape(month)} (write it as YYYY-MM, e.g. 2026-03)")
        raise typer.Exit(2)
    load: SettingsLoader = ctx.obj if callable(ctx.obj) else Settings
    container = build(load(), migrate=True)
    try:
        if company is not None and not _names(container, [company]):
            err.print(f"[red]No company has the id {company}.[/red]")
            raise typer.Exit(1)
        figures = container.meter.usage(month, None if company is None else [company])
        console.print(_table(figures, _names(container, list(figures.companies))))
        for line in _total_lines(figures):
            console.print(line)
    finally:
        container.close()


@qbo.command("import-customers")
def import_customers(
    ctx: typer.Context, company: Annotated[int, company_option("the company (by id)")]
) -> None:  # fmt: skip
    """Create an order-book customer, linked to it, for each active QuickBooks customer not linked yet; list the
    e-mail clashes and refusals (not created). Idempotent. Exit status 1 when it could not run."""
    load: SettingsLoader = ctx.obj if callable(ctx.obj) else Settings
    container = build(load(), migrate=True)
    try:
        report = cli_qbo_import.run(container, company, console)
    except (InvoiceBridgeError, QboError) as failure:
        err.print(f"[red]{escape(str(failure))}[/red]")
        raise typer.Exit(1) from None
    finally:
        container.close()
    cli_qbo_import.print_report(report, console)


def _table(figures: MonthUsage, names: dict[int, str]) -> Table:
    """One row per company, the largest CorePlus spender first."""
    table = Table(title=f"QuickBooks calls in {figures.month} (UTC)")
    table.add_column("Company")
    table.add_column("Core (writes)", justify="right")
    table.add_column("CorePlus (reads)", justify="right")
    ranked = sorted(figures.companies.items(), key=lambda item: (-item[1].coreplus, item[0]))
    for company_id, counts in ranked:
        name = escape(names.get(company_id, "(deleted)"))
        table.add_row(f"{company_id} {name}", f"{counts.core:,}", f"{counts.coreplus:,}")
    if not ranked:
        table.add_row("(no calls counted)", "0", "0")
    return table


def _total_lines(figures: MonthUsage) -> list[str]:
    total, budget = figures.deployment, figures.budget
    lines = [f"Every company: {total.core:,} Core, {total.coreplus:,} CorePlus."]
    if not budget.monthly:
        return [*lines, "No monthly CorePlus budget is set (INVOICEBRIDGE_QBO_COREPLUS_MONTHLY_BUDGET=0)."]
    share = total.coreplus * 100 / budget.monthly
    lines.append(f"CorePlus budget: {total.coreplus:,} of {budget.monthly:,} ({share:.1f} %); the warning starts at "
                 f"{budget.warn_at or 0:,} ({budget.warn_percent} %).")  # fmt: skip
    if figures.warning:
        lines.append(
            "[yellow]Warning: past the warning share of the monthly CorePlus budget. Past the budget Intuit blocks "
            "every read until next month and shows the app as Offline in QuickBooks.[/yellow]"
        )
    return lines


def _names(container: Container, company_ids: list[int]) -> dict[int, str]:
    """Names of these companies (ids of deleted ones left out), a page at a time."""
    names: dict[int, str] = {}
    after: int | None = None
    while company_ids:
        page = container.orderbook.list_companies(PageRequest(MAX_PAGE, after), among=company_ids)
        names.update({c.id: c.name for c in page.items if c.id is not None})
        if page.next_after is None:
            return names
        after = page.next_after
    return names
