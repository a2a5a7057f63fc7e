"""Payment status back from QBO: how long a payment made in QuickBooks takes to show on its SO, and what it costs.

    .venv/bin/python bench/payment_status.py [--invoices 20] [--idle 5] [--quick]

Against qbo_sandbox (in this process, its real limits on) and our web app (in this process, receiving the
sandbox's webhooks), with one real worker process (`invoicebridge worker`) on SQLite — database and job queue —
for a company that opted in to payment status (`track_payments`). A bookkeeper records the payments as a QBO user
would: another app of the sandbox, plain HTTP to its QBO API (`POST /payment`).

1. by webhook: `--invoices` invoices, each paid partly, then fully, each payment after the worker sat idle `--idle`
   seconds → seconds from the payment to `Partly paid` / `Paid` on the SO (p50, p95, max), and the metered
   (CorePlus) reads our app made for each payment (the sandbox's request log, our app's calls only);
2. webhooks lost (the sandbox drops the company's events; our invoices' echoes are lost too, so the paced poll runs
   every minute): `--invoices` new invoices, paid partly, then fully, the payments of each step spread evenly over
   one poll interval → seconds from each payment to its status (p50, p95, max), how many CDC polls each took
   (must be 1: the first poll after the payment brings it), and the metered reads of each step.

Prints the machine, the settings and the figures; asserts nothing (speed is never a test)."""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
from revert import Bench as RevertBench  # the same harness (run as a script, bench/ is on the path)
from revert import _directory, _now

from invoicebridge.domain.connection import ConnectionSettings
from invoicebridge.domain.payments import PaymentStatus
from qbo_sandbox.injection import LoggedRequest

PART = Decimal("10.00")  # the first payment of each invoice (of 30.00: 2 × 12.50 + 20 % VAT)
WEBHOOK_TIMEOUT = 60.0  # seconds a payment may take to show by webhook before the bench gives up
POLL_TIMEOUT = 600.0  # the same with webhooks lost (the paced poll runs every minute then)
POLL_INTERVAL = 60.0  # the paced poll's interval while our writes' echoes are lost (sync/pacing.py, `fast`)


@dataclass(frozen=True)
class Invoice:
    order_id: int
    invoice_id: str
    customer_ref: dict[str, Any]
    total: Decimal


@dataclass(frozen=True)
class Shown:
    """One payment: sent at `paid_at`, answered (recorded in QBO) at `recorded_at`, shown on the SO at `shown_at`,
    `seconds` after it was sent."""

    seconds: float
    paid_at: datetime
    recorded_at: datetime
    shown_at: datetime


class Bookkeeper:
    """Someone recording payments in QuickBooks: another app of the sandbox, plain HTTP to the QBO API."""

    def __init__(self, control: httpx.Client, url: str, realm: str) -> None:
        app = control.post("/_sandbox/apps", json={"redirect_uris": ["http://127.0.0.1/none"]}).json()
        tokens = control.post("/_sandbox/tokens", json={"client_id": app["client_id"], "realm_id": realm}).json()
        self.http = httpx.Client(
            base_url=f"{url}/v3/company/{realm}", timeout=30, params={"minorversion": "75"},
            headers={"Authorization": f"Bearer {tokens['access_token']}", "Accept": "application/json"},
        )  # fmt: skip

    def invoice(self, invoice_id: str) -> dict[str, Any]:
        answer = self.http.get(f"/invoice/{invoice_id}")
        if answer.status_code != 200:
            raise SystemExit(f"the bookkeeper could not read invoice {invoice_id}: {answer.status_code} {answer.text}")
        return dict(answer.json()["Invoice"])

    def pay(self, invoice: Invoice, amount: Decimal) -> tuple[datetime, datetime]:
        """A payment of `amount` applied to the invoice: when it was sent and when QBO answered (UTC, the sandbox's
        clock: its log's times compare)."""
        line = {"Amount": str(amount), "LinkedTxn": [{"TxnId": invoice.invoice_id, "TxnType": "Invoice"}]}
        body = {"CustomerRef": invoice.customer_ref, "TotalAmt": str(amount), "Line": [line]}
        sent = datetime.now(UTC)
        answer = self.http.post("/payment", json=body)
        if answer.status_code != 200:
            raise SystemExit(
                f"the sandbox refused a payment of {invoice.invoice_id}: {answer.status_code} {answer.text}"
            )
        return sent, datetime.now(UTC)

    def close(self) -> None:
        self.http.close()


