"""Every entity issue 13 added, driven through python-quickbooks 0.9.12's own objects over HTTP, the way its
README builds them: create, read, query, update, and delete or void where QBO allows each."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import httpx
import pytest
from intuitlib.client import AuthClient
from quickbooks import QuickBooks
from quickbooks.exceptions import QuickbooksException
from quickbooks.objects.account import Account
from quickbooks.objects.attachable import Attachable
from quickbooks.objects.base import AttachableRef, LinkedTxn, Ref
from quickbooks.objects.bill import Bill
from quickbooks.objects.billpayment import BillPayment, BillPaymentLine, CheckPayment
from quickbooks.objects.creditcardpayment_entity import CreditCardPayment
from quickbooks.objects.creditmemo import CreditMemo
from quickbooks.objects.customer import Customer
from quickbooks.objects.department import Department
from quickbooks.objects.deposit import Deposit, DepositLine, DepositLineDetail
from quickbooks.objects.detailline import (
    AccountBasedExpenseLine,
    AccountBasedExpenseLineDetail,
    SalesItemLine,
    SalesItemLineDetail,
)
from quickbooks.objects.employee import Employee
from quickbooks.objects.estimate import Estimate
from quickbooks.objects.invoice import Invoice
from quickbooks.objects.item import Item
from quickbooks.objects.payment import Payment, PaymentLine
from quickbooks.objects.paymentmethod import PaymentMethod
from quickbooks.objects.purchase import Purchase
from quickbooks.objects.purchaseorder import PurchaseOrder
from quickbooks.objects.recurringtransaction import RecurringInfo, RecurringInvoice, RecurringTransaction, ScheduleInfo
from quickbooks.objects.refundreceipt import RefundReceipt
from quickbooks.objects.salesreceipt import SalesReceipt
from quickbooks.objects.taxagency import TaxAgency
from quickbooks.objects.taxcode import TaxCode
from quickbooks.objects.taxservice import TaxRateDetails, TaxService
from quickbooks.objects.timeactivity import TimeActivity
from quickbooks.objects.trackingclass import Class
from quickbooks.objects.transfer import Transfer
from quickbooks.objects.vendor import Vendor
from tests.contract.sandbox.conftest import connect

from qbo_sandbox.server import SandboxServer


@pytest.fixture
def qb(sandbox_server: SandboxServer, control: httpx.Client, monkeypatch: pytest.MonkeyPatch) -> Iterator[QuickBooks]:
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")  # a local sandbox has no TLS certificate
    company = connect(control, sample_data=True)
    auth = AuthClient(
        company.app["client_id"], company.app["client_secret"], "http://localhost/callback",
        environment=f"{sandbox_server.url}/.well-known/openid_sandbox_configuration",
    )  # fmt: skip
    client = QuickBooks(
        auth_client=auth, refresh_token=company.tokens["refresh_token"], company_id=company.realm_id, minorversion=75
    )
    client.api_url_v3 = f"{sandbox_server.url}/v3"
    yield client
    client.session.close()


def ref(value: str, name: str | None = None, kind: str | None = None) -> Ref:
    made = Ref()
    made.value, made.name, made.type = value, name or "", kind or ""
    return made


def account(qb: QuickBooks, name: str) -> Account:
    return Account.filter(Name=name, qb=qb)[0]


def sales_line(qb: QuickBooks, amount: int = 275) -> SalesItemLine:
    line = SalesItemLine()
    line.Amount = amount
    line.SalesItemLineDetail = SalesItemLineDetail()
    line.SalesItemLineDetail.ItemRef = Item.filter(Sku="RF-100", qb=qb)[0].to_ref()
    return line  # Qty and UnitPrice left at python-quickbooks' 0: a line sold by amount


def expense_line(qb: QuickBooks, amount: int, name: str = "Office Expenses") -> AccountBasedExpenseLine:
    line = AccountBasedExpenseLine()
    line.Amount = amount
    line.AccountBasedExpenseLineDetail = AccountBasedExpenseLineDetail()
    line.AccountBasedExpenseLineDetail.AccountRef = account(qb, name).to_ref()
    return line


def customer(qb: QuickBooks) -> Customer:
    return Customer.filter(DisplayName="Amy's Bird Sanctuary", qb=qb)[0]


def vendor(qb: QuickBooks) -> Vendor:
    return Vendor.filter(DisplayName="Hicks Hardware", qb=qb)[0]


def lifecycle(qb: QuickBooks, made: Any, change: str, value: Any, end: str = "delete") -> None:
    """Create, read, query, update, then delete (or void, or deactivate) one object, checking each answer."""
    cls = type(made)
    saved = made.save(qb=qb)
    assert saved.Id and str(saved.SyncToken) == "0"
    assert cls.get(saved.Id, qb=qb).Id == saved.Id
    assert saved.Id in [o.Id for o in cls.filter(Id=saved.Id, qb=qb)]
    setattr(saved, change, value)
    updated = saved.save(qb=qb)
    assert (getattr(cls.get(saved.Id, qb=qb), change), str(updated.SyncToken)) == (value, "1")
    if end == "delete":
        updated.delete(qb=qb)
        with pytest.raises(QuickbooksException) as gone:
            cls.get(saved.Id, qb=qb)
        assert gone.value.error_code == 610
    elif end == "void":
        updated.void(qb=qb)
        voided = cls.get(saved.Id, qb=qb)
        assert (Decimal(str(voided.TotalAmt)), voided.PrivateNote) == (0, "Voided")
    else:  # lists: made inactive, then hidden from queries
        updated.Active = False
        updated.save(qb=qb)
        assert cls.filter(Id=saved.Id, qb=qb) == []


def test_vendor_employee_class_department_and_payment_method_are_lists(qb: QuickBooks) -> None:
    made_vendor = Vendor()
    made_vendor.DisplayName = "Compat Vendor"
    lifecycle(qb, made_vendor, "CompanyName", "Compat Vendor Ltd", end="deactivate")
    employee = Employee()
    employee.GivenName, employee.FamilyName = "Ada", "Lovelace"
    lifecycle(qb, employee, "Title", "Dr", end="deactivate")
    for cls in (Class, Department):
        named = cls()
        named.Name = f"Compat {cls.__name__}"
        lifecycle(qb, named, "Name", f"Compat {cls.__name__} renamed", end="deactivate")
    method = PaymentMethod()
    method.Name, method.Type = "Compat Card", "CREDIT_CARD"
    lifecycle(qb, method, "Name", "Compat Card 2", end="deactivate")


def test_a_vendor_cannot_take_a_customers_display_name(qb: QuickBooks) -> None:
    twin = Vendor()
    twin.DisplayName = "Amy's Bird Sanctuary"
    with pytest.raises(QuickbooksException) as refused:
        twin.save(qb=qb)
    assert refused.value.error_code == 6240


def test_tax_agency_is_created_and_read_and_tax_service_makes_a_code(qb: QuickBooks) -> None:
    agency = TaxAgency()
    agency.DisplayName = "Compat Tax Office"
    agency = agency.save(qb=qb)
    assert TaxAgency.get(agency.Id, qb=qb).DisplayName == "Compat Tax Office"
    assert [a.Id for a in TaxAgency.filter(DisplayName="Compat Tax Office", qb=qb)] == [agency.Id]
    service = TaxService()
    service.TaxCode = "Compat City"
    detail = TaxRateDetails()
    detail.TaxRateName, detail.RateValue, detail.TaxAgencyId = "Compat City Rate", 2.5, agency.Id
    service.TaxRateDetails = [detail]
    made = service.save(qb=qb)
    assert made.TaxCode == "Compat City" and made.TaxCodeId
    assert TaxCode.get(made.TaxCodeId, qb=qb).Name == "Compat City"


def test_payment_lowers_the_invoice_balance_links_it_and_void_gives_it_back(qb: QuickBooks) -> None:
    invoice = Invoice()
    invoice.CustomerRef = customer(qb).to_ref()
    invoice.Line = [sales_line(qb, 275)]
    invoice = invoice.save(qb=qb)
    payment = Payment()
    payment.CustomerRef = customer(qb).to_ref()
    payment.TotalAmt = 100
    line = PaymentLine()
    line.Amount = 100
    line.LinkedTxn = [invoice.to_linked_txn()]
    payment.Line = [line]
    payment = payment.save(qb=qb)
    paid = Invoice.get(invoice.Id, qb=qb)
    assert Decimal(str(paid.Balance)) == Decimal("175")
    assert [(t.TxnId, t.TxnType) for t in paid.LinkedTxn] == [(payment.Id, "Payment")]
    assert Payment.filter(CustomerRef=customer(qb).Id, qb=qb)[-1].Id == payment.Id
    payment.PrivateNote = "by cheque"
    payment = payment.save(qb=qb)
    payment.void(qb=qb)
    assert Decimal(str(Invoice.get(invoice.Id, qb=qb).Balance)) == Decimal("275")
    assert Decimal(str(Payment.get(payment.Id, qb=qb).TotalAmt)) == 0


def test_sales_forms_lifecycles(qb: QuickBooks) -> None:
    receipt = SalesReceipt()
    receipt.CustomerRef = customer(qb).to_ref()
    receipt.Line = [sales_line(qb)]
    lifecycle(qb, receipt, "PrivateNote", "cash sale", end="void")
    memo = CreditMemo()
    memo.CustomerRef = customer(qb).to_ref()
    memo.Line = [sales_line(qb)]
    lifecycle(qb, memo, "PrivateNote", "returned", end="delete")
    refund = RefundReceipt()
    refund.CustomerRef = customer(qb).to_ref()
    refund.DepositToAccountRef = account(qb, "Checking").to_ref()
    refund.Line = [sales_line(qb)]
    lifecycle(qb, refund, "PrivateNote", "refunded", end="delete")
    estimate = Estimate()
    estimate.CustomerRef = customer(qb).to_ref()
    estimate.Line = [sales_line(qb)]
    lifecycle(qb, estimate, "PrivateNote", "quote", end="delete")


def test_bill_and_bill_payment(qb: QuickBooks) -> None:
    bill = Bill()
    bill.VendorRef = vendor(qb).to_ref()
    bill.Line = [expense_line(qb, 120)]
    lifecycle(qb, bill, "PrivateNote", "March supplies")
    bill = Bill()
    bill.VendorRef = vendor(qb).to_ref()
    bill.Line = [expense_line(qb, 80)]
    bill = bill.save(qb=qb)
    assert bill.APAccountRef.name == "Accounts Payable (A/P)"
    payment = BillPayment()
    payment.VendorRef, payment.PayType, payment.TotalAmt = vendor(qb).to_ref(), "Check", 80
    payment.CheckPayment = CheckPayment()
    payment.CheckPayment.BankAccountRef = account(qb, "Checking").to_ref()
    line = BillPaymentLine()
    line.Amount = 80
    linked = LinkedTxn()
    linked.TxnId, linked.TxnType = bill.Id, "Bill"
    line.LinkedTxn = [linked]
    payment.Line = [line]
    lifecycle(qb, payment, "PrivateNote", "cheque 101", end="void")
    assert Decimal(str(Bill.get(bill.Id, qb=qb).Balance)) == Decimal("80")  # the void gave it back


def test_purchase_purchase_order_deposit_transfer_and_card_payment(qb: QuickBooks) -> None:
    purchase = Purchase()
    purchase.PaymentType, purchase.AccountRef = "CreditCard", account(qb, "Visa").to_ref()
    purchase.Line = [expense_line(qb, 45)]
    lifecycle(qb, purchase, "PrivateNote", "lunch")
    order = PurchaseOrder()
    order.VendorRef = vendor(qb).to_ref()
    order.Line = [expense_line(qb, 300, "Job Expenses")]
    lifecycle(qb, order, "Memo", "rush")
    deposit = Deposit()
    deposit.DepositToAccountRef = account(qb, "Savings").to_ref()
    line = DepositLine()
    line.Amount = 500
    line.DepositLineDetail = DepositLineDetail()
    line.DepositLineDetail.AccountRef = account(qb, "Opening Balance Equity").to_ref()
    deposit.Line = [line]
    lifecycle(qb, deposit, "PrivateNote", "owner's money")
    transfer = Transfer()
    transfer.FromAccountRef, transfer.ToAccountRef = account(qb, "Checking").to_ref(), account(qb, "Savings").to_ref()
    transfer.Amount = 250
    lifecycle(qb, transfer, "PrivateNote", "to savings")
    card = CreditCardPayment()
    card.CreditCardAccountRef, card.BankAccountRef = account(qb, "Visa").to_ref(), account(qb, "Checking").to_ref()
    card.Amount = 45
    lifecycle(qb, card, "PrivateNote", "card bill")


def test_time_activity_attachable_and_upload(qb: QuickBooks) -> None:
    employee = Employee.filter(DisplayName="Emily Platt", qb=qb)[0]
    activity = TimeActivity()
    activity.NameOf, activity.EmployeeRef, activity.Hours, activity.Minutes = "Employee", employee.to_ref(), 2, 30
    lifecycle(qb, activity, "Description", "pruning")
    note = Attachable()
    note.Note = "Call before delivery"
    attached = AttachableRef()
    attached.EntityRef = ref(customer(qb).Id, kind="Customer")
    note.AttachableRef = [attached]
    lifecycle(qb, note, "Note", "Call after delivery")
    upload = Attachable()
    upload.FileName, upload.ContentType = "receipt.txt", "text/plain"
    upload._FileBytes = b"paid in full"
    made = upload.save(qb=qb)
    assert (made.FileName, made.Size) == ("receipt.txt", 12)
    assert Attachable.get(made.Id, qb=qb).ContentType == "text/plain"


def test_recurring_transaction(qb: QuickBooks) -> None:
    template = RecurringInvoice()
    template.CustomerRef = customer(qb).to_ref()
    template.Line = [sales_line(qb)]
    template.RecurringInfo = RecurringInfo()
    template.RecurringInfo.Name, template.RecurringInfo.Active = "Monthly fountain care", True
    template.RecurringInfo.ScheduleInfo = ScheduleInfo()
    template.RecurringInfo.ScheduleInfo.IntervalType, template.RecurringInfo.ScheduleInfo.NumInterval = "Monthly", 1
    recurring = RecurringTransaction()
    recurring.Invoice = template
    made = recurring.save(qb=qb)
    assert made.Invoice.Id and made.Invoice.RecurringInfo.Name == "Monthly fountain care"
    read = RecurringTransaction.get(made.Invoice.Id, qb=qb)
    assert read.Invoice.CustomerRef.name == "Amy's Bird Sanctuary"
    assert [r.Invoice.Id for r in RecurringTransaction.all(qb=qb)] == [made.Invoice.Id]
    read.Invoice.PrivateNote = "gate code 1234"
    updated = read.save(qb=qb)
    assert (updated.Invoice.PrivateNote, str(updated.Invoice.SyncToken)) == ("gate code 1234", "1")
    updated.delete(qb=qb)
    assert RecurringTransaction.all(qb=qb) == []
