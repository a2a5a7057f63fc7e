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

import codecs
import csv
import re
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from functools import partial
from typing import TypeVar
from zoneinfo import ZoneInfo

from invoicebridge.domain import (
    Company,
    Conflict,
    Customer,
    InvoiceBridgeError,
    Problem,
    ProductVariant,
    RowInput,
    TaxRate,
    ValidationError,
    new_customer,
    new_product,
    new_sales_order,
    new_tax_rate,
    parse_amount,
)
from invoicebridge.sync.ports import UnitOfWork, UnitOfWorkFactory

T = TypeVar("T")

REQUIRED = ("so_number", "customer_name", "sku", "quantity", "unit_price")
ADDRESS_PARTS = ("line1", "line2", "city", "region", "postal_code", "country")
ADDRESS_COLUMNS = tuple(f"{kind}_{part}" for kind in ("bill", "ship") for part in ADDRESS_PARTS)
OPTIONAL = (
    "created_at", "customer_email", "currency", "product_name", "unit_cost", "tax_name", "tax_percent",
    "delivery_deadline", "description", *ADDRESS_COLUMNS,
)  # fmt: skip
# Columns that describe the SO, not the row: every line of one SO must agree on them.
ORDER_COLUMNS = ("created_at", "customer_name", "customer_email", "currency", "delivery_deadline", *ADDRESS_COLUMNS)
AMOUNT_COLUMNS = ("quantity", "unit_price", "unit_cost", "tax_percent")
# Refusals name the file's columns, not the fields of the customer the import would create.
CUSTOMER_COLUMNS = {
    "display_name": "customer_name", "email": "customer_email", "billing_address": "bill", "shipping_address": "ship"
}  # fmt: skip

# 10 MiB is some 60,000 lines like the sample's: an import of a few minutes. A larger file is refused unread (the
# CLI reads no more than one byte past it), so time and memory stay bounded whatever file is given…
MAX_FILE_BYTES = 10 * 1024 * 1024
# …and lines: a file of short lines that cannot be read costs some 20 µs a line to report.
MAX_LINES = 100_000
# The longest value a column takes is a 4,000-character description; anything much longer is not a value.
MAX_CELL = 10_000
# Where csv ends a record (\r\n, \r or \n; not the other breaks str.splitlines knows): splitting the text the
# same way lets each record be read on its own and reading start again on any line.
PHYSICAL_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+\Z")
LINE_BREAK = re.compile(r"\r\n|\r|\n")
PIECE_END = re.compile(r"[,\r\n]")
# A record as RFC 4180 writes it (spreadsheets too): a value holding a quote is quoted, its quotes doubled. csv
# itself takes `5" pipe` or `"a"b` too; refusing them is what tells a stray quote from a quoted value.
FIELD = r'(?:"(?:[^"]|"")*+"|[^",\r\n]*+)'
RECORD = re.compile(rf"{FIELD}(?:,{FIELD})*(?:\r\n|\r|\n)?")
# C0 and C1 control characters but tab and line breaks (a description may hold those). No column takes them,
# and they are refused before any look-up: a NUL in a query is an error in PostgreSQL, not a miss.
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
STRAY = "(a stray quote?)"
BARE_QUOTE = f'A value not in quotes holds a quote {STRAY}; quote such a value, doubling its quotes: "12"" pipe".'
# csv's own words for a broken record, as a person would put them.
CSV_REASONS = {
    "unexpected end of data": f"a quote opened on this line is never closed {STRAY}",
    "',' expected after '\"'": f"a quoted value goes on after its closing quote {STRAY}",
    "field larger than field limit": f"a value is longer than the {MAX_CELL:,} characters a value may have",
}


@dataclass(frozen=True)
class Line:
    """One data line: its values by column, or — when they could not be read — the reason and its pieces."""

    number: int  # the line in the file where the record begins (the header is line 1)
    cells: dict[str, str]
    problems: tuple[Problem, ...] = ()  # why the line cannot be imported, each field "line N[.column]"
    # Values that may come from other lines, so that the SOs among them are refused with this line: of a line that
    # could not be read, every value it may hold; of a description running over later lines, what it carried.
    pieces: frozenset[str] = frozenset()
    guess: str = ""  # of a line that could not be read: what stands where its SO number should be
    last: int = 0  # the line where the record ends

    def get(self, column: str) -> str:
        return (self.cells.get(column) or "").strip()


