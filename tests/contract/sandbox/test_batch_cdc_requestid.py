"""/batch (items succeed or fail one by one, 30 at most, bId required), CDC (changes since a time, deleted objects
as tombstones, 30 days back at most) and the ``requestid`` query parameter (a repeated request gets the first
answer and does nothing again), over real HTTP."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import httpx
from tests.contract.sandbox.conftest import Qbo, connect
from tests.contract.sandbox.contract_support import (
    count,
    customer,
    fault,
    invoice,
    invoice_body,
    ok,
    sales_line,
    service_item,
)


def batch(qbo: Qbo, items: list[dict[str, Any]], **params: Any) -> httpx.Response:
    return qbo.post("batch", json={"BatchItemRequest": items}, **params)


def batch_items(response: httpx.Response) -> dict[str, dict[str, Any]]:
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"BatchItemResponse", "time"}
    return {item["bId"]: item for item in body["BatchItemResponse"]}


def item_fault(item: dict[str, Any], code: str) -> dict[str, Any]:
    assert set(item) == {"bId", "Fault"}, item
    assert item["Fault"]["type"] == "ValidationFault"
    error: dict[str, Any] = item["Fault"]["Error"][0]
    assert error["code"] == code, item
    return error


# -- batch ---------------------------------------------------------------------------------------------------


def test_batch_mixed_operations_succeed_or_fail_one_by_one(qbo: Qbo) -> None:
    existing, item = customer(qbo, "Batch Existing"), service_item(qbo, "Batch Item")
    doomed = invoice(qbo, existing["Id"], sales_line(item["Id"]))
    items = [
        {"bId": "c1", "operation": "create", "Customer": {"DisplayName": "Batch New"}},
        {"bId": "u1", "operation": "update",
         "Customer": {"Id": existing["Id"], "SyncToken": "0", "sparse": True, "Notes": "via batch"}},
        {"bId": "d1", "operation": "delete", "Invoice": {"Id": doomed["Id"], "SyncToken": "0"}},
        {"bId": "q1", "Query": "select * from Customer where DisplayName LIKE 'Batch%' orderby DisplayName"},
        {"bId": "dup", "operation": "create", "Customer": {"DisplayName": "Batch Existing"}},
        {"bId": "stale", "operation": "update",
         "Customer": {"Id": existing["Id"], "SyncToken": "0", "sparse": True, "Notes": "stale"}},
        {"bId": "badq", "Query": "select * from"},
        {"bId": "nodelete", "operation": "delete", "Customer": {"Id": existing["Id"], "SyncToken": "1"}},
        {"bId": "i1", "operation": "create",
         "Invoice": invoice_body(existing["Id"], sales_line(item["Id"], "2", "30"))},
    ]  # fmt: skip
    response = batch(qbo, items)
    assert [i["bId"] for i in response.json()["BatchItemResponse"]] == [i["bId"] for i in items]
    answers = batch_items(response)
    created = answers["c1"]["Customer"]
    assert created["DisplayName"] == "Batch New" and created["SyncToken"] == "0"
    assert answers["u1"]["Customer"]["Notes"] == "via batch" and answers["u1"]["Customer"]["SyncToken"] == "1"
    assert answers["d1"]["Invoice"] == {"domain": "QBO", "status": "Deleted", "Id": doomed["Id"]}
    # items run in order: the query sees the customer created before it
    assert [c["DisplayName"] for c in answers["q1"]["QueryResponse"]["Customer"]] == ["Batch Existing", "Batch New"]
    item_fault(answers["dup"], "6240")
    item_fault(answers["stale"], "5010")
    item_fault(answers["badq"], "4000")
    item_fault(answers["nodelete"], "500")
    assert answers["i1"]["Invoice"]["TotalAmt"] == 60
    # the successes are stored, the failures changed nothing
    assert ok(qbo.get(f"customer/{created['Id']}"), "Customer") == created
    assert ok(qbo.get(f"customer/{existing['Id']}"), "Customer")["Notes"] == "via batch"
    fault(qbo.get(f"invoice/{doomed['Id']}"), 400, "610")
    assert count(qbo, "Invoice") == 1


def test_batch_item_without_operation_or_entity_is_an_item_fault(qbo: Qbo) -> None:
    answers = batch_items(
        batch(
            qbo,
            [
                {"bId": "1", "Customer": {"DisplayName": "No Operation"}},
                {"bId": "2", "operation": "create"},
                {"bId": "3", "operation": "create", "Budget": {"Name": "V"}},
                {"bId": "4", "operation": "create", "Customer": {"DisplayName": "Fine"}},
            ],
        )
    )
    item_fault(answers["1"], "2070")
    item_fault(answers["2"], "2070")
    item_fault(answers["3"], "500")
    assert answers["4"]["Customer"]["DisplayName"] == "Fine"


def test_batch_of_more_than_30_items_is_refused_whole(qbo: Qbo) -> None:
    before = count(qbo, "Customer")
    items = [{"bId": str(i), "operation": "create", "Customer": {"DisplayName": f"Many {i}"}} for i in range(31)]
    error = fault(batch(qbo, items), 400, "6000", element="BatchItemRequest")
    assert "at most 30" in error["Detail"]
    assert count(qbo, "Customer") == before
    answers = batch_items(batch(qbo, items[:30]))
    assert len(answers) == 30 and count(qbo, "Customer") == before + 30


def test_batch_needs_items_with_distinct_bids(qbo: Qbo) -> None:
    before = count(qbo, "Customer")
    missing = [{"operation": "create", "Customer": {"DisplayName": "No bId"}}]
    fault(batch(qbo, missing), 400, "2020", element="bId")
    empty_bid = [{"bId": "", "operation": "create", "Customer": {"DisplayName": "Empty bId"}}]
    fault(batch(qbo, empty_bid), 400, "2020", element="bId")
    twice = [{"bId": "1", "operation": "create", "Customer": {"DisplayName": f"Twice {i}"}} for i in range(2)]
    fault(batch(qbo, twice), 400, "2020", element="bId")
    fault(batch(qbo, []), 400, "2020", element="BatchItemRequest")
    fault(qbo.post("batch", json={"Items": []}), 400, "2020", element="BatchItemRequest")
    assert count(qbo, "Customer") == before


# -- CDC -----------------------------------------------------------------------------------------------------


def advance(control: httpx.Client, seconds: float) -> None:
    control.post("/_sandbox/clock/advance", json={"seconds": seconds}).raise_for_status()


def cdc(qbo: Qbo, entities: str, since: str) -> dict[str, list[dict[str, Any]]]:
    response = qbo.get("cdc", entities=entities, changedSince=since)
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"CDCResponse", "time"}
    [only] = body["CDCResponse"]
    changes: dict[str, list[dict[str, Any]]] = {}
    for part in only["QueryResponse"]:
        found = [key for key in part if key not in ("startPosition", "maxResults", "totalCount")]
        assert len(found) <= 1, part
        assert part["startPosition"] == 1 and part["maxResults"] == sum(len(part[k]) for k in found)
        for key in found:
            changes[key] = part[key]
    return changes


def test_cdc_returns_changes_since_and_tombstones(control: httpx.Client) -> None:
    qbo = connect(control, sample_data=False)
    old_customer, item = customer(qbo, "Old Customer"), service_item(qbo, "CDC Item")
    untouched = invoice(qbo, old_customer["Id"], sales_line(item["Id"]))
    doomed = invoice(qbo, old_customer["Id"], sales_line(item["Id"]))
    before = datetime.fromisoformat(doomed["MetaData"]["LastUpdatedTime"])
    advance(control, 10)
    since = (before + timedelta(seconds=5)).isoformat()

    renamed = ok(qbo.post("customer", json={"Id": old_customer["Id"], "SyncToken": "0", "sparse": True,
                                            "Notes": "changed"}), "Customer")  # fmt: skip
    new_customer = customer(qbo, "New Customer")
    fresh = invoice(qbo, new_customer["Id"], sales_line(item["Id"]))
    ok(qbo.post("invoice", json={"Id": doomed["Id"], "SyncToken": "0"}, operation="delete"), "Invoice")

    changes = cdc(qbo, "Invoice,Customer", since)
    assert {c["Id"]: c["SyncToken"] for c in changes["Customer"]} == {old_customer["Id"]: "1", new_customer["Id"]: "0"}
    # as it is now (its Balance lost the deleted invoice since the update answered)
    now = ok(qbo.get(f"customer/{old_customer['Id']}"), "Customer")
    assert next(c for c in changes["Customer"] if c["Id"] == old_customer["Id"]) == now
    assert {**now, "Balance": renamed["Balance"]} == renamed
    live = [i for i in changes["Invoice"] if i.get("status") != "Deleted"]
    assert [i["Id"] for i in live] == [fresh["Id"]]
    [tombstone] = [i for i in changes["Invoice"] if i.get("status") == "Deleted"]
    assert set(tombstone) == {"domain", "status", "Id", "MetaData"}
    assert tombstone["Id"] == doomed["Id"] and tombstone["domain"] == "QBO"
    assert datetime.fromisoformat(tombstone["MetaData"]["LastUpdatedTime"]) > datetime.fromisoformat(since)
    assert untouched["Id"] not in {i["Id"] for i in changes["Invoice"]}

    # everything since before the company existed: the untouched invoice too; entity names in any case
    everything = cdc(qbo, "invoice", (before - timedelta(days=1)).isoformat())
    assert {i["Id"] for i in everything["Invoice"]} == {untouched["Id"], doomed["Id"], fresh["Id"]}
    assert cdc(qbo, "Item", since) == {}


def test_cdc_voided_invoice_appears_whole(control: httpx.Client) -> None:
    qbo = connect(control, sample_data=False)
    cust, item = customer(qbo, "Void CDC"), service_item(qbo, "Void CDC Item")
    made = invoice(qbo, cust["Id"], sales_line(item["Id"]))
    since = made["MetaData"]["LastUpdatedTime"]
    advance(control, 2)
    voided = ok(qbo.post("invoice", json={"Id": made["Id"], "SyncToken": "0"}, operation="void"), "Invoice")
    assert cdc(qbo, "Invoice", since)["Invoice"] == [voided]


def test_cdc_looks_back_30_days_at_most(control: httpx.Client) -> None:
    qbo = connect(control, sample_data=False)
    now = datetime.fromisoformat(customer(qbo, "Clock Reader")["MetaData"]["CreateTime"])
    error = fault(qbo.get("cdc", entities="Customer", changedSince=(now - timedelta(days=31)).isoformat()), 400, "4001")
    assert error["element"] == "changedSince"
    assert "Customer" in cdc(qbo, "Customer", (now - timedelta(days=29)).isoformat())


def test_cdc_needs_entities_and_changed_since(control: httpx.Client) -> None:
    qbo = connect(control, sample_data=False)
    now = datetime.fromisoformat(customer(qbo, "Params")["MetaData"]["CreateTime"]).isoformat()
    fault(qbo.get("cdc", changedSince=now), 400, "2020", element="entities")
    fault(qbo.get("cdc", entities="Customer"), 400, "2020", element="changedSince")
    fault(qbo.get("cdc", entities=" , ", changedSince=now), 400, "2020", element="entities")
    fault(qbo.get("cdc", entities="Customer", changedSince="yesterday"), 400, "4000", element="changedSince")
    fault(qbo.get("cdc", entities="Budget", changedSince=now), 400, "500")


# -- requestid -----------------------------------------------------------------------------------------------


def test_repeated_create_returns_the_first_answer_and_creates_nothing(qbo: Qbo) -> None:
    cust, item = customer(qbo, "Idem Co"), service_item(qbo, "Idem Item")
    body = invoice_body(cust["Id"], sales_line(item["Id"], "1", "40"))
    first = ok(qbo.post("invoice", json=body, requestid="req-create-1"), "Invoice")
    assert count(qbo, "Invoice") == 1
    again = ok(qbo.post("invoice", json=body, requestid="req-create-1"), "Invoice")
    assert again == first
    # the id is what counts, not the body: a different body under the same id is still the first answer
    other = invoice_body(cust["Id"], sales_line(item["Id"], "1", "99"))
    assert ok(qbo.post("invoice", json=other, requestid="req-create-1"), "Invoice") == first
    assert count(qbo, "Invoice") == 1
    fresh = ok(qbo.post("invoice", json=body, requestid="req-create-2"), "Invoice")
    assert fresh["Id"] != first["Id"] and count(qbo, "Invoice") == 2
    plain = ok(qbo.post("invoice", json=body), "Invoice")
    assert plain["Id"] not in (first["Id"], fresh["Id"]) and count(qbo, "Invoice") == 3


def test_repeated_update_and_delete_happen_once(qbo: Qbo) -> None:
    made = customer(qbo, "Idem Update")
    body = {"Id": made["Id"], "SyncToken": "0", "sparse": True, "Notes": "once"}
    first = ok(qbo.post("customer", json=body, requestid="req-update"), "Customer")
    assert ok(qbo.post("customer", json=body, requestid="req-update"), "Customer") == first
    assert ok(qbo.get(f"customer/{made['Id']}"), "Customer")["SyncToken"] == "1"
    doomed = invoice(qbo, made["Id"], sales_line(service_item(qbo, "Idem Delete Item")["Id"]))
    delete = {"Id": doomed["Id"], "SyncToken": "0"}
    gone = ok(qbo.post("invoice", json=delete, operation="delete", requestid="req-delete"), "Invoice")
    assert ok(qbo.post("invoice", json=delete, operation="delete", requestid="req-delete"), "Invoice") == gone
    fault(qbo.post("invoice", json=delete, operation="delete", requestid="req-delete-2"), 400, "610")


def test_repeated_failing_request_returns_the_same_fault(qbo: Qbo) -> None:
    customer(qbo, "Taken Name")
    before = count(qbo, "Customer")
    first = qbo.post("customer", json={"DisplayName": "Taken Name"}, requestid="req-fail")
    error = fault(first, 400, "6240")
    again = qbo.post("customer", json={"DisplayName": "Taken Name"}, requestid="req-fail")
    assert fault(again, 400, "6240") == error
    assert count(qbo, "Customer") == before


def test_repeated_batch_is_replayed_whole(qbo: Qbo) -> None:
    before = count(qbo, "Customer")
    items = [
        {"bId": "1", "operation": "create", "Customer": {"DisplayName": "Batch Once"}},
        {"bId": "2", "operation": "create", "Customer": {"DisplayName": "Batch Once"}},
        {"bId": "3", "Query": "select count(*) from Customer"},
    ]
    first = batch_items(batch(qbo, items, requestid="req-batch"))
    assert "Customer" in first["1"] and "Fault" in first["2"]
    assert first["3"]["QueryResponse"] == {"totalCount": before + 1}
    again = batch_items(batch(qbo, items, requestid="req-batch"))
    assert again == first
    assert count(qbo, "Customer") == before + 1
    fresh = batch_items(batch(qbo, items, requestid="req-batch-2"))
    item_fault(fresh["1"], "6240")
    assert fresh["3"]["QueryResponse"] == {"totalCount": before + 1}


def test_request_ids_are_per_realm(control: httpx.Client) -> None:
    one = connect(control, sample_data=False)
    two = connect(control, sample_data=False)
    first = ok(one.post("customer", json={"DisplayName": "Realm One"}, requestid="shared-id"), "Customer")
    second = ok(two.post("customer", json={"DisplayName": "Realm Two"}, requestid="shared-id"), "Customer")
    assert second["DisplayName"] == "Realm Two" and first["DisplayName"] == "Realm One"
    assert [c["DisplayName"] for c in two.rows("select * from Customer")] == ["Realm Two"]
    assert [c["DisplayName"] for c in one.rows("select * from Customer")] == ["Realm One"]
    assert ok(one.post("customer", json={"DisplayName": "Other"}, requestid="shared-id"), "Customer") == first


def test_a_reused_request_id_answers_with_the_first_object_under_its_own_name(qbo: Qbo) -> None:
    first = ok(qbo.post("customer", json={"DisplayName": "First Use"}, requestid="reused"), "Customer")
    before = count(qbo, "Invoice")
    other = invoice_body(first["Id"], sales_line(service_item(qbo, "Reuse Item")["Id"]))
    response = qbo.post("invoice", json=other, requestid="reused")
    assert response.status_code == 200, response.text
    assert set(response.json()) == {"Customer", "time"} and response.json()["Customer"] == first
    assert count(qbo, "Invoice") == before


def test_request_id_on_preferences_update(qbo: Qbo) -> None:
    prefs = ok(qbo.get("preferences"), "Preferences")
    body = {"Id": "1", "SyncToken": prefs["SyncToken"], "sparse": True, "TaxPrefs": {"UsingSalesTax": False}}
    first = ok(qbo.post("preferences", json=body, requestid="req-prefs"), "Preferences")
    assert ok(qbo.post("preferences", json=body, requestid="req-prefs"), "Preferences") == first
    assert ok(qbo.get("preferences"), "Preferences")["SyncToken"] == first["SyncToken"]


def test_cdc_time_without_offset_is_in_the_company_zone(control: httpx.Client) -> None:
    qbo = connect(control, sample_data=False)  # a US company: America/Los_Angeles
    made = customer(qbo, "Zone Co")
    changed = datetime.fromisoformat(made["MetaData"]["LastUpdatedTime"])
    assert changed.utcoffset() in (timedelta(hours=-8), timedelta(hours=-7))
    wall = changed.replace(tzinfo=None, microsecond=0)
    assert [c["Id"] for c in cdc(qbo, "Customer", (wall - timedelta(seconds=1)).isoformat())["Customer"]] == [
        made["Id"]
    ]
    # read as UTC this would be hours before the change and find it; read in the company's zone it is after
    assert cdc(qbo, "Customer", (wall + timedelta(seconds=1)).isoformat()) == {}
