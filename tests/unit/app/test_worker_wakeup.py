"""An idle worker sees a new job within a second, whatever the queue: on SQLite its thread looks at least every
quarter second however long the queue stayed empty (huey's default backs off to 10 s), on Redis it blocks on
the queue and never sleeps. Waits are recorded, not slept: nothing here depends on wall-clock speed."""

from __future__ import annotations

from pathlib import Path

import pytest
from huey import Huey

from invoicebridge.jobs.queue import make_huey
from invoicebridge.jobs.worker import IDLE_POLL, consumer


class RecordingFlag:
    """A stop flag whose waits are recorded instead of slept."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    def wait(self, seconds: float) -> bool:
        self.waits.append(seconds)
        return False

    def is_set(self) -> bool:
        return False


def _idle_waits(huey: Huey, looks: int) -> list[float]:
    worker = consumer(huey)._create_worker()
    flag = RecordingFlag()
    worker.stop_flag = flag
    for _ in range(looks):
        worker.loop()  # the queue is empty: look, then wait as the consumer would
    return flag.waits


def test_an_idle_sqlite_worker_looks_at_the_queue_at_least_every_quarter_second(tmp_path: Path) -> None:
    waits = _idle_waits(make_huey(sqlite_path=tmp_path / "jobs.db"), looks=500)  # far past huey's 10 s ceiling
    assert len(waits) == 500
    assert max(waits) <= IDLE_POLL


@pytest.mark.redis
def test_an_idle_redis_worker_blocks_on_the_queue_instead_of_sleeping(redis_address: tuple[str, int]) -> None:
    host, port = redis_address
    huey = make_huey(redis_url=f"redis://{host}:{port}/5")  # a database of its own: it empties its queue
    huey.flush()
    assert _idle_waits(huey, looks=2) == []  # each look blocked in Redis (BZPOPMIN), woken by a job at once