@dataclass(frozen=True)
class RefusedOrder:
    so_number: str
    problems: tuple[tuple[int, str, str], ...]  # (line, field, message); field is "" for a whole line


@dataclass
class ImportReport:
    imported: list[str] = field(default_factory=list)
    skipped: list[tuple[int, str, str]] = field(default_factory=list)  # (line, SO number, reason)
    refused: list[RefusedOrder] = field(default_factory=list)


class ImportFileError(InvoiceBridgeError):
    """The file cannot be read as orders at all (too large, not UTF-8, no valid header); nothing was imported."""


def decode(data: bytes) -> str:
    """The text of a UTF-8 file, without its byte-order mark. Raises ImportFileError for a file over
    MAX_FILE_BYTES or in another encoding, naming the first byte that is not UTF-8 and its line."""
    if len(data) > MAX_FILE_BYTES:
        raise ImportFileError(f"The file is larger than {MAX_FILE_BYTES // 2**20} MB: split it into smaller files.")
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise ImportFileError("The file is UTF-16 text: save it as UTF-8 CSV.")
    try:
        return data.decode("utf-8-sig")  # strict: lone surrogates are refused as well
    except UnicodeDecodeError as error:
        before = error.object[: error.start]  # counted after the byte-order mark, as the offset is
        line = len(re.findall(rb"\r\n|\r|\n", before)) + 1
        raise ImportFileError(
            f"The file is not UTF-8 text (byte 0x{error.object[error.start]:02X} at line {line}): save it as UTF-8 CSV."
        ) from None


def read_lines(text: str) -> list[Line]:
    """The data lines of the CSV text, blank ones left out. A line that cannot be read comes back with its
    reason instead of its values. Raises ImportFileError for more than MAX_LINES lines, and when there is no
    header or it names the wrong columns."""
    raw = PHYSICAL_LINE.findall(text)
    if len(raw) > MAX_LINES + 1:
        raise ImportFileError(f"The file has more than {MAX_LINES:,} lines: split it into smaller files.")
    header, start = _header(raw)
    lines: list[Line] = []
    while start < len(raw):
        line, start = _next_line(raw, start, header)
        if line is not None:
            lines.append(line)
    return lines


def _record(raw: list[str], start: int) -> tuple[list[str], int]:
    """The CSV record that begins on raw[start], and the index of the line after it. Raises csv.Error."""
    # strict: a quote followed by anything but a comma, or never closed, is an error rather than a guess.
    reader = csv.reader((raw[i] for i in range(start, len(raw))), strict=True)
    cells = next(reader, [])
    return cells, start + max(reader.line_num, 1)


def _header(raw: list[str]) -> tuple[list[str], int]:
    start = 0
    while start < len(raw):
        try:
            cells, after = _record(raw, start)
        except csv.Error as error:
            reason = _csv_reason(error)
            raise ImportFileError(f"Line {start + 1}, the header, cannot be read as CSV: {reason}.") from None
        if any(cell.strip() for cell in cells):
            return _checked_header([cell.strip() for cell in cells]), after
        start = after
    raise ImportFileError("The file is empty: it needs a header line, then one line per SO row (see docs/import.md).")


def _checked_header(header: list[str]) -> list[str]:
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        raise ImportFileError(f"The file lacks the required columns: {', '.join(missing)} (see docs/import.md).")
    unknown = [c or f"(no name, column {i})" for i, c in enumerate(header, start=1) if c not in REQUIRED + OPTIONAL]
    if unknown:
        raise ImportFileError(f"Unknown columns: {_listed(unknown)} (see docs/import.md for the format).")
    twice = sorted(c for c, count in Counter(header).items() if count > 1)  # (a header may have 100,000 columns)
    if twice:
        raise ImportFileError(f"Columns named more than once: {', '.join(twice)}.")
    return header


