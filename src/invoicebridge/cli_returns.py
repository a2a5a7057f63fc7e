"""`invoicebridge return`: record a return of an invoiced SO's delivered quantities and make its QBO credit memo now
(in this process, as `invoice` makes invoices), or retry a return's credit memo. Prints the outcome and the link;
exits 1 when the return is refused or its credit memo failed (retry it), 2 on bad arguments."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

from invoicebridge.bootstrap import Container, build
from invoicebridge.cli_access import COMPANY_OPTION, SettingsLoader, only_company
from invoicebridge.domain import InvoiceBridgeError, ValidationError
from invoicebridge.domain.checks import MAX_ID
from invoicebridge.domain.returns import Return, ReturnState
from invoicebridge.settings import Settings

console = Console()
err = Console(stderr=True)


def return_goods(
    ctx: typer.Context,
    so: Annotated[str, typer.Option("--so", help="the SO number, e.g. SO-1042")],
    rows: Annotated[
        list[str] | None, typer.Option("--row", help="ROW_ID=QUANTITY that came back; repeat for each row")
    ] = None,
    company: Annotated[int | None, COMPANY_OPTION] = None,
    retry: Annotated[
        int | None,
        typer.Option(min=1, max=MAX_ID, help="retry the credit memo of this return number instead of recording one"),
    ] = None,
) -> None:
    """Return delivered, invoiced quantities of an SO as a QuickBooks credit memo (one per return, exactly once).
    Row ids are those of the API (GET …/sales-orders/{id} lists them)."""
    if (retry is None) == (not rows):
        raise typer.BadParameter("give --row ROW_ID=QUANTITY (one or more), or --retry NUMBER", param_hint="--row")
    lines = _lines(rows or [])
    load: SettingsLoader = ctx.obj if callable(ctx.obj) else Settings
    container = build(load(), migrate=True)
    try:
        company_id = company or only_company(container)
        ok = _run(container, company_id, so, lines, retry)
    finally:
        container.close()
    if not ok:
        raise typer.Exit(1)


def _run(container: Container, company_id: int, so: str, lines: dict[int, object], retry: int | None) -> bool:
    try:
        order = container.orderbook.get_sales_order_by_number(company_id, so).order
        number = retry or container.returns.record(company_id, order.id or 0, lines).number
        ret = container.returns.send(company_id, order.id or 0, number)
    except ValidationError as refused:
        for problem in refused.problems:
            err.print(f"{escape(so)}: [red]{escape(problem.message)}[/red]", highlight=False, soft_wrap=True)
        return False
    except InvoiceBridgeError as error:
        err.print(f"{escape(so)}: [red]{escape(str(error))}[/red]", highlight=False, soft_wrap=True)
        return False
    return _print(container, company_id, so, ret)


def _print(container: Container, company_id: int, so: str, ret: Return) -> bool:
    """One line for the return (and the detail of a failure); True unless its credit memo failed."""
    head = f"{escape(so)} return {ret.number}"
    if ret.state is ReturnState.CREATED:
        url = container.credit_memo_urls(company_id)(ret.qbo_credit_memo_id) or ""
        memo = ret.doc_number or ret.qbo_credit_memo_id
        console.print(f"{head}: {ret.status_text} — credit memo {memo}  {url}", highlight=False, soft_wrap=True)
        return True
    reason = f" — {escape(ret.error_message)}" if ret.error_message else ""
    console.print(f"{head}: [yellow]{ret.status_text}[/yellow]{reason}", highlight=False, soft_wrap=True)
    if ret.error_detail:
        console.print(f"  {escape(ret.error_detail)}", style="dim", highlight=False, soft_wrap=True)
    return ret.state is not ReturnState.FAILED


def _lines(rows: list[str]) -> dict[int, object]:
    """ROW_ID=QUANTITY pairs; BadParameter names the one that is not, or a row given twice (keeping either
    quantity would return what was not meant)."""
    lines: dict[int, object] = {}
    for pair in rows:
        row_id, sep, quantity = pair.partition("=")
        if not sep or not row_id.strip().isascii() or not row_id.strip().isdigit() or not quantity.strip():
            raise typer.BadParameter(f"{pair!r} is not ROW_ID=QUANTITY (e.g. 12=2)", param_hint="--row")
        if int(row_id) in lines:
            raise typer.BadParameter(f"row {int(row_id)} is given twice: give each row once", param_hint="--row")
        lines[int(row_id)] = quantity.strip()
    return lines
