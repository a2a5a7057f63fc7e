"""Fault injection and the request log over real HTTP: each fault kind, the rule options (match, method, skip,
count), listing and clearing rules, the request log and its clearing, and bad rule options."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest
from tests.contract.sandbox.conftest import Qbo, connect
from tests.contract.sandbox.serving_support import assert_fault, assert_throttled, count, create_invoice, invoice_body

RULE_KEYS = {"id", "kind", "method", "match", "skip", "count", "status", "seconds", "applied"}
SYSTEM_ERROR = {
    "Message": "An application error has occurred while processing your request",
    "Detail": "An application error has occurred while processing your request",
    "code": "10000",
    "element": "",
}


def _rule(control: httpx.Client, qbo: Qbo, **rule: Any) -> dict[str, Any]:
    made = control.post(f"/_sandbox/companies/{qbo.realm_id}/faults", json=rule)
    assert made.status_code == 201, made.text
    body: dict[str, Any] = made.json()
    return body


def _log(control: httpx.Client, qbo: Qbo) -> list[dict[str, Any]]:
    answer = control.get(f"/_sandbox/companies/{qbo.realm_id}/requests")
    assert answer.status_code == 200
    entries: list[dict[str, Any]] = answer.json()["requests"]
    return entries


def test_drop_after_commit_closes_the_connection_yet_the_object_exists(control: httpx.Client, qbo: Qbo) -> None:
    body = invoice_body(qbo)
    _rule(control, qbo, kind="drop_after_commit", match="invoice", method="POST")
    with pytest.raises(httpx.RemoteProtocolError):
        qbo.post("invoice", json=body, requestid="drop-1")
    assert count(qbo, "Invoice") == 1
    # the retry with the same requestid finds the committed invoice instead of making a second one
    retried = qbo.post("invoice", json=body, requestid="drop-1")
    assert retried.status_code == 200
    assert count(qbo, "Invoice") == 1
    assert retried.json()["Invoice"]["Id"] == qbo.rows("select * from Invoice")[0]["Id"]


def test_fail_before_commit_answers_a_system_fault_and_creates_nothing(control: httpx.Client, qbo: Qbo) -> None:
    body = invoice_body(qbo)
    _rule(control, qbo, kind="fail_before_commit", match="invoice")
    failed = qbo.post("invoice", json=body)
    assert assert_fault(failed, 503, "SystemFault", "10000") == SYSTEM_ERROR
    assert count(qbo, "Invoice") == 0
    _rule(control, qbo, kind="fail_before_commit", match="invoice", status=500)
    assert_fault(qbo.post("invoice", json=body), 500, "SystemFault", "10000")
    assert count(qbo, "Invoice") == 0
    assert qbo.post("invoice", json=body).status_code == 200  # both rules used up (count 1 each)
    assert count(qbo, "Invoice") == 1


def test_latency_delays_the_answer(control: httpx.Client, qbo: Qbo) -> None:
    _rule(control, qbo, kind="latency", seconds=0.4, match="companyinfo")
    started = time.monotonic()
    slow = qbo.get(f"companyinfo/{qbo.realm_id}")
    elapsed = time.monotonic() - started
    assert slow.status_code == 200
    assert slow.json()["CompanyInfo"]["CompanyName"] == "Test Co"
    assert elapsed >= 0.4
    started = time.monotonic()
    assert qbo.get(f"companyinfo/{qbo.realm_id}").status_code == 200
    assert time.monotonic() - started < 0.4


def test_throttle_answers_429_with_retry_after_and_does_no_work(control: httpx.Client, qbo: Qbo) -> None:
    body = invoice_body(qbo)
    _rule(control, qbo, kind="throttle", method="POST")
    assert_throttled(qbo.post("invoice", json=body))
    assert count(qbo, "Invoice") == 0
    assert qbo.post("invoice", json=body).status_code == 200


def test_ignore_requestid_makes_a_repeated_requestid_create_a_second_object(control: httpx.Client, qbo: Qbo) -> None:
    body = invoice_body(qbo)
    first = create_invoice(qbo, {**body})
    assert qbo.post("invoice", json=body, requestid="same").status_code == 200
    replay = qbo.post("invoice", json=body, requestid="same")
    assert count(qbo, "Invoice") == 2  # the replay was answered from the first call, nothing new
    _rule(control, qbo, kind="ignore_requestid", match="invoice")
    again = qbo.post("invoice", json=body, requestid="same")
    assert again.status_code == 200
    assert again.json()["Invoice"]["Id"] not in (first["Id"], replay.json()["Invoice"]["Id"])
    assert count(qbo, "Invoice") == 3


def test_match_method_skip_and_count(control: httpx.Client, qbo: Qbo) -> None:
    body = invoice_body(qbo)
    rule = _rule(control, qbo, kind="fail_before_commit", match="INVOICE", method="post", skip=1, count=2)
    assert rule["match"] == "invoice"
    assert rule["method"] == "POST"
    assert qbo.post("invoice", json=body).status_code == 200  # skipped
    assert qbo.get("invoice/1").status_code == 200  # GET: not matched
    assert qbo.post("customer", json={"DisplayName": "Not Matched"}).status_code == 200  # path: not matched
    assert qbo.post("invoice", json=body).status_code == 503
    assert qbo.post("invoice", json=body).status_code == 503
    assert qbo.post("invoice", json=body).status_code == 200  # count used up
    assert count(qbo, "Invoice") == 2
    (listed,) = control.get(f"/_sandbox/companies/{qbo.realm_id}/faults").json()["faults"]
    assert listed == {**rule, "applied": 2}


def test_count_null_applies_until_cleared(control: httpx.Client, qbo: Qbo) -> None:
    _rule(control, qbo, kind="throttle", count=None)
    for _ in range(3):
        assert_throttled(qbo.get(f"companyinfo/{qbo.realm_id}"))
    cleared = control.delete(f"/_sandbox/companies/{qbo.realm_id}/faults")
    assert cleared.status_code == 200
    assert cleared.json() == {"faults": []}
    assert control.get(f"/_sandbox/companies/{qbo.realm_id}/faults").json() == {"faults": []}
    assert qbo.get(f"companyinfo/{qbo.realm_id}").status_code == 200


def test_a_query_rule_matches_the_query_text(control: httpx.Client, qbo: Qbo) -> None:
    _rule(control, qbo, kind="throttle", match="from item", count=None)
    assert qbo.query("select * from Customer").status_code == 200
    assert_throttled(qbo.query("select * from Item"))
    posted = qbo.http.post(qbo.url("query"), content="SELECT * FROM Item", headers={**qbo.headers(),
                           "Content-Type": "application/text"})  # fmt: skip
    assert_throttled(posted)


def test_rules_are_per_company(control: httpx.Client, qbo: Qbo) -> None:
    other = connect(control, sample_data=False)
    _rule(control, qbo, kind="throttle", count=None)
    assert other.get(f"companyinfo/{other.realm_id}").status_code == 200
    assert_throttled(qbo.get(f"companyinfo/{qbo.realm_id}"))
    assert control.get(f"/_sandbox/companies/{other.realm_id}/faults").json() == {"faults": []}


def test_listing_rules(control: httpx.Client, qbo: Qbo) -> None:
    assert control.get(f"/_sandbox/companies/{qbo.realm_id}/faults").json() == {"faults": []}
    latency = _rule(control, qbo, kind="latency", seconds=2)
    assert set(latency) == RULE_KEYS
    assert {k: v for k, v in latency.items() if k != "id"} == {
        "kind": "latency", "method": None, "match": "", "skip": 0, "count": 1, "status": 503, "seconds": 2.0,
        "applied": 0,
    }  # fmt: skip
    fail = _rule(control, qbo, kind="fail_before_commit", status=502, match="batch", method="GET", skip=3, count=None)
    assert {k: v for k, v in fail.items() if k != "id"} == {
        "kind": "fail_before_commit", "method": "GET", "match": "batch", "skip": 3, "count": None, "status": 502,
        "seconds": 0.0, "applied": 0,
    }  # fmt: skip
    assert fail["id"] != latency["id"]
    listed = control.get(f"/_sandbox/companies/{qbo.realm_id}/faults")
    assert listed.status_code == 200
    assert listed.json() == {"faults": [latency, fail]}


def test_the_request_log(control: httpx.Client, qbo: Qbo) -> None:
    body = invoice_body(qbo)
    control.delete(f"/_sandbox/companies/{qbo.realm_id}/requests").raise_for_status()
    made = qbo.post("invoice", json=body, requestid="log-1")
    _rule(control, qbo, kind="fail_before_commit", match="invoice")
    failed = qbo.post("invoice", json=body)
    _rule(control, qbo, kind="throttle", match="query")
    qbo.query("select * from Invoice")
    read = qbo.get(f"invoice/{made.json()['Invoice']['Id']}")
    log = _log(control, qbo)
    assert [(e["method"], e["path"], e["status"], e["request_id"], e["injected"]) for e in log] == [
        ("POST", "/invoice", 200, "log-1", None),
        ("POST", "/invoice", 503, None, "fail_before_commit"),
        ("GET", "/query", 429, None, "throttle"),
        ("GET", f"/invoice/{made.json()['Invoice']['Id']}", 200, None, None),
    ]
    assert [log[0]["operation"], log[1]["operation"], log[3]["operation"]] == ["create", "create", "read"]
    assert [e["intuit_tid"] for e in log] == [made.headers["intuit_tid"], failed.headers["intuit_tid"],
                                              log[2]["intuit_tid"], read.headers["intuit_tid"]]  # fmt: skip
    assert all(set(e) == {"method", "path", "status", "time", "operation", "request_id", "intuit_tid", "injected",
                          "client_id", "meter"} for e in log)  # fmt: skip
    cleared = control.delete(f"/_sandbox/companies/{qbo.realm_id}/requests")
    assert cleared.status_code == 200
    assert cleared.json() == {"requests": []}
    assert _log(control, qbo) == []


def test_the_request_log_records_a_dropped_answer(control: httpx.Client, qbo: Qbo) -> None:
    body = invoice_body(qbo)
    control.delete(f"/_sandbox/companies/{qbo.realm_id}/requests").raise_for_status()
    _rule(control, qbo, kind="drop_after_commit", match="invoice")
    with pytest.raises(httpx.RemoteProtocolError):
        qbo.post("invoice", json=body, requestid="dropped")
    (entry,) = _log(control, qbo)
    assert (entry["method"], entry["path"], entry["operation"], entry["request_id"], entry["injected"]) == (
        "POST", "/invoice", "create", "dropped", "drop_after_commit",
    )  # fmt: skip


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        (
            {"kind": "explode"},
            "kind must be one of drop_after_commit, fail_before_commit, latency, throttle, ignore_requestid",
        ),
        ({}, "kind must be one of drop_after_commit, fail_before_commit, latency, throttle, ignore_requestid"),
        ({"kind": "latency", "after": 2}, "unknown option(s): after"),
        ({"kind": "throttle", "method": "DELETE"}, "method must be GET or POST"),
        ({"kind": "throttle", "method": 1}, "method must be GET or POST"),
        ({"kind": "throttle", "skip": -1}, "skip must be a whole number ≥ 0"),
        ({"kind": "throttle", "skip": 1.5}, "skip must be a whole number ≥ 0"),
        ({"kind": "throttle", "count": 0}, "count must be a whole number ≥ 1, or null for every matching request"),
        ({"kind": "throttle", "count": True}, "count must be a whole number ≥ 1, or null for every matching request"),
        ({"kind": "fail_before_commit", "status": 404}, "status must be a 5xx HTTP status"),
        ({"kind": "latency", "seconds": 61}, "seconds must be a number from 0 to 60"),
        ({"kind": "latency", "seconds": -1}, "seconds must be a number from 0 to 60"),
        ({"kind": "latency", "seconds": "1"}, "seconds must be a number from 0 to 60"),
        ({"kind": "throttle", "match": 5}, "match must be a string"),
    ],
)
def test_bad_rule_options_are_400(control: httpx.Client, qbo: Qbo, rule: dict[str, Any], message: str) -> None:
    answer = control.post(f"/_sandbox/companies/{qbo.realm_id}/faults", json=rule)
    assert answer.status_code == 400
    assert answer.json() == {"error": message}
    assert control.get(f"/_sandbox/companies/{qbo.realm_id}/faults").json() == {"faults": []}


@pytest.mark.parametrize(("kind", "status"), [("fail_before_commit", 503), ("throttle", 429)])
def test_a_retry_after_a_fault_before_commit_does_the_work(
    control: httpx.Client, qbo: Qbo, kind: str, status: int
) -> None:
    body = invoice_body(qbo)
    _rule(control, qbo, kind=kind, match="invoice")
    assert qbo.post("invoice", json=body, requestid="retry-me").status_code == status
    assert count(qbo, "Invoice") == 0
    retried = qbo.post("invoice", json=body, requestid="retry-me")
    assert retried.status_code == 200, retried.text
    assert count(qbo, "Invoice") == 1
    assert (
        qbo.post("invoice", json=body, requestid="retry-me").json()["Invoice"]["Id"] == retried.json()["Invoice"]["Id"]
    )
    assert count(qbo, "Invoice") == 1