def _next_line(raw: list[str], start: int, header: list[str]) -> tuple[Line | None, int]:
    """The line that begins on raw[start] (None when blank), and where the next one begins. After a line that
    cannot be read, reading goes on from raw[start + 1]: the lines a stray quote ran over are read again on
    their own instead of being swallowed."""
    number = start + 1
    try:
        cells, after = _record(raw, start)
    except csv.Error as error:
        return _unreadable(number, raw[start], f"This line cannot be read: {_csv_reason(error)}.", header), start + 1
    if not any(cell.strip() for cell in cells):
        return None, after
    reason = _misread(raw, start, after, header, cells)
    if reason:
        return _unreadable(number, raw[start], reason, header), start + 1
    values = dict(zip(header, cells, strict=True))
    # All of a description that spans lines: a stray quote may have swallowed this line's own SO number too.
    carried = _pieces([values.get("description", "")]) if after - start > 1 else frozenset()
    return Line(number, values, _cell_problems(number, values), carried, last=after), after


def _misread(raw: list[str], start: int, after: int, header: list[str], cells: list[str]) -> str:
    """Why `cells` cannot be this line's values (a wrong count, a quote that ran over other lines), or ""."""
    if not RECORD.fullmatch("".join(raw[start:after])):
        return BARE_QUOTE
    if len(cells) != len(header):
        return (
            f"This line has {len(cells)} values where the header has {len(header)} columns (a stray comma or quote?)."
        )
    if after - start == 1:
        return ""
    spanning = [column for column, cell in zip(header, cells, strict=True) if LINE_BREAK.search(cell)]
    if not spanning:
        return ""
    if spanning != ["description"]:
        return f"The value of {spanning[0]} runs on to line {after}; only description may span lines {STRAY}."
    if _swallowed(raw[start + 1 : after - 1], header, cells[header.index("description")]):
        return f"A quote opened on this line runs on to line {after}, over what reads as a line of its own {STRAY}."
    return ""


def _swallowed(inside: list[str], header: list[str], description: str) -> bool:
    """Signs that the quote opening a description that spans lines was a stray one: a line it ran over reads as a
    row of its own, or it ends with the first columns of a row (its closing quote opened a later column). Such a
    line is refused and the lines after it read again on their own; what slips through, group_by_order catches."""
    last = LINE_BREAK.split(description)[-1]
    at = header.index("description")
    return any(_reads_as_row(line, len(header)) for line in inside) or (last.endswith(",") and last.count(",") >= at)


def _reads_as_row(text: str, width: int) -> bool:
    try:
        return len(next(csv.reader([text], strict=True), [])) == width
    except csv.Error:
        return False


def _unreadable(number: int, text: str, reason: str, header: list[str]) -> Line:
    """A line whose values could not be told apart. Its pieces — split at every comma, and read leniently —
    hold its SO number whichever column a stray quote was in, so the SO can be refused with it."""
    try:
        lenient = next(csv.reader([text]), [])
    except csv.Error:  # only a value beyond csv's own size limit
        lenient = []
    split = text.split(",")
    where = header.index("so_number")
    guess = _unquoted(split[where]) if where < len(split) else ""
    return Line(number, {}, (Problem(f"line {number}", reason),), _pieces([text, *lenient]), guess)


def _pieces(texts: Iterable[str]) -> frozenset[str]:
    """Every piece of the texts between commas and line breaks, without quotes, control characters and spaces."""
    return frozenset({_unquoted(piece) for text in texts for piece in PIECE_END.split(text)} - {""})


def _unquoted(piece: str) -> str:
    # Every quote goes, not only those around it: a stray one inside an SO number must not hide it.
    return CONTROL.sub("", piece.replace('"', "")).strip()


