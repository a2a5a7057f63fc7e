"""python-quickbooks, used as its users use it, against the sandbox: an intuit-oauth AuthClient whose
environment is the sandbox's discovery URL, a QuickBooks client whose API base URL is the sandbox's /v3.

QBO cannot delete customers or items — "deleting" one makes it inactive (python-quickbooks offers no delete on
them for that reason); invoices are deleted for real.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

import httpx
import pytest
from intuitlib.client import AuthClient
from quickbooks import QuickBooks
from quickbooks.exceptions import QuickbooksException
from quickbooks.objects.customer import Customer
from quickbooks.objects.detailline import SalesItemLine, SalesItemLineDetail
from quickbooks.objects.invoice import Invoice
from quickbooks.objects.item import Item
from tests.contract.sandbox.conftest import connect

from qbo_sandbox.server import SandboxServer


@pytest.fixture
def client(
    sandbox_server: SandboxServer, control: httpx.Client, monkeypatch: pytest.MonkeyPatch
) -> Iterator[QuickBooks]:
    # requests-oauthlib refuses plain http unless told; a local sandbox has no TLS certificate.
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")
    qbo = connect(control, sample_data=True)
    auth = AuthClient(
        qbo.app["client_id"], qbo.app["client_secret"], "http://localhost/callback",
        environment=f"{sandbox_server.url}/.well-known/openid_sandbox_configuration",
    )  # fmt: skip
    quickbooks = QuickBooks(
        auth_client=auth, refresh_token=qbo.tokens["refresh_token"], company_id=qbo.realm_id, minorversion=75
    )
    quickbooks.api_url_v3 = f"{sandbox_server.url}/v3"
    yield quickbooks
    quickbooks.session.close()


def test_the_client_connects_by_refreshing_its_token(client: QuickBooks) -> None:
    assert client.auth_client.access_token
    assert client.refresh_token == client.auth_client.refresh_token


def test_customers_create_query_update_and_deactivate(client: QuickBooks) -> None:
    customer = Customer()
    customer.DisplayName = "Compat Customer"
    customer.PrimaryEmailAddr = None
    customer = customer.save(qb=client, request_id="compat-customer-1")  # save returns the stored object
    assert customer.Id and customer.SyncToken == "0"

    found = Customer.filter(DisplayName="Compat Customer", qb=client)
    assert [c.Id for c in found] == [customer.Id]

    customer.CompanyName = "Compat Ltd"
    customer.save(qb=client)
    again = Customer.get(customer.Id, qb=client)
    assert (again.CompanyName, again.SyncToken) == ("Compat Ltd", "1")

    again.Active = False
    again = again.save(qb=client)
    assert again.SyncToken == "2"
    assert Customer.filter(DisplayName="Compat Customer", qb=client) == []
    assert Customer.get(customer.Id, qb=client).Active is False


def test_a_repeated_request_id_creates_once(client: QuickBooks) -> None:
    first, second = Customer(), Customer()
    first.DisplayName = second.DisplayName = "Idempotent Customer"
    first.save(qb=client, request_id="same-id")
    second.save(qb=client, request_id="same-id")
    assert first.Id == second.Id
    assert Customer.count("DisplayName = 'Idempotent Customer'", qb=client) == 1


def test_items_create_query_update_and_deactivate(client: QuickBooks) -> None:
    income = client.query("SELECT * FROM Account WHERE AccountType = 'Income'")["QueryResponse"]["Account"][0]
    item = Item()
    item.Name, item.Sku, item.Type = "Compat Widget", "CW-1", "NonInventory"
    item.IncomeAccountRef = {"value": income["Id"]}
    item.UnitPrice = 12.5
    item = item.save(qb=client)
    assert Item.filter(Sku="CW-1", qb=client)[0].Id == item.Id

    item.UnitPrice = 13
    item = item.save(qb=client)
    assert Item.get(item.Id, qb=client).UnitPrice == 13

    item.Active = False
    item.save(qb=client)
    assert Item.filter(Sku="CW-1", qb=client) == []


def test_invoices_create_query_update_and_delete(client: QuickBooks) -> None:
    customer = Customer.all(qb=client, max_results=1)[0]
    item = Item.filter(Sku="RF-100", qb=client)[0]
    invoice = Invoice()
    invoice.CustomerRef = customer.to_ref()
    invoice.PrivateNote = "SO-COMPAT-1"
    line = SalesItemLine()
    line.Amount = 30
    line.SalesItemLineDetail = SalesItemLineDetail()
    line.SalesItemLineDetail.ItemRef = item.to_ref()
    line.SalesItemLineDetail.Qty = 2
    line.SalesItemLineDetail.UnitPrice = 15
    invoice.Line = [line]
    invoice = invoice.save(qb=client, request_id="compat-invoice-1")
    assert invoice.Id and invoice.DocNumber
    assert Decimal(str(invoice.TotalAmt)) >= Decimal("30")

    assert [i.Id for i in Invoice.filter(DocNumber=invoice.DocNumber, qb=client)] == [invoice.Id]
    with pytest.raises(QuickbooksException) as not_queryable:  # as in QBO, a memo is not a query filter
        Invoice.filter(PrivateNote="SO-COMPAT-1", qb=client)
    assert not_queryable.value.error_code == 4001

    invoice.PrivateNote = "SO-COMPAT-1 (edited)"
    invoice = invoice.save(qb=client)
    assert Invoice.get(invoice.Id, qb=client).PrivateNote == "SO-COMPAT-1 (edited)"

    invoice.delete(qb=client)
    assert Invoice.filter(Id=invoice.Id, qb=client) == []
    with pytest.raises(QuickbooksException) as refused:
        Invoice.get(invoice.Id, qb=client)
    assert refused.value.error_code == 610
