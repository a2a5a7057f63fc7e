"""Issue 13's entities through our own client (invoicebridge.qbo.client.QboClient) over HTTP: every one created,
read, queried, updated and deleted or voided where QBO allows it; the rules that are their own (payments move
balances, one namespace of display names, accounts that must fit); CDC and CloudEvents webhooks for each."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest
from tests.contract.qbo.conftest import Company, Recorder, connect, make_client
from tests.webhook_receiver import Receiver, running_receiver

from invoicebridge.qbo.client import QboClient
from invoicebridge.qbo.errors import QboError

Body = Callable[["Names"], dict[str, Any]]


class Names:
    """Ids of a sample company's objects by name, looked up through the client."""

    def __init__(self, client: QboClient) -> None:
        self.client = client

    def id(self, entity: str, name: str, field: str = "Name") -> str:
        (found,) = self.client.query(f"select * from {entity} where {field} = '{name}'")[entity]
        return str(found["Id"])

    def ref(self, entity: str, name: str, field: str = "Name") -> dict[str, str]:
        return {"value": self.id(entity, name, field)}

    def customer(self) -> dict[str, str]:
        return self.ref("Customer", "Amy\\'s Bird Sanctuary", "DisplayName")

    def vendor(self) -> dict[str, str]:
        return self.ref("Vendor", "Hicks Hardware", "DisplayName")


@pytest.fixture
def company(control: httpx.Client) -> Company:
    return connect(control)


@pytest.fixture
def client(company: Company) -> Iterator[QboClient]:
    with httpx.Client(timeout=10) as http:
        yield make_client(company, http, Recorder())


def rows(client: QboClient, entity: str, entity_id: str) -> list[dict[str, Any]]:
    """The objects a query by Id finds (a CreditCardPayment answers under "CreditCardPaymentTxn", as in QBO)."""
    found = client.query(f"select * from {entity} where Id = '{entity_id}'")
    return list(found.get("CreditCardPaymentTxn" if entity == "CreditCardPayment" else entity, []))


def sales(names: Names, amount: str = "275") -> list[dict[str, Any]]:
    item = names.id("Item", "Rock Fountain")
    return [
        {"DetailType": "SalesItemLineDetail", "Amount": amount, "SalesItemLineDetail": {"ItemRef": {"value": item}}}
    ]


def expenses(names: Names, amount: str = "120", account: str = "Office Expenses") -> list[dict[str, Any]]:
    detail = {"AccountRef": names.ref("Account", account)}
    return [{"DetailType": "AccountBasedExpenseLineDetail", "Amount": amount, "AccountBasedExpenseLineDetail": detail}]


# entity -> (body, the field an update changes, how it ends: "delete" | "void" | "deactivate" | "keep")
CASES: dict[str, tuple[Body, str, str]] = {
    "Vendor": (lambda n: {"DisplayName": "Our Vendor"}, "CompanyName", "deactivate"),
    "Employee": (lambda n: {"GivenName": "Grace", "FamilyName": "Hopper"}, "Title", "deactivate"),
    "Class": (lambda n: {"Name": "Our Class"}, "Name", "deactivate"),
    "Department": (lambda n: {"Name": "Our Department"}, "Name", "deactivate"),
    "PaymentMethod": (lambda n: {"Name": "Our Method"}, "Name", "deactivate"),
    "TaxAgency": (lambda n: {"DisplayName": "Our Agency"}, "", "keep"),
    "Payment": (lambda n: {"CustomerRef": n.customer(), "TotalAmt": "50"}, "PrivateNote", "void"),
    "SalesReceipt": (lambda n: {"CustomerRef": n.customer(), "Line": sales(n)}, "PrivateNote", "void"),
    "CreditMemo": (lambda n: {"CustomerRef": n.customer(), "Line": sales(n)}, "PrivateNote", "delete"),
    "RefundReceipt": (lambda n: {"Line": sales(n), "DepositToAccountRef": n.ref("Account", "Checking")},
                      "PrivateNote", "delete"),
    "Estimate": (lambda n: {"CustomerRef": n.customer(), "Line": sales(n)}, "PrivateNote", "delete"),
    "Bill": (lambda n: {"VendorRef": n.vendor(), "Line": expenses(n)}, "PrivateNote", "delete"),
    "BillPayment": (lambda n: {"VendorRef": n.vendor(), "PayType": "Check", "TotalAmt": "10",
                               "CheckPayment": {"BankAccountRef": n.ref("Account", "Checking")}},
                    "PrivateNote", "void"),
    "Purchase": (lambda n: {"PaymentType": "Cash", "AccountRef": n.ref("Account", "Checking"), "Line": expenses(n)},
                 "PrivateNote", "delete"),
    "PurchaseOrder": (lambda n: {"VendorRef": n.vendor(), "Line": expenses(n)}, "Memo", "delete"),
    "Deposit": (lambda n: {"DepositToAccountRef": n.ref("Account", "Savings"),
                           "Line": [{"DetailType": "DepositLineDetail", "Amount": "500", "DepositLineDetail": {
                               "AccountRef": n.ref("Account", "Opening Balance Equity")}}]}, "PrivateNote", "delete"),
    "Transfer": (lambda n: {"FromAccountRef": n.ref("Account", "Checking"), "ToAccountRef": n.ref("Account", "Savings"),
                            "Amount": "250"}, "PrivateNote", "delete"),
    "CreditCardPayment": (lambda n: {"CreditCardAccountRef": n.ref("Account", "Visa"),
                                     "BankAccountRef": n.ref("Account", "Checking"), "Amount": "45"},
                          "PrivateNote", "delete"),
    "TimeActivity": (lambda n: {"NameOf": "Employee", "EmployeeRef": n.ref("Employee", "Emily Platt", "DisplayName"),
                                "Hours": 3}, "Description", "delete"),
    "Attachable": (lambda n: {"Note": "Gate code 1234", "AttachableRef": [
        {"EntityRef": {"type": "Customer", **n.customer()}}]}, "Note", "delete"),
}  # fmt: skip


