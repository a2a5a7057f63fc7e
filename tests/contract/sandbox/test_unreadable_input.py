"""Input the sandbox must not keep, over real HTTP (issue 9): a lone surrogate (sent as a JSON ``\\udXXX`` escape,
or decoded from a multipart form's charset) is refused where it enters — the API with Fault 2010, queries with
4000, the control API with 400 and a sentence, OAuth with ``invalid_request``, the UI with a 400 page — and
nothing is stored, so the company list, queries and the UI keep answering. Bodies nested past the bound are
refused the same way; bodies over 10 MiB are 413."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from tests.contract.sandbox.conftest import MINOR_VERSION, Qbo
from tests.contract.sandbox.contract_support import account_id, count, fault, ok

from qbo_sandbox.bodylimit import MAX_BODY_BYTES

BAD = "Bad \ud800 name"  # json.dumps sends it as "Bad \\ud800 name"


def post_raw(qbo: Qbo, path: str, content: bytes, **params: str) -> httpx.Response:
    headers = {**qbo.headers(), "Content-Type": "application/json"}
    query = {"minorversion": MINOR_VERSION, **params}
    return qbo.http.post(qbo.url(path), params=query, content=content, headers=headers)


def assert_reads_work(qbo: Qbo) -> None:
    assert qbo.http.get("/_sandbox/companies").status_code == 200
    assert qbo.http.get("/_sandbox/apps").status_code == 200
    assert qbo.query("select * from Customer").status_code == 200
    assert qbo.query("select * from Invoice").status_code == 200
    for page in ("/app", "/app/customers", "/app/items", "/app/invoices", "/app/journals"):
        assert qbo.http.get(page, params={"realmId": qbo.realm_id}).status_code == 200, page


def multipart(fields: dict[str, str], charset: str = "unicode_escape") -> tuple[bytes, dict[str, str]]:
    """A multipart form naming ``charset``: with ``unicode_escape``, a field ``\\ud800`` decodes to a lone
    surrogate (Starlette decodes parts with the charset the request names)."""
    boundary = "sandbox-boundary"
    parts = [f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n' for k, v in fields.items()]
    body = ("".join(parts) + f"--{boundary}--\r\n").encode()
    return body, {"Content-Type": f"multipart/form-data; boundary={boundary}; charset={charset}"}


# -- the v3 API ------------------------------------------------------------------------------------------------


def _bodies(qbo: Qbo) -> dict[str, tuple[str, dict[str, Any], str]]:
    """(path, body, element of the Fault) per place a string enters an entity."""
    income, bank = account_id(qbo, "Services"), account_id(qbo, "Checking")
    item = qbo.rows("select * from Item where Type = 'Service'")[0]["Id"]
    line = {
        "DetailType": "SalesItemLineDetail",
        "Amount": 10,
        "Description": "ok",
        "SalesItemLineDetail": {"ItemRef": {"value": item}, "Qty": 1, "UnitPrice": 10},
    }
    invoice = {"CustomerRef": {"value": "1"}, "Line": [line]}
    journal_line = {
        "DetailType": "JournalEntryLineDetail",
        "Amount": 5,
        "Description": "ok",
        "JournalEntryLineDetail": {"PostingType": "Debit", "AccountRef": {"value": bank}},
    }
    credit = {**journal_line, "JournalEntryLineDetail": {"PostingType": "Credit", "AccountRef": {"value": income}}}
    return {
        "customer-name": ("customer", {"DisplayName": BAD}, "DisplayName"),
        "customer-address": ("customer", {"DisplayName": "A", "BillAddr": {"Line1": BAD}}, "BillAddr.Line1"),
        "customer-notes": ("customer", {"DisplayName": "N", "Notes": BAD}, "Notes"),
        "customer-key": ("customer", {"DisplayName": "K", "Bad \udc00": "x"}, "<key>"),
        "customer-unknown-list": ("customer", {"DisplayName": "L", "Tags": ["ok", BAD]}, "Tags[1]"),
        "item-name": ("item", {"Name": BAD, "Type": "Service", "IncomeAccountRef": {"value": income}}, "Name"),
        "item-description": ("item", {"Name": "I", "Type": "Service", "Description": BAD,
                                      "IncomeAccountRef": {"value": income}}, "Description"),
        "invoice-line-description": ("invoice", {**invoice, "Line": [{**line, "Description": BAD}]},
                                     "Line[0].Description"),
        "invoice-memo": ("invoice", {**invoice, "CustomerMemo": {"value": BAD}}, "CustomerMemo.value"),
        "invoice-private-note": ("invoice", {**invoice, "PrivateNote": BAD}, "PrivateNote"),
        "invoice-ship-address": ("invoice", {**invoice, "ShipAddr": {"City": BAD}}, "ShipAddr.City"),
        "journal-line-description": ("journalentry", {"Line": [journal_line, {**credit, "Description": BAD}]},
                                     "Line[1].Description"),
        "journal-note": ("journalentry", {"Line": [journal_line, credit], "PrivateNote": BAD}, "PrivateNote"),
    }  # fmt: skip


CASES = [
    "customer-name", "customer-address", "customer-notes", "customer-key", "customer-unknown-list", "item-name",
    "item-description", "invoice-line-description", "invoice-memo", "invoice-private-note", "invoice-ship-address",
    "journal-line-description", "journal-note",
]  # fmt: skip


@pytest.mark.parametrize("case", CASES)
def test_a_lone_surrogate_in_an_entity_body_is_2010_and_nothing_is_stored(qbo: Qbo, case: str) -> None:
    path, body, element = _bodies(qbo)[case]
    entity = {"customer": "Customer", "item": "Item", "invoice": "Invoice", "journalentry": "JournalEntry"}[path]
    before = count(qbo, entity)
    error = fault(post_raw(qbo, path, json.dumps(body).encode(), requestid=f"rid-{case}"), 400, "2010")
    assert error["element"] == element
    assert "lone surrogate (U+D800)" in error["Detail"] or "lone surrogate (U+DC00)" in error["Detail"]
    assert count(qbo, entity) == before
    # the request id was not spent on the refusal: the same id with a readable body does the work
    readable = json.loads(json.dumps(body).replace("\\ud800", "").replace("\\udc00", ""))
    made = post_raw(qbo, path, json.dumps(readable).encode(), requestid=f"rid-{case}")
    assert made.status_code == 200, made.text
    assert count(qbo, entity) == before + 1
    assert_reads_work(qbo)


def test_a_lone_surrogate_in_an_update_or_a_batch_is_refused_whole(qbo: Qbo) -> None:
    made = ok(qbo.post("customer", json={"DisplayName": "Kept"}), "Customer")
    sparse = {"Id": made["Id"], "SyncToken": made["SyncToken"], "sparse": True, "DisplayName": BAD}
    fault(post_raw(qbo, "customer", json.dumps(sparse).encode()), 400, "2010", element="DisplayName")
    prefs = ok(qbo.get("preferences"), "Preferences")
    update = {"Id": "1", "SyncToken": prefs["SyncToken"], "sparse": True, "SalesFormsPrefs": {"CustomField": BAD}}
    fault(post_raw(qbo, "preferences", json.dumps(update).encode()), 400, "2010")
    batch = {"BatchItemRequest": [{"bId": "1", "operation": "create", "Customer": {"DisplayName": "Fine"}},
                                  {"bId": "2", "operation": "create", "Customer": {"DisplayName": BAD}}]}  # fmt: skip
    fault(post_raw(qbo, "batch", json.dumps(batch).encode()), 400, "2010")
    query = {"BatchItemRequest": [{"bId": "1", "Query": f"select * from Customer where DisplayName = '{BAD}'"}]}
    fault(post_raw(qbo, "batch", json.dumps(query).encode()), 400, "2010")
    assert ok(qbo.get(f"customer/{made['Id']}"), "Customer") == made
    assert qbo.rows("select * from Customer where DisplayName = 'Fine'") == []
    assert ok(qbo.get("preferences"), "Preferences") == prefs
    assert_reads_work(qbo)


def test_percent_encoded_surrogates_in_paths_and_parameters_arrive_replaced(qbo: Qbo) -> None:
    # URLs are decoded with replacement characters, so an encoded surrogate never reaches the sandbox whole
    headers = qbo.headers()
    fault(qbo.http.get(qbo.url("customer/%ED%A0%80"), headers=headers), 400, "610")
    where = "?query=select%20*%20from%20Customer%20where%20DisplayName%3D%27%ED%A0%80%27"
    query = qbo.http.get(qbo.url("query") + where, headers=headers)
    assert query.status_code == 200, query.text
    made = qbo.http.post(qbo.url("customer") + "?requestid=%ED%A0%80", json={"DisplayName": "R"}, headers=headers)
    assert made.status_code == 200, made.text
    logged = qbo.http.get(f"/_sandbox/companies/{qbo.realm_id}/requests")
    assert logged.status_code == 200
    assert logged.json()["requests"][-1]["request_id"] == "\ufffd\ufffd\ufffd"
    assert_reads_work(qbo)


def test_odd_bytes_in_url_segments_and_headers_are_answered_not_crashed_on(qbo: Qbo) -> None:
    surrogate, invalid = "%ED%A0%80", "%FF%FE"
    for realm in (surrogate, invalid):
        assert qbo.http.get(f"/v3/company/{realm}/customer/1", headers=qbo.headers()).status_code == 403
        assert qbo.http.get(f"/_sandbox/companies/{realm}/faults").status_code == 404
        assert qbo.http.get("/app/invoices?realmId=" + realm).status_code == 404
        assert qbo.http.get(qbo.url(f"{realm}/1"), headers=qbo.headers()).status_code == 400  # unknown entity
    odd_headers = [
        {"Authorization": b"Bearer \xed\xa0\x80\xff"},
        {"Authorization": b"Basic \xff\xfe"},
        {"requestid": b"\xed\xa0\x80", "intuit_tid": b"\xff"},
    ]
    for extra in odd_headers:
        answer = qbo.http.get(qbo.url("customer/1"), headers={**qbo.headers(), **extra})  # type: ignore[dict-item]
        assert answer.status_code in (200, 401), answer.text
    token = qbo.http.post(
        "/oauth2/v1/tokens/bearer", data={"grant_type": "x"}, headers={"Authorization": b"Basic \xff"}
    )
    assert token.status_code == 401
    assert_reads_work(qbo)


def test_a_body_nested_50000_deep_is_refused_everywhere(qbo: Qbo) -> None:
    deep = b"[" * 50_000 + b"]" * 50_000
    fault(post_raw(qbo, "customer", deep), 400, "2010")
    fault(post_raw(qbo, "batch", deep), 400, "2010")
    assert qbo.http.post("/_sandbox/companies", content=deep).status_code == 400
    revoke = qbo.http.post(
        "/oauth2/v1/tokens/revoke", content=deep, auth=(qbo.app["client_id"], qbo.app["client_secret"])
    )
    assert revoke.status_code == 400
    assert revoke.json() == {"error": "invalid_request"}
    assert_reads_work(qbo)


def test_a_body_nested_hundreds_deep_in_one_field_is_refused_not_stored(qbo: Qbo) -> None:
    # it parses, but stored it broke every later copy of the customers (RecursionError in each read)
    deep = b'{"DisplayName": "Deep", "Notes2": ' + b"[" * 900 + b"]" * 900 + b"}"
    fault(post_raw(qbo, "customer", deep), 400, "2010")
    assert qbo.rows("select * from Customer where DisplayName = 'Deep'") == []
    assert_reads_work(qbo)


@pytest.mark.parametrize("literal", [b"1e999999999", b"-1E+400", b"NaN", b"Infinity"])
def test_numbers_outside_a_doubles_range_are_2010_not_a_crash(qbo: Qbo, literal: bytes) -> None:
    # 1e999999999 used to overflow Decimal arithmetic (decimal.Overflow: a 500) in Balance and in the answer
    for field in (b"Balance", b"Custom"):
        body = b'{"DisplayName": "Number", "' + field + b'": ' + literal + b"}"
        fault(post_raw(qbo, "customer", body), 400, "2010")
    assert_reads_work(qbo)


def test_a_query_longer_than_the_bound_is_4001(qbo: Qbo) -> None:
    text = "select * from Customer where Id IN (" + ",".join(["'1'"] * 30_000) + ")"
    response = qbo.http.post(
        qbo.url("query"), content=text.encode(), headers={**qbo.headers(), "Content-Type": "application/text"}
    )
    fault(response, 400, "4001")


# -- the control API -----------------------------------------------------------------------------------------


CONTROL_CASES = [
    pytest.param("POST", "/_sandbox/companies", {"name": BAD}, id="company-name"),
    pytest.param("POST", "/_sandbox/apps", {"redirect_uris": [f"http://localhost/{BAD}"]}, id="app-redirect"),
    pytest.param(
        "POST", "/_sandbox/apps", {"redirect_uris": [], "webhook_url": f"http://h.example/{BAD}"}, id="app-hook"
    ),
    pytest.param("PATCH", "/_sandbox/apps/{client_id}", {"webhook_url": f"http://h.example/{BAD}"}, id="app-patch"),
    pytest.param("POST", "/_sandbox/companies/{realm_id}/faults", {"kind": "latency", "match": BAD}, id="fault-match"),
    pytest.param("POST", "/_sandbox/companies/{realm_id}/faults", {"kind": BAD}, id="fault-kind"),
    pytest.param("PUT", "/_sandbox/limits", {BAD: 1}, id="limits-key"),
    pytest.param("POST", "/_sandbox/tokens", {"client_id": BAD, "realm_id": "{realm_id}"}, id="token-client"),
]


@pytest.mark.parametrize(("method", "path", "body"), CONTROL_CASES)
def test_a_lone_surrogate_in_a_control_body_is_400_with_a_sentence(
    qbo: Qbo, method: str, path: str, body: dict[str, Any]
) -> None:
    names = {"realm_id": qbo.realm_id, "client_id": qbo.app["client_id"]}
    raw = json.dumps(body).replace("{realm_id}", qbo.realm_id).encode()
    before = {p: qbo.http.get(p).json() for p in ("/_sandbox/companies", "/_sandbox/apps")}
    answer = qbo.http.request(method, path.format(**names), content=raw)
    assert answer.status_code == 400, answer.text
    assert list(answer.json()) == ["error"]
    assert answer.json()["error"].startswith("the body cannot be kept: ")
    assert answer.json()["error"].endswith("holds a lone surrogate (U+D800), which is not a Unicode character")
    assert {p: qbo.http.get(p).json() for p in before} == before
    assert qbo.http.get(f"/_sandbox/companies/{qbo.realm_id}/faults").json() == {"faults": []}
    assert_reads_work(qbo)


# -- forms: OAuth and the UI ---------------------------------------------------------------------------------


def test_oauth_forms_decoded_to_lone_surrogates_are_refused(qbo: Qbo) -> None:
    form = {"client_id": qbo.app["client_id"], "redirect_uri": qbo.app["redirect_uris"][0], "response_type": "code",
            "scope": "com.intuit.quickbooks.accounting", "state": "\\ud800", "realmId": qbo.realm_id,
            "decision": "connect"}  # fmt: skip
    body, headers = multipart(form)
    consent = qbo.http.post("/oauth2/authorize", content=body, headers=headers)
    assert consent.status_code == 400  # an error page: the state cannot go into the redirect
    assert "not Unicode text" in consent.text
    body, headers = multipart({"grant_type": "refresh_token", "refresh_token": "\\udfff"})
    token = qbo.http.post("/oauth2/v1/tokens/bearer", content=body, headers=headers,
                          auth=(qbo.app["client_id"], qbo.app["client_secret"]))  # fmt: skip
    assert token.status_code == 400
    assert token.json() == {"error": "invalid_request"}
    # the same forms in a charset that decodes cleanly still work
    body, headers = multipart({**form, "state": "fine"}, charset="utf-8")
    assert qbo.http.post("/oauth2/authorize", content=body, headers=headers).status_code == 302
    assert_reads_work(qbo)


def test_the_ui_delete_form_decoded_to_a_lone_surrogate_is_a_400_page(qbo: Qbo) -> None:
    body, headers = multipart({"realmId": "\\ud800", "txnId": "1"})
    answer = qbo.http.post("/app/invoice/delete", content=body, headers=headers)
    assert answer.status_code == 400
    assert "not Unicode text" in answer.text
    assert_reads_work(qbo)


# -- the size of a body ----------------------------------------------------------------------------------------


def _chunks(total: int) -> Iterator[bytes]:
    for _ in range(total // 65_536):
        yield b" " * 65_536


def test_bodies_over_the_bound_are_413_on_every_surface(qbo: Qbo) -> None:
    padding = b" " * (MAX_BODY_BYTES + 1)
    api = post_raw(qbo, "customer", b'{"DisplayName": "Big"}' + padding)
    error = fault(api, 413, "6030")
    assert "10,485,760 bytes" in error["Detail"]
    control = qbo.http.post("/_sandbox/companies", content=b'{"name": "Big"}' + padding)
    assert control.status_code == 413
    assert "10,485,760 bytes" in control.json()["error"]
    token = qbo.http.post("/oauth2/v1/tokens/bearer", content=b"grant_type=x&" + padding,
                          headers={"Content-Type": "application/x-www-form-urlencoded"})  # fmt: skip
    assert token.status_code == 413
    # without Content-Length (chunked), the bound holds too
    chunked = qbo.http.post(qbo.url("batch"), content=_chunks(MAX_BODY_BYTES + 65_536), headers=qbo.headers())
    fault(chunked, 413, "6030")
    assert qbo.rows("select * from Customer where DisplayName = 'Big'") == []
    assert all(c["name"] != "Big" for c in qbo.http.get("/_sandbox/companies").json()["companies"])
    assert_reads_work(qbo)


def test_a_body_of_exactly_the_bound_is_accepted(qbo: Qbo) -> None:
    start = b'{"name": "Just Fits", "sample_data": false}'
    made = qbo.http.post("/_sandbox/companies", content=start + b" " * (MAX_BODY_BYTES - len(start)))
    assert made.status_code == 201, made.text
    assert made.json()["name"] == "Just Fits"
