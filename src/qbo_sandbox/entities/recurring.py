"""RecurringTransaction: a named template that makes a transaction on a schedule (Intuit's RecurringTransaction
reference: create, read, query, update, delete; "available in QuickBooks Essentials and Plus").

QBO wraps the template in its kind — `{"RecurringTransaction": {"Invoice": {..., "RecurringInfo": {...}}}}` —
with Id and SyncToken inside. The backend keeps Id, SyncToken and MetaData at the top (`lifted` moves a
request's up, `wrapped` moves them back in for the answer). The template only describes future transactions:
it moves no balance and no stock, and takes no document number.
"""

from __future__ import annotations

from typing import Any

from qbo_sandbox.entities.common import RealmView, business, required, same_name
from qbo_sandbox.entities.describe import TXN, Effect, Spec, one_of, resolve

KINDS = ("Bill", "Purchase", "CreditMemo", "Deposit", "Estimate", "Invoice", "JournalEntry", "RefundReceipt",
         "SalesReceipt", "Transfer", "VendorCredit", "PurchaseOrder")  # fmt: skip
OWN = ("Id", "SyncToken", "MetaData", "domain", "sparse")
TEMPLATE_REFS = {"CustomerRef": "Customer", "VendorRef": "Vendor", "SalesTermRef": "Term",
                 "DepositToAccountRef": "Account", "FromAccountRef": "Account", "ToAccountRef": "Account"}  # fmt: skip


def kind_of(body: dict[str, Any]) -> str | None:
    found = [k for k in KINDS if isinstance(body.get(k), dict)]
    return found[0] if len(found) == 1 else None


def lifted(body: dict[str, Any]) -> dict[str, Any]:
    """A request's wrapped Id and SyncToken at the top, where the backend finds them."""
    kind = kind_of(body)
    inner = body.get(kind) if kind else None
    if not isinstance(inner, dict):
        return body
    return {**body, **{k: inner[k] for k in ("Id", "SyncToken") if inner.get(k) not in (None, "")}}


def wrapped(view: RealmView, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for row in rows:
        kind = kind_of(row)
        if kind is None:
            out.append(row)
            continue
        out.append({kind: {**row[kind], **{k: row[k] for k in OWN if k in row}}})
    return out


def _template(view: RealmView, entity: dict[str, Any], current: dict[str, Any] | None) -> list[Effect]:
    kind = kind_of(entity)
    if kind is None:
        raise business(f"A recurring transaction holds exactly one of {', '.join(KINDS)}.", "RecurringTransaction")
    inner = {k: v for k, v in entity[kind].items() if k not in OWN}
    info = dict(required(inner, "RecurringInfo"))
    name = str(required(info, "Name", "RecurringInfo.Name"))
    recur = one_of({"RecurType": info.get("RecurType") or "Automated"}, "RecurType",
                   ("Automated", "Reminded", "UnScheduled"))  # fmt: skip
    if recur != "UnScheduled":
        required(info, "ScheduleInfo", "RecurringInfo.ScheduleInfo")
    for other in view.scan("RecurringTransaction"):
        other_kind = kind_of(dict(other))
        other_name = ((other.get(other_kind) or {}).get("RecurringInfo") or {}).get("Name") if other_kind else None
        if other.get("Id") != (current or {}).get("Id") and same_name(other_name, name):
            raise business(f"A recurring template named {name} already exists.", "RecurringInfo.Name")
    for path, target in TEMPLATE_REFS.items():
        resolve(view, inner, path, target)
    inner["RecurringInfo"] = {**info, "RecurType": recur, "Active": info.get("Active", True) is not False}
    for key in [k for k in entity if k not in (kind, "Id")]:
        del entity[key]
    entity[kind] = inner
    return []


RECURRING = Spec("RecurringTransaction", TXN, own=_template, presented=wrapped)
SPECS = (RECURRING,)
