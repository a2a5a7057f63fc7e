"""A few months of a sample company's business, like the transactions Intuit's sandbox companies come with:
invoices to the sample customers, payments on most of them, bills from the sample vendors and payments of some.

Deterministic per seed (one `random.Random(seed)`): the same seed makes the same transactions, dated from the
company's start date on, so the history does not move with the clock. Everything goes through the backend's
rules, as API calls would.
"""

from __future__ import annotations

import random
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from qbo_sandbox import seed
from qbo_sandbox.backend import Backend

SALE_ITEMS = ("Design", "Installation", "Gardening", "Rock Fountain", "Sprinkler Heads")
EXPENSES = ("Advertising", "Office Expenses", "Rent or Lease", "Utilities", "Job Expenses")


def add_history(backend: Backend, realm: str, months: int, rng_seed: int) -> None:
    """`months` months of invoices (about six a month), payments and bills, from seed.COMPANY_START_DATE on."""
    rng = random.Random(rng_seed)
    ids = {entity: _ids(backend, realm, entity, key) for entity, key in
           (("Customer", "DisplayName"), ("Vendor", "DisplayName"), ("Item", "Name"), ("Account", "Name"))}  # fmt: skip
    # an untaxed code: "NON" in the US, the company's first code that is not taxable elsewhere ("Exempt")
    untaxed = next(c["Id"] for c in backend.list_entities(realm, "TaxCode") if not c.get("Taxable"))
    start = date.fromisoformat(seed.COMPANY_START_DATE)
    for day in sorted(start + timedelta(days=rng.randrange(months * 30)) for _ in range(months * 6)):
        sale = backend.create(realm, "Invoice", _invoice(rng, ids, day, untaxed))
        if rng.random() < 0.7:  # most customers pay, some in part
            paid = sale["TotalAmt"] if rng.random() < 0.8 else (sale["TotalAmt"] / 2).quantize(Decimal("0.01"))
            backend.create(realm, "Payment", _payment(sale, paid, day + timedelta(days=rng.randrange(5, 40))))
    for day in sorted(start + timedelta(days=rng.randrange(months * 30)) for _ in range(months * 3)):
        bill = backend.create(realm, "Bill", _bill(rng, ids, day))
        if rng.random() < 0.5:
            backend.create(realm, "BillPayment", _bill_payment(bill, ids, day + timedelta(days=rng.randrange(5, 30))))


def _ids(backend: Backend, realm: str, entity: str, key: str) -> dict[str, str]:
    return {str(o[key]): str(o["Id"]) for o in backend.list_entities(realm, entity)}


def _invoice(rng: random.Random, ids: dict[str, dict[str, str]], day: date, untaxed: str) -> dict[str, Any]:
    customer = rng.choice(sorted(ids["Customer"]))
    lines = []
    for name in rng.sample(SALE_ITEMS, rng.randint(1, 3)):
        qty, price = Decimal(rng.randint(1, 10)), Decimal(rng.choice((25, 50, 75, 120, 275)))
        detail = {
            "ItemRef": {"value": ids["Item"][name]},
            "Qty": qty,
            "UnitPrice": price,
            "TaxCodeRef": {"value": untaxed},
        }
        lines.append({"DetailType": "SalesItemLineDetail", "Amount": qty * price, "SalesItemLineDetail": detail})
    return {"CustomerRef": {"value": ids["Customer"][customer]}, "TxnDate": day.isoformat(), "Line": lines}


def _payment(sale: dict[str, Any], paid: Decimal, day: date) -> dict[str, Any]:
    link = {"TxnId": sale["Id"], "TxnType": "Invoice"}
    return {"CustomerRef": {"value": sale["CustomerRef"]["value"]}, "TotalAmt": paid, "TxnDate": day.isoformat(),
            "Line": [{"Amount": paid, "LinkedTxn": [link]}]}  # fmt: skip


def _bill(rng: random.Random, ids: dict[str, dict[str, str]], day: date) -> dict[str, Any]:
    vendor = rng.choice(sorted(ids["Vendor"]))
    account = rng.choice(EXPENSES)
    cost = Decimal(rng.randint(40, 900))
    line = {"DetailType": "AccountBasedExpenseLineDetail", "Amount": cost,
            "AccountBasedExpenseLineDetail": {"AccountRef": {"value": ids["Account"][account]}}}  # fmt: skip
    return {"VendorRef": {"value": ids["Vendor"][vendor]}, "TxnDate": day.isoformat(), "Line": [line]}


def _bill_payment(bill: dict[str, Any], ids: dict[str, dict[str, str]], day: date) -> dict[str, Any]:
    link = {"TxnId": bill["Id"], "TxnType": "Bill"}
    return {"VendorRef": {"value": bill["VendorRef"]["value"]}, "PayType": "Check", "TotalAmt": bill["TotalAmt"],
            "CheckPayment": {"BankAccountRef": {"value": ids["Account"]["Checking"]}}, "TxnDate": day.isoformat(),
            "Line": [{"Amount": bill["TotalAmt"], "LinkedTxn": [link]}]}  # fmt: skip
