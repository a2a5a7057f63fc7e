"""Name-list entities: Customer, Item, Account, Term."""

from __future__ import annotations

import re
from typing import Any

from qbo_sandbox import faults
from qbo_sandbox.entities.common import (
    Outcome,
    RealmView,
    amount,
    business,
    currency_ref,
    max_length,
    no_colon,
    reference,
    required,
    unique_name,
)
from qbo_sandbox.entities.describe import PEOPLE, check_unique

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]+$")
ITEM_TYPES = ("Inventory", "NonInventory", "Service")
MAX_DUE_DAYS = 999  # QBO's terms form takes up to three digits (unconfirmed)
ACCOUNT_CLASSIFICATION = {
    "Bank": "Asset", "Other Current Asset": "Asset", "Fixed Asset": "Asset", "Other Asset": "Asset",
    "Accounts Receivable": "Asset", "Equity": "Equity", "Expense": "Expense", "Other Expense": "Expense",
    "Cost of Goods Sold": "Expense", "Accounts Payable": "Liability", "Credit Card": "Liability",
    "Long Term Liability": "Liability", "Other Current Liability": "Liability", "Income": "Revenue",
    "Other Income": "Revenue",
}  # fmt: skip


def customer(view: RealmView, body: dict[str, Any], current: dict[str, Any] | None) -> Outcome:
    """DisplayName (derived from the name parts when absent) ≤ 500, no ':', unique; e-mail syntax; terms and
    currency references; the currency cannot change once set."""
    entity = dict(body)
    if not entity.get("DisplayName"):
        parts = [entity.get(k) for k in ("Title", "GivenName", "MiddleName", "FamilyName", "Suffix")]
        derived = " ".join(p for p in parts if p) or entity.get("CompanyName") or ""
        entity["DisplayName"] = derived
    name = str(required(entity, "DisplayName"))
    max_length(name, 500, "DisplayName")
    no_colon(name, "DisplayName")
    # one namespace with vendors and employees (Intuit's Customer.DisplayName): Fault 6240
    check_unique(view, PEOPLE, "DisplayName", name, ("Customer", str(current["Id"])) if current else None)
    email = (entity.get("PrimaryEmailAddr") or {}).get("Address")
    if email is not None and not EMAIL.match(str(email)):
        raise business(f"The e-mail address {email} is not valid.", "PrimaryEmailAddr")
    if entity.get("SalesTermRef"):
        terms = reference(view, "Term", entity["SalesTermRef"], "SalesTermRef")
        entity["SalesTermRef"] = {"value": terms["Id"], "name": terms.get("Name")}
    if current is not None and not entity.get("CurrencyRef"):
        entity["CurrencyRef"] = current.get("CurrencyRef")  # a full update that leaves it out keeps it
    currency = currency_ref(view, entity)
    if current is not None and (current.get("CurrencyRef") or {}).get("value") != currency["value"]:
        raise business("The currency of a customer cannot be changed once it is set.", "CurrencyRef")
    entity["CurrencyRef"] = currency
    entity.setdefault("Active", True)
    # the stored Balance is the opening balance, set at creation; what a customer owes is derived when read
    # (entities.present), so a Balance sent back on update changes nothing
    entity["Balance"] = amount(current.get("Balance", 0) if current else entity.get("Balance") or 0, "Balance")
    entity.setdefault("Taxable", True)
    entity["FullyQualifiedName"] = name
    entity.setdefault("PrintOnCheckName", name)
    return Outcome(entity)


