"""Attachable: a note or a file attached to transactions and names (Intuit's Attachable reference: create,
read, query, update, delete; files come through the multipart `POST /upload`, uploads.py).

The sandbox keeps a file's name, type and size, not its bytes: no download is served (COVERAGE.md).
"""

from __future__ import annotations

from typing import Any

from qbo_sandbox.entities.common import RealmView, business, reference
from qbo_sandbox.entities.describe import TXN, Effect, Spec, named_ref

# What an attachment may be attached to (the entities the sandbox serves that QBO's AttachableRef accepts).
ATTACHABLE_TO = ("Invoice", "Bill", "Payment", "Estimate", "SalesReceipt", "CreditMemo", "RefundReceipt",
                 "Purchase", "PurchaseOrder", "Deposit", "Transfer", "JournalEntry", "BillPayment", "TimeActivity",
                 "Customer", "Vendor", "Employee", "Item")  # fmt: skip


def _attachable(view: RealmView, entity: dict[str, Any], current: dict[str, Any] | None) -> list[Effect]:
    """A note or a file (one of Note and FileName); every AttachableRef names an object that exists."""
    if not entity.get("Note") and not entity.get("FileName"):
        raise business("An attachable needs a Note or a FileName.", "Note")
    refs = []
    for link in entity.get("AttachableRef") or []:
        target = dict(link.get("EntityRef") or {})
        kind = str(target.get("type") or "")
        if kind not in ATTACHABLE_TO:
            raise business(f"An attachment cannot be attached to {kind or 'nothing'}.", "AttachableRef")
        found = reference(view, kind, target, "EntityRef")
        refs.append({**link, "EntityRef": {**named_ref(kind, found), "type": kind}})
    entity["AttachableRef"] = refs
    return []


ATTACHABLE = Spec(
    "Attachable", TXN, own=_attachable,
)  # fmt: skip
SPECS = (ATTACHABLE,)
