"""Throttle: QBO's per-realm-and-app limits, on a clock the tests move."""

from __future__ import annotations

from contextlib import ExitStack

import pytest

from qbo_sandbox import faults
from qbo_sandbox.throttle import Limits, Throttle


class Clock:
    def __init__(self) -> None:
        self.seconds = 1000.0

    def __call__(self) -> float:
        return self.seconds


def serve(throttle: Throttle, count: int, realm: str = "9130", client: str = "app", batch: bool = False) -> None:
    for _ in range(count):
        with throttle.guard(realm, client, batch):
            pass


def test_real_limits_are_intuits_numbers() -> None:
    assert Limits.real() == Limits(per_minute=500, concurrent=10, batch_per_minute=40, enabled=True)


def test_request_501_in_a_minute_is_throttled_with_a_retry_hint() -> None:
    clock = Clock()
    throttle = Throttle(Limits.real(), now=clock)
    serve(throttle, 250)
    clock.seconds += 30
    serve(throttle, 250)
    with pytest.raises(faults.ThrottleFault) as caught:
        serve(throttle, 1)
    assert caught.value.status == 429
    assert caught.value.errors[0].code == "003001"
    assert caught.value.headers() == {"Retry-After": "30"}


def test_window_slides_so_old_requests_stop_counting() -> None:
    clock = Clock()
    throttle = Throttle(Limits(per_minute=3), now=clock)
    serve(throttle, 2)
    clock.seconds += 59
    serve(throttle, 1)
    clock.seconds += 1
    serve(throttle, 2)
    with pytest.raises(faults.ThrottleFault):
        serve(throttle, 1)


def test_limits_are_per_realm_and_per_app() -> None:
    throttle = Throttle(Limits(per_minute=2), now=Clock())
    serve(throttle, 2, realm="9130", client="a")
    serve(throttle, 2, realm="4620", client="a")
    serve(throttle, 2, realm="9130", client="b")
    with pytest.raises(faults.ThrottleFault):
        serve(throttle, 1, realm="9130", client="a")


def test_eleventh_concurrent_request_is_throttled_and_a_finished_one_frees_a_slot() -> None:
    throttle = Throttle(Limits.real(), now=Clock())
    with ExitStack() as stack:
        for _ in range(10):
            stack.enter_context(throttle.guard("9130", "app", False))
        with pytest.raises(faults.ThrottleFault) as caught:
            serve(throttle, 1)
        assert caught.value.headers() == {"Retry-After": "1"}
    serve(throttle, 1)


def test_batch_requests_have_their_own_limit_and_count_toward_the_total() -> None:
    throttle = Throttle(Limits(per_minute=45, batch_per_minute=40), now=Clock())
    serve(throttle, 40, batch=True)
    with pytest.raises(faults.ThrottleFault):
        serve(throttle, 1, batch=True)
    serve(throttle, 5)
    with pytest.raises(faults.ThrottleFault):
        serve(throttle, 1)


def test_refused_requests_do_not_count() -> None:
    clock = Clock()
    throttle = Throttle(Limits(per_minute=1), now=clock)
    serve(throttle, 1)
    for _ in range(5):
        with pytest.raises(faults.ThrottleFault):
            serve(throttle, 1)
    clock.seconds += 60
    serve(throttle, 1)


def test_off_lets_everything_through() -> None:
    throttle = Throttle(Limits.off(), now=Clock())
    with ExitStack() as stack:
        for _ in range(50):
            stack.enter_context(throttle.guard("9130", "app", True))
    serve(throttle, 1000)


def test_configure_changes_the_numbers_and_reset_clears_counts() -> None:
    throttle = Throttle(Limits(per_minute=1), now=Clock())
    serve(throttle, 1)
    throttle.configure(Limits(per_minute=2))
    serve(throttle, 1)
    with pytest.raises(faults.ThrottleFault):
        serve(throttle, 1)
    throttle.reset()
    serve(throttle, 2)
