"""Status back from QBO: how long a deleted invoice takes to show `Not invoiced`, and what the CDC poll costs.

    .venv/bin/python bench/revert.py [--deletes 20] [--idle 60] [--lost 3] [--days 30] [--quick]

Against qbo_sandbox (in this process, its real limits on) and our web app (in this process, receiving the
sandbox's webhooks), with one real worker process (`invoicebridge worker`) on SQLite — database and job queue:

1. by webhook: `--deletes` invoices deleted in the sandbox's UI, each after the worker sat idle `--idle` seconds
   → seconds from the delete to `Not invoiced` (p50, p95, max);
2. webhooks lost (the sandbox drops the company's events): `--lost` rounds of "invoice an SO, delete it and an
   older invoice" → seconds from the delete to `Not invoiced`, which only the paced CDC poll can bring;
3. an idle company with healthy webhooks over `--days` simulated days: the worker stopped, the poll's ticks driven
   here on the sandbox's clock (advanced a minute per tick) → the CDC polls and metered (CorePlus) reads it made,
   per 30-day month.

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
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import httpx
import uvicorn
from cryptography.fernet import Fernet

from invoicebridge.bootstrap import Container, build
from invoicebridge.domain import InvoiceState, RowInput
from invoicebridge.domain.connection import ConnectionSettings
from invoicebridge.qbo.auth import parse_tokens
from invoicebridge.settings import Settings
from invoicebridge.sync.reconcile import Reconcile
from invoicebridge.sync.tokens import to_pair
from invoicebridge.web.app import create_app
from qbo_sandbox.sandbox import SandboxConfig
from qbo_sandbox.server import SandboxServer

COREPLUS = ("read", "query", "cdc")  # the sandbox log's operations that take data out (metered)
LOST_TIMEOUT = 600.0  # seconds a deletion may take to come back with webhooks lost before the bench gives up


class Bench:
    """One run: the sandbox, our app and its web server here, a worker process beside. `close()` stops them.
    bench/payment_status.py runs on the same harness, under its own NAME and settings."""

    NAME, PREFIX = "Revert", "RV"  # the sandbox's and our company's names, the SOs' and the SKU's prefix

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
        self.worker: subprocess.Popen[bytes] | None = None
        self.made = 0

    def _sandbox_company(self) -> tuple[str, Path]:
        hook = f"http://127.0.0.1:{self.port}/webhooks/qbo"
        app = self.control.post("/_sandbox/apps", json={"redirect_uris": ["http://x/cb"], "webhook_url": hook}).json()
        realm = self.control.post("/_sandbox/companies", json={"name": f"{self.NAME} Books", "country": "GB"}).json()
        self.client_id = app["client_id"]
        settings = {
            "DATA_DIR": str(self.dir), "QBO_ENVIRONMENT": "local", "QBO_SANDBOX_URL": self.sandbox.url,
            "QBO_CLIENT_ID": app["client_id"], "QBO_CLIENT_SECRET": app["client_secret"],
            "QBO_WEBHOOK_VERIFIER_TOKEN": app["verifier_token"], "TOKEN_KEYS": Fernet.generate_key().decode(),
            "SECRET_KEY": self.NAME.lower() + "-" + "k" * 40, "PORT": str(self.port), "LOG_LEVEL": "warning",
        }  # fmt: skip
        env = self.dir / f"{self.NAME.lower()}.env"
        env.write_text("".join(f"INVOICEBRIDGE_{k}={v}\n" for k, v in settings.items()))
        return realm["realm_id"], env

    def _our_company(self) -> int:
        book = self.app.orderbook
        company = book.create_company(f"{self.NAME} Ltd", "GBP", "Europe/London").id or 0
        rate = book.create_tax_rate(company, "VAT 20%", "20")
        tokens = self.control.post("/_sandbox/tokens", json={"client_id": self.client_id, "realm_id": self.realm})
        self.app.connecting.connect_with_tokens(company, self.realm, to_pair(parse_tokens(tokens.json(), _now())))
        choices = self.app.connecting.choices(company)
        income = next(a["id"] for a in choices.income_accounts if a["name"] == "Sales of Product Income")
        code = next(c["id"] for c in choices.tax_codes if c["name"] == "20.0% S")
        self.app.connecting.save_settings(company, self.settings(income, {rate.id or 0: code}))
        name = self.NAME.lower()
        self.customer = book.create_customer(company, f"{self.NAME} Customer", f"buyer@{name}.example").id or 0
        self.product = book.create_product(company, f"{self.PREFIX}-1", f"{self.NAME} item", "12.50", "5").id or 0
        self.rate = rate.id or 0
        return company

    def settings(self, income: str, tax_mapping: dict[int, str]) -> ConnectionSettings:
        return ConnectionSettings(income, tax_mapping)

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
    def invoice_new(self) -> tuple[int, str]:
        """An SO invoiced now (a write to QBO, so the pacing expects its echo): its id and its QBO invoice's."""
        self.made += 1
        rows = [RowInput(self.product, "2", None, self.rate)]
        number = f"{self.PREFIX}-{self.made:04d}"
        order = self.app.orderbook.create_sales_order(self.company, number, self.customer, rows)
        link = self.app.invoicing.create_invoice(self.company, order.id or 0)
        if link.state is not InvoiceState.INVOICED or link.qbo_invoice_id is None:
            raise SystemExit(f"invoicing failed: {link.state} {link.error_message}")
        return order.id or 0, link.qbo_invoice_id

    def delete_in_qbo(self, invoice_id: str) -> float:
        """What a bookkeeper does in QuickBooks; the moment it was done (monotonic)."""
        answer = self.control.post("/app/invoice/delete", data={"txnId": invoice_id, "realmId": self.realm})
        if answer.status_code not in (200, 303):  # 303: back to the invoice list, as QBO's UI does
            raise SystemExit(f"the sandbox did not delete invoice {invoice_id}: {answer.status_code} {answer.text}")
        return time.monotonic()

    def back_after(self, order_id: int, deleted_at: float, timeout: float) -> float:
        """Seconds from the delete until the SO shows Not invoiced (polled every 10 ms)."""
        while self.app.orderbook.invoice_link(self.company, order_id).state is not InvoiceState.NOT_INVOICED:
            if time.monotonic() - deleted_at > timeout:
                raise SystemExit(f"SO {order_id} not back after {timeout:.0f} s")
            time.sleep(0.01)
        return time.monotonic() - deleted_at

    def webhooks(self, **settings: bool) -> None:
        self.control.put(f"/_sandbox/companies/{self.realm}/webhooks", json=settings).raise_for_status()

    def settle_webhooks(self) -> None:
        self.control.post("/_sandbox/webhooks/flush", json={"timeout": 60}).raise_for_status()
        time.sleep(1.0)  # the worker handles what was delivered

    def coreplus_reads(self) -> tuple[int, int]:
        """(CDC polls, CorePlus reads) in the sandbox's log of the company; 401s were never served."""
        served = [r for r in self.sandbox.sandbox.injector.requests(self.realm) if r.status != 401]
        return sum(r.operation == "cdc" for r in served), sum(r.operation in COREPLUS for r in served)

    def close(self) -> None:
        self.stop_worker()
        self.server.should_exit = True
        self.app.close()
        self.control.close()
        self.sandbox.stop()


