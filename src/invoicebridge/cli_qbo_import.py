"""`invoicebridge qbo import-customers`: the import with a progress bar (a page of customers at a time) and its
report — created, already linked, and each clash and refusal on a line of its own."""

from __future__ import annotations

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from invoicebridge.bootstrap import Container
from invoicebridge.domain.customer_import import CustomerImportReport


def run(container: Container, company_id: int, out: Console) -> CustomerImportReport:
    """Import with a bar. NotFound/NotConnected/QboError go up (nothing imported, or whole pages only)."""
    with Progress(TextColumn("Customers"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=out) as bar:
        task = bar.add_task("import", total=None)
        return container.customer_import.run(
            company_id, progress=lambda done, total: bar.update(task, completed=done, total=total)
        )


def print_report(report: CustomerImportReport, out: Console) -> None:
    out.print(
        f"{report.created:,} created, {report.already_linked:,} already linked, {len(report.clashes):,} e-mail "
        f"clashes, {len(report.refused):,} refused."
    )
    for clash in report.clashes:
        line = f"  clash: {clash.display_name} <{clash.email}> — order-book customer {clash.existing_customer_id}"
        out.print(line, markup=False, emoji=False, highlight=False, soft_wrap=True)
    for refused in report.refused:
        line = f"  refused: {refused.display_name} ({refused.email or 'no e-mail'}) — {refused.reason}"
        out.print(line, markup=False, emoji=False, highlight=False, soft_wrap=True)
