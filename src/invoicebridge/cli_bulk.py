"""`invoicebridge invoice` for many SOs (`--all-not-invoiced`, or a long list of numbers): recorded as bulk runs
like the Sell screen's bulk action, queued with `Jobs.invoice`, and followed with a progress bar (done / failed /
left) read from the SOs' invoices — the figures the Sell screen's panel shows, true whoever runs the jobs.

The queue drains only while a worker runs. `--workers N` runs N worker threads in this process while the bar is
shown; without them, a bar that stands still says how to start a worker. Ctrl-C stops following and loses nothing:
the SOs stay queued (in the database and on the queue) for any worker."""

from __future__ import annotations

import signal
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

from huey import Huey
from huey.consumer import Consumer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from invoicebridge.bootstrap import Container
from invoicebridge.domain import InvoiceStatus, NotFound, OrderFilter
from invoicebridge.domain.bulk import MAX_BULK, BulkFailure, BulkRun

FEW = 20  # up to this many SO numbers are invoiced now, in this process, one line each (as before bulk runs)
MAX_ALL = 1_000_000  # SOs --all-not-invoiced takes at once (recorded as runs of MAX_BULK)
QUEUE_CHUNK = 500  # SOs marked `queued` per transaction: short row locks, as the Sell screen does
REFRESH_SECONDS = 0.5
STALL_SECONDS = 20.0  # no SO settled for this long and no worker threads of ours: say how to start a worker
DRAIN_SECONDS = 30.0  # our worker threads stay this long at most for follow-up jobs (COGS entries)
INTERRUPTED = 130  # the shell's exit status after Ctrl-C
STARTED_BY = "command line (invoicebridge invoice)"
STALL_HINT = (
    "Nothing has moved for {seconds:.0f} s: is a worker running? Start `invoicebridge worker` with the same "
    "settings, or run this again with --workers 2 to invoice in this process. Ctrl-C stops following; the SOs "
    "stay queued."
)


@dataclass(frozen=True)
class Standing:
    """Where the SOs of one command's runs stand now."""

    total: int
    done: int
    left: int
    skipped: int  # invoiced delivery by delivery: a bulk action invoices whole SOs only
    failed: tuple[BulkFailure, ...]

    @property
    def settled(self) -> int:
        return self.total - self.left


def not_invoiced_ids(container: Container, company_id: int) -> list[int]:
    """Every SO with nothing of it on a QuickBooks invoice yet — never tried, waiting, or failed (tried again) —
    oldest first. SOs invoiced partly are left out: the rest of them is invoiced delivery by delivery."""
    wanted = OrderFilter(invoice_status=InvoiceStatus.NOT_INVOICED)
    return container.orderbook.matching_ids(company_id, wanted, MAX_ALL)


def ids_of(container: Container, company_id: int, numbers: Sequence[str]) -> tuple[list[int], list[str]]:
    """The ids of these SO numbers (in the order given, once each), and the numbers that are no SO here."""
    ids: list[int] = []
    unknown: list[str] = []
    for number in dict.fromkeys(numbers):
        try:
            ids.append(container.orderbook.get_sales_order_by_number(company_id, number).order.id or 0)
        except NotFound:
            unknown.append(number)
    return ids, unknown


def queue(container: Container, company_id: int, ids: Sequence[int]) -> list[BulkRun]:
    """Record the SOs as bulk runs of at most MAX_BULK (the Sell screen shows them) and queue their jobs."""
    runs = []
    for start in range(0, len(ids), MAX_BULK):
        run = container.bulk_runs.record(company_id, ids[start : start + MAX_BULK], STARTED_BY)
        for chunk in range(0, len(run.sales_order_ids), QUEUE_CHUNK):
            container.jobs.invoice(company_id, run.sales_order_ids[chunk : chunk + QUEUE_CHUNK])
        runs.append(run)
    return runs


def standing(container: Container, company_id: int, runs: Sequence[BulkRun]) -> Standing:
    """The runs' progress added up (NotFound for another company's run)."""
    parts = [container.bulk_runs.progress(company_id, run.id or 0) for run in runs]
    return Standing(
        sum(p.total for p in parts), sum(p.done for p in parts), sum(p.left for p in parts),
        sum(p.skipped for p in parts), tuple(f for p in parts for f in p.failed),
    )  # fmt: skip