def item(view: RealmView, body: dict[str, Any], current: dict[str, Any] | None) -> Outcome:
    """Name ≤ 100, no ':', unique; Sku ≤ 100; Type; income account for sales; Inventory needs asset and
    expense accounts, TrackQtyOnHand, QtyOnHand and InvStartDate."""
    entity = dict(body)
    name = str(required(entity, "Name"))
    max_length(name, 100, "Name")
    no_colon(name, "Name")
    unique_name(view, "Item", "Name", name, _own_id(current))
    max_length(entity.get("Sku"), 100, "Sku")
    kind = entity.setdefault("Type", "Service")
    if kind not in ITEM_TYPES:
        raise faults.validation(faults.INVALID_ENUMERATION, "Invalid Enumeration", f"Invalid Type: {kind}", "Type")
    _account_ref(view, entity, "IncomeAccountRef", needed=True)
    if kind == "Inventory":
        _account_ref(view, entity, "AssetAccountRef", needed=True)
    _account_ref(view, entity, "ExpenseAccountRef", needed=kind == "Inventory")
    if kind == "Inventory":
        required(entity, "InvStartDate")
        entity["QtyOnHand"] = amount(required(entity, "QtyOnHand"), "QtyOnHand")
        entity["TrackQtyOnHand"] = True
    else:
        entity["TrackQtyOnHand"] = False
    for money in ("UnitPrice", "PurchaseCost"):
        entity[money] = amount(entity.get(money, 0), money)
    entity.setdefault("Active", True)
    entity.setdefault("Taxable", True)
    entity["FullyQualifiedName"] = name
    return Outcome(entity)


def account(view: RealmView, body: dict[str, Any], current: dict[str, Any] | None) -> Outcome:
    entity = dict(body)
    name = str(required(entity, "Name"))
    max_length(name, 100, "Name")
    no_colon(name, "Name")
    unique_name(view, "Account", "Name", name, _own_id(current))
    kind = required(entity, "AccountType")
    if kind not in ACCOUNT_CLASSIFICATION:
        raise faults.validation(
            faults.INVALID_ENUMERATION, "Invalid Enumeration", f"Invalid AccountType: {kind}", "AccountType"
        )
    entity["Classification"] = ACCOUNT_CLASSIFICATION[kind]
    if current is not None and not entity.get("CurrencyRef"):
        entity["CurrencyRef"] = current.get("CurrencyRef")  # a full update that leaves it out keeps it
    entity["CurrencyRef"] = currency_ref(view, entity)
    entity.setdefault("Active", True)
    entity.setdefault("CurrentBalance", 0)
    _parent_account(view, entity, name)
    return Outcome(entity)


def _parent_account(view: RealmView, entity: dict[str, Any], name: str) -> None:
    """A sub-account names its parent (ParentRef, which must exist); QBO answers SubAccount and a
    FullyQualifiedName "Parent:Child" on every account — both are filterable (Intuit's Account reference)."""
    parent = reference(view, "Account", entity["ParentRef"], "ParentRef") if entity.get("ParentRef") else None
    if parent is not None:
        entity["ParentRef"] = {"value": parent["Id"]}
    entity["SubAccount"] = parent is not None
    entity["FullyQualifiedName"] = f"{parent.get('FullyQualifiedName') or parent['Name']}:{name}" if parent else name


def term(view: RealmView, body: dict[str, Any], current: dict[str, Any] | None) -> Outcome:
    entity = dict(body)
    name = str(required(entity, "Name"))
    max_length(name, 31, "Name")
    unique_name(view, "Term", "Name", name, _own_id(current))
    days = amount(entity.get("DueDays", 0), "DueDays")
    if days < 0 or days > MAX_DUE_DAYS or days != days.to_integral_value():
        raise business(f"DueDays must be a whole number of days from 0 to {MAX_DUE_DAYS}.", "DueDays")
    entity["DueDays"] = int(days)
    entity.setdefault("Type", "STANDARD")
    entity.setdefault("Active", True)
    return Outcome(entity)


def _account_ref(view: RealmView, entity: dict[str, Any], key: str, *, needed: bool) -> None:
    """Check an account reference and answer with the account's own name, as QBO does."""
    if needed or entity.get(key):
        found = reference(view, "Account", required(entity, key) if needed else entity[key], key)
        entity[key] = {"value": found["Id"], "name": found.get("Name")}


def _own_id(current: dict[str, Any] | None) -> str | None:
    return str(current["Id"]) if current and current.get("Id") else None
