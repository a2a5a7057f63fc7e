"""Properties over real HTTP: whatever a client sends — any text (lone surrogates as ``\\udXXX`` escapes, NULs,
control characters, huge strings), deep nesting, wrong types, bodies that are not UTF-8 JSON — the sandbox
answers 200 or a QBO Fault (4xx), never a 500, and nothing it keeps breaks a later read: after each example the
control API's company list, a query and the UI pages still answer 200.

Each property uses one company (made once per test, not per example) and keeps under a few seconds; the
mutated bodies come from ``strategies.py``.
"""

from __future__ import annotations

import base64
import json
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from tests.contract.sandbox.conftest import MINOR_VERSION, Qbo, connect
from tests.contract.sandbox.contract_support import account_id, ok
from tests.contract.sandbox.strategies import (
    JSON_VALUES,
    KEYS,
    ODD_TEXT,
    encoded,
    has_lone_surrogate,
    mutated,
    nested,
)

from qbo_sandbox.server import SandboxServer

LIST_PAGES = {"Customer": "customers", "Item": "items", "Invoice": "invoices", "JournalEntry": "journals"}


def bases(qbo: Qbo) -> dict[str, dict[str, Any]]:
    """A valid create body per entity, with every kind of field QBO takes: nested addresses, memos, notes,
    references, lines with descriptions."""
    address = {"Line1": "1 Main St", "City": "Springfield", "CountrySubDivisionCode": "CA", "PostalCode": "94000"}
    customer_id = qbo.rows("select * from Customer")[0]["Id"]
    item_id = qbo.rows("select * from Item where Type = 'Service'")[0]["Id"]
    income, bank = account_id(qbo, "Services"), account_id(qbo, "Checking")
    return {
        "Customer": {"DisplayName": "Fuzz", "PrimaryEmailAddr": {"Address": "f@example.com"}, "BillAddr": address,
                     "ShipAddr": address, "Notes": "a note", "CompanyName": "Fuzz Ltd", "Active": True},
        "Item": {"Name": "Fuzz", "Type": "Service", "UnitPrice": 5, "Sku": "F-1", "Description": "d",
                 "IncomeAccountRef": {"value": income}},
        "Invoice": {"CustomerRef": {"value": customer_id}, "BillAddr": address, "PrivateNote": "private",
                    "CustomerMemo": {"value": "thanks"}, "TxnDate": "2026-01-02",
                    "Line": [{"DetailType": "SalesItemLineDetail", "Amount": 10, "Description": "line",
                              "SalesItemLineDetail": {"ItemRef": {"value": item_id}, "Qty": 1, "UnitPrice": 10,
                                                      "TaxCodeRef": {"value": "NON"}}}]},
        "JournalEntry": {"PrivateNote": "memo", "TxnDate": "2026-01-02", "DocNumber": "J-1",
                         "Line": [{"DetailType": "JournalEntryLineDetail", "Amount": 10, "Description": "debit",
                                   "JournalEntryLineDetail": {"PostingType": "Debit", "AccountRef": {"value": bank}}},
                                  {"DetailType": "JournalEntryLineDetail", "Amount": 10, "Description": "credit",
                                   "JournalEntryLineDetail": {"PostingType": "Credit",
                                                              "AccountRef": {"value": income}}}]},
    }  # fmt: skip


def post_raw(qbo: Qbo, path: str, content: bytes, content_type: str = "application/json") -> httpx.Response:
    headers = {**qbo.headers(), "Content-Type": content_type}
    return qbo.http.post(qbo.url(path), params={"minorversion": MINOR_VERSION}, content=content, headers=headers)


def assert_200_or_fault(response: httpx.Response, codes: tuple[str, ...] | None = None) -> dict[str, Any]:
    """A 200, or a 4xx QBO ValidationFault (with one of ``codes`` when given); returns the body."""
    assert response.status_code in (200, 400), (response.status_code, response.text[:300])
    body: dict[str, Any] = response.json()
    if response.status_code == 400:
        assert body["Fault"]["type"] == "ValidationFault", body
        assert body["Fault"]["Error"][0]["Message"], body
        if codes is not None:
            assert body["Fault"]["Error"][0]["code"] in codes, body
    return body


