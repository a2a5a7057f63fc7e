"""The meter's rule (Core / CorePlus, which attempts count) on exchanges a real QboClient reports through a scripted
transport, and the Meter's counting, month, budget warning and failure handling on the in-memory store."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st
from tests.fakes import in_memory_uow_factory

from invoicebridge.qbo.auth import StaticTokenSource
from invoicebridge.qbo.client import Exchange, QboClient, QboConfig
from invoicebridge.qbo.errors import QboError
from invoicebridge.sync.meter import Budget, CallClass, Meter, Usage, call_class, counted, metered, month_of

CORE, PLUS = CallClass.CORE, CallClass.COREPLUS
Handler = Callable[[httpx.Request], httpx.Response]
NOW = datetime(2026, 3, 14, 12, 0, tzinfo=UTC)


def ok(request: httpx.Request) -> httpx.Response:
    return httpx.Response(200, json={"Invoice": {"Id": "1", "SyncToken": "0"}, "QueryResponse": {}})


@contextmanager
def client_for(handler: Handler, seen: list[Exchange]) -> Iterator[QboClient]:
    with httpx.Client(transport=httpx.MockTransport(handler)) as http:
        config = QboConfig(api_base="https://qbo.example/v3", max_attempts=3)
        yield QboClient(config, "42", StaticTokenSource("t"), http, seen.append, sleep=lambda _: None)


def classes(call: Callable[[QboClient], object], handler: Handler = ok) -> list[CallClass | None]:
    """The class each attempt of `call` counts in (None: not counted), in order."""
    seen: list[Exchange] = []
    # the attempts are what is looked at, not how the call ended
    with client_for(handler, seen) as client, suppress(QboError):
        call(client)
    return [metered(exchange) for exchange in seen]


# -- the rule -----------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "call",
    [
        lambda c: c.read("Invoice", "7"),
        lambda c: c.query("SELECT * FROM Customer WHERE PrimaryEmailAddr = 'a@b.example'"),
        lambda c: c.cdc(["Invoice"], NOW),
        lambda c: c.preferences(),
        lambda c: c.company_info(),
    ],
    ids=["read", "query", "cdc", "preferences", "companyinfo"],
)
def test_data_out_is_coreplus(call: Callable[[QboClient], object]) -> None:
    assert classes(call) == [PLUS]


@pytest.mark.parametrize(
    "call",
    [
        lambda c: c.create("Invoice", {"Line": []}, request_id="r1"),
        lambda c: c.update("Customer", {"Id": "1", "SyncToken": "0", "DisplayName": "Query Ltd"}),
        lambda c: c.sparse_update("Customer", "1", "0", {"Notes": "x"}),
        lambda c: c.delete("Invoice", "1", "0"),
        lambda c: c.void("Invoice", "1", "0"),
    ],
    ids=["create", "update", "sparse-update", "delete", "void"],
)
def test_data_in_is_core(call: Callable[[QboClient], object]) -> None:
    assert classes(call) == [CORE]


def test_a_batch_of_creates_is_core_and_one_query_in_it_makes_it_coreplus() -> None:
    creates = [
        {"bId": str(n), "operation": "create", "Invoice": {"CustomerMemo": {"value": "Query"}}} for n in range(3)
    ]
    query = {"bId": "q", "Query": "SELECT * FROM Invoice WHERE DocNumber = 'SO-1'"}
    assert classes(lambda c: c.batch(creates, request_id="b1")) == [CORE]
    assert classes(lambda c: c.batch([*creates, query], request_id="b2")) == [PLUS]


values = st.recursive(st.text(max_size=8) | st.integers(), lambda inner: st.dictionaries(st.text(max_size=8), inner))
write_items = st.lists(
    st.fixed_dictionaries({"bId": st.text(max_size=4), "operation": st.sampled_from(["create", "update", "delete"]),
                           "Invoice": st.dictionaries(st.sampled_from(["Query", "Line", "Memo"]), values)}),
    min_size=1, max_size=30,
)  # fmt: skip


@given(items=write_items, queries=st.lists(st.text(max_size=20), max_size=3))
def test_a_batch_is_coreplus_exactly_when_one_of_its_items_is_a_query(items: list[Any], queries: list[str]) -> None:
    batch = items + [{"bId": f"q{n}", "Query": text} for n, text in enumerate(queries)]
    body = json.dumps({"BatchItemRequest": batch})
    assert call_class("POST", "/v3/company/42/batch", {}, body) is (PLUS if queries else CORE)


def test_a_batch_body_that_cannot_be_read_counts_as_reading() -> None:
    assert call_class("POST", "/v3/company/42/batch", {}, '{"Query": broken') is PLUS
    assert call_class("POST", "/v3/company/42/batch", {}, None) is PLUS


def test_calls_outside_a_company_are_not_metered() -> None:
    assert call_class("POST", "/oauth2/v1/tokens/bearer", {}, "grant_type=refresh_token") is None
    assert call_class("GET", "/v3/company/42", {}, None) is None


def test_a_throttled_attempt_is_not_counted_and_its_served_retry_is() -> None:
    answers = iter([httpx.Response(429, json={"Fault": {"Error": [{"code": "003001"}], "type": "ThrottleExceeded"}})])
    assert classes(lambda c: c.read("Invoice", "7"), lambda r: next(answers, None) or ok(r)) == [None, PLUS]


def test_an_attempt_with_a_refused_token_is_not_counted() -> None:
    fault = {"Fault": {"Error": [{"code": "3200", "Message": "AuthenticationFailed"}], "type": "AUTHENTICATION"}}
    answers = iter([httpx.Response(401, json=fault)])
    assert classes(lambda c: c.create("Invoice", {}, "r1"), lambda r: next(answers, None) or ok(r)) == [None, CORE]


def test_refusals_and_server_errors_count_since_qbo_served_them() -> None:
    fault = {"Fault": {"Error": [{"code": "6240", "Message": "Duplicate Name Exists Error"}], "type": "Validation"}}
    assert classes(lambda c: c.create("Customer", {}, "r1"), lambda r: httpx.Response(400, json=fault)) == [CORE]
    assert classes(lambda c: c.read("Invoice", "7"), lambda r: httpx.Response(503, text="down")) == [PLUS] * 3


def test_a_connection_never_opened_is_not_counted_but_a_lost_answer_is() -> None:
    def refused(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    def lost(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("no answer", request=request)

    assert classes(lambda c: c.read("Invoice", "7"), refused) == [None] * 3
    assert classes(lambda c: c.read("Invoice", "7"), lost) == [PLUS] * 3


def test_the_month_is_the_utc_calendar_month() -> None:
    new_york_evening = datetime(2026, 3, 31, 21, 0, tzinfo=timezone(timedelta(hours=-5)))
    assert month_of(new_york_evening) == "2026-04"
    with pytest.raises(ValueError, match="timezone-aware"):
        month_of(datetime(2026, 3, 31))  # naive: refused


# -- the meter ------------------------------------------------------------------------------------------------------
class Clock:
    def __init__(self, at: datetime = NOW) -> None:
        self.at = at

    def __call__(self) -> datetime:
        return self.at


def exchange(method: str = "GET", path: str = "/v3/company/42/invoice/7", at: datetime = NOW, **kw: Any) -> Exchange:
    fields: dict[str, Any] = {"params": {}, "request_body": None, "status": 200, "response_body": "{}",
                              "intuit_tid": None, "duration_ms": 1.0, "error": None, **kw}  # fmt: skip
    return Exchange(method=method, path=path, started_at=at, **fields)


def meter_with_company(budget: Budget | None = None, clock: Clock | None = None) -> tuple[Meter, int]:
    """A meter on a fresh in-memory store, and a company id to count for."""
    return Meter(in_memory_uow_factory(), budget or Budget(), clock or Clock()), 1


def test_the_meter_counts_each_company_per_month_and_the_deployment_together() -> None:
    meter, _ = meter_with_company()
    for company, ex in [(1, exchange()), (1, exchange("POST", "/v3/company/42/invoice")), (2, exchange()),
                        (1, exchange(at=datetime(2026, 4, 1, tzinfo=UTC))), (1, exchange(status=429))]:  # fmt: skip
        meter.count(company, ex)
    march = meter.usage("2026-03")
    assert (march.of(1).core, march.of(1).coreplus, march.of(2).coreplus) == (1, 1, 1)
    assert (march.deployment.core, march.deployment.coreplus) == (1, 2)
    assert meter.usage("2026-04", [1, 3]).companies == {1: Usage(core=0, coreplus=1), 3: Usage(0, 0)}


def test_the_recorder_counts_then_hands_the_exchange_to_the_audit_trail() -> None:
    meter, company = meter_with_company()
    audited: list[Exchange] = []
    record = meter.recorder(company, then=audited.append)
    record(exchange())
    assert audited == [exchange()] and meter.usage("2026-03").of(company).coreplus == 1


def test_a_failure_to_count_is_logged_and_the_call_goes_on(caplog: pytest.LogCaptureFixture) -> None:
    def broken_store() -> Any:
        raise RuntimeError("database is locked")

    audited: list[Exchange] = []
    record = Meter(broken_store, Budget(), Clock()).recorder(1, then=audited.append)
    record(exchange())
    assert audited == [exchange()]
    assert "not counted" in caplog.text and "database is locked" in caplog.text


def test_past_the_warning_share_a_warning_is_logged_once_a_month(caplog: pytest.LogCaptureFixture) -> None:
    clock = Clock()
    meter, company = meter_with_company(Budget(monthly=10, warn_percent=80), clock)
    for _ in range(12):
        clock.at += timedelta(minutes=2)  # past the once-a-minute look at the total
        meter.count(company, exchange())
    assert meter.usage("2026-03").warning
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "2026-03: 8 of the monthly budget of 10" in warnings[0].getMessage()
    clock.at += timedelta(minutes=2)
    meter.count(company, exchange(at=datetime(2026, 4, 1, tzinfo=UTC)))
    assert not meter.usage("2026-04").warning
    assert len([r for r in caplog.records if r.levelno == logging.WARNING]) == 1


def test_the_warning_waits_for_the_share_and_never_comes_without_a_budget(caplog: pytest.LogCaptureFixture) -> None:
    assert Budget(monthly=500_000).warn_at == 400_000 and Budget(monthly=3, warn_percent=50).warn_at == 2
    clock = Clock()
    meter, company = meter_with_company(Budget(monthly=0), clock)
    for _ in range(5):
        clock.at += timedelta(minutes=2)
        meter.count(company, exchange())
    assert not meter.usage("2026-03").warning and Budget(monthly=0).warn_at is None
    assert not [r for r in caplog.records if r.levelno == logging.WARNING]


def test_a_month_that_is_not_one_is_refused() -> None:
    meter, _ = meter_with_company()
    with pytest.raises(ValueError, match="YYYY-MM"):
        meter.usage("2026-13")


def test_counted_follows_the_status() -> None:
    assert counted(exchange(status=404)) and not counted(exchange(status=429)) and not counted(exchange(status=401))
