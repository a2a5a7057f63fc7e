"""Each error class from a real sandbox Fault, and the 401 → refresh → retry path."""

from __future__ import annotations

import uuid

import httpx
import pytest
from tests.contract.qbo.conftest import Company, Recorder, connect, make_client

from invoicebridge.qbo.auth import MemoryTokenSource
from invoicebridge.qbo.client import QboClient
from invoicebridge.qbo.errors import (
    AuthenticationError,
    AuthorizationError,
    BusinessValidation,
    DuplicateDocNumber,
    DuplicateName,
    InvalidReference,
    ObjectNotFound,
    QueryError,
    StaleObject,
)


def rid() -> str:
    return uuid.uuid4().hex


def test_duplicate_display_name_is_duplicate_name(client: QboClient) -> None:
    client.create("Customer", {"DisplayName": "Twice"}, request_id=rid())

    with pytest.raises(DuplicateName) as raised:
        client.create("Customer", {"DisplayName": "Twice"}, request_id=rid())

    assert raised.value.status == 400
    assert raised.value.code == "6240"
    assert raised.value.intuit_tid
    assert raised.value.errors[0]["code"] == "6240"


def test_an_old_sync_token_is_stale_object(client: QboClient) -> None:
    made = client.create("Customer", {"DisplayName": "Stale"}, request_id=rid())
    client.sparse_update("Customer", made["Id"], made["SyncToken"], {"Notes": "first"})

    with pytest.raises(StaleObject) as raised:
        client.sparse_update("Customer", made["Id"], made["SyncToken"], {"Notes": "second"})

    assert raised.value.code == "5010"


def test_reading_a_missing_object_is_object_not_found(client: QboClient) -> None:
    with pytest.raises(ObjectNotFound) as raised:
        client.read("Invoice", "999999")

    assert raised.value.code == "610"
    assert "999999" in raised.value.detail


def test_a_reference_to_nothing_is_invalid_reference(client: QboClient) -> None:
    with pytest.raises(InvalidReference):
        client.create("Invoice", {"CustomerRef": {"value": "999999"}, "Line": []}, request_id=rid())


def test_a_malformed_query_is_query_error(client: QboClient, recorder: Recorder) -> None:
    with pytest.raises(QueryError) as raised:
        client.query("SELEKT nonsense")

    assert raised.value.code == "4000"
    assert len(recorder.exchanges) == 1  # not retried


def test_expired_token_is_refreshed_once_and_the_call_retried(
    company: Company, http: httpx.Client, recorder: Recorder
) -> None:
    source = MemoryTokenSource(http, company.oauth_app, company.discovery, company.tokens)
    client = make_client(company, http, recorder, tokens=source)
    company.advance_clock(3700)  # the sandbox's access token expired; our clock does not know yet

    info = client.company_info()

    assert info["CompanyName"] == "Test Co"
    assert [e.status for e in recorder.exchanges] == [401, 200]
    assert recorder.sleeps == []


def test_a_token_that_cannot_be_refreshed_gives_authentication_error(
    company: Company, client: QboClient, recorder: Recorder
) -> None:
    company.advance_clock(3700)

    with pytest.raises(AuthenticationError) as raised:
        client.preferences()

    assert raised.value.status == 401
    assert raised.value.code == "3200"
    assert [e.status for e in recorder.exchanges] == [401, 401]


def test_a_token_of_another_company_is_authorization_error(
    control: httpx.Client, company: Company, http: httpx.Client, recorder: Recorder
) -> None:
    other = connect(control)
    client = make_client(other, http, recorder)
    client.realm_id = company.realm_id

    with pytest.raises(AuthorizationError) as raised:
        client.preferences()

    assert raised.value.status == 403
    assert raised.value.code == "3100"
    assert len(recorder.exchanges) == 1


def test_a_used_doc_number_is_duplicate_doc_number(
    control: httpx.Client, http: httpx.Client, recorder: Recorder
) -> None:
    numbered = connect(control, custom_txn_numbers=True)
    client = make_client(numbered, http, recorder)
    customer = client.query("SELECT * FROM Customer WHERE DisplayName = 'Cool Cars'")["Customer"][0]
    item = client.query("SELECT * FROM Item WHERE Sku = 'SRV-DESIGN'")["Item"][0]
    line = {
        "Amount": 75,
        "DetailType": "SalesItemLineDetail",
        "SalesItemLineDetail": {"ItemRef": {"value": item["Id"]}},
    }
    invoice = {"CustomerRef": {"value": customer["Id"]}, "Line": [line], "DocNumber": "SO-1042"}
    first = client.create("Invoice", invoice, request_id=rid())

    with pytest.raises(DuplicateDocNumber) as raised:
        client.create("Invoice", invoice, request_id="second-try")

    assert raised.value.code == "6140"
    assert f"TxnId={first['Id']}" in raised.value.detail
    assert raised.value.request_id == "second-try"


def test_a_name_with_a_colon_is_business_validation(client: QboClient) -> None:
    with pytest.raises(BusinessValidation) as raised:
        client.create("Customer", {"DisplayName": "Parent:Child"}, request_id=rid())

    assert raised.value.code == "6000"
