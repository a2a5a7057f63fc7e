"""JournalEntry rules: lines post to existing accounts; debits must equal credits."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from qbo_sandbox.entities.common import (
    Outcome,
    RealmView,
    amount,
    business,
    company_today,
    currency_ref,
    reference,
    required,
)


def journal_entry(view: RealmView, body: dict[str, Any], current: dict[str, Any] | None) -> Outcome:
    entity = dict(body)
    raw = required(entity, "Line")
    if not isinstance(raw, list):
        raise business("Line must be a list of lines.", "Line")
    lines, debits, credits = [], Decimal(0), Decimal(0)
    for number, line in enumerate(raw, start=1):
        detail = dict(required(line, "JournalEntryLineDetail", "Line.JournalEntryLineDetail"))
        posting = detail.get("PostingType")
        if posting not in ("Debit", "Credit"):
            raise business(f"Line {number}: PostingType must be Debit or Credit.", "PostingType")
        account = reference(view, "Account", required(detail, "AccountRef", "AccountRef"), "AccountRef")
        detail["AccountRef"] = {"value": account["Id"], "name": account.get("Name")}
        _entity_for_receivables(view, account, detail, number)
        value = amount(required(line, "Amount"), "Amount")
        if value < 0:
            raise business(f"Line {number}: amounts are positive; PostingType says which side.", "Amount")
        debits += value if posting == "Debit" else 0
        credits += value if posting == "Credit" else 0
        lines.append({**line, "Id": str(number - 1), "Amount": value, "DetailType": "JournalEntryLineDetail",
                      "JournalEntryLineDetail": detail})  # fmt: skip
    if debits != credits:
        # QBO refuses an unbalanced entry; its exact code and text are unconfirmed (we use 6000).
        raise business(f"Transaction is not balanced: debits {debits} and credits {credits} must be equal.", "Line")
    entity["Line"] = lines
    entity["TxnDate"] = entity.get("TxnDate") or company_today(view).isoformat()
    entity["CurrencyRef"] = currency_ref(view, entity)
    entity.setdefault("Adjustment", False)
    entity["TotalAmt"] = debits
    return Outcome(entity)


def _entity_for_receivables(view: RealmView, account: dict[str, Any], detail: dict[str, Any], number: int) -> None:
    """A line on Accounts Receivable names its customer (QBO: "When you use Accounts Receivable, you must choose a
    customer in the Name field"); the Fault's wording is QBO's as users report it, its code 6000 unconfirmed."""
    if account.get("AccountType") != "Accounts Receivable":
        return
    entity = detail.get("Entity") or {}
    if entity.get("Type") != "Customer" or not entity.get("EntityRef"):
        raise business(
            f"Line {number}: When you use Accounts Receivable, you must choose a customer in the Name field.", "Entity"
        )
    found = reference(view, "Customer", entity["EntityRef"], "EntityRef")
    detail["Entity"] = {"Type": "Customer", "EntityRef": {"value": found["Id"], "name": found.get("DisplayName")}}
