"""The limiter's rule in memory, on a clock the tests move: sliding windows counted from each request's end,
batch windows, concurrency slots and their leases; and the client admitting every attempt through it."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from invoicebridge.qbo.auth import StaticTokenSource
from invoicebridge.qbo.client import QboClient, QboConfig
from invoicebridge.qbo.errors import Throttled
from invoicebridge.qbo.limits import LimitRules, MemoryLedger, SharedLimiter

RULES = LimitRules(per_minute=5, concurrent=2, batch_per_minute=2, window_seconds=60.0, margin_seconds=1.0)


@dataclass
class Clock:
    now: float = 1000.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        assert seconds > 0, "a refused admission always says how long to wait"
        self.now += seconds


def ledger(rules: LimitRules = RULES) -> tuple[MemoryLedger, Clock]:
    clock = Clock()
    return MemoryLedger(rules, now=clock), clock


def admit_and_finish(book: MemoryLedger, ticket: str, batch: bool = False) -> None:
    assert book.try_admit("r1", ticket, batch) is None
    book.release("r1", ticket)


# --- the rules -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "numbers",
    [
        {"per_minute": 0},
        {"concurrent": 0},
        {"batch_per_minute": 0},
        {"per_minute": 10, "batch_per_minute": 11},
        {"window_seconds": 0},
        {"margin_seconds": -1},
        {"lease_seconds": 0},
    ],
)
def test_rules_refuse_numbers_that_make_no_sense(numbers: dict[str, float]) -> None:
    with pytest.raises(ValueError):  # noqa: PT011 - each case has its own message
        LimitRules(**numbers)  # type: ignore[arg-type]


def test_the_defaults_are_qbos_limits() -> None:
    rules = LimitRules()
    assert (rules.per_minute, rules.batch_per_minute, rules.concurrent) == (500, 40, 10)
    assert rules.span_seconds == 61.0


# --- windows -------------------------------------------------------------------------------------------------


def test_the_request_past_the_limit_waits_until_the_oldest_leaves_the_window() -> None:
    book, clock = ledger()
    for n in range(5):
        admit_and_finish(book, f"t{n}")
        clock.now += 1
    wait = book.try_admit("r1", "t5", False)
    # the first finished at 1000 and counts for 61 s: free at 1061, it is 1005 now
    assert wait == pytest.approx(56.0)
    clock.now += 55.9
    assert book.try_admit("r1", "t5", False) is not None
    clock.now += 0.2
    assert book.try_admit("r1", "t5", False) is None


def test_a_request_counts_from_when_it_finished_not_when_it_was_admitted() -> None:
    book, clock = ledger(LimitRules(per_minute=1, concurrent=1, batch_per_minute=1))
    assert book.try_admit("r1", "slow", False) is None
    clock.now += 20  # QBO may have received it at any moment of these 20 s
    book.release("r1", "slow")
    clock.now += 60.5  # 80.5 s after admission, 60.5 s after it ended: still inside window + margin
    assert book.try_admit("r1", "next", False) is not None
    clock.now += 0.6
    assert book.try_admit("r1", "next", False) is None


def test_batch_requests_have_their_own_window_and_count_as_requests() -> None:
    book, _ = ledger()
    admit_and_finish(book, "b1", batch=True)
    admit_and_finish(book, "b2", batch=True)
    assert book.try_admit("r1", "b3", True) is not None
    admit_and_finish(book, "q1")  # a plain request still fits: 3 of 5
    assert book.counts("r1") == (3, 2, 0)


def test_realms_are_counted_apart() -> None:
    book, _ = ledger()
    for n in range(5):
        admit_and_finish(book, f"a{n}")
    assert book.try_admit("r1", "a5", False) is not None
    assert book.try_admit("r2", "b0", False) is None


# --- concurrency ---------------------------------------------------------------------------------------------


def test_concurrent_requests_wait_for_a_slot_and_get_it_on_release() -> None:
    book, _ = ledger()
    assert book.try_admit("r1", "a", False) is None
    assert book.try_admit("r1", "b", False) is None
    assert book.try_admit("r1", "c", False) == pytest.approx(0.02)  # a short poll: a slot frees on any release
    book.release("r1", "a")
    assert book.try_admit("r1", "c", False) is None
    assert book.counts("r1") == (3, 0, 2)


def test_a_slot_never_released_is_freed_after_its_lease_and_counts_until_then() -> None:
    rules = LimitRules(per_minute=2, concurrent=1, batch_per_minute=1, lease_seconds=30.0)
    book, clock = ledger(rules)
    assert book.try_admit("r1", "killed", False) is None  # its process dies: never released
    clock.now += 29.9
    assert book.try_admit("r1", "next", False) is not None
    clock.now += 0.2
    assert book.try_admit("r1", "next", False) is None
    # the dead request still counts as if it had ended when its lease did (1030), until 1091
    book.release("r1", "next")
    clock.now = 1090.9
    assert book.try_admit("r1", "third", False) is not None
    clock.now = 1091.1
    assert book.try_admit("r1", "third", False) is None


def test_a_release_after_the_lease_ran_out_still_counts_the_request_until_it_ended() -> None:
    rules = LimitRules(per_minute=1, concurrent=1, batch_per_minute=1, lease_seconds=30.0)
    book, clock = ledger(rules)
    assert book.try_admit("r1", "slow", False) is None
    clock.now += 40  # slower than the lease
    book.release("r1", "slow")
    clock.now += 60.9
    assert book.try_admit("r1", "next", False) is not None


# --- the whole rule, against any sequence ---------------------------------------------------------------------

steps = st.lists(
    st.tuples(
        st.sampled_from(["admit", "batch", "release", "wait"]),
        st.floats(min_value=0.0, max_value=40.0),  # seconds passing before the step
        st.floats(min_value=0.0, max_value=1.0),  # where in its run QBO receives a request
    ),
    max_size=120,
)


@settings(max_examples=150, deadline=None)
@given(steps)
def test_no_sliding_window_qbo_could_draw_ever_holds_more_than_the_limits(
    script: list[tuple[str, float, float]],
) -> None:
    # no margin (the rule alone must hold) and leases longer than the script (every holder is alive)
    rules = LimitRules(6, 3, 2, window_seconds=60.0, margin_seconds=0.0, lease_seconds=1e6)
    book, clock = ledger(rules)
    running: dict[str, tuple[float, float, bool]] = {}  # ticket -> admitted at, arrival fraction, batch
    arrivals: list[tuple[float, bool]] = []  # when QBO received each request
    for n, (step, passing, fraction) in enumerate(script):
        clock.now += passing
        if step in ("admit", "batch") and book.try_admit("r1", f"t{n}", step == "batch") is None:
            running[f"t{n}"] = (clock.now, fraction, step == "batch")
            assert len(running) <= rules.concurrent
        elif step == "release" and running:
            ticket = min(running)
            admitted, part, batch = running.pop(ticket)
            arrivals.append((admitted + part * (clock.now - admitted), batch))
            book.release("r1", ticket)
    arrivals += [(at + part * (clock.now - at), batch) for at, part, batch in running.values()]
    for end, _ in arrivals:  # QBO counts what arrived in (now - 60, now]; the densest such windows end at an arrival
        inside = [batch for at, batch in arrivals if end - rules.window_seconds < at <= end]
        assert len(inside) <= rules.per_minute
        assert sum(inside) <= rules.batch_per_minute


# --- the blocking limiter --------------------------------------------------------------------------------------


def test_admit_sleeps_as_long_as_the_ledger_says_then_goes() -> None:
    book, clock = ledger(LimitRules(per_minute=1, concurrent=1, batch_per_minute=1))
    limiter = SharedLimiter(book, sleep=clock.sleep, jitter=lambda: 0.0)
    with limiter.admit("r1", batch=False):
        pass
    started = clock.now
    with limiter.admit("r1", batch=False):
        assert clock.now - started == pytest.approx(61.0)


def test_the_slot_is_given_back_when_the_request_fails() -> None:
    book, clock = ledger()
    limiter = SharedLimiter(book, sleep=clock.sleep)
    with pytest.raises(RuntimeError), limiter.admit("r1", batch=False):
        raise RuntimeError("the request failed")
    assert book.counts("r1") == (1, 0, 0)


def test_threads_sharing_a_limiter_never_run_more_than_the_cap_at_once() -> None:
    limiter = SharedLimiter(MemoryLedger(LimitRules(per_minute=500, concurrent=3, batch_per_minute=40)))
    lock, running, most = threading.Lock(), [0], [0]

    def work() -> None:
        for _ in range(10):
            with limiter.admit("r1", batch=False):
                with lock:
                    running[0] += 1
                    most[0] = max(most[0], running[0])
                threading.Event().wait(0.002)
                with lock:
                    running[0] -= 1

    threads = [threading.Thread(target=work) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert most[0] == 3


# --- the client ----------------------------------------------------------------------------------------------


@dataclass
class RecordingLimiter:
    """Admits at once and notes each admission and whether a request was on the wire inside it."""

    admissions: list[tuple[str, bool]] = field(default_factory=list)
    inside: list[bool] = field(default_factory=list)
    holding: bool = False

    def admit(self, realm_id: str, *, batch: bool) -> AbstractContextManager[None]:
        return self._held(realm_id, batch)

    @contextmanager
    def _held(self, realm_id: str, batch: bool) -> Iterator[None]:
        self.admissions.append((realm_id, batch))
        self.holding = True
        try:
            yield
        finally:
            self.holding = False


def test_the_client_admits_every_attempt_and_marks_batch_requests() -> None:
    limiter = RecordingLimiter()
    answers = iter([httpx.Response(429, json={}), httpx.Response(200, json={"BatchItemResponse": []})])

    def handler(request: httpx.Request) -> httpx.Response:
        limiter.inside.append(limiter.holding)
        if request.url.path.endswith("/batch"):
            return next(answers)
        return httpx.Response(200, json={"Invoice": {"Id": "1"}})

    with httpx.Client(transport=httpx.MockTransport(handler)) as http:
        config = QboConfig(api_base="https://qbo.example/v3")
        client = QboClient(config, "42", StaticTokenSource("t"), http, sleep=lambda _: None, limiter=limiter)
        client.read("Invoice", "1")
        client.batch([{"bId": "1", "Query": "select * from Term"}])
    assert limiter.admissions == [("42", False), ("42", True), ("42", True)]  # the 429's retry admitted again
    assert limiter.inside == [True, True, True]


def test_a_429_behind_the_limiter_is_still_backed_off_and_retried() -> None:
    answers = iter([httpx.Response(429, headers={"Retry-After": "3"}, json={}), httpx.Response(200, json={})])
    sleeps: list[float] = []
    book, _ = ledger()
    with httpx.Client(transport=httpx.MockTransport(lambda _: next(answers))) as http:
        config = QboConfig(api_base="https://qbo.example/v3")
        limiter = SharedLimiter(book)
        client = QboClient(config, "42", StaticTokenSource("t"), http, sleep=sleeps.append, limiter=limiter)
        assert client.query("select * from Term") == {}
    assert sleeps == [3.0]  # QBO's Retry-After, slept outside the limiter
    assert book.counts("42") == (2, 0, 0)  # both attempts counted on our side, both slots given back


def test_a_429_on_the_last_attempt_reaches_the_caller_as_throttled() -> None:
    with httpx.Client(transport=httpx.MockTransport(lambda _: httpx.Response(429, json={}))) as http:
        config = QboConfig(api_base="https://qbo.example/v3", max_attempts=1)
        client = QboClient(config, "42", StaticTokenSource("t"), http, limiter=SharedLimiter(ledger()[0]))
        with pytest.raises(Throttled):
            client.query("select * from Term")