def by_webhook(bench: Bench, deletes: int, idle: float) -> list[float]:
    invoices = [bench.invoice_new() for _ in range(deletes)]
    bench.settle_webhooks()
    seconds = []
    for n, (order_id, invoice_id) in enumerate(invoices, 1):
        time.sleep(idle)  # the worker sits idle: nothing queued, nothing due
        seconds.append(bench.back_after(order_id, bench.delete_in_qbo(invoice_id), timeout=60))
        print(f"  delete {n}/{deletes}: {seconds[-1]:.2f} s", flush=True)
    return seconds


def with_webhooks_lost(bench: Bench, rounds: int, wait: float) -> list[tuple[float, float]]:
    """(seconds for the SO just invoiced, seconds for an older SO) per round."""
    older = [bench.invoice_new() for _ in range(rounds)]
    bench.settle_webhooks()  # the older ones' echoes came: webhooks healthy, the poll slow
    bench.webhooks(drop=True)
    seconds = []
    for n, old in enumerate(older, 1):
        new = bench.invoice_new()
        time.sleep(wait)  # a bookkeeper looks at the new invoice, then deletes it and an older one
        deleted = {so: bench.delete_in_qbo(invoice_id) for so, invoice_id in (new, old)}
        seconds.append(tuple(bench.back_after(so, at, LOST_TIMEOUT) for so, at in deleted.items()))
        print(f"  round {n}/{rounds}: just made {seconds[-1][0]:.1f} s, older {seconds[-1][1]:.1f} s", flush=True)
    return seconds  # type: ignore[return-value]


