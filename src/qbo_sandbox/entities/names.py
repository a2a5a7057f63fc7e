"""Name lists beyond Customer and Item: Vendor, Employee, Class, Department, PaymentMethod, TaxAgency.

Operations and required fields per Intuit's API reference (developer.intuit.com, Accounting API, all-entities/
<entity>): none of these can be deleted — `Active: false` hides them; TaxAgency is create, read and query only.
Vendor, Customer and Employee display names share one namespace (Fault 6240).
"""

from __future__ import annotations

from typing import Any

from qbo_sandbox.entities.common import RealmView, business
from qbo_sandbox.entities.describe import LIST, PEOPLE, READ, Effect, Own, Spec, derived_display_name, one_of

PAYMENT_METHOD_TYPES = ("CREDIT_CARD", "NON_CREDIT_CARD")


def _person(view: RealmView, entity: dict[str, Any], current: dict[str, Any] | None) -> list[Effect]:
    entity.setdefault("PrintOnCheckName", entity["DisplayName"])
    return []


def _nested(flag: str) -> Own:
    """A sub-class (or sub-department) names its parent; its full name is "Parent:Child", as QBO writes it."""

    def rule(view: RealmView, entity: dict[str, Any], current: dict[str, Any] | None) -> list[Effect]:
        parent = entity.get("ParentRef") or None
        if parent and current is not None and parent.get("value") == current.get("Id"):
            raise business("An object cannot be its own parent.", "ParentRef")
        entity["FullyQualifiedName"] = f"{parent['name']}:{entity['Name']}" if parent else entity["Name"]
        entity[flag] = bool(parent)
        return []

    return rule


def _payment_method(view: RealmView, entity: dict[str, Any], current: dict[str, Any] | None) -> list[Effect]:
    entity["Type"] = one_of({"Type": entity.get("Type") or "NON_CREDIT_CARD"}, "Type", PAYMENT_METHOD_TYPES)
    return []


class _Named(Spec):
    """A person: DisplayName derived from the name parts when absent, before the generic checks."""

    def rule(self, view: RealmView, body: dict[str, Any], current: dict[str, Any] | None) -> Any:
        entity = dict(body)
        derived_display_name(entity)
        return super().rule(view, entity, current)


VENDOR = _Named(
    "Vendor", LIST, unique="DisplayName", unique_among=PEOPLE, name_length=500,
    references={"TermRef": "Term", "APAccountRef": "Account"},
    currency=True, defaults={"Active": True, "Balance": 0, "Vendor1099": False}, own=_person,
)  # fmt: skip
EMPLOYEE = _Named(
    "Employee", LIST, unique="DisplayName", unique_among=PEOPLE, name_length=500,
    defaults={"Active": True, "BillableTime": False}, own=_person,
)  # fmt: skip
CLASS = Spec(
    "Class", LIST, unique="Name", references={"ParentRef": "Class"}, defaults={"Active": True},
    own=_nested("SubClass"),
)  # fmt: skip
DEPARTMENT = Spec(
    "Department", LIST, unique="Name", references={"ParentRef": "Department"}, defaults={"Active": True},
    own=_nested("SubDepartment"),
)  # fmt: skip
PAYMENT_METHOD = Spec(
    "PaymentMethod", LIST, unique="Name", name_length=31, defaults={"Active": True}, own=_payment_method,
)  # fmt: skip
TAX_AGENCY = Spec(
    "TaxAgency", READ | {"create"}, unique="DisplayName",
    defaults={"TaxTrackedOnSales": True, "TaxTrackedOnPurchases": False},
)  # fmt: skip
SPECS = (VENDOR, EMPLOYEE, CLASS, DEPARTMENT, PAYMENT_METHOD, TAX_AGENCY)
