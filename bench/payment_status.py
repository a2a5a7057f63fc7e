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
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from cryptography.fernet import Fernet

from invoicebridge.bootstrap import Container, build
from invoicebridge.domain import InvoiceState, RowInput
from invoicebridge.domain.connection import ConnectionSettings
from invoicebridge.domain.payments import PaymentStatus
from invoicebridge.qbo.auth import parse_tokens
from invoicebridge.settings import Settings
from invoicebridge.sync.tokens import to_pair
from invoicebridge.web.app import create_app
from qbo_sandbox.injection import LoggedRequest
from qbo_sandbox.sandbox import SandboxConfig
from qbo_sandbox.server import SandboxServer

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


class Bench:
    """One run: the sandbox, our app and its web server here, a worker process beside. `close()` stops them."""

    def __init__(self, directory: Path) -> None:
        self.dir = directory
        self.sandbox = SandboxServer(SandboxConfig())  # Intuit's limits, webhooks batched 0.5 s
        self.sandbox.start()
        self.control = httpx.Client(base_url=self.sandbox.url, timeout=30)
        self.port = _free_port()
        self.realm, self.env = self._sandbox_company()
        self.app = build(Settings(_env_file=self.env), migrate=True)
        self.server = _serve(self.app, self.port)
        self.company = self._our_company()
        self.bookkeeper = Bookkeeper(self.control, self.sandbox.url, self.realm)
        self.worker: subprocess.Popen[bytes] | None = None
        self.made = 0

    def _sandbox_company(self) -> tuple[str, Path]:
        hook = f"http://127.0.0.1:{self.port}/webhooks/qbo"
        app = self.control.post("/_sandbox/apps", json={"redirect_uris": ["http://x/cb"], "webhook_url": hook}).json()
        realm = self.control.post("/_sandbox/companies", json={"name": "Paying Books", "country": "GB"}).json()
        self.client_id = app["client_id"]
        settings = {
            "DATA_DIR": str(self.dir), "QBO_ENVIRONMENT": "local", "QBO_SANDBOX_URL": self.sandbox.url,
            "QBO_CLIENT_ID": app["client_id"], "QBO_CLIENT_SECRET": app["client_secret"],
            "QBO_WEBHOOK_VERIFIER_TOKEN": app["verifier_token"], "TOKEN_KEYS": Fernet.generate_key().decode(),
            "SECRET_KEY": "payments-" + "k" * 40, "PORT": str(self.port), "LOG_LEVEL": "warning",
        }  # fmt: skip
        env = self.dir / "payments.env"
        env.write_text("".join(f"INVOICEBRIDGE_{k}={v}\n" for k, v in settings.items()))
        return realm["realm_id"], env

    def _our_company(self) -> int:
        book = self.app.orderbook
        company = book.create_company("Paying Ltd", "GBP", "Europe/London").id or 0
        rate = book.create_tax_rate(company, "VAT 20%", "20")
        tokens = self.control.post("/_sandbox/tokens", json={"client_id": self.client_id, "realm_id": self.realm})
        self.app.connecting.connect_with_tokens(company, self.realm, to_pair(parse_tokens(tokens.json(), _now())))
        choices = self.app.connecting.choices(company)
        income = next(a["id"] for a in choices.income_accounts if a["name"] == "Sales of Product Income")
        code = next(c["id"] for c in choices.tax_codes if c["name"] == "20.0% S")
        settings = ConnectionSettings(income, {rate.id or 0: code}, track_payments=True)  # the opt-in
        self.app.connecting.save_settings(company, settings)
        self.customer = book.create_customer(company, "Paying Customer", "buyer@paying.example").id or 0
        self.product = book.create_product(company, "PY-1", "Paid item", "12.50", "5").id or 0
        self.rate = rate.id or 0
        return company

    # -- the worker --------------------------------------------------------------------------------------
    def start_worker(self) -> None:
        command = [sys.executable, "-m", "invoicebridge.cli", "--env-file", str(self.env), "worker"]
        with (self.dir / "worker.log").open("wb") as log:
            self.worker = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)

    def stop_worker(self) -> None:
        if self.worker is not None and self.worker.poll() is None:
            self.worker.terminate()
            self.worker.wait(timeout=60)
        self.worker = None

    # -- steps -------------------------------------------------------------------------------------------
    def invoice_new(self) -> Invoice:
        """An SO invoiced now (a write to QBO, so the pacing expects its echo), as the bookkeeper sees it in QBO."""
        self.made += 1
        rows = [RowInput(self.product, "2", None, self.rate)]
        order = self.app.orderbook.create_sales_order(self.company, f"PY-{self.made:04d}", self.customer, rows)
        link = self.app.invoicing.create_invoice(self.company, order.id or 0)
        if link.state is not InvoiceState.INVOICED or link.qbo_invoice_id is None:
            raise SystemExit(f"invoicing failed: {link.state} {link.error_message}")
        seen = self.bookkeeper.invoice(str(link.qbo_invoice_id))
        return Invoice(order.id or 0, str(link.qbo_invoice_id), seen["CustomerRef"], Decimal(str(seen["TotalAmt"])))

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

    def webhooks(self, **settings: bool) -> None:
        self.control.put(f"/_sandbox/companies/{self.realm}/webhooks", json=settings).raise_for_status()

    def settle_webhooks(self) -> None:
        self.control.post("/_sandbox/webhooks/flush", json={"timeout": 60}).raise_for_status()
        time.sleep(1.0)  # the worker handles what was delivered

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
        self.stop_worker()
        self.bookkeeper.close()
        self.server.should_exit = True
        self.app.close()
        self.control.close()
        self.sandbox.stop()


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
            hooked = [bench.invoice_new() for _ in range(args.invoices)]
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
            lost = [bench.invoice_new() for _ in range(args.invoices)]  # their echoes are lost: the poll runs fast
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


@contextmanager
def _directory() -> Iterator[Path]:
    with tempfile.TemporaryDirectory() as name:
        yield Path(name)


def _now() -> datetime:
    return datetime.now(UTC)


def _serve(container: Container, port: int) -> uvicorn.Server:
    server = uvicorn.Server(uvicorn.Config(create_app(container), host="127.0.0.1", port=port, log_level="warning"))
    threading.Thread(target=server.run, daemon=True).start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("our web app did not start")
        time.sleep(0.05)
    return server


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


if __name__ == "__main__":
    main()
