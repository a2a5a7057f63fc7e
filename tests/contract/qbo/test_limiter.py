"""The shared limiter for real: several processes on one SQLite file and on one Redis never pass the limits in
any sliding window QBO could draw, never hold more slots than the cap, and a SIGKILLed holder's slot comes back
after its lease; and a client behind it, hammering qbo_sandbox with its throttle on, is never answered 429."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.contract.qbo.conftest import Company, Recorder

from invoicebridge.qbo.auth import StaticTokenSource
from invoicebridge.qbo.client import QboClient, QboConfig
from invoicebridge.qbo.errors import Throttled
from invoicebridge.qbo.limits import Ledger, LimitRules, MemoryLedger, SharedLimiter
from invoicebridge.store.limiter_redis import RedisLedger
from invoicebridge.store.limiter_sqlite import SqliteLedger

REALM = "9130350000000001"

# One worker process: admits `requests` requests through the shared ledger, holds each a random moment, and
# prints [started, ended, batch] measured inside its slot (so the interval covers when QBO could receive it).
WORKER = r"""
import json, random, sys, time
from pathlib import Path
from invoicebridge.qbo.limits import LimitRules, SharedLimiter
spec = json.loads(sys.argv[1])
rules = LimitRules(**spec["rules"])
if spec["backend"] == "sqlite":
    from invoicebridge.store.limiter_sqlite import SqliteLedger
    ledger = SqliteLedger(Path(spec["where"]), rules)
else:
    from invoicebridge.store.limiter_redis import RedisLedger
    ledger = RedisLedger(spec["where"], rules, prefix=spec["prefix"])
limiter = SharedLimiter(ledger)
rng = random.Random(spec["seed"])
for _ in range(spec["requests"]):
    batch = rng.random() < spec["batch_share"]
    with limiter.admit(spec["realm"], batch=batch):
        started = time.time()
        if spec["hold"] < 0:
            print("held", flush=True)
            time.sleep(3600)
        time.sleep(rng.uniform(0, spec["hold"]))
        print(json.dumps([started, time.time(), batch]), flush=True)
