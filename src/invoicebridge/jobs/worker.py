"""Running the tasks: `invoicebridge worker` (foreground, stops on SIGINT/SIGTERM after the running tasks) and
the demo's worker started beside the web server in the same process."""

from __future__ import annotations

from huey import Huey
from huey.consumer import Consumer


def consumer(huey: Huey, workers: int = 2) -> Consumer:
    """A consumer with thread workers and the periodic scheduler (the CDC poll)."""
    return Consumer(huey, workers=workers, worker_type="thread", periodic=True, scheduler_interval=1,
                    check_worker_health=True, graceful_signal="TERM")  # fmt: skip


def run(huey: Huey, workers: int = 2) -> None:
    """Run until stopped by a signal."""
    consumer(huey, workers).run()
