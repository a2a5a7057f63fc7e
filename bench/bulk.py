"""Bulk invoicing at QuickBooks' speed limit: QBO requests per invoice (and how many of them are metered reads),
invoices per minute for one company, and the engine's CPU per invoice.

    .venv/bin/python bench/bulk.py [--orders 1000] [--customers 200] [--skus 300] [--workers 4] [--limits real|off]

qbo_sandbox runs in its own process (`qbo-sandbox serve`, with QBO's real limits or none — and then our own
limiter opened wide too), so this process's CPU time is the engine's alone: the web side's bulk action
(`Jobs.invoice`, as the Sell screen and the CLI call it) and huey worker threads running the batch jobs, on
SQLite. The same number of SOs is invoiced twice: first with cold caches (an empty mirror, preferences not read
yet, every customer and item still to be created in QBO), then a second set for the same customers and products,
warm. Prints figures; asserts nothing (speed is never a test).
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from cryptography.fernet import Fernet
from huey.consumer import Consumer

from invoicebridge.bootstrap import Container, build
from invoicebridge.domain import InvoiceState, PageRequest, RowInput
from invoicebridge.domain.connection import ConnectionSettings
from invoicebridge.jobs.worker import settle_heap
from invoicebridge.qbo.auth import parse_tokens
from invoicebridge.settings import Settings
from invoicebridge.sync.tokens import to_pair

METERED = ("read", "query", "cdc")  # CorePlus: data out (qbo-reference.md, "Metering")
# With the sandbox's limits off, our own limiter is opened wide too: that run measures the engine, not the wait.
_UNLIMITED: dict[str, Any] = {"qbo_requests_per_minute": 100_000, "qbo_batch_requests_per_minute": 100_000}


@dataclass(frozen=True)
class Phase:
    name: str
    invoices: int
    failed: int
    seconds: float
    cpu_seconds: float
    requests: int
    metered: int
    batches: int
    throttled: int

    def lines(self) -> list[str]:
        per = max(self.invoices, 1)
        return [
            f"{self.name}: {self.invoices} invoiced, {self.failed} failed in {self.seconds:.1f} s "
            f"→ {self.invoices / self.seconds * 60:,.0f} invoices/min",
            f"  QBO requests per invoice {self.requests / per:.3f} ({self.requests} requests: {self.batches} batch, "
            f"{self.metered} metered reads → CorePlus per invoice {self.metered / per:.4f}); 429 answers: "
            f"{self.throttled}",
            f"  engine CPU per invoice {self.cpu_seconds / per * 1000:.2f} ms ({self.cpu_seconds:.1f} s CPU)",
        ]


def main() -> None:
    args = _arguments()
    print(f"machine: {platform.machine()}, {os.cpu_count()} CPUs, Python {sys.version.split()[0]}; SQLite; "
          f"sandbox limits {args.limits}; {args.orders} SOs × 2, {args.customers} customers, {args.skus} SKUs, "
          f"1–5 rows; {args.workers} worker threads")  # fmt: skip
    with _sandbox(args.limits) as url, tempfile.TemporaryDirectory() as tmp:
        control = httpx.Client(base_url=url, timeout=60)
        container, realm, company_id = _setup(control, url, Path(tmp), args.limits)
        settle_heap()  # as `invoicebridge worker` does once its container is built
        try:
            customers, products = _catalogue(container, company_id, args.customers, args.skus)
            for name in ("cold", "warm"):
                orders = _orders(container, company_id, customers, products, args.orders, name)
                phase = _run(container, control, realm, company_id, orders, args.workers, name)
                print("\n".join(phase.lines()), flush=True)
        finally:
            container.close()
            control.close()


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--orders", type=int, default=1000)
    parser.add_argument("--customers", type=int, default=200)
    parser.add_argument("--skus", type=int, default=300)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--limits", choices=["real", "off"], default="real")
    return parser.parse_args()


@contextmanager
def _sandbox(limits: str) -> Iterator[str]:
    port = _free_port()
    command = [sys.executable, "-m", "qbo_sandbox", "serve", "--port", str(port), "--limits", limits,
               "--log-level", "warning"]  # fmt: skip
    process = subprocess.Popen(command)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{url}/_sandbox/health").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise SystemExit("qbo-sandbox did not start")
            time.sleep(0.2)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)


def _setup(control: httpx.Client, url: str, tmp: Path, limits: str) -> tuple[Container, str, int]:
    app = control.post("/_sandbox/apps", json={"redirect_uris": ["http://x/cb"]}).json()
    realm = control.post("/_sandbox/companies", json={"name": "Bulk", "country": "GB"}).json()["realm_id"]
    tokens = control.post("/_sandbox/tokens", json={"client_id": app["client_id"], "realm_id": realm}).json()
    settings = Settings(data_dir=tmp, qbo_environment="local", qbo_sandbox_url=url,
                        qbo_client_id=app["client_id"], qbo_client_secret=app["client_secret"],
                        qbo_webhook_verifier_token=app["verifier_token"], token_keys=Fernet.generate_key().decode(),
                        jobs_immediate=False, **_UNLIMITED if limits == "off" else {})  # fmt: skip
    container = build(settings, migrate=True)
    book = container.orderbook
    company_id = book.create_company("Bulk Ltd", "GBP", "Europe/London").id or 0
    standard = book.create_tax_rate(company_id, "VAT 20%", "20")
    container.connecting.connect_with_tokens(company_id, realm, to_pair(parse_tokens(tokens, datetime.now(UTC))))
    choices = container.connecting.choices(company_id)
    accounts = {a["name"]: a["id"] for a in choices.income_accounts}
    codes = {c["name"]: c["id"] for c in choices.tax_codes}
    container.connecting.save_settings(company_id, ConnectionSettings(
        accounts["Sales of Product Income"], {standard.id or 0: codes["20.0% S"]}))  # fmt: skip
    return container, realm, company_id


def _catalogue(container: Container, company_id: int, customers: int, skus: int) -> tuple[list[int], list[int]]:
    book = container.orderbook
    people = [book.create_customer(company_id, f"Bulk customer {n}", f"bulk{n}@example.com").id or 0
              for n in range(customers)]  # fmt: skip
    goods = [book.create_product(company_id, f"BULK-{n:04d}", f"Bulk product {n}", "12.50", "5").id or 0
             for n in range(skus)]  # fmt: skip
    return people, goods


def _orders(
    container: Container, company_id: int, customers: list[int], products: list[int], count: int, name: str
) -> list[int]:
    rng = random.Random(f"bulk-{name}")
    rate = container.orderbook.list_tax_rates(company_id, PageRequest()).items[0].id
    made = []
    for n in range(count):
        rows = [
            RowInput(product, str(rng.randint(1, 9)), None, rate) for product in rng.sample(products, rng.randint(1, 5))
        ]
        made.append(container.orderbook.create_sales_order(company_id, f"{name[0].upper()}-{n:05d}",
                                                           rng.choice(customers), rows).id or 0)  # fmt: skip
    return made


def _run(
    container: Container, control: httpx.Client, realm: str, company_id: int, orders: list[int], workers: int,
    name: str,
) -> Phase:  # fmt: skip
    logged = len(_requests(control, realm))
    consumer = Consumer(container.jobs.huey, workers=workers, worker_type="thread", periodic=False, max_delay=0.2)
    started, cpu = time.perf_counter(), time.process_time()
    for start in range(0, len(orders), 500):  # as the Sell screen queues a bulk action
        container.jobs.invoice(company_id, orders[start : start + 500])
    consumer.start()
    try:
        while _unsettled(container, company_id):
            time.sleep(0.5)
    finally:
        seconds, cpu_seconds = time.perf_counter() - started, time.process_time() - cpu
        consumer.stop(graceful=True)
    states = _states(container, company_id, orders)
    requests = _requests(control, realm)[logged:]
    return Phase(
        name, sum(s is InvoiceState.INVOICED for s in states), sum(s is InvoiceState.FAILED for s in states),
        seconds, cpu_seconds, len(requests), sum(r["operation"] in METERED for r in requests),
        sum(r["operation"] == "batch" for r in requests), sum(r["status"] == 429 for r in requests),
    )  # fmt: skip


def _unsettled(container: Container, company_id: int) -> int:
    """Invoices of the company still queued or being made (one cheap count: the wait must not cost the CPU it
    measures)."""
    with container.engine.connect() as connection:
        return int(connection.exec_driver_sql(
            f"SELECT COUNT(*) FROM invoice_links WHERE company_id = {int(company_id)} "
            "AND state IN ('queued', 'creating')"
        ).scalar_one())  # fmt: skip


def _states(container: Container, company_id: int, orders: list[int]) -> list[InvoiceState]:
    with container.engine.connect() as connection:
        rows = connection.exec_driver_sql(
            f"SELECT state FROM invoice_links WHERE company_id = {int(company_id)} AND sales_order_id IN "
            f"({', '.join(str(int(o)) for o in orders)})"
        ).all()
    return [InvoiceState(row[0]) for row in rows] if len(rows) == len(orders) else [InvoiceState.QUEUED]


def _requests(control: httpx.Client, realm: str) -> list[dict[str, Any]]:
    return list(control.get(f"/_sandbox/companies/{realm}/requests").json()["requests"])


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


if __name__ == "__main__":
    main()
