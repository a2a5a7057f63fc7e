"""Scale-out, small: two `invoicebridge worker` processes on PostgreSQL + Redis invoice several companies at once
against a sandbox with QuickBooks' real limits. Correctness only — every SO invoiced exactly once, as the sandbox
sees it, and no request refused or served past a limit — never time. The figures are `bench/scale.py`'s."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from bench.scale import PeakConcurrency, ScaleConfig, run

from qbo_sandbox.sandbox import SandboxConfig
from qbo_sandbox.server import SandboxServer
from qbo_sandbox.throttle import Limits

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.slow]

LIMITS = Limits.real()
REDIS_DATABASE = 7  # a database of its own: the run empties its queue before and after


@pytest.fixture
def throttled_sandbox() -> Iterator[SandboxServer]:
    """A sandbox of this test's own, enforcing QuickBooks' real limits (the shared one runs with them off)."""
    with SandboxServer(SandboxConfig(limits=Limits.real())) as server:
        yield server


def test_two_worker_processes_invoice_four_companies_once_each_within_qbo_limits(
    postgres_url: str, redis_address: tuple[str, int], throttled_sandbox: SandboxServer, tmp_path: Path
) -> None:
    host, port = redis_address
    config = ScaleConfig(
        companies=4, orders=40, workers=2, threads=2, database_url=postgres_url,
        redis_url=f"redis://{host}:{port}/{REDIS_DATABASE}", settle_seconds=100,
    )  # fmt: skip
    peaks = PeakConcurrency(throttled_sandbox)
    report = run(config, throttled_sandbox, peaks, tmp_path)
    print("\n".join(report.lines()))
    assert report.orders == 160
    assert (report.duplicates, report.lost, report.unsettled, report.failed) == ([], [], [], [])
    assert report.invoiced == 160
    assert report.requests > 0  # the sandbox's request log saw the invoicing
    assert report.throttled == 0  # the shared limiter kept every worker under the limits: no 429
    assert report.peak_per_minute <= LIMITS.per_minute
    assert report.peak_batches_per_minute <= LIMITS.batch_per_minute
    assert 1 <= report.peak_concurrent <= LIMITS.concurrent
