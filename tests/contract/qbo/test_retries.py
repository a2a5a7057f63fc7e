"""Retries against the sandbox's fault injection: dropped answers, 5xx, throttling, timeouts; the audit log."""

from __future__ import annotations

import time
import uuid

import httpx
import pytest
from tests.contract.qbo.conftest import Company, Recorder, make_client

from invoicebridge.qbo.client import QboClient
from invoicebridge.qbo.errors import DuplicateName, OutcomeUnknown, ServerError, Throttled


def rid() -> str:
    return uuid.uuid4().hex


def count(client: QboClient, name: str) -> int:
    return len(client.query_all("Customer", f"DisplayName = '{name}'"))


def test_a_dropped_create_with_request_id_is_retried_and_creates_one_object(
    company: Company, client: QboClient, recorder: Recorder
) -> None:
    company.fault("drop_after_commit", method="POST", match="customer", count=1)
    request_id = rid()

    made = client.create("Customer", {"DisplayName": "Dropped Once"}, request_id=request_id)

    assert made["DisplayName"] == "Dropped Once"
    assert count(client, "Dropped Once") == 1
    writes = [r for r in company.requests() if r["operation"] == "create"]
    assert [r["request_id"] for r in writes] == [request_id, request_id]
    assert recorder.exchanges[0].status is None
    assert recorder.exchanges[0].error is not None and recorder.exchanges[0].error.startswith("OutcomeUnknown")
    assert len(recorder.sleeps) == 1


def test_a_write_without_request_id_is_not_retried(company: Company, client: QboClient, recorder: Recorder) -> None:
    made = client.create("Customer", {"DisplayName": "Plain"}, request_id=rid())
    company.fault("drop_after_commit", method="POST", match="customer", count=1)

    with pytest.raises(OutcomeUnknown):
        client.sparse_update("Customer", made["Id"], made["SyncToken"], {"Notes": "maybe"})

    assert recorder.sleeps == []
    assert client.read("Customer", made["Id"])["Notes"] == "maybe"  # it was applied: the outcome was unknown


def test_a_server_error_on_a_write_without_request_id_is_raised_at_once(
    company: Company, client: QboClient, recorder: Recorder
) -> None:
    made = client.create("Customer", {"DisplayName": "Failing"}, request_id=rid())
    company.fault("fail_before_commit", method="POST", match="customer", count=1, status=503)

    with pytest.raises(ServerError) as raised:
        client.update("Customer", {**made, "Notes": "never"})

    assert raised.value.status == 503
    assert raised.value.code == "10000"
    assert recorder.sleeps == []


def test_a_server_error_on_a_read_is_retried(company: Company, client: QboClient, recorder: Recorder) -> None:
    company.fault("fail_before_commit", method="GET", match="preferences", count=2, status=500)

    client.preferences()

    assert [e.status for e in recorder.exchanges] == [500, 500, 200]
    assert recorder.sleeps == [0.5, 1.0]  # backoff 0.5 doubling (jitter pinned to its top)


def test_a_throttle_storm_ends_in_success_after_honouring_retry_after(
    company: Company, client: QboClient, recorder: Recorder
) -> None:
    company.fault("throttle", match="customer", count=3)

    made = client.create("Customer", {"DisplayName": "Patient"}, request_id=rid())

    assert made["DisplayName"] == "Patient"
    assert recorder.sleeps == [1.0, 1.0, 1.0]  # the sandbox sends Retry-After: 1
    assert [e.status for e in recorder.exchanges] == [429, 429, 429, 200]


def test_throttling_past_the_attempts_raises_throttled(
    company: Company, http: httpx.Client, recorder: Recorder
) -> None:
    client = make_client(company, http, recorder, max_attempts=3)
    company.fault("throttle", match="query", count=5)

    with pytest.raises(Throttled) as raised:
        client.query("SELECT * FROM Term")

    assert raised.value.retry_after == 1.0
    assert len(recorder.exchanges) == 3
    assert len(recorder.sleeps) == 2


