"""Scale-out: many companies invoiced by 1, 2 and 4 worker processes on PostgreSQL + Redis, against one
qbo_sandbox with QuickBooks' real limits.

    nice -n 19 .venv/bin/python bench/scale.py [--companies 50] [--orders 40] [--workers 1,2,4] [--threads 2]

Each round gets its own companies (a sandbox company each, connected to one of ours), starts its worker processes
(`invoicebridge worker`, one shared settings file, as docs/operations.md deploys them), queues every SO with
`Jobs.invoice` — company after company, as people clicking *Create invoices* would — and waits until every SO is
settled. It prints invoices per minute, QBO requests per invoice, and the highest per-company request rate (per
sliding minute, batch requests apart) and concurrency the sandbox served, beside QuickBooks' limits (500 a minute,
40 batch requests a minute, 10 at once); 429s are counted from the sandbox's request log. Then each SO is checked
in the sandbox by its invoice's customer memo (the SO number): exactly one invoice. Exits 1 when an SO was
invoiced twice, lost or left unsettled. tests/scale/test_scale.py runs a small one and asserts correctness only.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa
from cryptography.fernet import Fernet

from invoicebridge.bootstrap import build
from invoicebridge.domain import InvoiceState, RowInput
from invoicebridge.domain.connection import ConnectionSettings
from invoicebridge.qbo.auth import parse_tokens
from invoicebridge.settings import Settings
from invoicebridge.sync.explain import UNCERTAIN_CODES
from invoicebridge.sync.tokens import to_pair
from qbo_sandbox.sandbox import SandboxConfig
from qbo_sandbox.server import SandboxServer
from qbo_sandbox.throttle import Limits

POSTGRES = "postgresql+psycopg://postgres@localhost:5432/test"
REDIS = "redis://127.0.0.1:6379/8"  # a database of its own: the run empties its queue before and after


@dataclass
class ScaleConfig:
    companies: int = 50
    orders: int = 40  # per company
    workers: int = 2  # processes
    threads: int = 2  # per worker process
    database_url: str = POSTGRES  # a fresh schema in it is made per run and dropped afterwards
    redis_url: str = REDIS
    settle_seconds: float = 900.0  # a guard against a hang, not a figure: past it the unsettled SOs are reported
    seed: int = 20261201


@dataclass
class ScaleReport:
    config: ScaleConfig
    seconds: float = 0.0
    orders: int = 0
    invoiced: int = 0
    failed: list[str] = field(default_factory=list)  # "SO-number: message"
    duplicates: list[str] = field(default_factory=list)
    lost: list[str] = field(default_factory=list)  # QBO and our link disagree
    unsettled: list[str] = field(default_factory=list)
    requests: int = 0
    throttled: int = 0  # 429 answers in the sandbox's request log
    peak_per_minute: int = 0  # the busiest company's busiest sliding minute (requests served)
    peak_batches_per_minute: int = 0
    peak_concurrent: int = 0  # the most requests of one company the sandbox served at once

    @property
    def clean(self) -> bool:
        return not (self.duplicates or self.lost or self.unsettled)

    def lines(self) -> list[str]:
        c, minutes = self.config, max(self.seconds, 1e-9) / 60
        limits = Limits.real()
        return [
            f"{c.workers} worker processes x {c.threads} threads, {c.companies} companies x {c.orders} SOs",
            f"  {self.invoiced}/{self.orders} invoiced in {self.seconds:.1f} s: {self.invoiced / minutes:,.0f} "
            f"invoices/min; {self.requests / max(self.orders, 1):.2f} QBO requests per SO",
            f"  per company at most {self.peak_per_minute} requests in a minute (limit {limits.per_minute}), "
            f"{self.peak_batches_per_minute} batch requests in a minute (limit {limits.batch_per_minute}), "
            f"{self.peak_concurrent} at once (limit {limits.concurrent}); 429 answers: {self.throttled}",
            f"  failed {len(self.failed)} {self.failed[:3]}; duplicates {len(self.duplicates)} {self.duplicates[:5]}; "
            f"lost {len(self.lost)} {self.lost[:5]}; unsettled {len(self.unsettled)} {self.unsettled[:5]}",
        ]


class PeakConcurrency:
    """Sees how many requests of each company the sandbox serves at once: wraps its throttle's guard, which every
    API request passes (a refused request raises before it is counted, as QBO does not serve it)."""

    def __init__(self, sandbox: SandboxServer) -> None:
        throttle = sandbox.sandbox.throttle
        self._guard, self._lock = throttle.guard, threading.Lock()
        self.now: Counter[str] = Counter()
        self.peak: Counter[str] = Counter()
        throttle.guard = self.guard  # type: ignore[method-assign]

    @contextmanager
    def guard(self, realm_id: str, client_id: str, batch: bool = False) -> Iterator[None]:
        with self._guard(realm_id, client_id, batch):
            with self._lock:
                self.now[realm_id] += 1
                self.peak[realm_id] = max(self.peak[realm_id], self.now[realm_id])
            try:
                yield
            finally:
                with self._lock:
                    self.now[realm_id] -= 1


@dataclass
class Company:
    id: int
    realm: str
    numbers: dict[int, str]  # SO id → number


class Scale:
    """One round. Everything it starts is stopped by `close()`."""

    def __init__(self, config: ScaleConfig, sandbox: SandboxServer, peaks: PeakConcurrency, directory: Path) -> None:
        self.config, self.sandbox, self.peaks, self.dir = config, sandbox, peaks, directory
        self.random = random.Random(config.seed)
        self.control = httpx.Client(base_url=sandbox.url, timeout=30)
        self.workers: list[subprocess.Popen[bytes]] = []
        self.env = self._env_file()
        self.app = build(Settings(_env_file=self.env), migrate=True)
        self.app.jobs.huey.flush()  # jobs a killed earlier run left behind
        self.companies: list[Company] = []

    def _env_file(self) -> Path:
        app = self.control.post("/_sandbox/apps", json={"redirect_uris": ["http://127.0.0.1:8000/cb"]}).json()
        self.client_id = app["client_id"]
        settings = {
            "DATA_DIR": str(self.dir), "DATABASE_URL": self.config.database_url, "REDIS_URL": self.config.redis_url,
            "QBO_ENVIRONMENT": "local", "QBO_SANDBOX_URL": self.sandbox.url, "QBO_CLIENT_ID": app["client_id"],
            "QBO_CLIENT_SECRET": app["client_secret"], "TOKEN_KEYS": Fernet.generate_key().decode(),
            "SECRET_KEY": "scale-" + "k" * 40, "LOG_LEVEL": "warning",
        }  # fmt: skip
        env = self.dir / "scale.env"
        env.write_text("".join(f"INVOICEBRIDGE_{k}={v}\n" for k, v in settings.items()))
        return env

    # -- setup -----------------------------------------------------------------------------------------
    def make_companies(self) -> None:
        for n in range(self.config.companies):
            self.companies.append(self._company(n))

    def _company(self, n: int) -> Company:
        realm = self.control.post("/_sandbox/companies", json={"name": f"Scale Books {n}", "country": "US"})
        realm_id = realm.json()["realm_id"]
        book = self.app.orderbook
        company = book.create_company(f"Scale Trading {n}", "USD", "America/New_York").id or 0
        rate = book.create_tax_rate(company, "Sales tax", "8.25").id or 0
        tokens = self.control.post("/_sandbox/tokens", json={"client_id": self.client_id, "realm_id": realm_id})
        self.app.connecting.connect_with_tokens(company, realm_id, to_pair(parse_tokens(tokens.json(), _now())))
        accounts = {a["Name"]: a["Id"] for a in self._qbo(realm_id, "SELECT * FROM Account MAXRESULTS 1000")}
        code = next(c["Id"] for c in self._qbo(realm_id, "SELECT * FROM TaxCode MAXRESULTS 1000") if c["Name"] != "NON")
        self.app.connecting.save_settings(
            company, ConnectionSettings(accounts["Sales of Product Income"], {rate: code})
        )
        customers = [book.create_customer(company, f"Scale Customer {n}-{k}", f"c{k}@scale{n}.example").id
                     for k in range(5)]  # fmt: skip
        products = [book.create_product(company, f"SC-{k}", f"Scale item {k}", f"{5 + k}.25", "2.10").id
                    for k in range(8)]  # fmt: skip
        numbers = {}
        for k in range(self.config.orders):
            rows = [RowInput(p, str(self.random.randint(1, 9)), None, rate)
                    for p in self.random.sample(products, self.random.randint(1, 3))]  # fmt: skip
            order = book.create_sales_order(company, f"SC{n:02d}-{k:04d}", self.random.choice(customers), rows)
            numbers[order.id or 0] = order.number
        self.sandbox.sandbox.injector.clear_requests(realm_id)  # the figures count the invoicing only
        return Company(company, realm_id, numbers)

    def start_workers(self) -> None:
        """Start the worker processes and wait until each has built itself (migrated, connected)."""
        logs = []
        for n in range(self.config.workers):
            log = self.dir / f"worker-{n}.log"
            command = [sys.executable, "-m", "invoicebridge.cli", "--env-file", str(self.env), "worker",
                       "--workers", str(self.config.threads)]  # fmt: skip
            with log.open("wb") as handle:  # the child keeps its own copy
                self.workers.append(subprocess.Popen(command, stdout=handle, stderr=subprocess.STDOUT))
            logs.append(log)
        deadline = time.monotonic() + 120
        while not all("Worker with" in log.read_text() for log in logs):
            if time.monotonic() > deadline or any(w.poll() is not None for w in self.workers):
                raise RuntimeError("a worker did not start:\n" + "\n".join(log.read_text()[-2000:] for log in logs))
            time.sleep(0.2)

    # -- the run ---------------------------------------------------------------------------------------
    def invoice_all(self) -> float:
        """Queue every SO, company after company; seconds until all are settled (or the guard ran out)."""
        self.peaks.peak.clear()
        started = time.monotonic()
        for company in self.companies:
            self.app.jobs.invoice(company.id, list(company.numbers))
        deadline = started + self.config.settle_seconds
        while self._unsettled() and time.monotonic() < deadline:
            time.sleep(0.5)
        return time.monotonic() - started

    def _unsettled(self) -> int:
        """SOs queued, being invoiced, or failed with an unknown outcome (the sweeper looks those up again)."""
        ids = ", ".join(str(c.id) for c in self.companies)
        codes = ", ".join(f"'{code}'" for code in sorted(UNCERTAIN_CODES))
        with self.app.engine.connect() as connection:
            waiting = connection.exec_driver_sql(
                f"SELECT COUNT(*) FROM invoice_links WHERE company_id IN ({ids}) AND (state IN ('queued', 'creating') "
                f"OR (state = 'failed' AND error_code IN ({codes})))"
            ).scalar_one()
        return int(waiting)

    # -- the verdict -----------------------------------------------------------------------------------
    def verdict(self, seconds: float) -> ScaleReport:
        report = ScaleReport(self.config, seconds, orders=sum(len(c.numbers) for c in self.companies))
        for company in self.companies:
            self._judge(company, report)
            self._limits(company, report)
        return report

    def _judge(self, company: Company, report: ScaleReport) -> None:
        memos = Counter(str(i.get("CustomerMemo", {}).get("value", ""))
                        for i in self._qbo(company.realm, "SELECT * FROM Invoice MAXRESULTS 1000"))  # fmt: skip
        for so_id, number in company.numbers.items():
            link = self.app.orderbook.invoice_link(company.id, so_id)
            made = memos.get(number, 0)
            if made > 1:
                report.duplicates.append(number)
            if link.state is InvoiceState.INVOICED:
                report.invoiced += 1
                if made != 1:
                    report.lost.append(number)
            elif link.state is InvoiceState.FAILED and link.error_code not in UNCERTAIN_CODES and not made:
                report.failed.append(f"{number}: {link.error_message}")
            elif made:
                report.lost.append(number)  # QBO has it, we do not know
            else:
                report.unsettled.append(number)

    def _limits(self, company: Company, report: ScaleReport) -> None:
        log = self.sandbox.sandbox.injector.requests(company.realm)
        served = [r for r in log if r.status != 429]
        report.requests += len(log)
        report.throttled += len(log) - len(served)
        report.peak_per_minute = max(report.peak_per_minute, busiest_minute([r.time for r in served]))
        batches = [r.time for r in served if r.operation == "batch"]
        report.peak_batches_per_minute = max(report.peak_batches_per_minute, busiest_minute(batches))
        report.peak_concurrent = max(report.peak_concurrent, self.peaks.peak[company.realm])

    # -- helpers ---------------------------------------------------------------------------------------
    def _qbo(self, realm: str, text: str) -> list[dict[str, Any]]:
        body = self.sandbox.sandbox.backend.query(realm, text)["QueryResponse"]
        return next((v for v in body.values() if isinstance(v, list)), [])

    def close(self) -> None:
        for worker in self.workers:
            worker.send_signal(signal.SIGTERM)  # graceful: the running jobs finish
        for worker in self.workers:
            try:
                worker.wait(timeout=30)
            except subprocess.TimeoutExpired:
                worker.kill()
                worker.wait()
        self.app.jobs.huey.flush()
        self.control.close()
        self.app.close()


def busiest_minute(times: list[datetime]) -> int:
    """The most of these moments that fall in any one sliding minute."""
    stamps, most, first = sorted(t.timestamp() for t in times), 0, 0
    for last, stamp in enumerate(stamps):
        while stamp - stamps[first] >= 60:
            first += 1
        most = max(most, last - first + 1)
    return most


def run(config: ScaleConfig, sandbox: SandboxServer, peaks: PeakConcurrency, directory: Path) -> ScaleReport:
    """One round on the given sandbox (throttle as configured there) and database."""
    scale = Scale(config, sandbox, peaks, directory)
    try:
        scale.make_companies()
        scale.start_workers()
        seconds = scale.invoice_all()
        return scale.verdict(seconds)
    finally:
        scale.close()


@contextmanager
def fresh_schema(admin_url: str) -> Iterator[str]:
    """A new, empty PostgreSQL schema for the run (dropped afterwards); the URL that points into it."""
    schema, engine = f"scale_{uuid.uuid4().hex[:10]}", sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield f"{admin_url}?options=-csearch_path%3D{schema}"
    finally:
        with engine.connect() as connection:
            connection.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        engine.dispose()


def _now() -> datetime:
    return datetime.now(UTC)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--companies", type=int, default=50)
    parser.add_argument("--orders", type=int, default=40, help="SOs per company")
    parser.add_argument("--workers", default="1,2,4", help="worker process counts, one round each")
    parser.add_argument("--threads", type=int, default=2, help="threads per worker process")
    parser.add_argument("--database-url", default=POSTGRES, help="PostgreSQL; each round gets a fresh schema")
    parser.add_argument("--redis-url", default=REDIS)
    args = parser.parse_args()
    machine = f"{platform.machine()}, {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}"
    print(f"machine: {machine}, Python {sys.version.split()[0]}; PostgreSQL + Redis; qbo_sandbox in this process "
          "with QuickBooks' real limits")  # fmt: skip
    clean = True
    with SandboxServer(SandboxConfig(limits=Limits.real())) as sandbox:
        peaks = PeakConcurrency(sandbox)
        for workers in (int(n) for n in args.workers.split(",")):
            config = ScaleConfig(args.companies, args.orders, workers, args.threads, redis_url=args.redis_url)
            with fresh_schema(args.database_url) as url, tempfile.TemporaryDirectory(prefix="scale-") as tmp:
                config.database_url = url
                report = run(config, sandbox, peaks, Path(tmp))
            print("\n".join(report.lines()), flush=True)
            clean = clean and report.clean
    sys.exit(0 if clean else 1)


if __name__ == "__main__":
    main()