def assert_reads_work(qbo: Qbo, entity: str = "Customer") -> None:
    """What the issue saw break for good after one bad string: the company list, queries, the UI."""
    assert qbo.http.get("/_sandbox/companies").status_code == 200
    listed = qbo.query(f"select * from {entity} maxresults 1000")
    assert listed.status_code == 200, listed.text[:300]
    assert qbo.http.get("/app").status_code == 200
    page = qbo.http.get(f"/app/{LIST_PAGES[entity]}", params={"realmId": qbo.realm_id})
    assert page.status_code == 200, page.text[:300]


# -- entity writes --------------------------------------------------------------------------------------------


def test_entity_writes_answer_200_or_a_fault_and_keep_reads_working(sandbox_server: SandboxServer) -> None:
    with httpx.Client(base_url=sandbox_server.url, timeout=30) as control:
        qbo = connect(control)
        valid = bases(qbo)
        made = {entity: ok(qbo.post(entity.lower(), json=body), entity) for entity, body in valid.items()}

        @settings(max_examples=300, deadline=None)
        @given(
            entity=st.sampled_from(sorted(valid)), update=st.booleans(), suffix=st.integers(0, 10**9), data=st.data()
        )
        def check(entity: str, update: bool, suffix: int, data: st.DataObject) -> None:
            base = dict(valid[entity])
            for key in ("DisplayName", "Name"):
                if key in base:
                    base[key] = f"Fuzz {suffix}"  # keep duplicate names out of the way
            if update:  # a sparse update of the object made at the start, at its current SyncToken
                current = ok(qbo.get(f"{entity.lower()}/{made[entity]['Id']}"), entity)
                base = {**base, "Id": current["Id"], "SyncToken": current["SyncToken"], "sparse": True}
            body = data.draw(mutated(base), label="body")
            answer = assert_200_or_fault(post_raw(qbo, entity.lower(), encoded(body)))
            if has_lone_surrogate(body):  # refused whole: nothing stored, nothing remembered
                assert answer["Fault"]["Error"][0]["code"] == "2010", answer
            elif "Fault" not in answer:
                stored = answer[entity]
                assert ok(qbo.get(f"{entity.lower()}/{stored['Id']}"), entity) == stored
            assert_reads_work(qbo, entity)

        check()


def test_batch_items_with_any_values_answer_200_or_a_fault(sandbox_server: SandboxServer) -> None:
    with httpx.Client(base_url=sandbox_server.url, timeout=30) as control:
        qbo = connect(control)
        valid = bases(qbo)

        @settings(max_examples=60, deadline=None)
        @given(entity=st.sampled_from(sorted(valid)), bid=ODD_TEXT, data=st.data())
        def check(entity: str, bid: str, data: st.DataObject) -> None:
            item = {"bId": bid, "operation": "create", entity: data.draw(mutated(valid[entity]), label="body")}
            body = {"BatchItemRequest": [item, {"bId": "q", "Query": "select count(*) from Customer"}]}
            answer = assert_200_or_fault(post_raw(qbo, "batch", encoded(body)))
            if has_lone_surrogate(body):
                assert answer["Fault"]["Error"][0]["code"] == "2010", answer
            assert_reads_work(qbo, entity)

        check()


# -- query text -----------------------------------------------------------------------------------------------

QUERIES = st.one_of(
    ODD_TEXT,
    ODD_TEXT.map(lambda text: f"select * from Customer where DisplayName = '{text}'"),
    ODD_TEXT.map(lambda text: f"select * from Invoice where DocNumber LIKE '%{text}%' orderby TxnDate"),
    ODD_TEXT.map(lambda text: f"select {text} from Item"),
    # 30,000 ids pass the sandbox's bound on query length (4001); 5,000 are a long but fine IN list
    st.sampled_from([1, 5_000, 30_000]).map(
        lambda n: "select * from Customer where Id IN (" + ",".join(["'1'"] * n) + ")"
    ),
)