def test_a_timeout_on_a_create_with_request_id_retries_without_a_duplicate(
    company: Company, http: httpx.Client, recorder: Recorder
) -> None:
    client = make_client(company, http, recorder, timeout=0.3)
    company.fault("latency", method="POST", match="customer", count=1, seconds=0.8)

    client.create("Customer", {"DisplayName": "Slow"}, request_id=rid())

    time.sleep(0.8)  # let the slow first request finish on the server
    assert count(client, "Slow") == 1
    assert recorder.exchanges[0].error is not None and "OutcomeUnknown" in recorder.exchanges[0].error


def test_every_exchange_is_reported_without_the_token(company: Company, client: QboClient, recorder: Recorder) -> None:
    token = company.token_response["access_token"]
    client.create("Customer", {"DisplayName": "Audited"}, request_id="req-1")
    client.query("SELECT * FROM Customer WHERE DisplayName = 'Audited'")
    client.cdc(["Customer"], recorder.exchanges[0].started_at)

    exchanges = recorder.exchanges
    assert [(e.method, e.status) for e in exchanges] == [("POST", 200), ("POST", 200), ("GET", 200)]
    assert exchanges[0].path == f"/v3/company/{company.realm_id}/customer"
    assert exchanges[0].params == {"requestid": "req-1", "minorversion": "75"}
    assert exchanges[1].request_body == "SELECT * FROM Customer WHERE DisplayName = 'Audited'"
    assert all(e.intuit_tid and e.started_at.tzinfo is not None and e.duration_ms >= 0 for e in exchanges)
    assert all(token not in repr(e) for e in exchanges)
    logged = {r["intuit_tid"] for r in company.requests()}
    assert {e.intuit_tid for e in exchanges} <= logged


def test_a_create_failing_before_commit_is_retried_into_one_object(
    company: Company, client: QboClient, recorder: Recorder
) -> None:
    company.fault("fail_before_commit", method="POST", match="customer", count=2, status=503)

    client.create("Customer", {"DisplayName": "Second Time Lucky"}, request_id=rid())

    assert count(client, "Second Time Lucky") == 1
    assert [e.status for e in recorder.exchanges[:3]] == [503, 503, 200]


def test_a_dropped_batch_with_request_id_is_replayed_not_repeated(company: Company, client: QboClient) -> None:
    company.fault("drop_after_commit", method="POST", match="batch", count=1)
    items = [{"bId": str(n), "operation": "create", "Customer": {"DisplayName": f"Batched {n}"}} for n in range(3)]

    answers = client.batch(items, request_id=rid())

    assert [a["Customer"]["DisplayName"] for a in answers] == ["Batched 0", "Batched 1", "Batched 2"]
    assert len(client.query_all("Customer", "DisplayName LIKE 'Batched%'")) == 3


def test_a_dropped_batch_without_request_id_is_not_retried(company: Company, client: QboClient) -> None:
    company.fault("drop_after_commit", method="POST", match="batch", count=1)
    items = [{"bId": "1", "operation": "create", "Customer": {"DisplayName": "Unsure"}}]

    with pytest.raises(OutcomeUnknown):
        client.batch(items)

    assert count(client, "Unsure") == 1


def test_when_qbo_ignores_the_request_id_the_retried_create_meets_the_first(
    company: Company, client: QboClient
) -> None:
    """Why callers must look an object up after an unknown outcome (qbo-reference.md, Idempotency): the client
    alone cannot prevent the repeat; for a named object QBO's uniqueness rule surfaces it as DuplicateName."""
    company.fault("ignore_requestid", method="POST", match="customer", count=2)
    company.fault("drop_after_commit", method="POST", match="customer", count=1)

    with pytest.raises(DuplicateName):
        client.create("Customer", {"DisplayName": "Doubled"}, request_id=rid())

    assert count(client, "Doubled") == 1