@pytest.mark.parametrize("entity", list(CASES))
def test_every_new_entity_round_trips_through_our_client(client: QboClient, entity: str) -> None:
    body, field, end = CASES[entity]
    made = client.create(entity, body(Names(client)), request_id=f"more-{entity}")
    assert made["Id"] and made["SyncToken"] == "0"
    assert client.create(entity, body(Names(client)) if end == "keep" else {}, request_id=f"more-{entity}") == made
    assert client.read(entity, made["Id"])["Id"] == made["Id"]
    assert [o["Id"] for o in rows(client, entity, made["Id"])] == [made["Id"]]
    if end == "keep":  # TaxAgency: create, read and query only
        with pytest.raises(QboError):
            client.sparse_update(entity, made["Id"], made["SyncToken"], {"DisplayName": "Renamed"})
        return
    changed = client.sparse_update(entity, made["Id"], made["SyncToken"], {field: "changed"})
    assert (changed[field], changed["SyncToken"]) == ("changed", "1")
    if end == "delete":
        client.delete(entity, made["Id"], changed["SyncToken"])
        assert rows(client, entity, made["Id"]) == []
    elif end == "void":
        voided = client.void(entity, made["Id"], changed["SyncToken"])
        assert (Decimal(str(voided["TotalAmt"])), voided["PrivateNote"]) == (0, "Voided")
    else:
        with pytest.raises(QboError):  # QBO deletes no name-list object
            client.delete(entity, made["Id"], changed["SyncToken"])
        client.sparse_update(entity, made["Id"], changed["SyncToken"], {"Active": False})
        assert rows(client, entity, made["Id"]) == []


def _invoice(client: QboClient, names: Names, amount: str = "275") -> dict[str, Any]:
    return client.create("Invoice", {"CustomerRef": names.customer(), "Line": sales(names, amount)}, request_id=amount)


def _pay(client: QboClient, names: Names, invoice_id: str, amount: str, total: str | None = None) -> dict[str, Any]:
    line = {"Amount": amount, "LinkedTxn": [{"TxnId": invoice_id, "TxnType": "Invoice"}]}
    body = {"CustomerRef": names.customer(), "TotalAmt": total or amount, "Line": [line]}
    return client.create("Payment", body, request_id=f"pay-{invoice_id}-{amount}-{total}")


def test_payments_lower_the_balance_and_deleting_one_gives_it_back(client: QboClient) -> None:
    names = Names(client)
    sale = _invoice(client, names)
    first, second = _pay(client, names, sale["Id"], "100", "150"), _pay(client, names, sale["Id"], "75")
    assert Decimal(str(first["UnappliedAmt"])) == 50
    paid = client.read("Invoice", sale["Id"])
    assert Decimal(str(paid["Balance"])) == 100
    assert [t["TxnId"] for t in paid["LinkedTxn"]] == [first["Id"], second["Id"]]
    assert [i["Id"] for i in client.query_all("Invoice", "Balance = '100'")] == [sale["Id"]]
    # an update of the invoice keeps what is paid
    edited = client.sparse_update("Invoice", sale["Id"], paid["SyncToken"], {"PrivateNote": "half paid"})
    assert Decimal(str(edited["Balance"])) == 100
    client.delete("Payment", second["Id"], second["SyncToken"])
    assert Decimal(str(client.read("Invoice", sale["Id"])["Balance"])) == 175


def test_a_payment_cannot_apply_more_than_the_invoice_owes_or_it_holds(client: QboClient) -> None:
    names = Names(client)
    sale = _invoice(client, names, "40")
    for amount, total in (("41", None), ("30", "20")):
        with pytest.raises(QboError) as refused:
            _pay(client, names, sale["Id"], amount, total)
        assert refused.value.code == "6000"
    assert Decimal(str(client.read("Invoice", sale["Id"])["Balance"])) == 40


