"""Sample companies like Intuit's sandbox companies: payables, bank and card accounts, vendors, employees and
other lists beside the customers and items; with `history_months`, months of invoices, payments and bills,
the same for the same seed."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import httpx
import pytest
from tests.contract.sandbox.conftest import Qbo, connect

TRANSACTIONS = ("Invoice", "Payment", "Bill", "BillPayment")


def _content(qbo: Qbo, entity: str) -> list[dict[str, Any]]:
    """A company's objects without what differs between two companies made alike (times)."""
    return [
        {k: v for k, v in o.items() if k != "MetaData"} for o in qbo.rows(f"select * from {entity} maxresults 1000")
    ]


def test_a_sample_company_has_payables_cards_vendors_and_employees(control: httpx.Client) -> None:
    qbo = connect(control)
    types = {a["Name"]: a["AccountType"] for a in qbo.rows("select * from Account")}
    assert types["Accounts Payable (A/P)"] == "Accounts Payable"
    assert {types["Checking"], types["Savings"], types["Mastercard"], types["Visa"]} == {"Bank", "Credit Card"}
    assert len(qbo.rows("select * from Vendor")) >= 5
    assert [e["DisplayName"] for e in qbo.rows("select * from Employee")] == ["Emily Platt", "John Johnson"]
    assert qbo.rows("select * from PaymentMethod where Name = 'Visa'")[0]["Type"] == "CREDIT_CARD"
    # what the product's tests rely on is still there, and no transactions unless asked for
    assert qbo.rows("select * from Customer where PrimaryEmailAddr = 'Birds@Intuit.com'")[0]["DisplayName"] == (
        "Amy's Bird Sanctuary"
    )
    assert qbo.rows("select * from Item where Sku = 'RF-100'")
    assert all(qbo.rows(f"select * from {entity}") == [] for entity in TRANSACTIONS)


@pytest.mark.parametrize("country", ["US", "GB", "CA", "AU"])
def test_history_holds_months_of_invoices_payments_and_bills(control: httpx.Client, country: str) -> None:
    qbo = connect(control, country=country, history_months=3, seed=11)
    invoices = qbo.rows("select * from Invoice maxresults 1000")
    assert len(invoices) == 18 and len({i["TxnDate"][:7] for i in invoices}) >= 3
    assert all(qbo.rows(f"select * from {entity}") for entity in TRANSACTIONS)
    paid = [i for i in invoices if i.get("LinkedTxn")]
    assert paid and all(Decimal(str(i["Balance"])) < Decimal(str(i["TotalAmt"])) for i in paid)
    assert qbo.rows("select * from Invoice where Balance > '0'")  # some are still open


def test_the_same_seed_makes_the_same_history_and_another_seed_another(control: httpx.Client) -> None:
    first, same = (connect(control, history_months=2, seed=5) for _ in range(2))
    other = connect(control, history_months=2, seed=6)
    for entity in TRANSACTIONS:
        assert _content(first, entity) == _content(same, entity)
    assert _content(first, "Invoice") != _content(other, "Invoice")


@pytest.mark.parametrize("body", [{"history_months": 13}, {"history_months": -1}, {"seed": "x"}, {"seed": True}])
def test_history_settings_are_checked(control: httpx.Client, body: dict[str, Any]) -> None:
    assert control.post("/_sandbox/companies", json=body).status_code == 400
