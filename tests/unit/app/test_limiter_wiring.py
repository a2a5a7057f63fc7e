"""The limiter's settings and where bootstrap keeps its count: a private SQLite file beside the job queue's, or
memory in immediate mode; impossible numbers are refused with the reason."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from pydantic import ValidationError

from invoicebridge.bootstrap import make_limiter
from invoicebridge.qbo.limits import SharedLimiter
from invoicebridge.settings import Settings


@pytest.mark.parametrize(
    ("values", "reason"),
    [
        ({"qbo_requests_per_minute": 0}, "between 1 and 100000"),
        ({"qbo_concurrent_requests": 0}, "between 1 and 100000"),
        ({"qbo_requests_per_minute": 30, "qbo_batch_requests_per_minute": 40}, "cannot exceed"),
        ({"qbo_limit_margin_seconds": -1}, "between 0 and 30"),
        ({"qbo_limit_lease_seconds": 10}, "longer than the 30 s HTTP timeout"),
    ],
)
def test_impossible_limits_are_refused_with_the_reason(values: dict[str, float], reason: str) -> None:
    with pytest.raises(ValidationError, match=reason):
        Settings(**values)  # type: ignore[arg-type]


def test_one_machine_keeps_the_count_in_a_private_file_beside_the_job_queue(tmp_path: Path) -> None:
    limiter = make_limiter(Settings(data_dir=tmp_path))
    with limiter.admit("123", batch=False):
        pass
    made = tmp_path / "limits.db"
    assert stat.S_IMODE(made.stat().st_mode) == 0o600


def test_immediate_mode_counts_in_memory(tmp_path: Path) -> None:
    limiter = make_limiter(Settings(data_dir=tmp_path, jobs_immediate=True))
    with limiter.admit("123", batch=True):
        pass
    assert list(tmp_path.iterdir()) == []


def test_the_settings_numbers_are_the_limiters(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, jobs_immediate=True, qbo_concurrent_requests=1, qbo_limit_lease_seconds=60)
    limiter = make_limiter(settings)
    assert isinstance(limiter, SharedLimiter)
    with limiter.admit("123", batch=False):
        assert limiter.ledger.try_admit("123", "second", False) is not None  # one slot, taken
    assert limiter.ledger.try_admit("123", "second", False) is None