class Bench(RevertBench):
    """bench/revert.py's harness (the sandbox, our app and its web server here, a worker process beside) for a
    company that tracks payments, with a bookkeeper paying in QuickBooks. `close()` stops them."""

    NAME, PREFIX = "Paying", "PY"

    def __init__(self, directory: Path) -> None:
        super().__init__(directory)
        self.bookkeeper = Bookkeeper(self.control, self.sandbox.url, self.realm)

    def settings(self, income: str, tax_mapping: dict[int, str]) -> ConnectionSettings:
        return ConnectionSettings(income, tax_mapping, track_payments=True)  # the opt-in

    def invoice_paid_later(self) -> Invoice:
        """An SO invoiced now (a write to QBO, so the pacing expects its echo), as the bookkeeper sees it in QBO."""
        order_id, invoice_id = self.invoice_new()
        seen = self.bookkeeper.invoice(invoice_id)
        return Invoice(order_id, invoice_id, seen["CustomerRef"], Decimal(str(seen["TotalAmt"])))

    def status(self, order_id: int) -> PaymentStatus | None:
        return self.app.orderbook.get_sales_order(self.company, order_id).order.payment_status

    def shown_after(
        self, order_id: int, wanted: PaymentStatus, paid: tuple[datetime, datetime], timeout: float
    ) -> Shown:
        """Once the SO shows `wanted` (polled every 10 ms): the payment's times."""
        while self.status(order_id) is not wanted:
            if (_now() - paid[0]).total_seconds() > timeout:
                raise SystemExit(f"SO {order_id} not {wanted.text} after {timeout:.0f} s")
            time.sleep(0.01)
        return _shown(paid)

    def our_calls(self, since: datetime, until: datetime | None = None) -> list[LoggedRequest]:
        """Our app's calls to the company's QBO in (since, until] by the sandbox's log (401s were never served)."""
        end = until or datetime.max.replace(tzinfo=UTC)
        calls = self.sandbox.sandbox.injector.requests(self.realm)
        return [r for r in calls if r.client_id == self.client_id and r.status != 401 and since < r.time <= end]

    def wait_for_poll(self, since: datetime, timeout: float = POLL_TIMEOUT) -> None:
        """Until our app has made a CDC poll after `since`."""
        while not any(r.operation == "cdc" for r in self.our_calls(since)):
            if (_now() - since).total_seconds() > timeout:
                raise SystemExit(f"no CDC poll within {timeout:.0f} s")
            time.sleep(0.2)

    def close(self) -> None:
        self.bookkeeper.close()
        super().close()


def by_webhook(
    bench: Bench, invoices: list[Invoice], idle: float
) -> dict[PaymentStatus, tuple[list[float], Counter[str]]]:
    """Each invoice paid partly, then fully, one payment at a time: seconds to the status, and per step the
    metered reads (by operation) our app made for the payments, counted after their webhooks were handled."""
    steps: dict[PaymentStatus, tuple[list[float], Counter[str]]] = {
        PaymentStatus.PARTLY_PAID: ([], Counter()), PaymentStatus.PAID: ([], Counter()),
    }  # fmt: skip
    for n, invoice in enumerate(invoices, 1):
        for wanted, amount in ((PaymentStatus.PARTLY_PAID, PART), (PaymentStatus.PAID, invoice.total - PART)):
            time.sleep(idle)  # the worker sits idle: nothing queued, nothing due
            shown = bench.shown_after(invoice.order_id, wanted, bench.bookkeeper.pay(invoice, amount), WEBHOOK_TIMEOUT)
            bench.settle_webhooks()  # every event of the payment handled: its reads are all in the log
            seconds, reads = steps[wanted]
            seconds.append(shown.seconds)
            calls = bench.our_calls(shown.paid_at)
            reads.update(r.operation for r in calls if r.meter == "CorePlus" and r.operation != "cdc")  # polls: apart
        print(f"  invoice {n}/{len(invoices)}: partly paid {steps[PaymentStatus.PARTLY_PAID][0][-1]:.2f} s, "
              f"paid {steps[PaymentStatus.PAID][0][-1]:.2f} s", flush=True)  # fmt: skip
    return steps


