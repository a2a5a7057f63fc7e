"""What every entity rule uses: the realm view, the outcome, and checks that raise QBO's Faults.

Fault texts: the 2020 / 2500 / 2050 / 6240 / 610 / 5010 messages follow the shapes QBO answers with (seen in
python-quickbooks' issues and Intuit's error-code list); the exact Detail wording is QBO's where we had it and
ours, marked "(unconfirmed)", where we did not.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Context, Decimal, InvalidOperation
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from qbo_sandbox import faults
from qbo_sandbox.text import flaw

CENT = Decimal("0.01")
# Amounts, quantities and rates must stay below 10^15 (QBO's money fields hold 15 digits before the point —
# unconfirmed); products and sums of such numbers are rounded to cents in a context wide enough to hold them.
LARGEST = Decimal(10) ** 15
WIDE = Context(prec=64)


class RealmView(Protocol):
    """What rules may see of one company's state; the backend implements it."""

    realm_id: str

    def now(self) -> datetime: ...
    def preferences(self) -> dict[str, Any]: ...
    def company_info(self) -> dict[str, Any]: ...
    def get(self, entity: str, entity_id: str) -> dict[str, Any] | None: ...
    def all(self, entity: str) -> list[dict[str, Any]]: ...
    def scan(self, entity: str) -> Iterable[Mapping[str, Any]]:
        """The stored objects themselves, for reading only: no copy (a company holds thousands of invoices, and
        rules that look at every one of them run on every create and query)."""
        ...

    def next_doc_number(self) -> str: ...


@dataclass
class Outcome:
    """What a rule decided; the backend applies it atomically (and sets Id, SyncToken, MetaData)."""

    entity: dict[str, Any]
    side_effects: list[tuple[str, dict[str, Any]]] = field(default_factory=list)


def required(body: dict[str, Any], name: str, element: str | None = None) -> Any:
    """The value of a required field; Fault 2020 when missing or empty."""
    value = body.get(name)
    if value is None or value == "" or value == [] or value == {}:
        raise faults.validation(
            faults.REQUIRED_PARAM_MISSING,
            "Required param missing, need to supply the required value for the API",
            f"Required parameter {element or name} is missing in the request",
            element or name,
        )
    return value


def max_length(value: object, limit: int, element: str) -> None:
    """Fault 2050 when a string is longer than QBO accepts."""
    if isinstance(value, str) and len(value) > limit:
        raise faults.validation(
            faults.INVALID_STRING_LENGTH,
            "String length is either shorter or longer than supported by specification",
            f"String length specified does not match the supported length. Min:0 Max:{limit} supplied:{len(value)}",
            element,
        )


def no_colon(value: str, element: str) -> None:
    """QBO uses ':' to separate parent and sub names, so a name may not contain one. (Fault code unconfirmed.)"""
    if ":" in value or "\t" in value or "\n" in value:
        raise faults.validation(
            faults.BUSINESS_VALIDATION,
            "A business validation error has occurred while processing your request",
            f"Business Validation Error: {element} cannot contain a colon (:), a tab or a new line.",
            element,
        )


def duplicate_name(existing_id: str) -> faults.ValidationFault:
    return faults.validation(
        faults.DUPLICATE_NAME,
        "Duplicate Name Exists Error",
        f"The name supplied already exists. : Id={existing_id}",
        "Name",
    )


def business(detail: str, element: str = "") -> faults.ValidationFault:
    """Fault 6000, QBO's catch-all for business rules."""
    return faults.validation(
        faults.BUSINESS_VALIDATION,
        "A business validation error has occurred while processing your request",
        f"Business Validation Error: {detail}",
        element,
    )


def reference(view: RealmView, entity: str, ref: object, element: str, *, active: bool = True) -> dict[str, Any]:
    """The object a `{"value": id}` reference points to: 2500 when there is none, 610 when it is inactive."""
    if not isinstance(ref, dict) or not ref.get("value"):
        raise faults.validation(
            faults.INVALID_REFERENCE, "Invalid Reference Id", f"Invalid Reference Id : {element} is malformed", element
        )
    found = view.get(entity, str(ref["value"]))
    if found is None:
        raise faults.validation(
            faults.INVALID_REFERENCE,
            "Invalid Reference Id",
            f"Invalid Reference Id : {entity} assigned to this transaction does not exist (Id={ref['value']})",
            element,
        )
    if active and found.get("Active") is False:
        raise faults.not_found(entity, str(ref["value"]))
    return found


def amount(value: object, element: str) -> Decimal:
    """A JSON number (or numeric string) as Decimal; Fault 2050-like validation otherwise."""
    if isinstance(value, bool) or value is None:
        raise _bad_number(value, element)
    try:
        number = value if isinstance(value, Decimal) else Decimal(str(value))
    except InvalidOperation:
        raise _bad_number(value, element) from None
    if not number.is_finite() or number.copy_abs() >= LARGEST:  # copy_abs: abs() overflows at 1E+999999999
        raise _bad_number(value, element)
    return number


def _bad_number(value: object, element: str) -> faults.ValidationFault:
    return faults.validation(
        "2090", "Invalid Number", f"Invalid Number : {element} must be a number, not {value!r} (unconfirmed)", element
    )


def company_today(view: RealmView) -> date:
    """Today in the company's time zone: the date QBO gives a transaction sent without TxnDate."""
    zone = view.company_info().get("DefaultTimeZone") or "America/Los_Angeles"
    return view.now().astimezone(ZoneInfo(zone)).date()


def cents(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP, context=WIDE)


def ref(value: str, name: str | None = None) -> dict[str, str]:
    return {"value": value, "name": name} if name else {"value": value}