def test_bill_payment_settles_the_bill(client: QboClient) -> None:
    names = Names(client)
    bill = client.create("Bill", {"VendorRef": names.vendor(), "Line": expenses(names, "90")}, request_id="bill")
    assert bill["DueDate"] == (datetime.fromisoformat(bill["TxnDate"]) + timedelta(days=30)).date().isoformat()
    line = {"Amount": "90", "LinkedTxn": [{"TxnId": bill["Id"], "TxnType": "Bill"}]}
    paying = {"VendorRef": names.vendor(), "PayType": "CreditCard", "TotalAmt": "90", "Line": [line],
              "CreditCardPayment": {"CCAccountRef": names.ref("Account", "Mastercard")}}  # fmt: skip
    client.create("BillPayment", paying, request_id="bill-payment")
    settled = client.read("Bill", bill["Id"])
    assert Decimal(str(settled["Balance"])) == 0 and settled["LinkedTxn"][0]["TxnType"] == "BillPayment"


@pytest.mark.parametrize(
    ("entity", "body"),
    [("Employee", {"DisplayName": "Amy's Bird Sanctuary"}), ("Vendor", {"DisplayName": "amy's bird sanctuary "}),
     ("Customer", {"DisplayName": "Hicks Hardware"}), ("Customer", {"DisplayName": "Emily Platt"})],
)  # fmt: skip
def test_display_names_are_unique_across_customers_vendors_and_employees(
    client: QboClient, entity: str, body: dict[str, Any]
) -> None:
    with pytest.raises(QboError) as refused:
        client.create(entity, body, request_id=f"twin-{entity}-{body['DisplayName']}")
    assert refused.value.code == "6240"


@pytest.mark.parametrize(
    ("entity", "body", "code"),
    [
        ("Transfer", lambda n: {"FromAccountRef": n.ref("Account", "Checking"),
                                "ToAccountRef": n.ref("Account", "Checking"), "Amount": "5"}, "6000"),
        ("Purchase", lambda n: {"PaymentType": "CreditCard", "AccountRef": n.ref("Account", "Checking"),
                                "Line": expenses(n)}, "6000"),
        ("Bill", lambda n: {"Line": expenses(n)}, "2020"),
        ("Bill", lambda n: {"VendorRef": {"value": "999"}, "Line": expenses(n)}, "2500"),
        ("RefundReceipt", lambda n: {"Line": sales(n)}, "2020"),
        ("TimeActivity", lambda n: {"NameOf": "Robot"}, "2070"),
        ("Attachable", lambda n: {"Note": "", "FileName": ""}, "6000"),
    ],
)  # fmt: skip
def test_what_qbo_refuses_is_refused(client: QboClient, entity: str, body: Body, code: str) -> None:
    with pytest.raises(QboError) as refused:
        client.create(entity, body(Names(client)), request_id=f"refused-{entity}-{code}")
    assert refused.value.code == code


def test_cdc_reports_new_entities_and_their_deletions(client: QboClient) -> None:
    names = Names(client)
    since = datetime.now(UTC) - timedelta(minutes=1)
    kept = client.create("Estimate", {"CustomerRef": names.customer(), "Line": sales(names)}, request_id="cdc-1")
    gone = client.create("Transfer", CASES["Transfer"][0](names), request_id="cdc-2")
    client.delete("Transfer", gone["Id"], gone["SyncToken"])
    changed = client.cdc(["Estimate", "Transfer", "Vendor"], since)
    assert [e["Id"] for e in changed["Estimate"]] == [kept["Id"]]
    assert [(t["Id"], t["status"]) for t in changed["Transfer"]] == [(gone["Id"], "Deleted")]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with running_receiver() as state:
        yield state


def test_webhooks_name_each_entity_and_what_happened(control: httpx.Client, receiver: Receiver) -> None:
    company = connect(control)
    control.post("/_sandbox/webhooks/flush", json={"timeout": 10})
    hooked = control.patch(f"/_sandbox/apps/{company.app['client_id']}", json={"webhook_url": receiver.url})
    assert hooked.status_code == 200, hooked.text
    with httpx.Client(timeout=10) as http:
        client = make_client(company, http, Recorder())
        names = Names(client)
        sale = _invoice(client, names)
        payment = _pay(client, names, sale["Id"], "275")
        client.void("Payment", payment["Id"], payment["SyncToken"])
        vendor = client.create("Vendor", {"DisplayName": "Hooked Vendor"}, request_id="hooked")
    assert control.post("/_sandbox/webhooks/flush", json={"timeout": 10}).status_code == 200

    events = [(e["type"], e["intuitentityid"]) for r in receiver.received() for e in json.loads(r.body)]
    assert events == [
        ("qbo.invoice.created.v1", sale["Id"]), ("qbo.payment.created.v1", payment["Id"]),
        ("qbo.invoice.updated.v1", sale["Id"]), ("qbo.payment.voided.v1", payment["Id"]),
        ("qbo.invoice.updated.v1", sale["Id"]), ("qbo.vendor.created.v1", vendor["Id"]),
    ]  # fmt: skip