def with_webhooks_lost(bench: Bench, invoices: list[Invoice], wanted: PaymentStatus) -> tuple[list[Shown], list[int]]:
    """One step for every invoice, the payments spread evenly over one poll interval (so they fall at every point
    of the poll's minute), each SO watched until it shows `wanted`: (each payment, CDC polls each took)."""
    gap = POLL_INTERVAL / len(invoices)
    started = time.monotonic()
    paid: dict[int, tuple[datetime, datetime]] = {}
    shown: dict[int, Shown] = {}
    while len(shown) < len(invoices):
        due = int((time.monotonic() - started) // gap) + 1
        for invoice in invoices[len(paid) : due]:
            amount = PART if wanted is PaymentStatus.PARTLY_PAID else invoice.total - PART
            paid[invoice.order_id] = bench.bookkeeper.pay(invoice, amount)
        for order_id, at in paid.items():
            if order_id not in shown and bench.status(order_id) is wanted:
                shown[order_id] = _shown(at)
            elif order_id not in shown and (_now() - at[0]).total_seconds() > POLL_TIMEOUT:
                raise SystemExit(f"SO {order_id} not {wanted.text} after {POLL_TIMEOUT:.0f} s")
        time.sleep(0.05)
    ordered = [shown[i.order_id] for i in invoices]
    # a poll counts for a payment when it ended after QBO recorded the payment and before the SO showed it
    polls = [sum(r.operation == "cdc" for r in bench.our_calls(s.recorded_at, s.shown_at)) for s in ordered]
    return ordered, polls


def _shown(paid: tuple[datetime, datetime]) -> Shown:
    now = _now()
    return Shown((now - paid[0]).total_seconds(), paid[0], paid[1], now)


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def _spread(values: list[float]) -> str:
    return f"p50 {statistics.median(values):.2f} s, p95 {_percentile(values, 0.95):.2f} s, max {max(values):.2f} s"


def _polls(taken: list[int]) -> str:
    counts = sorted(Counter(taken).items())
    return ", ".join(f"{polls} for {n}/{len(taken)} payments" for polls, n in counts)


def _reads(reads: Counter[str], payments: int) -> str:
    total = sum(reads.values())
    detail = ", ".join(f"{n} {operation}" for operation, n in sorted(reads.items())) or "none"
    return f"{total} CorePlus reads for {payments} payments ({detail}) → {total / payments:.2f} per payment"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--invoices", type=int, default=20)
    parser.add_argument("--idle", type=float, default=5.0, help="seconds the worker sits idle before each payment")
    parser.add_argument("--quick", action="store_true", help="3 invoices, 1 s idle")
    args = parser.parse_args()
    if args.quick:
        args.invoices, args.idle = 3, 1.0
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} CPUs, {platform.platform()}, Python {sys.version.split()[0]}"
    )
    with _directory() as directory:
        bench = Bench(directory)
        try:
            settings = bench.app.settings
            print(f"settings: track_payments on; worker on SQLite (db + queue), 2 threads; sandbox limits on, webhooks "
                  f"batched 0.5 s; CDC poll every {settings.cdc_poll_minutes} min while a write awaits its echo "
                  f"(grace {settings.webhook_echo_grace_seconds} s), else every {settings.cdc_idle_hours} h; "
                  f"each invoice 30.00, paid {PART} then the rest")  # fmt: skip
            bench.start_worker()
            started = _now()
            hooked = [bench.invoice_paid_later() for _ in range(args.invoices)]
            bench.wait_for_poll(started)  # the worker's first poll (a new connection's is due at once) is behind us
            bench.settle_webhooks()  # the invoices' echoes came: webhooks healthy, the poll slow
            print(f"1. by webhook: {args.invoices} invoices paid partly, then fully, each payment after the worker sat "
                  f"idle {args.idle:.0f} s")  # fmt: skip
            phase = _now()
            steps = by_webhook(bench, hooked, args.idle)
            for wanted, (seconds, reads) in steps.items():
                print(f"   → {wanted.text} after {_spread(seconds)}; {_reads(reads, len(seconds))}")
            polls = sum(r.operation == "cdc" for r in bench.our_calls(phase))
            print(f"   ({polls} CDC polls during this phase, not counted above)")
            print(f"2. webhooks lost (sandbox drops them): {args.invoices} new invoices paid partly, then fully, each "
                  f"step's payments spread over {POLL_INTERVAL:.0f} s")  # fmt: skip
            bench.webhooks(drop=True)
            made = _now()
            lost = [
                bench.invoice_paid_later() for _ in range(args.invoices)
            ]  # their echoes are lost: the poll runs fast
            bench.wait_for_poll(made)  # a round brought the new invoices; payments start between two polls
            for wanted in (PaymentStatus.PARTLY_PAID, PaymentStatus.PAID):
                step = _now()
                shown, taken = with_webhooks_lost(bench, lost, wanted)
                calls = bench.our_calls(step, max(s.shown_at for s in shown))
                reads = Counter(r.operation for r in calls if r.meter == "CorePlus")
                print(
                    f"   → {wanted.text} after {_spread([s.seconds for s in shown])}; CDC polls until shown: "
                    f"{_polls(taken)}; {_reads(reads, len(shown))}"
                )
            dropped = sum(bench.sandbox.sandbox.webhooks.dropped.values())
            print(f"   ({dropped} webhook events dropped)")
        finally:
            bench.close()


if __name__ == "__main__":
    main()