def test_query_text_answers_a_result_or_a_4000_4001_fault(sandbox_server: SandboxServer) -> None:
    with httpx.Client(base_url=sandbox_server.url, timeout=30) as control:
        qbo = connect(control)

        @settings(max_examples=200, deadline=None)
        @given(text=QUERIES, how=st.sampled_from(["get", "post", "batch"]))
        def check(text: str, how: str) -> None:
            raw = text.encode("utf-8", "surrogatepass")  # how a client without checks would put it on the wire
            if how == "get" and len(raw) < 4000:  # longer ones would pass the server's request-line limit
                url = qbo.url("query") + f"?minorversion={MINOR_VERSION}&query=" + quote(raw)
                assert_200_or_fault(qbo.http.get(url, headers=qbo.headers()), ("4000", "4001"))
            elif how == "post" or how == "get":
                assert_200_or_fault(post_raw(qbo, "query", raw, "application/text"), ("4000", "4001"))
            else:
                body = {"BatchItemRequest": [{"bId": "1", "Query": text}]}
                answer = assert_200_or_fault(post_raw(qbo, "batch", encoded(body)), ("2010",))
                assert ("Fault" in answer) == has_lone_surrogate(text), answer
            assert_reads_work(qbo)

        check()


# -- bodies that are not UTF-8 JSON ---------------------------------------------------------------------------

DEEP_ARRAY = b"[" * 50_000 + b"]" * 50_000
DEEP_OBJECT = b'{"a":' * 50_000 + b"1" + b"}" * 50_000
ODD_BODIES = {
    "invalid-utf8": b'{"DisplayName": "caf\xe9 \xff\xfe"}',
    "utf8-encoded-surrogate": b'{"DisplayName": "\xed\xa0\x80"}',
    "utf16-le-bom": '{"DisplayName": "UTF-16 LE"}'.encode("utf-16"),
    "utf16-be": '{"DisplayName": "UTF-16 BE"}'.encode("utf-16-be"),
    "utf32": '{"DisplayName": "UTF-32"}'.encode("utf-32"),
    "utf8-bom": '{"DisplayName": "BOM"}'.encode("utf-8-sig"),
    "lone-surrogate-escape": b'{"DisplayName": "x\\ud800"}',
    "reversed-pair-escape": b'{"DisplayName": "\\udc00\\ud800"}',
    "surrogate-in-key": b'{"DisplayName": "K", "\\udfff": 1}',
    "nul-and-controls": b'{"DisplayName": "nul \\u0000 \\u001b[31m"}',
    "deep-array": DEEP_ARRAY,
    "deep-object": DEEP_OBJECT,
    "deep-in-a-field": b'{"DisplayName": "D", "Notes": ' + b"[" * 500 + b"]" * 500 + b"}",
    "nan": b'{"DisplayName": "N", "Balance": NaN}',
    "huge-integer": b'{"DisplayName": "I", "Balance": 1' + b"0" * 5000 + b"}",
    "huge-exponent": b'{"DisplayName": "E", "Balance": 1e999999999}',
    "empty": b"",
    "null": b"null",
    "a-string": b'"DisplayName"',
    "xml": b"<Customer><DisplayName>X</DisplayName></Customer>",
    "truncated": b'{"DisplayName": "T',
    "nul-bytes": b"\x00" * 64,
}


@pytest.mark.parametrize("raw", list(ODD_BODIES.values()), ids=list(ODD_BODIES))
def test_odd_bodies_answer_200_or_a_fault_everywhere(qbo: Qbo, raw: bytes) -> None:
    for path in ("customer", "batch", "preferences", "invoice"):
        assert_200_or_fault(post_raw(qbo, path, raw))
    assert_200_or_fault(post_raw(qbo, "query", raw, "application/text"), ("4000", "4001"))
    control_calls = [("POST", "/_sandbox/companies"), ("POST", "/_sandbox/apps"),
                     ("POST", f"/_sandbox/companies/{qbo.realm_id}/faults"), ("PUT", "/_sandbox/limits")]  # fmt: skip
    for method, path in control_calls:
        answer = qbo.http.request(method, path, content=raw)
        assert answer.status_code in (200, 201, 400), answer.text[:300]
        assert answer.status_code < 400 or "error" in answer.json()
    revoke = qbo.http.post("/oauth2/v1/tokens/revoke", content=raw, auth=(qbo.app["client_id"],
                                                                          qbo.app["client_secret"]))  # fmt: skip
    assert revoke.status_code in (200, 400), revoke.text[:300]
    assert_reads_work(qbo)


