"""Importing sales orders from CSV, one line per SO row (format: docs/import.md).

Reading: the file must be UTF-8 and at most MAX_FILE_BYTES; its header must name the documented columns. Anything
else refuses the whole file (ImportFileError) before one SO is looked at. The lines are then read one CSV record
at a time, so a line that cannot be read — a stray quote, a wrong number of values — is refused with its reason
and reading starts again on the next line: a quote is never allowed to swallow the lines after it.

Importing: each SO is all or nothing. Its lines are checked together, and its customer, products, tax rates and
the order itself are written in one unit of work, so a refused SO leaves nothing behind; a line that could not be
read refuses every SO it may belong to. Importing is idempotent by SO number: an SO already in the book is skipped
and reported, never duplicated.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from functools import partial
from typing import TypeVar
from zoneinfo import ZoneInfo

from invoicebridge.domain import (
    Company,
    Conflict,
    Customer,
    Problem,
    ProductVariant,
    RowInput,
    TaxRate,
    ValidationError,
    new_customer,
    new_product,
    new_sales_order,
    new_tax_rate,
)
from invoicebridge.sync.order_csv import (
    ADDRESS_PARTS,
    CUSTOMER_COLUMNS,
    MAX_CELL,
    MAX_FILE_BYTES,
    ORDER_COLUMNS,
    ImportFileError,
    Line,
    decode,
    group_by_order,
    read_lines,
)
from invoicebridge.sync.ports import UnitOfWork, UnitOfWorkFactory

__all__ = ["MAX_CELL", "MAX_FILE_BYTES", "ImportFileError", "ImportReport", "OrderImporter", "RefusedOrder"]
T = TypeVar("T")


@dataclass(frozen=True)
class RefusedOrder:
    so_number: str
    problems: tuple[tuple[int, str, str], ...]  # (line, field, message); field is "" for a whole line


@dataclass
class ImportReport:
    imported: list[str] = field(default_factory=list)
    skipped: list[tuple[int, str, str]] = field(default_factory=list)  # (line, SO number, reason)
    refused: list[RefusedOrder] = field(default_factory=list)


class OrderImporter:
    """Imports SOs into one company of the order book."""

    def __init__(self, uow: UnitOfWorkFactory, clock: Callable[[], datetime]) -> None:
        self._uow = uow
        self._clock = clock

    def run(self, company_id: int, data: bytes, on_progress: Callable[[int, int], None] | None = None) -> ImportReport:
        """Import every SO of the CSV file `data` (docs/import.md); returns what was imported, skipped and refused,
        with lines and reasons. Raises ImportFileError, having imported nothing, when the file cannot be read as
        orders at all (too large, not UTF-8, no valid header); NotFound when there is no such company."""
        orders = group_by_order(read_lines(decode(data)))
        report = ImportReport()
        with self._uow() as uow:
            company = uow.companies.get(company_id)
        for done, (number, lines) in enumerate(orders.items(), start=1):
            self._import_one(company, number, lines, report)
            if on_progress:
                on_progress(done, len(orders))
        return report

    def _import_one(self, company: Company, number: str, lines: list[Line], report: ImportReport) -> None:
        unread = [problem for line in lines for problem in line.problems]
        if unread:  # nothing is looked up with values that could not be read
            report.refused.append(RefusedOrder(number, tuple(_locate(p, lines) for p in unread)))
            return
        with self._uow() as uow:
            assert company.id is not None
            if number and uow.sales_orders.get_by_number(company.id, number) is not None:
                report.skipped.append((lines[0].number, number, "already in the order book"))
                return
            try:
                _write_order(uow, company, number, lines, self._clock())
                uow.commit()
            except ValidationError as error:
                report.refused.append(RefusedOrder(number, tuple(_locate(p, lines) for p in error.problems)))
                return
            except Conflict as error:  # someone else took the SO number or a SKU meanwhile: importing again settles it
                report.refused.append(RefusedOrder(number, ((lines[0].number, error.field, error.message),)))
                return
            except (ArithmeticError, ValueError) as error:
                # A value Python refuses that the checks above missed: refuse this SO (nothing of it is committed)
                # rather than stop the file half imported with a traceback.
                problem = (lines[0].number, "", f"A value of this order cannot be read ({error}).")
                report.refused.append(RefusedOrder(number, (problem,)))
                return
        report.imported.append(number)


def _write_order(uow: UnitOfWork, company: Company, number: str, lines: list[Line], now: datetime) -> None:
    """Resolve or create what the SO refers to, then the SO; raises ValidationError with every problem, each
    naming its line."""
    assert company.id is not None
    company_id = company.id
    problems = _disagreements(lines)  # reported with the rest: a differing line may have a bad value of its own
    first = lines[0]
    customer = _collect(problems, lambda: _customer(uow, company, first))
    built = [(line, row) for line in lines if (row := _collect(problems, partial(_row, uow, company_id, line)))]
    shipping_rate = _collect(problems, lambda: _shipping_rate(uow, company_id, first))
    if customer is None:
        raise ValidationError(problems)
    try:
        created_at = _at(first, lambda: _created_at(first.get("created_at"), company.zone)) or now
        deadline = _at(first, lambda: _date(first.get("delivery_deadline")))
        order = new_sales_order(
            company.id, number, customer.id, _address(first, "bill") or customer.billing_address,
            _address(first, "ship") or customer.shipping_address, created_at, deadline,
            first.get("currency") or customer.currency, [row for _, row in built],
            first.get("shipping_fee") or None, shipping_rate.id if shipping_rate else None,
        )  # fmt: skip
    except ValidationError as error:
        problems.extend(_on_lines(p, first, built) for p in error.problems)
    if problems:
        raise ValidationError(problems)
    uow.sales_orders.add(order)


def _collect(problems: list[Problem], build: Callable[[], T]) -> T | None:
    """What `build` returns, or None with its problems added to `problems`."""
    try:
        return build()
    except ValidationError as error:
        problems.extend(error.problems)
        return None


def _on_lines(problem: Problem, first: Line, built: list[tuple[Line, RowInput]]) -> Problem:
    """Point a problem of the order at its line: one about row n at the line that row came from."""
    if problem.field.startswith("line "):
        return problem
    if problem.field.startswith("rows[") and built:
        index = int(problem.field[5 : problem.field.index("]")])
        line = built[index - 1][0] if 1 <= index <= len(built) else first
        return Problem(f"line {line.number}.{problem.field.partition('.')[2] or 'rows'}", problem.message)
    if problem.field == "rows" and not built:
        return Problem(f"line {first.number}.rows", "No row of this order could be read.")
    return Problem(f"line {first.number}.{problem.field}", problem.message)


def _disagreements(lines: list[Line]) -> list[Problem]:
    first = lines[0]
    return [
        Problem(f"line {line.number}.{column}", f"Differs from line {first.number} of the same order.")
        for line in lines[1:]
        for column in ORDER_COLUMNS
        if line.get(column) and line.get(column) != first.get(column)
    ]


def _customer(uow: UnitOfWork, company: Company, line: Line) -> Customer:
    """Matched by e-mail, then by display name; else created from the line. Raises ValidationError (this line,
    naming the file's columns)."""
    assert company.id is not None
    email, name = line.get("customer_email"), line.get("customer_name")
    found = (email and uow.customers.find_by_email(company.id, email)) or uow.customers.find_by_display_name(
        company.id, name
    )
    if found:
        return found
    try:
        draft = new_customer(
            company.id, name, email or None, _address(line, "bill"), _address(line, "ship"),
            line.get("currency") or company.home_currency,
        )  # fmt: skip
    except ValidationError as error:
        raise ValidationError(
            Problem(f"line {line.number}.{_column(p.field)}", p.message) for p in error.problems
        ) from None
    return uow.customers.add(draft)


def _column(field: str) -> str:
    """The file's column for a field of the customer ("billing_address.city" → "bill_city")."""
    head, dot, part = field.partition(".")
    column = CUSTOMER_COLUMNS.get(head, head)
    return f"{column}_{part}" if dot else column


def _row(uow: UnitOfWork, company_id: int, line: Line) -> RowInput:
    """The row of one line; its product and tax rate are found or created. Raises ValidationError (this line)."""
    problems: list[Problem] = []
    product = tax = None
    try:
        product = _product(uow, company_id, line)
    except ValidationError as error:
        problems.extend(error.problems)
    try:
        tax = _tax_rate(uow, company_id, line)
    except ValidationError as error:
        problems.extend(error.problems)
    if problems or product is None:
        raise ValidationError(problems)
    return RowInput(
        product.id, line.get("quantity"), line.get("unit_price"), tax.id if tax else None,
        line.get("unit_cost") or product.unit_cost, line.get("description"),
    )  # fmt: skip


def _product(uow: UnitOfWork, company_id: int, line: Line) -> ProductVariant:
    """Matched by SKU (never changed); else created from the line."""
    existing = uow.products.get_by_sku(company_id, line.get("sku"))
    if existing:
        return existing
    name = line.get("product_name") or line.get("sku")
    try:
        price, cost = line.get("unit_price"), line.get("unit_cost") or "0"
        draft = new_product(company_id, line.get("sku"), name, price, cost, line.get("category"))
    except ValidationError as error:
        # Name the CSV's columns, not the product's fields.
        columns = {"sales_price": "unit_price", "name": "product_name"}
        raise ValidationError(
            Problem(f"line {line.number}.{columns.get(p.field, p.field)}", p.message) for p in error.problems
        ) from None
    return uow.products.add(draft)


def _tax_rate(uow: UnitOfWork, company_id: int, line: Line) -> TaxRate | None:
    name, percent = line.get("tax_name"), line.get("tax_percent")
    if not name and not percent:
        return None
    name = name or f"{percent}%"
    existing = uow.tax_rates.find_by_name(company_id, name)
    if existing:
        if percent and _at(line, lambda: new_tax_rate(company_id, name, percent)).percent != existing.percent:
            raise ValidationError.single(
                f"line {line.number}.tax_percent",
                f"Tax rate {name} is {existing.percent}% in the order book, the file says {percent}%.",
            )
        return existing
    if not percent:
        raise ValidationError.single(f"line {line.number}.tax_percent", f"Tax rate {name} is new: give its percent.")
    return uow.tax_rates.add(_at(line, lambda: new_tax_rate(company_id, name, percent)))


def _shipping_rate(uow: UnitOfWork, company_id: int, line: Line) -> TaxRate | None:
    """The shipping fee's tax rate, named in `shipping_tax_name`: one the order book has (or a line of the file
    made), since no percent comes with it."""
    name = line.get("shipping_tax_name")
    if not name:
        return None
    found = uow.tax_rates.find_by_name(company_id, name)
    if found is None:
        raise ValidationError.single(
            f"line {line.number}.shipping_tax_name", f"There is no tax rate {name} in the order book."
        )
    return found


def _at(line: Line, build: Callable[[], T]) -> T:
    try:
        return build()
    except ValidationError as error:
        raise ValidationError(Problem(f"line {line.number}.{p.field}", p.message) for p in error.problems) from None


def _address(line: Line, kind: str) -> dict[str, str] | None:
    parts = {p: line.get(f"{kind}_{p}") for p in ADDRESS_PARTS}
    return parts if any(parts.values()) else None


def _created_at(value: str, zone: ZoneInfo) -> datetime | None:
    """ISO 8601; a date alone or a time without offset is read in the company's time zone."""
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise ValidationError.single("created_at", f"{value!r} is not a date (YYYY-MM-DD or ISO 8601).") from None
    moment = moment if moment.tzinfo else moment.replace(tzinfo=zone)
    try:
        moment.astimezone(UTC)  # how it is stored: near year 1 or 9999 the same moment may not exist in UTC
    except OverflowError:
        raise ValidationError.single("created_at", f"{value!r} is out of range for a date.") from None
    return moment


def _date(value: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ValidationError.single("delivery_deadline", f"{value!r} is not a date (YYYY-MM-DD).") from None


def _locate(problem: Problem, lines: list[Line]) -> tuple[int, str, str]:
    """(line, field, message) for the report; every problem names its line by now."""
    head, _, rest = problem.field.partition(".")
    if head.startswith("line ") and head.removeprefix("line ").isdigit():
        return int(head.removeprefix("line ")), rest, problem.message
    return lines[0].number, problem.field, problem.message
