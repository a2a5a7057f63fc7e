"""The QBO query language: a lark grammar (query.lark), a parser that answers with QBO's Faults, and an
evaluator over one entity's objects.

Choices where Intuit's documents are silent (marked "(unconfirmed)"): string comparison with `=`, `!=` and `LIKE`
is case-insensitive; `!=` does not match an object that lacks the field; MAXRESULTS above 1000 is cut to 1000;
selected fields come back with Id; an unknown entity is a parse error (4000) and a field that cannot be filtered
on is code 4001 "Invalid query".

An entity is queryable when it has an entry in FILTERABLE — the one place that names the queryable entities and
their filterable fields (a new entity adds its line there).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from importlib.resources import files
from typing import Any

from lark import Lark, Token, Transformer, v_args
from lark.exceptions import LarkError, UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, VisitError

from qbo_sandbox import faults
from qbo_sandbox.text import flaw

DEFAULT_MAX = 100
MAX_RESULTS = 1000
# QBO documents no length limit; a long IN list takes lark about 0.4 s per 100,000 characters (unconfirmed)
MAX_QUERY_LENGTH = 100_000
COMMON_FILTERS = ("Id", "MetaData.CreateTime", "MetaData.LastUpdatedTime")
# Filterable fields per entity: the attributes Intuit's Accounting API entity reference marks "filterable"
# (developer.intuit.com/app/developer/qbo/docs/api/accounting/all-entities/<entity>), besides COMMON_FILTERS.
# COVERAGE.md lists them. References and e-mail addresses compare by their value (SCALAR_KEYS).
FILTERABLE: dict[str, tuple[str, ...]] = {
    "Customer": ("DisplayName", "GivenName", "MiddleName", "FamilyName", "FullyQualifiedName", "CompanyName",
                 "PrimaryEmailAddr", "Active", "Balance", "Job"),
    "Item": ("Name", "Sku", "Type", "Active", "FullyQualifiedName"),
    "Invoice": ("DocNumber", "CustomerRef", "TxnDate", "DueDate", "TotalAmt", "Balance"),
    "Account": ("Name", "SubAccount", "ParentRef", "Description", "Active", "Classification", "FullyQualifiedName",
                "AccountType", "AccountSubType", "CurrentBalance", "CurrentBalanceWithSubAccounts"),
    "JournalEntry": ("DocNumber", "TxnDate"),
    "Term": ("Name", "Active"),
    "TaxCode": ("Name", "Active"),
    "TaxRate": ("Name", "Active"),
    "CompanyCurrency": ("Code", "Name", "Active"),
    "ExchangeRate": ("SourceCurrencyCode", "TargetCurrencyCode", "AsOfDate"),
    "Preferences": (),
    "CompanyInfo": (),
    # issue 13's entities (entities/catalog.py)
    "Vendor": ("DisplayName", "GivenName", "FamilyName", "CompanyName", "PrimaryEmailAddr", "Active", "Balance",
               "Vendor1099"),
    "Employee": ("DisplayName", "GivenName", "FamilyName", "PrimaryEmailAddr", "Active", "EmployeeNumber"),
    "Class": ("Name", "FullyQualifiedName", "Active", "SubClass", "ParentRef"),
    "Department": ("Name", "FullyQualifiedName", "Active", "SubDepartment", "ParentRef"),
    "PaymentMethod": ("Name", "Type", "Active"),
    "TaxAgency": ("DisplayName",),
    "Payment": ("TxnDate", "CustomerRef", "TotalAmt", "PaymentRefNum"),
    "SalesReceipt": ("DocNumber", "TxnDate", "CustomerRef", "TotalAmt"),
    "CreditMemo": ("DocNumber", "TxnDate", "CustomerRef", "TotalAmt", "Balance"),
    "RefundReceipt": ("DocNumber", "TxnDate", "CustomerRef", "TotalAmt"),
    "Estimate": ("DocNumber", "TxnDate", "CustomerRef", "TotalAmt", "TxnStatus", "ExpirationDate"),
    "Bill": ("DocNumber", "TxnDate", "TotalAmt", "VendorRef", "DueDate", "Balance", "APAccountRef", "SalesTermRef"),
    "BillPayment": ("DocNumber", "TxnDate", "TotalAmt", "VendorRef", "PayType"),
    "Purchase": ("DocNumber", "TxnDate", "TotalAmt", "PaymentType", "AccountRef", "EntityRef", "Credit"),
    "PurchaseOrder": ("DocNumber", "TxnDate", "TotalAmt", "VendorRef", "POStatus"),
    "Deposit": ("DocNumber", "TxnDate", "TotalAmt", "DepositToAccountRef"),
    "Transfer": ("TxnDate", "Amount", "FromAccountRef", "ToAccountRef"),
    "CreditCardPayment": ("TxnDate", "Amount"),
    "TimeActivity": ("TxnDate", "NameOf", "EmployeeRef", "VendorRef", "CustomerRef"),
    "Attachable": ("FileName", "Note", "ContentType", "Category"),
    "RecurringTransaction": (),
}  # fmt: skip


def queryable() -> tuple[str, ...]:
    """The entities a query may name (FILTERABLE's keys, read when asked so that entries added later count)."""
    return tuple(FILTERABLE)


COMPARISONS: dict[str, Callable[[int], bool]] = {
    "=": lambda order: order == 0, "!=": lambda order: order != 0, "<": lambda order: order < 0,
    ">": lambda order: order > 0, "<=": lambda order: order <= 0, ">=": lambda order: order >= 0,
}  # fmt: skip
# References and e-mail addresses compare by their value, as QBO does (WHERE CustomerRef = '12').
SCALAR_KEYS = ("value", "Address")


@dataclass(frozen=True)
class Condition:
    path: str
    operator: str  # "=", "!=", "<", ">", "<=", ">=", "IN", "LIKE"
    values: tuple[object, ...]


@dataclass(frozen=True)
class Query:
    entity: str
    fields: tuple[str, ...] | None  # None: SELECT *
    count: bool
    conditions: tuple[Condition, ...]
    order: tuple[tuple[str, bool], ...]  # (path, descending)
    start: int
    max_results: int


@functools.cache
def _parser() -> Lark:
    grammar = (files("qbo_sandbox") / "query.lark").read_text()
    return Lark(grammar, parser="lalr", maybe_placeholders=False)


def parse(text: str) -> Query:
    """Parse a query. Raises ValidationFault 4000 ("Error parsing query") or 4001 ("Invalid query")."""
    _check_text(text)
    try:
        tree = _parser().parse(text)
        built: Query = _Build().transform(tree)
    except UnexpectedInput as error:
        raise _parse_error(text, error) from None
    except VisitError as error:
        if isinstance(error.orig_exc, faults.SandboxFault):
            raise error.orig_exc from None
        raise _parse_error(text, None) from None
    except LarkError:
        raise _parse_error(text, None) from None
    _check_filterable(built)
    return built


def _check_text(query_text: str) -> None:
    """A query too long to parse quickly is 4001; one holding a lone surrogate is 4000, as any character the
    lexer cannot read (a Fault that quoted it could not be sent: text.py)."""
    if len(query_text) > MAX_QUERY_LENGTH:
        raise _invalid(f"the query is longer than {MAX_QUERY_LENGTH} characters (qbo_sandbox's limit, unconfirmed)")
    problem = flaw(query_text)
    if problem is not None:
        raise faults.validation(faults.QUERY_PARSE_ERROR, "Error parsing query", f"QueryParserError: {problem.reason}")


def _parse_error(text: str, error: UnexpectedInput | None) -> faults.ValidationFault:
    if (
        isinstance(error, UnexpectedEOF)
        or error is None
        or getattr(getattr(error, "token", None), "type", "") == "$END"
    ):
        where = f'Encountered "<EOF>" at line 1, column {len(text) + 1}.'
    elif isinstance(error, UnexpectedCharacters):
        position = error.pos_in_stream or 0
        where = (
            f"Lexical error at line {error.line}, column {error.column}. Encountered: {text[position : position + 1]!r}"
        )
    else:
        token = getattr(error, "token", "")
        where = f'Encountered "{token}" at line {error.line}, column {error.column}.'
    return faults.validation(faults.QUERY_PARSE_ERROR, "Error parsing query", f"QueryParserError: {where}")


def _invalid(detail: str) -> faults.ValidationFault:
    return faults.validation("4001", "Invalid query", f"QueryValidationError: {detail}")


@v_args(inline=True)
class _Build(Transformer[Token, Query]):
    def start(self, selection: tuple[str, object], entity: Token, *clauses: tuple[str, object]) -> Query:
        name = next((e for e in queryable() if e.lower() == str(entity).lower()), None)
        if name is None:
            raise faults.validation(
                faults.QUERY_PARSE_ERROR, "Error parsing query", f"QueryParserError: Invalid entity name: {entity}"
            )
        parts = dict(clauses)
        kind, fields = selection
        start = int(parts.get("start", 1))  # type: ignore[call-overload]
        limit = int(parts.get("max", DEFAULT_MAX))  # type: ignore[call-overload]
        if start < 1:
            raise _invalid("STARTPOSITION starts at 1")
        return Query(name, fields if kind == "fields" else None, kind == "count",  # type: ignore[arg-type]
                     parts.get("where", ()), parts.get("order", ()), start, min(limit, MAX_RESULTS))  # type: ignore[arg-type]  # fmt: skip

    def select_all(self, *_extra: str) -> tuple[str, object]:
        # `*, Sku`: the star answers every field already; the names after it add nothing
        return ("all", None)

    def select_count(self) -> tuple[str, object]:
        return ("count", None)

    def select_fields(self, *paths: str) -> tuple[str, object]:
        return ("fields", tuple(paths))

    def where(self, *conditions: Condition) -> tuple[str, object]:
        return ("where", tuple(conditions))

    def compare(self, path: str, operator: Token, value: object) -> Condition:
        return Condition(path, str(operator), (value,))

    def in_list(self, path: str, *values: object) -> Condition:
        return Condition(path, "IN", values)

    def like(self, path: str, pattern: Token) -> Condition:
        return Condition(path, "LIKE", (_unquote(pattern),))

    def orderby(self, *orderings: tuple[str, bool]) -> tuple[str, object]:
        return ("order", tuple(orderings))

    def ordering(self, path: str, direction: Token | None = None) -> tuple[str, bool]:
        return (path, str(direction or "ASC").upper() == "DESC")

    def startposition(self, n: Token) -> tuple[str, object]:
        return ("start", int(n))

    def maxresults(self, n: Token) -> tuple[str, object]:
        return ("max", int(n))

    def path(self, *names: Token) -> str:
        return ".".join(str(n) for n in names)

    def string(self, token: Token) -> str:
        return _unquote(token)

    def number(self, token: Token) -> Decimal:
        return Decimal(str(token))

    def true(self, _: Token) -> bool:
        return True

    def false(self, _: Token) -> bool:
        return False


def _unquote(token: Token | str) -> str:
    """'O\\'Brien' -> O'Brien: QBO escapes a quote inside a string with a backslash."""
    inner = str(token)[1:-1]
    out, escaped = [], False
    for char in inner:
        if escaped:
            out.append(char)
            escaped = False
        elif char == "\\":
            escaped = True
        else:
            out.append(char)
    return "".join(out)


def _check_filterable(parsed: Query) -> None:
    allowed = {f.lower() for f in COMMON_FILTERS + FILTERABLE.get(parsed.entity, ())}
    for condition in parsed.conditions:
        if condition.path.lower() not in allowed:
            raise _invalid(f"property '{condition.path}' is not queryable")


def execute(parsed: Query, rows: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Evaluate `parsed` over every stored object of its entity; returns QBO's response body."""
    filters_active = any(c.path.lower() == "active" for c in parsed.conditions)
    matched: list[Mapping[str, Any]] = [
        r for r in rows if (filters_active or r.get("Active", True) is not False) and _matches(r, parsed)
    ]
    for path, descending in reversed(parsed.order):
        matched = _sorted(matched, path, descending)
    if parsed.count:
        return {"QueryResponse": {"totalCount": len(matched)}, "time": faults.qbo_time()}
    page = matched[parsed.start - 1 : parsed.start - 1 + parsed.max_results]
    body: dict[str, Any] = {}
    if page:
        body = {parsed.entity: [_project(r, parsed.fields) for r in page], "startPosition": parsed.start,
                "maxResults": len(page)}  # fmt: skip
    return {"QueryResponse": body, "time": faults.qbo_time()}


def _sorted(rows: list[Mapping[str, Any]], path: str, descending: bool) -> list[Mapping[str, Any]]:
    """Stable sort on one field; objects without it go last either way."""
    present = [r for r in rows if _resolve(r, path) is not None]
    missing = [r for r in rows if _resolve(r, path) is None]

    def key(row: Mapping[str, Any]) -> tuple[int, object]:
        return _sort_key(_resolve(row, path))

    return sorted(present, key=key, reverse=descending) + missing


def _matches(row: Mapping[str, Any], parsed: Query) -> bool:
    return all(_holds(_resolve(row, c.path), c) for c in parsed.conditions)


def _resolve(row: Mapping[str, Any], path: str) -> object:
    value: object = row
    for name in path.split("."):
        if not isinstance(value, Mapping):
            return None
        value = next((v for k, v in value.items() if k.lower() == name.lower()), None)
    if isinstance(value, Mapping):
        value = next((value[k] for k in SCALAR_KEYS if k in value), None)
    return value


def _holds(actual: object, condition: Condition) -> bool:
    if actual is None:
        return False
    if condition.operator == "IN":
        return any(_compare(actual, v) == 0 for v in condition.values)
    if condition.operator == "LIKE":
        return _like(str(actual), str(condition.values[0]))
    order = _compare(actual, condition.values[0])
    if order is None:
        return False
    return COMPARISONS[condition.operator](order)


def _compare(actual: object, wanted: object) -> int | None:
    """-1, 0, 1 comparing like with like (numbers, instants, booleans, text without case); None if incomparable."""
    if isinstance(actual, bool) or isinstance(wanted, bool):
        wanted_bool = wanted if isinstance(wanted, bool) else str(wanted).lower() == "true"
        return 0 if bool(actual) == wanted_bool else (1 if actual else -1)
    for convert in (_as_number, _as_instant):
        a, w = convert(actual), convert(wanted)
        if a is not None and w is not None:
            return (a > w) - (a < w)  # type: ignore[operator]
    a_text, w_text = str(actual).lower(), str(wanted).lower()
    return (a_text > w_text) - (a_text < w_text)


def _as_number(value: object) -> Decimal | None:
    if isinstance(value, Decimal | int | float) and not isinstance(value, bool):
        return Decimal(str(value))
    try:
        return Decimal(str(value)) if str(value).strip().lstrip("-").replace(".", "", 1).isdigit() else None
    except InvalidOperation:
        return None


def _as_instant(value: object) -> datetime | None:
    try:
        moment = datetime.fromisoformat(str(value))
    except ValueError:
        return None
    return moment if moment.tzinfo else None


def _like(actual: str, pattern: str) -> bool:
    """Only % is a wildcard in QBO's LIKE."""
    parts = pattern.lower().split("%")
    text = actual.lower()
    if len(parts) == 1:
        return text == parts[0]
    if not text.startswith(parts[0]) or not text.endswith(parts[-1]):
        return False
    position = len(parts[0])
    for middle in parts[1:-1]:
        found = text.find(middle, position)
        if found < 0:
            return False
        position = found + len(middle)
    return position <= len(text) - len(parts[-1])


def _sort_key(value: object) -> tuple[int, object]:
    number = _as_number(value)
    if number is not None:
        return (0, number)
    instant = _as_instant(value)
    if instant is not None:
        return (1, instant.timestamp())
    return (2, str(value).lower())


def _project(row: Mapping[str, Any], fields: tuple[str, ...] | None) -> dict[str, Any]:
    if fields is None:
        return dict(row)
    picked = {"Id": row["Id"]} if "Id" in row else {}  # an ExchangeRate has no Id
    for name in fields:
        top = name.split(".")[0]
        key = next((k for k in row if k.lower() == top.lower()), None)
        if key is not None:
            picked[key] = row[key]
    return {**picked, "domain": "QBO", "sparse": True}
