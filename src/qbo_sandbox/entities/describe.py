"""An entity as a declarative description — fields it needs, what it references, how its lines add up, which
operations QBO allows — and the one generic rule that enforces any description (moto's split: the backend keeps
state, this says what an object must look like).

A new entity is a `Spec` plus, where QBO has a rule that is really its own (a payment lowers an invoice's
balance, a transfer needs two different accounts), a small `own` hook. Customer, Item, Account, Term, Invoice
and JournalEntry keep their hand-written rules (lists.py, invoice.py, journal.py): theirs are many.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from qbo_sandbox import faults
from qbo_sandbox.entities.common import (
    Outcome,
    RealmView,
    amount,
    business,
    cents,
    company_today,
    currency_ref,
    duplicate_name,
    max_length,
    no_colon,
    reference,
    required,
    same_name,
)

Effect = tuple[str, dict[str, Any]]
# An entity's own rule: may complete `entity` in place; returns what else the write changes.
Own = Callable[[RealmView, dict[str, Any], dict[str, Any] | None], list[Effect]]
Voided = Callable[[RealmView, dict[str, Any]], Outcome]
Deleted = Callable[[RealmView, dict[str, Any]], list[Effect]]
Presented = Callable[[RealmView, list[dict[str, Any]]], list[dict[str, Any]]]

READ = frozenset({"read", "query"})
LIST = READ | {"create", "update"}  # name lists: QBO deletes nothing, `Active: false` hides
TXN = LIST | {"delete"}
# The field QBO copies into a reference's `name` (`{"value": "12", "name": "Amy's Bird Sanctuary"}`).
NAMED_BY = {"Customer": "DisplayName", "Vendor": "DisplayName", "Employee": "DisplayName", "TaxAgency": "DisplayName"}
# Display names are one namespace across customers, vendors and employees (Intuit's Customer.DisplayName: "must
# be unique across all other customers, employees, vendors, and other names") — Fault 6240.
PEOPLE = ("Customer", "Vendor", "Employee")
# References a line detail may carry besides its kind's own (checked when present).
LINE_REFS = {"ClassRef": "Class", "CustomerRef": "Customer", "DepartmentRef": "Department", "ItemRef": "Item",
             "AccountRef": "Account", "PaymentMethodRef": "PaymentMethod"}  # fmt: skip


@dataclass(frozen=True)
class Spec:
    """What QBO says of one entity (its page in Intuit's API reference)."""

    name: str
    operations: frozenset[str]
    required: tuple[str, ...] = ()
    references: Mapping[str, str] = field(default_factory=dict)  # "CheckPayment.BankAccountRef" -> "Account"
    unique: str | None = None  # the name field, unique (case-insensitively) among `unique_among`
    unique_among: tuple[str, ...] = ()
    name_length: int = 100
    lines: Mapping[str, Mapping[str, str]] | None = None  # DetailType -> the references its detail needs
    total: str | None = None  # the field the line amounts add up to
    dated: bool = False  # a transaction: TxnDate defaults to the company's today
    currency: bool = False
    defaults: Mapping[str, Any] = field(default_factory=dict)
    own: Own | None = None
    voided: Voided | None = None
    deleted: Deleted | None = None
    presented: Presented | None = None

    def rule(self, view: RealmView, body: dict[str, Any], current: dict[str, Any] | None) -> Outcome:
        """The object to store: the description enforced, then the entity's own rule. Raises QBO's Faults."""
        entity = dict(body)
        for name in self.required:
            required(entity, name)
        if self.unique:
            self._unique_name(view, entity, current)
        for path, target in self.references.items():
            resolve(view, entity, path, target)
        if self.lines is not None:
            total = self._lines(view, entity)
            if self.total:
                entity[self.total] = total
        if self.dated:
            entity["TxnDate"] = entity.get("TxnDate") or company_today(view).isoformat()
        if self.currency:
            if current is not None and not entity.get("CurrencyRef"):
                entity["CurrencyRef"] = current.get("CurrencyRef")
            entity["CurrencyRef"] = currency_ref(view, entity)
        for key, value in self.defaults.items():
            entity.setdefault(key, value)
        effects = self.own(view, entity, current) if self.own else []
        return Outcome(entity, effects)

    def _unique_name(self, view: RealmView, entity: dict[str, Any], current: dict[str, Any] | None) -> None:
        key = str(self.unique)
        name = str(required(entity, key))
        max_length(name, self.name_length, key)
        no_colon(name, key)
        own = (self.name, str(current["Id"])) if current else None
        check_unique(view, self.unique_among or (self.name,), key, name, own)
        entity["FullyQualifiedName"] = name

    def _lines(self, view: RealmView, entity: dict[str, Any]) -> Decimal:
        raw = required(entity, "Line")
        if not isinstance(raw, list):
            raise business("Line must be a list of lines.", "Line")
        kinds = self.lines or {}
        lines, total = [], Decimal(0)
        for number, line in enumerate(raw, start=1):
            kind = line.get("DetailType")
            if kind not in kinds:
                allowed = ", ".join(kinds)
                raise business(f"Line {number}: DetailType {kind!r} is not one of {allowed}.", "DetailType")
            lines.append(_line(view, line, number, str(kind), kinds[str(kind)]))
            total += lines[-1]["Amount"]
        entity["Line"] = lines
        return total


def _line(view: RealmView, line: dict[str, Any], number: int, kind: str, refs: Mapping[str, str]) -> dict[str, Any]:
    """One line: its amount (Qty × UnitPrice must match it when both are sent: 6070) and its references."""
    detail = dict(line.get(kind) or {})
    for key, target in {**{k: v for k, v in LINE_REFS.items() if detail.get(k)}, **refs}.items():
        found = reference(view, target, required(detail, key, f"Line.{kind}.{key}"), key)
        detail[key] = named_ref(target, found)
    value = amount(required(line, "Amount"), "Amount")
    if "Qty" in detail and "UnitPrice" in detail:
        qty, price = amount(detail["Qty"], "Qty"), amount(detail["UnitPrice"], "UnitPrice")
        if qty and price and cents(qty * price) != cents(value):
            raise faults.validation(
                "6070", "Amount is not equal to UnitPrice * Qty",
                f"Amount is not equal to UnitPrice * Qty. Supplied value:{value}", "Amount",
            )  # fmt: skip
    checked = {**line, "Id": str(number), "LineNum": number, "Amount": value}
    if kind in line or refs:
        checked[kind] = detail
    return checked


def check_unique(view: RealmView, among: tuple[str, ...], key: str, name: str, own: tuple[str, str] | None) -> None:
    """Fault 6240 when another object of `among` (other than `own`, an (entity, Id) pair) has this name."""
    for other in among:
        for found in view.scan(other):
            if (other, found.get("Id")) != own and same_name(found.get(NAMED_BY.get(other, key)), name):
                raise duplicate_name(str(found.get("Id")))


def resolve(view: RealmView, entity: dict[str, Any], path: str, target: str) -> None:
    """Check the reference at a dotted path (when present) and answer it with its target's current name."""
    *parents, key = path.split(".")
    holder: object = entity
    for parent in parents:
        holder = holder.get(parent) if isinstance(holder, dict) else None
    if isinstance(holder, dict) and holder.get(key):
        holder[key] = named_ref(target, reference(view, target, holder[key], key))


def named_ref(entity: str, found: Mapping[str, Any]) -> dict[str, Any]:
    name = found.get(NAMED_BY.get(entity, "FullyQualifiedName")) or found.get("Name")
    return {"value": found["Id"], "name": name} if name else {"value": found["Id"]}


def derived_display_name(entity: dict[str, Any]) -> None:
    """A person's DisplayName, when none is sent, is made of the name parts (as QBO does for Customer)."""
    if not entity.get("DisplayName"):
        parts = [entity.get(k) for k in ("Title", "GivenName", "MiddleName", "FamilyName", "Suffix")]
        entity["DisplayName"] = " ".join(str(p) for p in parts if p) or entity.get("CompanyName") or ""


def zeroed(view: RealmView, current: dict[str, Any]) -> Outcome:
    """QBO's void: the transaction stays, its amounts become 0, and it is noted "Voided"."""
    entity = dict(current)
    for key in ("TotalAmt", "Balance", "HomeTotalAmt", "UnappliedAmt", "Amount"):
        if key in entity:
            entity[key] = Decimal(0)
    entity["Line"] = [{**line, "Amount": Decimal(0)} for line in current.get("Line") or []]
    if isinstance(entity.get("TxnTaxDetail"), dict):
        entity["TxnTaxDetail"] = {**entity["TxnTaxDetail"], "TotalTax": Decimal(0), "TaxLine": []}
    entity["PrivateNote"] = "Voided"
    return Outcome(entity)


def one_of(entity: dict[str, Any], key: str, allowed: tuple[str, ...]) -> str:
    """A required enumeration (2020 when missing, Fault "Invalid Enumeration" when not one QBO knows)."""
    value = str(required(entity, key))
    if value not in allowed:
        raise faults.validation(
            faults.INVALID_ENUMERATION, "Invalid Enumeration", f"Invalid {key}: {value} (one of {', '.join(allowed)})",
            key,
        )  # fmt: skip
    return value
