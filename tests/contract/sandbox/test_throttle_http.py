"""QBO's request limits over real HTTP, set low through PUT /_sandbox/limits: requests a minute, concurrent
requests, batch requests a minute, each counted per company (and app); Intuit's numbers by default."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from tests.contract.sandbox.conftest import Qbo, connect
from tests.contract.sandbox.serving_support import assert_throttled

from qbo_sandbox.sandbox import SandboxConfig
from qbo_sandbox.server import SandboxServer

REAL = {"per_minute": 500, "concurrent": 10, "batch_per_minute": 40, "enabled": True, "window_seconds": 60.0}
BATCH = {"BatchItemRequest": [{"bId": "1", "Query": "select * from Term"}]}


@pytest.fixture
def limited(control: httpx.Client) -> Iterator[Qbo]:
    qbo = connect(control, sample_data=False)
    answer = control.put("/_sandbox/limits", json={"per_minute": 5, "concurrent": 2, "batch_per_minute": 2,
                                                   "enabled": True})  # fmt: skip
    assert answer.status_code == 200
    yield qbo
    control.put("/_sandbox/limits", json={"enabled": False}).raise_for_status()


def _info(qbo: Qbo) -> httpx.Response:
    return qbo.get(f"companyinfo/{qbo.realm_id}")


def test_the_sixth_request_in_a_minute_is_throttled(limited: Qbo) -> None:
    for _ in range(5):
        assert _info(limited).status_code == 200
    refused = _info(limited)
    assert_throttled(refused)
    assert 55 <= int(refused.headers["retry-after"]) <= 60  # when the oldest of the five leaves the window
    assert_throttled(limited.post("customer", json={"DisplayName": "Too Late"}))  # writes count the same
    assert_throttled(limited.query("select * from Customer"))


def test_a_refused_request_is_logged_with_429(control: httpx.Client, limited: Qbo) -> None:
    for _ in range(6):
        _info(limited)
    statuses = [e["status"] for e in control.get(f"/_sandbox/companies/{limited.realm_id}/requests").json()["requests"]]
    assert statuses == [200] * 5 + [429]


def test_limits_are_per_company_and_per_app(control: httpx.Client, limited: Qbo) -> None:
    other_company = control.post("/_sandbox/companies", json={"name": "Other", "sample_data": False}).json()
    same_app_elsewhere = control.post(
        "/_sandbox/tokens", json={"client_id": limited.app["client_id"], "realm_id": other_company["realm_id"]}
    ).json()
    elsewhere = Qbo(control, limited.app, other_company, same_app_elsewhere)
    other_app = connect(control, sample_data=False)  # another app on a company of its own
    second_app = control.post("/_sandbox/apps", json={"redirect_uris": ["http://localhost/callback"]}).json()
    second_tokens = control.post(
        "/_sandbox/tokens", json={"client_id": second_app["client_id"], "realm_id": limited.realm_id}
    ).json()
    same_company_other_app = Qbo(control, second_app, limited.company, second_tokens)
    for _ in range(5):
        assert _info(limited).status_code == 200
    assert_throttled(_info(limited))
    for qbo in (elsewhere, other_app, same_company_other_app):
        for _ in range(5):
            assert _info(qbo).status_code == 200
        assert_throttled(_info(qbo))


def test_too_many_concurrent_requests_are_throttled(control: httpx.Client, limited: Qbo) -> None:
    control.post(f"/_sandbox/companies/{limited.realm_id}/faults",
                 json={"kind": "latency", "seconds": 0.8, "count": None}).raise_for_status()  # fmt: skip
    barrier = threading.Barrier(3)
    answers: list[httpx.Response] = []
    lock = threading.Lock()

    def call() -> None:
        with httpx.Client(base_url=str(control.base_url), timeout=10) as http:
            barrier.wait()
            answer = http.get(limited.url(f"companyinfo/{limited.realm_id}"), headers=limited.headers())
        with lock:
            answers.append(answer)

    threads = [threading.Thread(target=call) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(answer.status_code for answer in answers) == [200, 200, 429]
    refused = next(answer for answer in answers if answer.status_code == 429)
    assert_throttled(refused)
    assert refused.headers["retry-after"] == "1"
    control.delete(f"/_sandbox/companies/{limited.realm_id}/faults").raise_for_status()
    assert _info(limited).status_code == 200  # the slots are free again once the slow calls ended


def test_the_third_batch_in_a_minute_is_throttled(limited: Qbo) -> None:
    for _ in range(2):
        answer = limited.post("batch", json=BATCH)
        assert answer.status_code == 200, answer.text
        assert answer.json()["BatchItemResponse"][0]["bId"] == "1"
    refused = limited.post("batch", json=BATCH)
    assert_throttled(refused)
    assert 55 <= int(refused.headers["retry-after"]) <= 60
    assert _info(limited).status_code == 200  # a plain request still fits the per-minute window (3 of 5)


def test_off_lets_everything_through(control: httpx.Client) -> None:
    qbo = connect(control, sample_data=False)
    control.put("/_sandbox/limits", json={"per_minute": 1, "batch_per_minute": 1, "enabled": False}).raise_for_status()
    for _ in range(4):
        assert _info(qbo).status_code == 200
        assert qbo.post("batch", json=BATCH).status_code == 200


def _limits(server: SandboxServer, method: str = "GET", body: dict[str, Any] | None = None) -> httpx.Response:
    with httpx.Client(base_url=server.url, timeout=10) as http:
        return http.request(method, "/_sandbox/limits", json=body)


def test_intuits_limits_by_default_and_after_reset() -> None:
    with SandboxServer(SandboxConfig(webhook_batch_window=0.05)) as server:
        assert _limits(server).json() == REAL
        assert _limits(server, "PUT", {"per_minute": 5, "enabled": False}).status_code == 200
        with httpx.Client(base_url=server.url, timeout=10) as http:
            assert http.post("/_sandbox/reset").status_code == 200
        assert _limits(server).json() == REAL


def test_the_window_runs_on_the_sandbox_clock(control: httpx.Client, limited: Qbo) -> None:
    for _ in range(5):
        assert _info(limited).status_code == 200
    refused = _info(limited)
    assert_throttled(refused)
    wait = int(refused.headers["retry-after"])
    control.post("/_sandbox/clock/advance", json={"seconds": wait - 5}).raise_for_status()
    assert_throttled(_info(limited))
    control.post("/_sandbox/clock/advance", json={"seconds": 5}).raise_for_status()
    for _ in range(5):
        assert _info(limited).status_code == 200  # the window emptied: five more
    assert_throttled(_info(limited))