def same_name(a: object, b: object) -> bool:
    """QBO compares names case-insensitively, ignoring surrounding spaces."""
    return isinstance(a, str) and isinstance(b, str) and a.strip().lower() == b.strip().lower()


def unique_name(view: RealmView, entity: str, key: str, value: str, own_id: str | None) -> None:
    for other in view.scan(entity):
        if other.get("Id") != own_id and same_name(other.get(key), value):
            raise duplicate_name(str(other.get("Id")))


def home_currency(view: RealmView) -> str:
    return str(((view.preferences().get("CurrencyPrefs") or {}).get("HomeCurrency") or {}).get("value", "USD"))


def multicurrency(view: RealmView) -> bool:
    return bool((view.preferences().get("CurrencyPrefs") or {}).get("MultiCurrencyEnabled", False))


def currency_ref(view: RealmView, body: dict[str, Any]) -> dict[str, str]:
    """The currency of a new object: the home currency unless multicurrency allows another active one."""
    home = home_currency(view)
    wanted = body.get("CurrencyRef")
    code = str(wanted.get("value")) if isinstance(wanted, dict) and wanted.get("value") else home
    if code != home:
        if not multicurrency(view):
            raise business(f"Multicurrency is off in this company: every amount is in {home}.", "CurrencyRef")
        known = {c.get("Code") for c in view.all("CompanyCurrency") if c.get("Active", True)}
        if code not in known:
            raise business(f"The currency {code} is not active in this company.", "CurrencyRef")
    return ref(code, CURRENCY_NAMES.get(code, code))


CURRENCY_NAMES = {
    "USD": "United States Dollar", "EUR": "Euro", "GBP": "British Pound Sterling", "CAD": "Canadian Dollar",
    "AUD": "Australian Dollar", "JPY": "Japanese Yen", "CHF": "Swiss Franc", "NZD": "New Zealand Dollar",
    "MXN": "Mexican Peso", "SEK": "Swedish Krona", "INR": "Indian Rupee",
}  # fmt: skip


# -- the shape of a request body -------------------------------------------------------------------------
# QBO deserialises a body into typed objects before any rule runs: an object where a string belongs (or the
# reverse) fails there, as "Request has invalid or unsupported property" (code 2010, the answer api.py gives an
# unparseable body; the wording for a mistyped field is unconfirmed). Checking the shape first keeps every rule
# working on the types it expects — a mistyped field is a 400, never a crash.
OBJECT_FIELDS = frozenset({"CustomerMemo", "PrimaryEmailAddr", "BillEmail", "TxnTaxDetail", "MetaData"})
LIST_FIELDS = frozenset({"Line", "TaxLine", "TaxRateDetail", "AttachableRef"})
# (WorkWeekStartDate is a weekday name, AllowServiceDate and CalcAgingReportFromTxnDate flags, though they end
# in "Date")
TEXT_FIELDS = frozenset({"DisplayName", "Name", "DocNumber", "PrivateNote", "Sku", "Code", "CompanyName",
                         "GivenName", "FamilyName", "MiddleName", "Title", "Suffix", "Notes", "Description",
                         "Address", "AccountType", "AccountSubType", "Type", "PostingType", "DetailType",
                         "GlobalTaxCalculation", "SourceCurrencyCode", "TargetCurrencyCode",
                         "WorkWeekStartDate"})  # fmt: skip
FLAG_FIELDS = frozenset({"Active", "Taxable", "TrackQtyOnHand", "sparse", "AllowServiceDate",
                         "CalcAgingReportFromTxnDate"})  # fmt: skip


def check_shape(body: dict[str, Any], path: str = "") -> None:
    """Fault 2010 when a field QBO types is sent with another type (recursively through objects and lists)."""
    for key, value in body.items():
        where = f"{path}{key}"
        if value is None:
            continue
        if key in LIST_FIELDS:
            _expect(isinstance(value, list) and all(isinstance(v, dict) for v in value), where, "a list of objects")
            for number, element in enumerate(value):
                check_shape(element, f"{where}[{number}].")
        elif key in OBJECT_FIELDS or key.endswith(("Ref", "Addr", "Detail", "Prefs", "RateList")):
            _expect(isinstance(value, dict), where, "an object")
            check_shape(value, where + ".")
        elif key in TEXT_FIELDS:
            _expect(isinstance(value, str), where, "a string")
        elif key in FLAG_FIELDS:
            _expect(isinstance(value, bool), where, "true or false")
        elif key == "value":
            _expect(isinstance(value, str | int) and not isinstance(value, bool), where, "a string")
        elif key.endswith("Date"):  # "" is no date (python-quickbooks sends it for dates left unset)
            _expect(isinstance(value, str) and (value == "" or _is_date(value)), where, "a date (yyyy-mm-dd)")


def check_text(body: object) -> None:
    """Fault 2010 for a body holding a string that is not Unicode text, or nested too deep (text.py) — the
    backend's own guard for callers that do not come through api.py's JSON parsing, which refuses the same."""
    problem = flaw(body)
    if problem is not None:
        raise faults.validation(
            "2010", "Request has invalid or unsupported property",
            f"Property Name:{problem.element} specified is unsupported or invalid: {problem.reason}", problem.element,
        )  # fmt: skip


def _is_date(value: str) -> bool:
    try:
        date.fromisoformat(value[:10])
    except ValueError:
        return False
    return len(value) == 10 or value[10] in "T "


def _expect(holds: bool, element: str, kind: str) -> None:
    if not holds:
        raise faults.validation(
            "2010", "Request has invalid or unsupported property",
            f"Property Name:{element} specified is unsupported or invalid: it must be {kind}", element,
        )  # fmt: skip