def test_random_bytes_answer_200_or_a_fault(sandbox_server: SandboxServer) -> None:
    with httpx.Client(base_url=sandbox_server.url, timeout=30) as control:
        qbo = connect(control)

        @settings(max_examples=100, deadline=None)
        @given(raw=st.one_of(st.binary(max_size=64), JSON_VALUES.map(encoded)), path=st.sampled_from(
            ["customer", "item", "invoice", "journalentry", "batch", "query", "preferences"]))  # fmt: skip
        def check(raw: bytes, path: str) -> None:
            if path == "query":
                assert_200_or_fault(post_raw(qbo, path, raw, "application/text"), ("4000", "4001"))
            else:
                assert_200_or_fault(post_raw(qbo, path, raw))
            assert_reads_work(qbo)

        check()


# -- the control API -------------------------------------------------------------------------------------------

CONTROL_BODIES = st.one_of(
    st.fixed_dictionaries({}, optional={"name": ODD_TEXT, "country": ODD_TEXT, "sample_data": st.just(False),
                                        "multicurrency": JSON_VALUES}).map(lambda b: ("POST", "companies", b)),
    st.fixed_dictionaries({}, optional={"redirect_uris": st.lists(ODD_TEXT, max_size=2),
                                        "webhook_url": ODD_TEXT.map(lambda t: "http://" + t),
                                        "webhook_format": ODD_TEXT}).map(lambda b: ("POST", "apps", b)),
    st.fixed_dictionaries({"kind": st.sampled_from(["latency", "throttle", "nope"]) | ODD_TEXT},
                          optional={"match": ODD_TEXT, "method": ODD_TEXT, "count": JSON_VALUES,
                                    "seconds": st.just(0)}).map(lambda b: ("POST", "faults", b)),
    st.dictionaries(KEYS, JSON_VALUES, max_size=3).map(lambda b: ("PUT", "webhooks", b)),
    st.dictionaries(KEYS, JSON_VALUES, max_size=3).map(lambda b: ("POST", "tokens", b)),
)  # fmt: skip


def test_control_bodies_answer_a_sentence_never_a_500(sandbox_server: SandboxServer) -> None:
    with httpx.Client(base_url=sandbox_server.url, timeout=30) as control:
        qbo = connect(control, sample_data=False)
        paths = {"companies": "/_sandbox/companies", "apps": "/_sandbox/apps", "tokens": "/_sandbox/tokens",
                 "faults": f"/_sandbox/companies/{qbo.realm_id}/faults",
                 "webhooks": f"/_sandbox/companies/{qbo.realm_id}/webhooks"}  # fmt: skip

        @settings(max_examples=120, deadline=None)
        @given(call=CONTROL_BODIES)
        def check(call: tuple[str, str, dict[str, Any]]) -> None:
            method, name, body = call
            answer = control.request(method, paths[name], content=encoded(body))
            assert answer.status_code in (200, 201, 400, 404), answer.text[:300]
            if answer.status_code >= 400:
                assert isinstance(answer.json()["error"], str)
            if has_lone_surrogate(body):
                assert answer.status_code == 400, answer.text[:300]
            # a rule just added would fail the reads below on purpose: clear it first
            assert control.delete(paths["faults"]).status_code == 200
            assert control.get("/_sandbox/apps").status_code == 200
            assert control.get(paths["faults"]).status_code == 200
            assert_reads_work(qbo)

        check()


# -- OAuth --------------------------------------------------------------------------------------------------------

HEADER_BYTES = st.binary(max_size=24).map(lambda raw: bytes(b for b in raw if b >= 0x20 and b != 0x7F))
# \ud800 and +2AA- decode to a lone surrogate in the unicode_escape and utf-7 charsets
FIELD_VALUES = st.one_of(
    st.sampled_from([b"\\ud800", b"+2AA-", b"x\\udfffy"]),
    st.binary(max_size=16),
    ODD_TEXT.map(lambda text: text[:50].encode("utf-8", "surrogatepass")),
)
FIELD_NAMES = st.sampled_from(["grant_type", "code", "refresh_token", "redirect_uri", "client_id", "response_type",
                               "scope", "state", "realmId", "decision", "token", "txnId"])  # fmt: skip
CHARSETS = st.sampled_from(["utf-8", "unicode_escape", "utf-7", "latin-1", "utf-16", "no-such-charset"])


