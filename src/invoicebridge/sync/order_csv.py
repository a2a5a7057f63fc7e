"""Reading a CSV file of sales orders (docs/import.md) into lines: decoding, the header, one record at a time
(a line that cannot be read is refused with its reason and reading starts again on the next, so a stray quote
never swallows the lines after it), the values' own checks, and grouping the lines by SO number. Nothing here
touches the store: sync/order_import.py imports what this reads."""

from __future__ import annotations

import codecs
import csv
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import TypeVar

from invoicebridge.domain import (
    InvoiceBridgeError,
    Problem,
    ValidationError,
    parse_amount,
)

T = TypeVar("T")

REQUIRED = ("so_number", "customer_name", "sku", "quantity", "unit_price")
ADDRESS_PARTS = ("line1", "line2", "city", "region", "postal_code", "country")
ADDRESS_COLUMNS = tuple(f"{kind}_{part}" for kind in ("bill", "ship") for part in ADDRESS_PARTS)
OPTIONAL = (
    "created_at", "customer_email", "currency", "product_name", "unit_cost", "tax_name", "tax_percent",
    "delivery_deadline", "description", "category", *ADDRESS_COLUMNS, "shipping_fee", "shipping_tax_name",
)  # fmt: skip
# Columns that describe the SO, not the row: every line of one SO must agree on them.
ORDER_COLUMNS = (
    "created_at", "customer_name", "customer_email", "currency", "delivery_deadline", *ADDRESS_COLUMNS,
    "shipping_fee", "shipping_tax_name",
)  # fmt: skip
AMOUNT_COLUMNS = ("quantity", "unit_price", "unit_cost", "tax_percent", "shipping_fee")
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
