"""The fault soak, small: 500 SOs invoiced by two worker processes that are SIGKILLed and restarted while the
sandbox drops answers, fails, throttles, lags and ignores request ids, webhooks come twice and late, and invoices
are deleted in QBO and invoiced again. The full run is `bench/soak.py` (10,000 SOs, 20 kills)."""

from __future__ import annotations

from pathlib import Path

import pytest
from bench.soak import SoakConfig, run

pytestmark = pytest.mark.slow


def test_500_orders_through_kills_and_faults_end_exactly_once(tmp_path: Path) -> None:
    report = run(SoakConfig(orders=500, workers=2, threads=2, kills=5, kill_every=2.0, quiet=True), tmp_path)
    print("\n".join(report.lines()))
    assert report.kills >= 5
    assert sum(report.faults.values()) >= 10
    assert report.deletions >= 1
    assert report.invoiced + report.failed_explained == 500
    assert (report.duplicates, report.lost, report.stuck) == ([], [], [])
    assert (report.cogs_duplicates, report.cogs_missing) == ([], [])
