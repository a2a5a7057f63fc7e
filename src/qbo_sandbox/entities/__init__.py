"""QBO's rules per entity, as pure functions over a RealmView (the backend applies the Outcome).

Which operations each entity allows follows QBO's API reference: name-list entities (Customer, Item, Account,
Term) cannot be deleted — they are made inactive with `Active: false`; TaxCode and TaxRate are read-only through
this API; Preferences and CompanyInfo exist once per company and are read and updated only.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from qbo_sandbox import faults
from qbo_sandbox.entities import company, invoice, journal, lists, payments, recurring
from qbo_sandbox.entities.catalog import SPECS
from qbo_sandbox.entities.cleaning import cleared, exchange_rate_answer, kept
from qbo_sandbox.entities.common import Outcome, RealmView, amount, check_shape

__all__ = [
    "ENTITY_NAMES",
    "Outcome",
    "RealmView",
    "allowed_operations",
    "apply_void",
    "canonical_name",
    "check_delete",
    "json_name",
    "lifted",
    "present",
    "validate_create",
    "validate_update",
]

Rule = Callable[[RealmView, dict[str, Any], dict[str, Any] | None], Outcome]
READ = frozenset({"read", "query"})
WRITE = READ | {"create", "update"}
RULES: dict[str, tuple[frozenset[str], Rule | None]] = {
    "Customer": (WRITE, lists.customer),
    "Item": (WRITE, lists.item),
    "Account": (WRITE, lists.account),
    "Term": (WRITE, lists.term),
    "Invoice": (WRITE | {"delete", "void"}, invoice.invoice),
    "JournalEntry": (WRITE | {"delete"}, journal.journal_entry),
    "CompanyCurrency": (WRITE, company.company_currency),
    "ExchangeRate": (READ | {"create", "update"}, company.exchange_rate),  # set by currency and date (api.py)
    "Preferences": (READ | {"update"}, company.preferences),
    "CompanyInfo": (READ | {"update"}, company.company_info),
    "TaxCode": (READ, None),
    "TaxRate": (READ, None),
    # the entities described declaratively (catalog.py): Payment, Vendor, Bill, …
    **{name: (spec.operations, spec.rule) for name, spec in SPECS.items()},
}
ENTITY_NAMES: tuple[str, ...] = tuple(RULES)
_BY_LOWER = {name.lower(): name for name in ENTITY_NAMES}


def canonical_name(segment: str) -> str:
    """ "invoice" -> "Invoice". Raises a ValidationFault for an entity the sandbox does not serve."""
    name = _BY_LOWER.get(segment.lower())
    if name is None:
        raise faults.validation(
            faults.UNSUPPORTED_OPERATION, "Unsupported Operation",
            f"Operation on entity {segment} is not supported by qbo_sandbox (see COVERAGE.md)", segment,
        )  # fmt: skip
    return name


def allowed_operations(entity: str) -> frozenset[str]:
    return RULES[entity][0]


def require_operation(entity: str, operation: str) -> None:
    """Fault "Unsupported Operation" (code 500, as QBO) when `entity` does not allow `operation`."""
    if operation not in allowed_operations(entity):
        raise faults.validation(
            faults.UNSUPPORTED_OPERATION, "Unsupported Operation",
            f"Operation {operation.capitalize()} is not supported for {entity}.", entity,
        )  # fmt: skip


def validate_create(view: RealmView, entity: str, body: dict[str, Any]) -> Outcome:
    """The object to store for a create; raises the Fault QBO would."""
    require_operation(entity, "create")
    rule = RULES[entity][1]
    assert rule is not None
    return rule(view, _writable(body), None)


def validate_update(
    view: RealmView, entity: str, current: dict[str, Any], body: dict[str, Any], sparse: bool
) -> Outcome:
    """The object to store for an update: a sparse update merges top-level fields into the current object, a
    full update replaces them. The backend has checked Id and SyncToken already."""
    require_operation(entity, "update")
    rule = RULES[entity][1]
    assert rule is not None
    merged = {**_writable(current), **_writable(body)} if sparse else _writable(body)
    for key in cleared(body) if sparse else ():
        merged.pop(key, None)  # "" is no value: a sparse update that sends it empties the field
    merged["Id"] = current["Id"]
    outcome = rule(view, merged, current)
    if entity == "Invoice":  # what payments applied stays applied (payments.py)
        outcome.entity["Balance"] = payments.open_balance(view, "Invoice", outcome.entity)
    return outcome


def check_delete(view: RealmView, entity: str, current: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """Raises the Fault QBO would; returns what else the deletion changes (an invoice's inventory comes back)."""
    require_operation(entity, "delete")
    spec = SPECS.get(entity)
    if spec is not None:
        return spec.deleted(view, current) if spec.deleted else []
    return invoice.deleted(view, current) if entity == "Invoice" else []


def apply_void(view: RealmView, entity: str, current: dict[str, Any]) -> Outcome:
    require_operation(entity, "void")
    spec = SPECS.get(entity)
    if spec is not None and spec.voided is not None:
        return spec.voided(view, current)
    return invoice.void(view, current)


def json_name(entity: str) -> str:
    """The key QBO answers an entity under: "CreditCardPaymentTxn" for CreditCardPayment (its JSON object name
    differs from its endpoint's, as python-quickbooks notes), else the entity's name."""
    return "CreditCardPaymentTxn" if entity == "CreditCardPayment" else entity


def lifted(entity: str, body: dict[str, Any]) -> dict[str, Any]:
    """A request body with the Id and SyncToken the backend needs at its top (QBO wraps a recurring
    transaction's inside its template: recurring.py)."""
    return recurring.lifted(body) if entity == "RecurringTransaction" else body


def present(view: RealmView, entity: str, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Stored objects as QBO answers with them, with the read-only fields it derives. A customer's Balance is
    its opening balance plus what its invoices still owe (Intuit's Customer.Balance: "the open balance amount or
    the amount unpaid by the customer"); a customer keeps its opening balance in the store."""
    if entity == "Invoice":
        return payments.linked(view, "Invoice", [_current_names(view, row) for row in rows])
    spec = SPECS.get(entity)
    if spec is not None:
        return spec.presented(view, rows) if spec.presented else rows
    if entity == "ExchangeRate":
        return [exchange_rate_answer(row) for row in rows]
    if entity != "Customer" or not rows:
        return rows
    owed: dict[str, Decimal] = {}
    for sale in view.scan("Invoice"):
        customer_id = str((sale.get("CustomerRef") or {}).get("value"))
        owed[customer_id] = owed.get(customer_id, Decimal(0)) + amount(sale.get("Balance", 0), "Balance")
    return [
        {**row, "Balance": amount(row.get("Balance", 0), "Balance") + owed.get(str(row.get("Id")), Decimal(0))}
        for row in rows
    ]


def _current_names(view: RealmView, sale: dict[str, Any]) -> dict[str, Any]:
    """An invoice's references name the customer, items and terms as they are called now (QBO stores the Id and
    answers with the current name)."""
    named = dict(sale)
    for key, entity, field in (("CustomerRef", "Customer", "DisplayName"), ("SalesTermRef", "Term", "Name")):
        named[key] = _renamed(view, named.get(key), entity, field)
    lines = []
    for line in named.get("Line") or []:
        detail = line.get("SalesItemLineDetail")
        if isinstance(detail, dict) and detail.get("ItemRef"):
            line = {
                **line,
                "SalesItemLineDetail": {**detail, "ItemRef": _renamed(view, detail["ItemRef"], "Item", "Name")},
            }
        lines.append(line)
    if "Line" in named:
        named["Line"] = lines
    return {k: v for k, v in named.items() if v is not None or k in sale}


def _renamed(view: RealmView, ref: object, entity: str, field: str) -> object:
    if not isinstance(ref, dict) or not ref.get("value"):
        return ref
    found = view.get(entity, str(ref["value"]))
    return {**ref, "name": found.get(field)} if found is not None else ref


def _writable(body: dict[str, Any]) -> dict[str, Any]:
    """Fields the backend owns never come from a request; the rest must have the types QBO's fields have."""
    check_shape(body)
    return {k: v for k, v in kept(body).items() if k not in ("SyncToken", "MetaData", "sparse", "domain")}