def idle_month(bench: Bench, days: int) -> tuple[int, int]:
    """An idle company with healthy webhooks, `days` of minute ticks on the sandbox's clock: (polls, reads)."""
    bench.webhooks(drop=False)
    bench.invoice_new()  # its echo arrives: the webhooks are known to work
    bench.settle_webhooks()
    bench.stop_worker()  # its scheduler ticks on the real clock; here the ticks run on the sandbox's
    clock = bench.sandbox.sandbox.clock
    reconcile = Reconcile(bench.app.uow, bench.app.clients, clock, bench.app.reconcile.pacing)
    bench.sandbox.sandbox.injector.clear_requests(bench.realm)
    for _ in range(days * 24 * 60):
        clock.advance(60)
        for company in reconcile.due_for_poll():
            reconcile.poll_if_due(company)
    return bench.coreplus_reads()


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--deletes", type=int, default=20)
    parser.add_argument("--idle", type=float, default=60.0, help="seconds the worker sits idle before each delete")
    parser.add_argument("--lost", type=int, default=3, help="rounds with webhooks lost")
    parser.add_argument("--days", type=int, default=30, help="simulated days of an idle company")
    parser.add_argument("--quick", action="store_true", help="3 deletes after 5 s idle, 1 lost round, 3 days")
    args = parser.parse_args()
    if args.quick:
        args.deletes, args.idle, args.lost, args.days = 3, 5.0, 1, 3
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} CPUs, {platform.platform()}, Python {sys.version.split()[0]}"
    )
    with _directory() as directory:
        bench = Bench(directory)
        try:
            settings = bench.app.settings
            print(f"settings: worker on SQLite (db + queue), 2 threads; sandbox limits on, webhooks batched 0.5 s; "
                  f"CDC poll every {settings.cdc_poll_minutes} min while a write awaits its echo (grace "
                  f"{settings.webhook_echo_grace_seconds} s), else every {settings.cdc_idle_hours} h")  # fmt: skip
            bench.start_worker()
            print(f"1. by webhook: {args.deletes} deletes, each after the worker sat idle {args.idle:.0f} s")
            hooked = by_webhook(bench, args.deletes, args.idle)
            p50, p95 = statistics.median(hooked), _percentile(hooked, 0.95)
            print(f"   → Not invoiced after p50 {p50:.2f} s, p95 {p95:.2f} s, max {max(hooked):.2f} s")
            print(f"2. webhooks lost (sandbox drops them): {args.lost} rounds")
            lost = with_webhooks_lost(bench, args.lost, wait=5.0)
            flat = [s for pair in lost for s in pair]
            dropped = sum(bench.sandbox.sandbox.webhooks.dropped.values())
            print(
                f"   → Not invoiced by the paced CDC poll after median {statistics.median(flat):.1f} s, "
                f"max {max(flat):.1f} s ({len(flat)} deletes; {dropped} events dropped)"
            )
            print(f"3. an idle company with healthy webhooks, {args.days} simulated days")
            started = time.perf_counter()
            polls, reads = idle_month(bench, args.days)
            scale = 30 / args.days
            print(
                f"   → {polls} CDC polls, {reads} CorePlus reads ({polls * scale:.0f} and {reads * scale:.0f} per "
                f"30-day month; polling every minute: 43,200); {time.perf_counter() - started:.0f} s to simulate"
            )
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