def invoice_many(
    container: Container, company_id: int, ids: Sequence[int], workers: int, out: Console,
    wait: Callable[[float], None] = time.sleep, stall_seconds: float = STALL_SECONDS,
) -> int:  # fmt: skip
    """Queue the SOs, show the bar until none is left, then the outcome; the exit status: 0 all invoiced (or
    skipped), 1 when any failed, INTERRUPTED after Ctrl-C. `wait` is the pause between two looks (a seam for
    tests, as is `stall_seconds`)."""
    if not ids:
        out.print("Nothing to invoice: every SO has an invoice in QuickBooks (or is invoiced delivery by delivery).")
        return 0
    runs = queue(container, company_id, ids)
    out.print(f"Queued {len(ids):,} SOs (run {', '.join(str(r.id) for r in runs)}; the Sell screen shows it too).")

    def look() -> Standing:
        return standing(container, company_id, runs)

    try:
        with worker_threads(container.jobs.huey, workers):
            final = follow(look, out, hint=None if workers else STALL_HINT, stall_seconds=stall_seconds, wait=wait)
            if workers:
                _drain(container.jobs.huey, out, wait)
    except KeyboardInterrupt:
        left = look().left
        out.print(f"Stopped following. {left:,} SOs are still queued: a worker (`invoicebridge worker`) invoices "
                  "them, nothing is lost; the Sell screen shows the run.")  # fmt: skip
        return INTERRUPTED
    report(final, out)
    return 1 if final.failed else 0


def follow(
    look: Callable[[], Standing], out: Console, *, hint: str | None, stall_seconds: float = STALL_SECONDS,
    wait: Callable[[float], None] = time.sleep,
) -> Standing:  # fmt: skip
    """Show the bar until no SO is left; print `hint` once when nothing settles for `stall_seconds`. Ctrl-C
    (KeyboardInterrupt) closes the bar and goes on up."""
    current = look()
    with _bar(out) as bar:
        task = bar.add_task("Invoicing", total=current.total, done=0, failed=0, left=current.total)
        moved_at, last = time.monotonic(), current.left
        while True:
            bar.update(task, completed=current.settled, done=current.done, failed=len(current.failed),
                       left=current.left)  # fmt: skip
            if current.left == 0:
                return current
            wait(REFRESH_SECONDS)
            current = look()
            if current.left != last:
                moved_at, last = time.monotonic(), current.left
            elif hint and time.monotonic() - moved_at >= stall_seconds:
                bar.console.print(hint.format(seconds=stall_seconds), markup=False, highlight=False)
                hint = None  # once is enough


def _bar(out: Console) -> Progress:
    return Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
        TextColumn("[green]{task.fields[done]:,} done[/] · [red]{task.fields[failed]:,} failed[/] · "
                   "{task.fields[left]:,} left"),
        TimeElapsedColumn(), console=out,
    )  # fmt: skip


def report(final: Standing, out: Console) -> None:
    """The outcome, then each failed SO with its sentence (plain text: it may hold anything QBO said)."""
    skipped = f", {final.skipped:,} skipped (invoiced delivery by delivery)" if final.skipped else ""
    out.print(f"Invoiced {final.done:,} of {final.total:,}; {len(final.failed):,} failed{skipped}.")
    for failure in final.failed:
        out.print(f"  {failure.number}: {failure.message}", markup=False, emoji=False, highlight=False, soft_wrap=True)


@contextmanager
def worker_threads(huey: Huey, workers: int) -> Iterator[None]:
    """`workers` worker threads in this process for as long as the block runs; they finish the invoices in hand
    when it ends. No periodic tasks: the sweeper and the CDC poll belong to `invoicebridge worker` (a second CDC
    poll would spend metered reads twice). huey's consumer takes SIGINT/SIGTERM over when it starts; they are given
    back, so Ctrl-C still reaches the bar."""
    if workers == 0 or huey.immediate:  # immediate: the jobs ran as they were queued
        yield
        return
    signals = [signal.SIGINT, signal.SIGTERM, *([signal.SIGHUP] if hasattr(signal, "SIGHUP") else [])]
    handlers = {number: signal.getsignal(number) for number in signals}
    consumer = Consumer(huey, workers=workers, worker_type="thread", periodic=False, max_delay=1.0)
    consumer.start()
    for number, handler in handlers.items():
        signal.signal(number, handler)
    try:
        yield
    finally:
        consumer.stop(graceful=True)


def _drain(huey: Huey, out: Console, wait: Callable[[float], None]) -> None:
    """Keep our threads a little longer for the follow-up jobs the invoices queued (COGS entries)."""
    deadline = time.monotonic() + DRAIN_SECONDS
    while huey.pending_count() and time.monotonic() < deadline:
        wait(REFRESH_SECONDS)
    if pending := huey.pending_count():
        out.print(f"{pending:,} follow-up jobs (e.g. COGS entries) are still queued: `invoicebridge worker` runs them.")
