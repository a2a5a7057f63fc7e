"""Purchases and money movements: Bill, BillPayment, Purchase, PurchaseOrder, Deposit, Transfer,
CreditCardPayment, TimeActivity.

Required fields and operations per Intuit's API reference (all-entities/<entity>): Bill needs VendorRef and
Line; BillPayment VendorRef, PayType, TotalAmt and the bank (CheckPayment.BankAccountRef) or card
(CreditCardPayment.CCAccountRef) it is paid from, and can be voided; Purchase PaymentType, AccountRef and Line;
PurchaseOrder VendorRef and Line; Deposit DepositToAccountRef and Line; Transfer FromAccountRef, ToAccountRef and
Amount; CreditCardPayment CreditCardAccountRef, BankAccountRef and Amount; TimeActivity NameOf and the employee or
vendor it names. All can be deleted.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from qbo_sandbox.entities import payments
from qbo_sandbox.entities.common import Outcome, RealmView, amount, business, reference, required
from qbo_sandbox.entities.describe import TXN, Effect, Spec, named_ref, one_of, zeroed

EXPENSE_LINES = {"AccountBasedExpenseLineDetail": {"AccountRef": "Account"},
                 "ItemBasedExpenseLineDetail": {"ItemRef": "Item"}}  # fmt: skip
VENDOR = {"VendorRef": "Vendor", "APAccountRef": "Account", "SalesTermRef": "Term", "ClassRef": "Class",
          "DepartmentRef": "Department"}  # fmt: skip


def _payable_account(view: RealmView, entity: dict[str, Any]) -> None:
    """Bills and purchase orders post to Accounts Payable; without APAccountRef, the company's first A/P account
    (Intuit: "Most small businesses have a single AP account, so the account is implied")."""
    if entity.get("APAccountRef"):
        return
    payable = next((a for a in view.scan("Account") if a.get("AccountType") == "Accounts Payable"), None)
    if payable is None:
        raise business("This company has no Accounts Payable account.", "APAccountRef")
    entity["APAccountRef"] = named_ref("Account", payable)


def _bill(view: RealmView, entity: dict[str, Any], current: dict[str, Any] | None) -> list[Effect]:
    """A/P account, DueDate from the bill's terms, else the vendor's (else the bill date), Balance = TotalAmt less
    what is paid."""
    _payable_account(view, entity)
    if not entity.get("DueDate"):
        terms = entity.get("SalesTermRef") or (view.get("Vendor", entity["VendorRef"]["value"]) or {}).get("TermRef")
        days = int(reference(view, "Term", terms, "SalesTermRef").get("DueDays", 0)) if terms else 0
        entity["DueDate"] = (date.fromisoformat(str(entity["TxnDate"])[:10]) + timedelta(days=days)).isoformat()
    entity["Balance"] = payments.open_balance(view, "Bill", entity)
    return []


def _bill_payment(view: RealmView, entity: dict[str, Any], current: dict[str, Any] | None) -> list[Effect]:
    kind = one_of(entity, "PayType", ("Check", "CreditCard"))
    holder, key, account_type = {"Check": ("CheckPayment", "BankAccountRef", "Bank"),
                                 "CreditCard": ("CreditCardPayment", "CCAccountRef", "Credit Card")}[kind]  # fmt: skip
    detail = dict(required(entity, holder))
    found = _account(view, required(detail, key, f"{holder}.{key}"), key, account_type)
    entity[holder] = {**detail, key: named_ref("Account", found)}
    _payable_account(view, entity)
    return payments.apply(view, "BillPayment", entity, current)


def _void_bill_payment(view: RealmView, current: dict[str, Any]) -> Outcome:
    outcome = zeroed(view, current)
    outcome.side_effects = payments.released(view, "BillPayment", current)
    return outcome


def _purchase(view: RealmView, entity: dict[str, Any], current: dict[str, Any] | None) -> list[Effect]:
    """The account paid from fits the payment type; EntityRef names a vendor, customer or employee."""
    kind = one_of(entity, "PaymentType", ("Cash", "Check", "CreditCard"))
    wanted = "Credit Card" if kind == "CreditCard" else "Bank"
    found = _account(view, entity["AccountRef"], "AccountRef", wanted)
    entity["AccountRef"] = named_ref("Account", found)
    payee = entity.get("EntityRef")
    if payee:
        target = one_of(dict(payee), "type", ("Vendor", "Customer", "Employee"))
        entity["EntityRef"] = {**named_ref(target, reference(view, target, payee, "EntityRef")), "type": target}
    entity.setdefault("Credit", False)
    return []


def _purchase_order(view: RealmView, entity: dict[str, Any], current: dict[str, Any] | None) -> list[Effect]:
    _payable_account(view, entity)
    entity["POStatus"] = one_of({"POStatus": entity.get("POStatus") or "Open"}, "POStatus", ("Open", "Closed"))
    return []


def _transfer(view: RealmView, entity: dict[str, Any], current: dict[str, Any] | None) -> list[Effect]:
    """Two different accounts and an amount more than 0 (QBO's wording for either refusal is unconfirmed)."""
    if entity["FromAccountRef"]["value"] == entity["ToAccountRef"]["value"]:
        raise business("A transfer needs two different accounts.", "ToAccountRef")
    _positive(entity)
    return []


def _card_payment(view: RealmView, entity: dict[str, Any], current: dict[str, Any] | None) -> list[Effect]:
    """Pays a credit card account from a bank account."""
    _account(view, entity["CreditCardAccountRef"], "CreditCardAccountRef", "Credit Card")
    _account(view, entity["BankAccountRef"], "BankAccountRef", "Bank")
    _positive(entity)
    return []


def _time_activity(view: RealmView, entity: dict[str, Any], current: dict[str, Any] | None) -> list[Effect]:
    """NameOf says who worked: EmployeeRef or VendorRef; the time is Hours/Minutes or StartTime and EndTime."""
    who = one_of(entity, "NameOf", ("Employee", "Vendor"))
    key = f"{who}Ref"
    entity[key] = named_ref(who, reference(view, who, required(entity, key), key))
    if entity.get("StartTime") and entity.get("EndTime"):
        return []
    hours, minutes = amount(entity.get("Hours") or 0, "Hours"), amount(entity.get("Minutes") or 0, "Minutes")
    if hours < 0 or minutes < 0 or hours + minutes == 0:
        raise business("A time activity needs Hours and Minutes, or StartTime and EndTime.", "Hours")
    entity.setdefault("BillableStatus", "NotBillable")
    return []


def _account(view: RealmView, ref: object, element: str, account_type: str) -> dict[str, Any]:
    found = reference(view, "Account", ref, element)
    if found.get("AccountType") != account_type:
        raise business(f"{element} must be a {account_type} account, not {found.get('AccountType')}.", element)
    return found


def _positive(entity: dict[str, Any]) -> None:
    entity["Amount"] = amount(entity["Amount"], "Amount")
    if entity["Amount"] <= 0:
        raise business("Amount must be more than 0.", "Amount")


BILL = Spec(
    "Bill", TXN, required=("VendorRef", "Line"), references=VENDOR, lines=EXPENSE_LINES, total="TotalAmt",
    dated=True, currency=True, own=_bill,
    presented=lambda view, rows: payments.linked(view, "Bill", rows),
)  # fmt: skip
BILL_PAYMENT = Spec(
    "BillPayment", TXN | {"void"}, required=("VendorRef", "TotalAmt"), references={"VendorRef": "Vendor"},
    dated=True, currency=True, own=_bill_payment, voided=_void_bill_payment,
    deleted=lambda view, current: payments.released(view, "BillPayment", current),
)  # fmt: skip
PURCHASE = Spec(
    "Purchase", TXN, required=("PaymentType", "AccountRef", "Line"), references={"ClassRef": "Class"},
    lines=EXPENSE_LINES, total="TotalAmt", dated=True, currency=True, own=_purchase,
)  # fmt: skip
PURCHASE_ORDER = Spec(
    "PurchaseOrder", TXN, required=("VendorRef", "Line"), references=VENDOR, lines=EXPENSE_LINES,
    total="TotalAmt", dated=True, currency=True, own=_purchase_order,
)  # fmt: skip
DEPOSIT = Spec(
    "Deposit", TXN, required=("DepositToAccountRef", "Line"), references={"DepositToAccountRef": "Account"},
    lines={"DepositLineDetail": {}}, total="TotalAmt", dated=True, currency=True,
)  # fmt: skip
TRANSFER = Spec(
    "Transfer", TXN, required=("FromAccountRef", "ToAccountRef", "Amount"),
    references={"FromAccountRef": "Account", "ToAccountRef": "Account"}, dated=True, currency=True, own=_transfer,
)  # fmt: skip
CREDIT_CARD_PAYMENT = Spec(
    "CreditCardPayment", TXN, required=("CreditCardAccountRef", "BankAccountRef", "Amount"),
    references={"CreditCardAccountRef": "Account", "BankAccountRef": "Account"}, dated=True, own=_card_payment,
)  # fmt: skip
TIME_ACTIVITY = Spec(
    "TimeActivity", TXN, required=("NameOf",),
    references={"CustomerRef": "Customer", "ItemRef": "Item", "ClassRef": "Class", "DepartmentRef": "Department"},
    dated=True, own=_time_activity,
)  # fmt: skip
SPECS = (BILL, BILL_PAYMENT, PURCHASE, PURCHASE_ORDER, DEPOSIT, TRANSFER, CREDIT_CARD_PAYMENT, TIME_ACTIVITY)