def form_body(fields: dict[str, bytes], kind: str, charset: str) -> tuple[bytes, str]:
    if kind == "urlencoded":
        return b"&".join(quote(k).encode() + b"=" + quote(v).encode() for k, v in fields.items()), (
            "application/x-www-form-urlencoded"
        )
    if kind == "json":
        return encoded({k: v.decode("utf-8", "surrogateescape") for k, v in fields.items()}), "application/json"
    parts = [b'--b0\r\nContent-Disposition: form-data; name="' + k.encode() + b'"\r\n\r\n' + v + b"\r\n"
             for k, v in fields.items()]  # fmt: skip
    return b"".join(parts) + b"--b0--\r\n", f"multipart/form-data; boundary=b0; charset={charset}"


def test_oauth_requests_answer_an_oauth_error_never_a_500(sandbox_server: SandboxServer) -> None:
    with httpx.Client(base_url=sandbox_server.url, timeout=30) as control:
        qbo = connect(control, sample_data=False)
        basic = b"Basic " + base64.b64encode(f"{qbo.app['client_id']}:{qbo.app['client_secret']}".encode())

        valid = {"client_id": qbo.app["client_id"], "redirect_uri": qbo.app["redirect_uris"][0], "state": "s",
                 "response_type": "code", "scope": "com.intuit.quickbooks.accounting", "realmId": qbo.realm_id,
                 "decision": "connect", "grant_type": "refresh_token", "refresh_token": qbo.tokens["refresh_token"],
                 "token": "not-a-token", "txnId": "1"}  # fmt: skip

        @settings(max_examples=100, deadline=None)
        @given(
            path=st.sampled_from(["/oauth2/v1/tokens/bearer", "/oauth2/v1/tokens/revoke", "/oauth2/authorize",
                                  "/app/invoice/delete"]),
            changed=st.dictionaries(FIELD_NAMES, FIELD_VALUES, max_size=2),
            kind=st.sampled_from(["urlencoded", "multipart", "json"]), charset=CHARSETS,
            authorization=st.one_of(st.just(basic), HEADER_BYTES.map(lambda raw: (b"Basic " + raw).strip())),
        )  # fmt: skip
        # the cases found so far, always tried: forms decoded to lone surrogates, a Basic header that is not ASCII
        @example("/oauth2/authorize", {"state": b"\\ud800"}, "multipart", "unicode_escape", basic)
        @example("/app/invoice/delete", {"realmId": b"+2AA-"}, "multipart", "utf-7", basic)
        @example("/oauth2/v1/tokens/bearer", {}, "urlencoded", "utf-8", b"Basic \xff")
        def check(path: str, changed: dict[str, bytes], kind: str, charset: str, authorization: bytes) -> None:
            fields = {**{k: v.encode() for k, v in valid.items()}, **changed}  # a valid form, one or two fields off
            content, content_type = form_body(fields, kind, charset)
            headers = {"Content-Type": content_type, "Authorization": authorization}
            answer = control.post(path, content=content, headers=headers)  # type: ignore[arg-type]
            assert answer.status_code in (200, 302, 303, 400, 401, 404), (answer.status_code, answer.text[:300])
            assert control.get("/oauth2/authorize", params={"client_id": "x"}).status_code == 400
            assert_reads_work(qbo)

        check()


def test_a_body_nested_past_the_bound_is_2010_and_one_within_it_is_kept(qbo: Qbo) -> None:
    deep = post_raw(qbo, "customer", encoded({"DisplayName": "Deep", "Notes2": nested(40, True)}))
    assert deep.json()["Fault"]["Error"][0]["code"] == "2010"
    assert deep.json()["Fault"]["Error"][0]["element"].startswith("Notes2.a.a")
    shallow = ok(post_raw(qbo, "customer", encoded({"DisplayName": "Shallow", "Notes2": nested(20, True)})), "Customer")
    assert ok(qbo.get(f"customer/{shallow['Id']}"), "Customer")["Notes2"] == nested(20, True)
    assert qbo.rows("select * from Customer where DisplayName = 'Deep'") == []
    assert_reads_work(qbo)


def test_json_round_trip_of_the_strategies_sends_surrogates_as_escapes() -> None:
    # the premise of every property above: what the client sends is JSON with \udXXX escapes, valid ASCII
    assert encoded({"k": "\ud800"}) == b'{"k": "\\ud800"}'
    assert json.loads(encoded({"k": "\ud800"})) == {"k": "\ud800"}
