"""Metering like Intuit's App Partner Program, over real HTTP: each app's Core (writes) and CorePlus (reads,
queries, CDC, a batch with a query) calls per month in the request log and the control API, and a monthly
CorePlus cap that cuts an app off — its answer is the sandbox's choice (metering.py, COVERAGE.md)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from tests.contract.sandbox.conftest import Qbo, connect
from tests.contract.sandbox.contract_support import customer, fault, ok

MONTH_AND_MORE = 32 * 86400  # seconds: from any day of a month into the next one


def _usage(control: httpx.Client, qbo: Qbo) -> dict[str, Any]:
    answer = control.get(f"/_sandbox/apps/{qbo.app['client_id']}/usage")
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


def _cap(control: httpx.Client, qbo: Qbo, cap: int | None) -> httpx.Response:
    return control.put(f"/_sandbox/apps/{qbo.app['client_id']}/usage", json={"coreplus_cap": cap})


def _calls(qbo: Qbo) -> None:
    """Two writes, a read, a query, a CDC poll, a batch of writes and a batch with a query."""
    made = customer(qbo, "Metered Co")
    ok(qbo.post("customer", json={"Id": made["Id"], "SyncToken": "0", "sparse": True, "Notes": "n"}), "Customer")
    ok(qbo.get(f"customer/{made['Id']}"), "Customer")
    qbo.rows("select * from Customer")
    since = (datetime.now(UTC) - timedelta(days=1)).isoformat()
    assert qbo.get("cdc", entities="Customer", changedSince=since).status_code == 200
    writes = {"BatchItemRequest": [{"bId": "1", "operation": "create", "Customer": {"DisplayName": "Batch Co"}}]}
    assert qbo.post("batch", json=writes).status_code == 200
    reads = {"BatchItemRequest": [{"bId": "1", "Query": "select * from Item"}]}
    assert qbo.post("batch", json=reads).status_code == 200


def test_writes_count_as_core_and_reads_queries_cdc_as_coreplus(control: httpx.Client, qbo: Qbo) -> None:
    _calls(qbo)
    usage = _usage(control, qbo)
    assert (usage["core"], usage["coreplus"]) == (3, 4)
    assert usage["coreplus_cap"] is None and usage["blocked"] is False
    month = usage["months"][usage["month"]]
    assert month["realms"] == {qbo.realm_id: {"core": 3, "coreplus": 4}}
    logged = control.get(f"/_sandbox/companies/{qbo.realm_id}/requests").json()["requests"]
    by_operation = {(entry["operation"], entry["meter"]) for entry in logged}
    assert {("create", "Core"), ("update", "Core"), ("read", "CorePlus"), ("query", "CorePlus"),
            ("cdc", "CorePlus"), ("batch", "Core"), ("batch", "CorePlus")} == by_operation  # fmt: skip
    assert {entry["client_id"] for entry in logged} == {qbo.app["client_id"]}


def test_a_coreplus_cap_blocks_reads_past_it_until_next_month_while_writes_go_on(
    control: httpx.Client, qbo: Qbo
) -> None:
    assert _cap(control, qbo, 2).status_code == 200
    qbo.rows("select * from Item")
    ok(qbo.get("preferences"), "Preferences")
    error = fault(qbo.query("select * from Item"), 403, "3100", fault_type="AuthorizationFault")
    assert "CorePlus" in error["Detail"] and "limit of 2" in error["Detail"]
    fault(qbo.get("companyinfo/" + qbo.realm_id), 403, "3100", fault_type="AuthorizationFault")
    customer(qbo, "Still Writing Co")  # Core calls are not blocked
    usage = _usage(control, qbo)
    assert (usage["coreplus"], usage["core"], usage["blocked"]) == (2, 1, True)  # refused calls do not count
    assert control.post("/_sandbox/clock/advance", json={"seconds": MONTH_AND_MORE}).status_code == 200
    qbo.tokens = control.post(
        "/_sandbox/tokens", json={"client_id": qbo.app["client_id"], "realm_id": qbo.realm_id}
    ).json()
    assert qbo.rows("select * from Item")  # a new month: unblocked (the cap stays: 1 of 2 used)
    assert _usage(control, qbo)["coreplus"] == 1 and len(_usage(control, qbo)["months"]) == 2


def test_the_cap_is_per_app_and_can_be_lifted(control: httpx.Client, qbo: Qbo) -> None:
    other_app = control.post("/_sandbox/apps", json={"redirect_uris": ["http://localhost/callback"]}).json()
    tokens = control.post("/_sandbox/tokens", json={"client_id": other_app["client_id"], "realm_id": qbo.realm_id})
    other = Qbo(qbo.http, other_app, qbo.company, tokens.json())
    assert _cap(control, qbo, 0).status_code == 200
    fault(qbo.query("select * from Item"), 403, "3100", fault_type="AuthorizationFault")
    assert other.rows("select * from Item")  # another app of the same company is not cut off
    assert _cap(control, qbo, None).json()["blocked"] is False
    assert qbo.rows("select * from Item")


def test_a_throttled_call_is_not_counted(control: httpx.Client, qbo: Qbo) -> None:
    control.post(f"/_sandbox/companies/{qbo.realm_id}/faults", json={"kind": "throttle", "match": "query"})
    fault(qbo.query("select * from Item"), 429, "003001", fault_type="ThrottleExceeded")
    assert _usage(control, qbo)["coreplus"] == 0


def test_the_usage_control_api_refuses_bad_input(control: httpx.Client) -> None:
    qbo = connect(control, sample_data=False)
    for bad in ({"coreplus_cap": -1}, {"coreplus_cap": 1.5}, {"coreplus_cap": True}, {"cap": 3}, {}):
        assert control.put(f"/_sandbox/apps/{qbo.app['client_id']}/usage", json=bad).status_code == 400, bad
    assert control.get("/_sandbox/apps/no-such-app/usage").status_code == 404
    assert control.put("/_sandbox/apps/no-such-app/usage", json={"coreplus_cap": 1}).status_code == 404
    assert control.delete(f"/_sandbox/apps/{qbo.app['client_id']}/usage").status_code == 405
