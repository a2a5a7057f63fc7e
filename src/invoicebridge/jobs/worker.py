"""Running the tasks: `invoicebridge worker` (foreground, stops on SIGINT/SIGTERM after the running tasks) and
the demo's worker started beside the web server in the same process.

A webhook's job must start within a second of being queued, also after a quiet hour (a deleted invoice shows
`Not invoiced` within seconds). huey's consumer polls a queue that cannot block with a delay growing by 15 % per
empty look up to `max_delay` (10 s by default): after an idle minute a job waited seconds. So:

- Redis: the worker threads block on the queue (BZPOPMIN, `jobs/queue.py`) and wake the moment a job is queued;
  the delay only applies after a failed read.
- SQLite: a short ceiling, `IDLE_POLL`. An empty look is one indexed `select 1 … limit 1`; measured idle, two
  worker threads cost 0.16 % of one core at 0.25 s (0.06 % at 0.5 s, 0.03 % at huey's 10 s), so a job waits at
  most a quarter of a second.
"""

from __future__ import annotations

import gc

from huey import Huey
from huey.consumer import Consumer

IDLE_POLL = 0.25  # seconds: the longest an idle worker thread waits between looks at a SQLite queue
BLOCKED_READ_RETRY = 10.0  # seconds: the longest wait after a failed blocking read (Redis down), as huey's default


def consumer(huey: Huey, workers: int = 2) -> Consumer:
    """A consumer with thread workers and the periodic scheduler (the CDC poll), quick to see a new job."""
    max_delay = BLOCKED_READ_RETRY if huey.storage.blocking else IDLE_POLL
    return Consumer(huey, workers=workers, worker_type="thread", periodic=True, scheduler_interval=1,
                    initial_delay=0.1, backoff=1.15, max_delay=max_delay,
                    check_worker_health=True, graceful_signal="TERM")  # fmt: skip


def settle_heap() -> None:
    """Take what startup made (modules, mapped classes, compiled statements, the container) out of the cyclic
    garbage collector's sight: none of it is garbage, yet every full collection walked it all — about 150,000
    objects, ~0.1 s of CPU each time, a few times per thousand invoices of a bulk action (bench/bulk.py: 0.4 ms of
    the engine's CPU per invoice). Call once, when the container is built and before the work starts."""
    gc.collect()
    gc.freeze()


def run(huey: Huey, workers: int = 2) -> None:
    """Run until stopped by a signal."""
    settle_heap()
    consumer(huey, workers).run()
