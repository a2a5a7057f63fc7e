"""Money applied to open transactions: a Payment to invoices, a BillPayment to bills.

Intuit's Payment reference: each `Line` carries an `Amount` and a `LinkedTxn` naming the invoice it pays; what
the lines do not apply stays on the payment as `UnappliedAmt`. The invoice's `Balance` drops by what is applied
and its `LinkedTxn` lists the payment. Voiding or deleting the payment gives the balance back. BillPayment does
the same to bills.

The paid transaction's `Balance` is stored (it is filterable: `WHERE Balance > '0'`) and moved by the payment's
side effects; its `LinkedTxn` to payments is derived when it is read, from the payments themselves.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from qbo_sandbox import faults
from qbo_sandbox.entities.common import RealmView, amount, business, required
from qbo_sandbox.entities.describe import Effect

# payer -> (the transaction it pays, the party both must name)
APPLIES = {"Payment": ("Invoice", "CustomerRef"), "BillPayment": ("Bill", "VendorRef")}
PAID_BY = {target: payer for payer, (target, _) in APPLIES.items()}


def applications(payer: str, entity: Mapping[str, Any]) -> dict[str, Decimal]:
    """What a payer's lines apply, per paid transaction Id."""
    target = APPLIES[payer][0]
    applied: dict[str, Decimal] = {}
    for line in entity.get("Line") or []:
        for linked in line.get("LinkedTxn") or []:
            if linked.get("TxnType") == target:
                txn_id = str(linked.get("TxnId"))
                applied[txn_id] = applied.get(txn_id, Decimal(0)) + amount(line.get("Amount", 0), "Amount")
    return applied


def settled(view: RealmView, target: str, target_id: str, skip: str | None = None) -> Decimal:
    """What every payer but `skip` has applied to one transaction."""
    payer = PAID_BY[target]
    return sum(
        (applications(payer, p).get(target_id, Decimal(0)) for p in view.scan(payer) if p.get("Id") != skip),
        Decimal(0),
    )


def apply(view: RealmView, payer: str, entity: dict[str, Any], current: dict[str, Any] | None) -> list[Effect]:
    """Check a payer's lines and move the balances they touch. Each line must link one open transaction of the
    same party and apply no more than it owes; the lines together no more than TotalAmt (Faults 2500 / 6000)."""
    target, party = APPLIES[payer]
    total = amount(required(entity, "TotalAmt"), "TotalAmt")
    if total < 0:
        raise business("TotalAmt cannot be negative.", "TotalAmt")
    entity["TotalAmt"] = total
    new = applications(payer, entity) if total else {}
    _check_lines(entity, target)
    if sum(new.values(), Decimal(0)) > total:
        raise business(f"The amounts applied ({sum(new.values())}) are more than the payment ({total}).", "Line")
    entity["UnappliedAmt"] = total - sum(new.values(), Decimal(0))
    own = str(current["Id"]) if current else None
    effects = []
    for txn_id in sorted({*new, *(applications(payer, current) if current else {})}):
        paid = view.get(target, txn_id)
        if paid is None:
            if txn_id in new:
                raise _no_such(target, txn_id)
            continue  # the transaction was deleted; nothing to give back
        if txn_id in new and (paid.get(party) or {}).get("value") != (entity.get(party) or {}).get("value"):
            raise business(f"{target} {txn_id} belongs to another {party[:-3].lower()}.", "LinkedTxn")
        balance = amount(paid.get("TotalAmt", 0), "TotalAmt") - settled(view, target, txn_id, own)
        balance -= new.get(txn_id, Decimal(0))
        if balance < 0:
            raise business(f"The amount applied to {target} {txn_id} is more than its open balance.", "Amount")
        if balance != amount(paid.get("Balance", 0), "Balance"):
            effects.append((target, {**paid, "Balance": balance}))
    return effects


def released(view: RealmView, payer: str, current: dict[str, Any]) -> list[Effect]:
    """What deleting or voiding a payer gives back: the full balance of what it had paid."""
    target = APPLIES[payer][0]
    effects = []
    for txn_id in sorted(applications(payer, current)):
        paid = view.get(target, txn_id)
        if paid is not None:
            balance = amount(paid.get("TotalAmt", 0), "TotalAmt") - settled(view, target, txn_id, str(current["Id"]))
            effects.append((target, {**paid, "Balance": balance}))
    return effects


def open_balance(view: RealmView, target: str, entity: dict[str, Any]) -> Decimal:
    """A paid transaction's Balance after its own update: its new total less what is applied to it. An update
    that makes the total less than the payments applied is refused (6000; QBO's answer unconfirmed)."""
    paid = settled(view, target, str(entity["Id"])) if entity.get("Id") else Decimal(0)
    balance = amount(entity.get("TotalAmt", 0), "TotalAmt") - paid
    if balance < 0:
        raise business(f"The {target.lower()} total is less than the payments applied to it ({paid}).", "TotalAmt")
    return balance


def linked(view: RealmView, target: str, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Paid transactions answer with `LinkedTxn` naming each payer that applies money to them (derived, so a
    client that sends LinkedTxn back changes nothing)."""
    if not rows:
        return rows
    payer = PAID_BY[target]
    by_txn: dict[str, list[dict[str, str]]] = {}
    for paying in view.scan(payer):
        for txn_id, value in applications(payer, paying).items():
            if value:
                by_txn.setdefault(txn_id, []).append({"TxnId": str(paying["Id"]), "TxnType": payer})
    out = []
    for row in rows:
        others = [t for t in row.get("LinkedTxn") or [] if t.get("TxnType") != payer]
        links = others + by_txn.get(str(row.get("Id")), [])
        out.append({**row, "LinkedTxn": links} if links or "LinkedTxn" in row else row)
    return out


def _check_lines(entity: dict[str, Any], target: str) -> None:
    for number, line in enumerate(entity.get("Line") or [], start=1):
        if amount(required(line, "Amount", "Line.Amount"), "Amount") < 0:
            raise business(f"Line {number}: the amount applied cannot be negative.", "Amount")
        for linked_txn in line.get("LinkedTxn") or []:
            if linked_txn.get("TxnType") != target:
                # QBO also applies credit memos and journal entries; the sandbox models the usual case only
                raise business(f"Line {number}: qbo_sandbox applies payments to {target}s only.", "TxnType")


def _no_such(target: str, txn_id: str) -> faults.ValidationFault:
    return faults.validation(
        faults.INVALID_REFERENCE, "Invalid Reference Id",
        f"Invalid Reference Id : {target} assigned to this transaction does not exist (Id={txn_id})", "LinkedTxn",
    )  # fmt: skip