def _cell_problems(number: int, cells: dict[str, str]) -> tuple[Problem, ...]:
    """What no column may hold, found before any look-up: control characters, values over MAX_CELL, numbers
    Python itself cannot hold. (The domain refuses everything else, in its own words.)"""
    values, amounts = cells.values(), [cells.get(column, "") for column in AMOUNT_COLUMNS]
    if (
        not CONTROL.search("".join(values))
        and max(map(len, values)) <= MAX_CELL
        and not any(map(_beyond_decimal, amounts))
    ):
        return ()  # the usual line, checked at once
    problems: list[Problem] = []
    for column, value in cells.items():
        at = f"line {number}.{column}"
        if CONTROL.search(value):
            problems.append(
                Problem(at, "The value contains control characters (invisible ones, such as NUL): remove them.")
            )
        elif len(value) > MAX_CELL:
            problems.append(Problem(at, f"The value is longer than the {MAX_CELL:,} characters a value may have."))
        elif column in AMOUNT_COLUMNS and _beyond_decimal(value):
            problems.append(Problem(at, f"{_shown(value)} is out of range for a number."))
    return tuple(problems)


def _beyond_decimal(value: str) -> bool:
    """True for a number whose exponent Decimal's arithmetic cannot hold ("1e999999"): the amount checks would
    raise decimal.Overflow on it instead of refusing it."""
    if "e" not in value.lower():
        return False  # only an exponent takes a number that far
    try:
        parse_amount(value, "")
    except ValidationError:
        return False  # refused later, in the domain's words
    except ArithmeticError:
        return True
    return False


def _csv_reason(error: csv.Error) -> str:
    message = str(error)
    return next((said for known, said in CSV_REASONS.items() if message.startswith(known)), message)


def _listed(names: list[str], most: int = 10) -> str:
    shown = ", ".join(name if len(name) <= 40 else _shown(name) for name in names[:most])
    return shown + (f" and {len(names) - most} more" if len(names) > most else "")


def _shown(value: str, most: int = 40) -> str:
    return repr(value if len(value) <= most else value[:most] + "…")


def group_by_order(lines: list[Line]) -> dict[str, list[Line]]:
    """The lines of each SO, by SO number, SOs in file order. An SO is never imported without one of its lines:
    a line that could not be read joins (and so refuses) every SO whose number is among its pieces, else it
    stands alone; a description that ran over lines holding SO numbers refuses its SO and those SOs."""
    orders: dict[str, list[Line]] = {}
    for line in lines:
        if line.cells:
            # Without control characters (refused anyway): "SO-1\x00" is SO-1 with a bad line, not an SO of its own.
            orders.setdefault(CONTROL.sub("", line.get("so_number")), []).append(line)
    known = frozenset(orders)
    for line in lines:
        tied = sorted(line.pieces & known)
        if not line.cells:
            for number in tied or [line.guess]:
                orders.setdefault(number, []).append(line)
        elif tied:
            _refuse_carried(orders, line, tied)
    for grouped in orders.values():
        grouped.sort(key=lambda line: line.number)
    return dict(sorted(orders.items(), key=lambda item: item[1][0].number))


def _refuse_carried(orders: dict[str, list[Line]], line: Line, tied: list[str]) -> None:
    """`line`'s quoted description ran over later lines holding the SO numbers `tied`: most likely a stray
    quote swallowed lines of those SOs. Refuse its own SO and them, each with the reason."""
    reason = Problem(
        f"line {line.number}",
        f"The quoted description on this line runs on to line {line.last}, over lines that hold "
        f"{_listed(tied)} {STRAY}.",
    )
    number = CONTROL.sub("", line.get("so_number"))
    own = orders[number]
    own[own.index(line)] = replace(line, problems=(*line.problems, reason))
    for other in tied:
        if other != number:
            orders[other].append(Line(line.number, {}, (reason,)))


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
    if customer is None:
        raise ValidationError(problems)
    try:
        created_at = _at(first, lambda: _created_at(first.get("created_at"), company.zone)) or now
        deadline = _at(first, lambda: _date(first.get("delivery_deadline")))
        order = new_sales_order(
            company.id, number, customer.id, _address(first, "bill") or customer.billing_address,
            _address(first, "ship") or customer.shipping_address, created_at, deadline,
            first.get("currency") or customer.currency, [row for _, row in built],
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
        draft = new_product(company_id, line.get("sku"), name, line.get("unit_price"), line.get("unit_cost") or "0")
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
