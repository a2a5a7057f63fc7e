"""`invoicebridge invoice --retry-failed`: the company's failed invoices, grouped by reason, queued again as one
bulk run (sync/failed_invoices.py) and followed with the same progress bar as `invoice --all-not-invoiced`."""

from __future__ import annotations

import time
from collections.abc import Callable

from rich.console import Console
from rich.markup import escape

from invoicebridge import cli_bulk
from invoicebridge.bootstrap import Container
from invoicebridge.domain import InvoiceBridgeError, NotFound, ValidationError
from invoicebridge.sync.failed_invoices import FailedOverview

STARTED_BY = "command line (invoicebridge invoice --retry-failed)"
LISTED = 20  # SO numbers printed per reason


def retry_failed(
    container: Container, company_id: int, workers: int, out: Console,
    wait: Callable[[float], None] = time.sleep, stall_seconds: float = cli_bulk.STALL_SECONDS,
) -> int:  # fmt: skip
    """List the reasons, queue every failed invoice again, follow them; the exit status: 0 when none failed (or
    all were made now), 1 when some failed again, INTERRUPTED after Ctrl-C."""
    try:
        overview = container.failed_invoices.overview(company_id)
    except NotFound as missing:  # --company names none
        out.print(f"[red]{escape(str(missing))}[/red]")
        return 1
    if not overview.groups:
        out.print("No failed invoices: nothing to retry.")
        return 0
    print_groups(overview, out)
    try:
        retried = container.failed_invoices.retry(company_id, STARTED_BY)
    except (ValidationError, NotFound) as refusal:  # retried by someone else meanwhile
        out.print(f"[yellow]{escape(str(refusal))}[/yellow]")
        return 0
    except InvoiceBridgeError as refusal:  # invoices cannot be made now (not connected…): nothing was queued
        out.print(f"[red]{escape(str(refusal))}[/red]")
        return 1
    container.jobs.drain_queued(company_id, retried.queued)
    out.print(f"Queued {retried.queued:,} failed invoices again (run {retried.run.id}; the Sell screen shows it).")

    def look() -> cli_bulk.Standing:
        return cli_bulk.standing(container, company_id, [retried.run])

    try:
        with cli_bulk.worker_threads(container.jobs.huey, workers):
            hint = None if workers else cli_bulk.STALL_HINT
            final = cli_bulk.follow(look, out, hint=hint, stall_seconds=stall_seconds, wait=wait)
    except KeyboardInterrupt:
        out.print("Stopped following: the invoices stay queued for any worker (`invoicebridge worker`).")
        return cli_bulk.INTERRUPTED
    cli_bulk.report(final, out)
    return 1 if final.failed else 0


def print_groups(overview: FailedOverview, out: Console) -> None:
    """One line per reason — count, sentence, code — and the SO numbers (plain text: QBO's words may be in it)."""
    reasons = len(overview.groups)
    out.print(f"{overview.total:,} failed invoices, for {reasons} reason{'' if reasons == 1 else 's'}:")
    for group in overview.groups:
        numbers = ", ".join(group.so_numbers[:LISTED]) + (" …" if len(group.so_numbers) > LISTED else "")
        looked_up = " (looked up in QuickBooks before anything is created)" if group.uncertain else ""
        line = f"  {group.count:,} × {group.sentence} [code {group.code}]{looked_up}\n      {numbers}"
        out.print(line, markup=False, emoji=False, highlight=False, soft_wrap=True)