"""


class Backend:
    """Where the processes of one test meet: a SQLite file or a Redis key prefix."""

    def __init__(self, kind: str, where: str, prefix: str = "") -> None:
        self.kind, self.where, self.prefix = kind, where, prefix

    def ledger(self, rules: LimitRules) -> SqliteLedger | RedisLedger:
        if self.kind == "sqlite":
            return SqliteLedger(Path(self.where), rules)
        return RedisLedger(self.where, rules, prefix=self.prefix)

    def spawn(self, rules: LimitRules, seed: int, requests: int, hold: float) -> subprocess.Popen[str]:
        spec = {
            "backend": self.kind, "where": self.where, "prefix": self.prefix, "realm": REALM, "seed": seed,
            "requests": requests, "hold": hold, "batch_share": 0.3, "rules": _numbers(rules),
        }  # fmt: skip
        return subprocess.Popen([sys.executable, "-c", WORKER, json.dumps(spec)], stdout=subprocess.PIPE, text=True)


@pytest.fixture(params=["sqlite", pytest.param("redis", marks=pytest.mark.redis)])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    if request.param == "sqlite":
        yield Backend("sqlite", str(tmp_path / "limits.db"))
        return
    host, port = request.getfixturevalue("redis_address")
    shared = Backend("redis", f"redis://{host}:{port}/0", prefix=f"test:limits:{uuid.uuid4().hex}")
    yield shared
    cleanup = RedisLedger(shared.where, LimitRules(), prefix=shared.prefix)
    cleanup.forget(REALM)
    cleanup.close()


def _numbers(rules: LimitRules) -> dict[str, Any]:
    return {name: getattr(rules, name) for name in rules.__dataclass_fields__}


def assert_within_limits(intervals: list[tuple[float, float, bool]], rules: LimitRules) -> None:
    """Whatever moment in [started, ended] QBO received each request, no window (x - W, x] holds more than the
    limits: request i can be in that window iff started_i ≤ x < ended_i + W, densest at some x = started_j."""
    window = rules.window_seconds
    for x, _, _ in intervals:
        possible = [batch for started, ended, batch in intervals if started <= x < ended + window]
        assert len(possible) <= rules.per_minute, f"{len(possible)} requests could fall in one window"
        assert sum(possible) <= rules.batch_per_minute, f"{sum(possible)} batch requests in one window"
        running = [1 for started, ended, _ in intervals if started <= x < ended]
        assert len(running) <= rules.concurrent, f"{len(running)} requests at once"


def test_processes_sharing_the_ledger_stay_within_every_limit(backend: Backend) -> None:
    rules = LimitRules(10, 3, 3, window_seconds=1.0, margin_seconds=0.0, lease_seconds=30.0)
    workers = [backend.spawn(rules, seed, requests=10, hold=0.05) for seed in range(4)]
    intervals: list[tuple[float, float, bool]] = []
    for worker in workers:
        out, _ = worker.communicate(timeout=120)
        assert worker.returncode == 0
        intervals += [tuple(json.loads(line)) for line in out.splitlines()]  # type: ignore[misc]
    assert len(intervals) == 40
    assert_within_limits(intervals, rules)


def test_a_sigkilled_holders_slot_comes_back_after_its_lease(backend: Backend) -> None:
    rules = LimitRules(100, 1, 10, window_seconds=1.0, margin_seconds=0.0, lease_seconds=5.0)
    holder = backend.spawn(rules, seed=0, requests=1, hold=-1)
    assert holder.stdout is not None
    assert holder.stdout.readline().strip() == "held"
    holder.kill()  # SIGKILL: no finally, no release
    holder.wait(timeout=30)
    holder.stdout.close()
    ledger = backend.ledger(rules)
    try:
        assert ledger.counts(REALM)[2] == 1
        assert ledger.try_admit(REALM, "right-after", False) is not None  # the dead process still holds it
        deadline = time.monotonic() + 60  # a bound for a broken lease, not a speed requirement
        while ledger.try_admit(REALM, "after-lease", False) is not None:
            assert time.monotonic() < deadline, "the killed holder's slot never came back"
            time.sleep(0.1)
        assert ledger.counts(REALM) == (2, 0, 1)  # the dead request still counted, the new one holds the slot
    finally:
        ledger.close()


# --- a client behind the limiter against the sandbox's real throttle ------------------------------------------

SANDBOX_LIMITS = {"enabled": True, "per_minute": 12, "batch_per_minute": 4, "concurrent": 3, "window_seconds": 1.5}
TERMS = [{"bId": "1", "Query": "select * from Term"}]


@pytest.fixture(params=["memory", "sqlite"])
def ledger(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Ledger]:
    rules = LimitRules(12, 3, 4, window_seconds=1.5, margin_seconds=0.0)  # exactly the sandbox's
    if request.param == "memory":
        yield MemoryLedger(rules)
        return
    shared = SqliteLedger(tmp_path / "limits.db", rules)
    yield shared
    shared.close()


def client_for(company: Company, http: httpx.Client, recorder: Recorder, limiter: Any) -> QboClient:
    config = QboConfig(api_base=f"{company.base_url}/v3", max_attempts=1)  # a 429 would surface at once
    tokens = StaticTokenSource(company.token_response["access_token"])
    return QboClient(config, company.realm_id, tokens, http, on_exchange=recorder.exchanges.append, limiter=limiter)


def test_threads_behind_the_limiter_are_never_throttled_by_the_sandbox(
    company: Company, http: httpx.Client, recorder: Recorder, ledger: Ledger
) -> None:
    company.control.put("/_sandbox/limits", json=SANDBOX_LIMITS).raise_for_status()
    company.fault("latency", match="companyinfo", count=None, seconds=0.1)  # slow reads: the cap matters
    client = client_for(company, http, recorder, SharedLimiter(ledger))
    failures: list[BaseException] = []

    def work(n: int) -> None:
        try:
            for k in range(6):
                client.batch(TERMS) if (n + k) % 4 == 0 else client.company_info()
        except BaseException as error:
            failures.append(error)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    statuses = [entry["status"] for entry in company.requests()]
    assert len(statuses) == 48
    assert statuses.count(429) == 0
    assert sum(entry["operation"] == "batch" for entry in company.requests()) == 12


def test_the_same_burst_without_a_limiter_is_throttled(
    company: Company, http: httpx.Client, recorder: Recorder
) -> None:
    # the control experiment: the sandbox's limits above do bite (over a minute, so a slow machine cannot let the
    # window pass between the calls)
    company.control.put("/_sandbox/limits", json={**SANDBOX_LIMITS, "window_seconds": 60.0}).raise_for_status()
    client = client_for(company, http, recorder, None)
    for _ in range(12):
        client.company_info()
    with pytest.raises(Throttled):
        client.company_info()
    assert [entry["status"] for entry in company.requests()].count(429) == 1
