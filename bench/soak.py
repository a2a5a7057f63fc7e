"""The fault soak: thousands of SOs invoiced by several worker processes while QBO misbehaves and workers die.

    .venv/bin/python bench/soak.py [--orders 10000] [--workers 3] [--kills 20] [--database-url postgresql://…]

Against qbo_sandbox (in this process) and our web app (in this process, receiving the sandbox's webhooks), with
worker processes (`invoicebridge worker`) sharing one database and one queue:

- the sandbox drops responses after commit, fails before commit, answers 429 storms, adds latency and ignores
  request ids — rules added at random, on invoices, journal entries, queries and everything;
- webhooks are delivered twice and late;
- workers are SIGKILLed at random and started again;
- invoices are deleted in QBO at random (the SO goes back by webhook, or by the CDC poll) and invoiced again.

Then the faults stop and everything settles; the sweeper (the workers run it every minute; this driver runs the
same code every few seconds to keep the run short) resumes what the dead workers left. At the end every SO is
checked against the sandbox by its marker: exactly one live invoice, or an explained failure and none; the
deleted ones' old invoices gone; one COGS entry per delivered and invoiced SO. It prints the figures and exits
1 when any duplicate, lost or stuck SO is found. tests/e2e/test_soak.py runs a small one in CI.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from cryptography.fernet import Fernet

from invoicebridge.bootstrap import Container, build
from invoicebridge.domain import InvoiceState, OrderFilter, PageRequest, RowInput
from invoicebridge.domain.connection import AccountingMode, ConnectionSettings
from invoicebridge.domain.records import CogsState
from invoicebridge.qbo.auth import parse_tokens
from invoicebridge.settings import Settings
from invoicebridge.sync.explain import UNCERTAIN_CODES
from invoicebridge.sync.tokens import to_pair
from invoicebridge.web.app import create_app
from qbo_sandbox.sandbox import SandboxConfig
from qbo_sandbox.server import SandboxServer
from qbo_sandbox.throttle import Limits

SETTLED = (InvoiceState.INVOICED, InvoiceState.FAILED, InvoiceState.NOT_INVOICED)
DELETIONS_PER_ROUND = 3


@dataclass
class SoakConfig:
    orders: int = 10_000
    workers: int = 3  # processes
    threads: int = 2  # per worker process
    kills: int = 20  # at least this many SIGKILLs during the chaos
    kill_every: float = 3.0  # seconds between kills
    deletions: int = 0  # invoices deleted in QBO and invoiced again (default: 2 % of the orders)
    fault_every: float = 0.5  # seconds between random fault rules
    chaos_seconds: float = 0.0  # at least this long (default: until every SO was tried and the kills are done)
    settle_seconds: float = 600.0
    claim_stale_seconds: int = 4
    seed: int = 20261129
    database_url: str | None = None
    redis_url: str | None = None
    quiet: bool = False


@dataclass
class SoakReport:
    orders: int
    seconds: float = 0.0
    faults: Counter[str] = field(default_factory=Counter)
    kills: int = 0
    exits: list[int] = field(default_factory=list)  # exit codes of workers that stopped on their own
    deletions: int = 0
    invoices_in_qbo: int = 0
    invoiced: int = 0
    failed_explained: int = 0
    duplicates: list[int] = field(default_factory=list)
    lost: list[int] = field(default_factory=list)
    stuck: list[int] = field(default_factory=list)
    cogs_duplicates: list[int] = field(default_factory=list)
    cogs_missing: list[int] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        return not (self.duplicates or self.lost or self.stuck or self.cogs_duplicates or self.cogs_missing)

    def lines(self) -> list[str]:
        faults = ", ".join(f"{kind} {n}" for kind, n in sorted(self.faults.items())) or "none"
        return [
            f"SOs: {self.orders}  ({self.invoiced} invoiced, {self.failed_explained} failed with a reason)",
            f"time: {self.seconds:.0f} s",
            f"faults injected: {sum(self.faults.values())} rules ({faults})",
            f"worker kills: {self.kills}; workers that exited on their own: {len(self.exits)} {self.exits[:5]}",
            f"invoices deleted in QBO and invoiced again: {self.deletions}",
            f"live invoices in QBO: {self.invoices_in_qbo}",
            f"duplicates: {len(self.duplicates)}  {self.duplicates[:10]}",
            f"lost: {len(self.lost)}  {self.lost[:10]}",
            f"stuck: {len(self.stuck)}  {self.stuck[:10]}",
            f"COGS entries duplicated: {len(self.cogs_duplicates)}, missing: {len(self.cogs_missing)}",
        ]


class Soak:
    """One run. Everything it starts is stopped by `close()`."""

    def __init__(self, config: SoakConfig, directory: Path) -> None:
        self.config, self.dir = config, directory
        self.random = random.Random(config.seed)
        self.report = SoakReport(config.orders)
        self.workers: list[subprocess.Popen[bytes]] = []
        self.started_workers = 0
        self.last_progress = 0.0
        self.deleted: dict[int, str] = {}  # SO id → the QBO invoice deleted (must stay deleted)
        self.sandbox = SandboxServer(
            SandboxConfig(limits=Limits.off(), webhook_batch_window=0.2, webhook_retry_delays=(0.5, 1, 2, 4, 8))
        )
        self.sandbox.start()
        self.control = httpx.Client(base_url=self.sandbox.url, timeout=30)
        self.port = _free_port()
        self.realm, self.env = self._sandbox_company()
        self.app = build(Settings(_env_file=self.env), migrate=True)
        self.server = _serve(self.app, self.port)
        self.company_id = self._our_company()

    # -- setup -----------------------------------------------------------------------------------------
    def _sandbox_company(self) -> tuple[str, Path]:
        app = self.control.post("/_sandbox/apps", json={
            "redirect_uris": [f"http://127.0.0.1:{self.port}/oauth/qbo/callback"],
            "webhook_url": f"http://127.0.0.1:{self.port}/webhooks/qbo"}).json()  # fmt: skip
        realm = self.control.post("/_sandbox/companies", json={"name": "Soak Books", "country": "US",
                                                               "sample_data": True}).json()["realm_id"]  # fmt: skip
        self.client_id = app["client_id"]
        settings = {
            "DATA_DIR": str(self.dir), "QBO_ENVIRONMENT": "local", "QBO_SANDBOX_URL": self.sandbox.url,
            "QBO_CLIENT_ID": app["client_id"], "QBO_CLIENT_SECRET": app["client_secret"],
            "QBO_WEBHOOK_VERIFIER_TOKEN": app["verifier_token"], "TOKEN_KEYS": Fernet.generate_key().decode(),
            "SECRET_KEY": "soak-" + "k" * 40, "CLAIM_STALE_SECONDS": str(self.config.claim_stale_seconds),
            "QBO_BACKOFF_SECONDS": "0.05", "QBO_MAX_ATTEMPTS": "4", "PORT": str(self.port), "LOG_LEVEL": "warning",
            "DATABASE_URL": self.config.database_url or "", "REDIS_URL": self.config.redis_url or "",
        }  # fmt: skip
        env = self.dir / "soak.env"
        env.write_text("".join(f"INVOICEBRIDGE_{k}={v}\n" for k, v in settings.items() if v))
        return realm, env

    def _our_company(self) -> int:
        book = self.app.orderbook
        company = book.create_company("Soak Trading", "USD", "America/New_York").id or 0
        rates = [book.create_tax_rate(company, "Sales tax", "8.25"), book.create_tax_rate(company, "None", "0")]
        tokens = self.control.post("/_sandbox/tokens", json={"client_id": self.client_id, "realm_id": self.realm})
        pair = to_pair(parse_tokens(tokens.json(), datetime.now(UTC)))
        self.app.connecting.connect_with_tokens(company, self.realm, pair)
        accounts = {a["Name"]: a["Id"] for a in self._qbo("SELECT * FROM Account MAXRESULTS 1000")}
        code = next(c["Id"] for c in self._qbo("SELECT * FROM TaxCode MAXRESULTS 1000") if c["Name"] != "NON")
        self.app.connecting.save_settings(company, ConnectionSettings(
            accounts["Sales of Product Income"], {rates[0].id or 0: code, rates[1].id or 0: "NON"},
            AccountingMode.INVENTORY, accounts["Cost of Goods Sold"], accounts["Inventory Asset"],
        ))  # fmt: skip
        self.rates = [r.id for r in rates]
        return company

    def make_orders(self) -> list[int]:
        book, company, n = self.app.orderbook, self.company_id, self.config.orders
        customers = [book.create_customer(company, f"Soak Customer {i}", f"buyer{i}@soak.example").id
                     for i in range(max(3, n // 200))]  # fmt: skip
        products = [book.create_product(company, f"SOAK-{i}", f"Soak item {i}", f"{5 + i}.25", f"{2 + i}.10")
                    for i in range(12)]  # fmt: skip
        ids = []
        for i in range(n):
            chosen = self.random.sample(products, self.random.randint(1, 3))
            rows = [RowInput(p.id, str(self.random.randint(1, 9)), None, self.random.choice(self.rates))
                    for p in chosen]  # fmt: skip
            order = book.create_sales_order(company, f"SK-{i + 1:06d}", self.random.choice(customers), rows)
            if self.random.random() < 0.4:  # delivered: COGS follows the invoice
                book.record_delivery(company, order.id or 0, {r.id or 0: r.quantity for r in order.rows})
            ids.append(order.id or 0)
        return ids

    # -- chaos -----------------------------------------------------------------------------------------
    def start_workers(self) -> None:
        while len(self.workers) < self.config.workers:
            self.workers.append(self._worker())

    def _worker(self) -> subprocess.Popen[bytes]:
        self.started_workers += 1
        command = [sys.executable, "-m", "invoicebridge.cli", "--env-file", str(self.env), "worker",
                   "--workers", str(self.config.threads)]  # fmt: skip
        with (self.dir / f"worker-{self.started_workers}.log").open("wb") as log:  # the child keeps its own copy
            return subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)

    def revive(self) -> None:
        """A worker that exited on its own (not killed here) is counted and started again, as a supervisor
        (systemd, Kubernetes) would: the report shows it, its log says why."""
        for index, worker in enumerate(self.workers):
            if worker.poll() is not None:
                self.report.exits.append(worker.returncode)
                self.workers[index] = self._worker()

    def kill_one(self) -> None:
        victim = self.random.randrange(len(self.workers))
        self.workers[victim].send_signal(signal.SIGKILL)
        self.workers[victim].wait()
        self.workers[victim] = self._worker()
        self.report.kills += 1

    def inject_fault(self) -> None:
        kind, options = self.random.choice(FAULTS)(self.random)
        answer = self.control.post(f"/_sandbox/companies/{self.realm}/faults", json={"kind": kind, **options})
        answer.raise_for_status()
        self.report.faults[kind] += 1

    def delete_one(self) -> None:
        """Delete a random invoiced SO's invoice in QBO (the webhook or the CDC poll brings it back)."""
        page = self.app.orderbook.list_sales_orders(
            self.company_id, OrderFilter(invoice_state=InvoiceState.INVOICED), PageRequest(limit=200)
        ).items
        candidates = [v for v in page if v.order.id not in self.deleted]
        if not candidates:
            return
        view = self.random.choice(candidates)
        invoice_id = view.link.qbo_invoice_id or ""
        backend = self.sandbox.sandbox.backend
        current = backend.read(self.realm, "Invoice", invoice_id)
        backend.delete(self.realm, "Invoice", {"Id": invoice_id, "SyncToken": current["SyncToken"]})
        self.deleted[view.order.id or 0] = invoice_id
        self.report.deletions += 1

    def requeue_deleted(self) -> None:
        """SOs back to Not invoiced after their deletion are invoiced again (a person would click)."""
        back = [so for so in self.deleted if self._link(so).state is InvoiceState.NOT_INVOICED]
        if back:
            self.app.jobs.invoice(self.company_id, back)

    def chaos(self, ids: list[int]) -> None:
        config, started = self.config, time.monotonic()
        self.control.put(f"/_sandbox/companies/{self.realm}/webhooks", json={"duplicate": True,
                                                                            "delay_seconds": 0.3})  # fmt: skip
        deletions = config.deletions or max(1, config.orders // 50)
        next_kill = next_fault = next_sweep = next_poll = time.monotonic()
        while True:
            now = time.monotonic()
            if now >= next_fault:
                self.inject_fault()
                next_fault = now + config.fault_every
            if now >= next_kill and self.report.kills < config.kills:
                self.kill_one()
                next_kill = now + config.kill_every
            # A few deletions each round while short of the target: on a loaded 2-CPU machine a round takes seconds
            # (the in-process sandbox serves every worker), and one deletion in three rounds left a full run of
            # 10,000 SOs at half its deletions after two hours.
            for _ in range(min(DELETIONS_PER_ROUND, deletions - self.report.deletions)):
                self.delete_one()
            if now >= next_sweep:
                self.revive()
                self.app.jobs.sweep()
                self.requeue_deleted()
                next_sweep = now + 2
            if now >= next_poll:
                self.app.jobs.poll_all()
                next_poll = now + 10
            if self._chaos_done(started, deletions):
                return
            self._progress("chaos", ids)
            time.sleep(0.2)

    def _chaos_done(self, started: float, deletions: int) -> bool:
        if time.monotonic() - started < self.config.chaos_seconds or self.report.kills < self.config.kills:
            return False
        if self.report.deletions < deletions:
            return False
        return self._count(InvoiceState.NOT_INVOICED, InvoiceState.QUEUED) <= self.config.orders // 20

    def settle(self, ids: list[int]) -> None:
        """Faults off, webhooks plain; sweep until nothing is left waiting, creating or uncertain."""
        self.control.delete(f"/_sandbox/companies/{self.realm}/faults")
        self.control.put(f"/_sandbox/companies/{self.realm}/webhooks", json={"duplicate": False, "delay_seconds": 0})
        deadline = time.monotonic() + self.config.settle_seconds
        next_poll = time.monotonic()
        while time.monotonic() < deadline:
            self.revive()
            self.app.jobs.sweep()
            self.requeue_deleted()
            if time.monotonic() >= next_poll:  # the CDC poll catches deletions whose webhooks were lost
                self.app.jobs.poll_all()
                next_poll = time.monotonic() + 10
            if self._unsettled() == 0 and self.app.jobs.huey.pending_count() == 0:
                time.sleep(2)  # the last jobs' COGS follow-ups
                if self._unsettled() == 0 and self.app.jobs.huey.pending_count() == 0:
                    return
            self._progress("settling", ids)
            time.sleep(2)

    # -- the verdict -----------------------------------------------------------------------------------
    def verdict(self, ids: list[int]) -> None:
        live = self._qbo("SELECT * FROM Invoice MAXRESULTS 1000", every=True)
        self.report.invoices_in_qbo = len(live)
        by_so: dict[int, list[str]] = {}
        for invoice in live:
            so = _so_of(str(invoice.get("PrivateNote", "")), self.company_id)
            if so is not None:
                by_so.setdefault(so, []).append(str(invoice["Id"]))
        entries = self._qbo("SELECT * FROM JournalEntry MAXRESULTS 1000", every=True)
        cogs = Counter(str(e.get("PrivateNote", "")).split(" [", 1)[0].removeprefix("invoicebridge COGS ")
                       for e in entries)  # fmt: skip
        for so in ids:
            self._judge(so, by_so.get(so, []), cogs)

    def _judge(self, so: int, invoices: list[str], cogs: Counter[str]) -> None:
        view = self.app.orderbook.get_sales_order(self.company_id, so)
        link = view.link
        if len(invoices) > 1:
            self.report.duplicates.append(so)
        if link.state is InvoiceState.INVOICED:
            self.report.invoiced += 1
            if invoices != [link.qbo_invoice_id]:
                self.report.lost.append(so)  # what we show is not what QBO has
        elif link.state is InvoiceState.FAILED and link.error_code not in UNCERTAIN_CODES and not invoices:
            self.report.failed_explained += 1
        elif invoices:
            self.report.lost.append(so)  # QBO has it, we do not know
        else:
            self.report.stuck.append(so)  # asked for, never done (or uncertain still)
        self._judge_cogs(view, cogs)

    def _judge_cogs(self, view: Any, cogs: Counter[str]) -> None:
        order = view.order
        made = cogs.get(order.number, 0)
        if made > 1:
            self.report.cogs_duplicates.append(order.id)
        due = view.link.state is InvoiceState.INVOICED and order.delivered_at is not None
        with self.app.uow() as uow:
            entry = uow.cogs.get(self.company_id, order.id)
        if due and (made == 0 or entry.state is not CogsState.POSTED):
            self.report.cogs_missing.append(order.id)

    # -- helpers ---------------------------------------------------------------------------------------
    def _qbo(self, text: str, every: bool = False) -> list[dict[str, Any]]:
        backend, rows, start = self.sandbox.sandbox.backend, [], 1
        while True:
            paged = text.replace(" MAXRESULTS", f" STARTPOSITION {start} MAXRESULTS") if every else text
            body = backend.query(self.realm, paged)["QueryResponse"]
            page = next((v for v in body.values() if isinstance(v, list)), [])
            rows += page
            if not every or len(page) < 1000:
                return rows
            start += 1000

    def _link(self, so: int) -> Any:
        return self.app.orderbook.invoice_link(self.company_id, so)

    def _count(self, *states: InvoiceState) -> int:
        with self.app.engine.connect() as connection:
            placeholders = ", ".join(f"'{s.value}'" for s in states)
            linked = connection.exec_driver_sql(
                f"SELECT COUNT(*) FROM invoice_links WHERE state IN ({placeholders})"
            ).scalar_one()
            unlinked = connection.exec_driver_sql(
                "SELECT COUNT(*) FROM sales_orders s WHERE NOT EXISTS "
                "(SELECT 1 FROM invoice_links l WHERE l.sales_order_id = s.id)"
            ).scalar_one()
        return int(linked) + (int(unlinked) if InvoiceState.NOT_INVOICED in states else 0)

    def _unsettled(self) -> int:
        waiting = self._count(InvoiceState.QUEUED, InvoiceState.CREATING)
        codes = ", ".join(f"'{c}'" for c in sorted(UNCERTAIN_CODES))
        with self.app.engine.connect() as connection:
            unsure = connection.exec_driver_sql(
                f"SELECT COUNT(*) FROM invoice_links WHERE state = 'failed' AND error_code IN ({codes})"
            ).scalar_one()
            posting = connection.exec_driver_sql("SELECT COUNT(*) FROM cogs_entries WHERE state = 'posting'")
        back = sum(1 for so in self.deleted if self._link(so).state is InvoiceState.NOT_INVOICED)
        return waiting + int(unsure) + int(posting.scalar_one()) + back

    def _progress(self, phase: str, ids: list[int]) -> None:
        if self.config.quiet or time.monotonic() - self.last_progress < 5:
            return
        self.last_progress = time.monotonic()
        done = self._count(InvoiceState.INVOICED)
        huey = self.app.jobs.huey
        waiting = huey.pending_count()
        names = f" {sorted(Counter(t.name for t in huey.pending()).items())}" if 0 < waiting < 5 else ""
        print(f"  {phase}: {done}/{len(ids)} invoiced, {self._unsettled()} unsettled, kills {self.report.kills}, "
              f"deletions {self.report.deletions}, queue {waiting}{names}", flush=True)  # fmt: skip

    def close(self) -> None:
        for worker in self.workers:
            worker.send_signal(signal.SIGKILL)
            worker.wait()
        self.server.should_exit = True
        self.control.close()
        self.app.close()
        self.sandbox.stop()


# Random fault rules: (kind, options). Counts stay small so that every rule runs out and work goes on. "batch"
# hits bulk invoicing's /batch requests (invoices, and customers and items created in bulk).
Fault = Callable[[random.Random], tuple[str, dict[str, Any]]]
FAULTS: list[Fault] = [
    lambda r: ("drop_after_commit", {"match": r.choice(["invoice", "batch"]), "method": "POST",
                                     "count": r.randint(1, 3)}),
    lambda r: ("drop_after_commit", {"match": "journalentry", "method": "POST", "count": 1}),
    lambda r: ("fail_before_commit", {"match": r.choice(["invoice", "batch", "query", "customer", "item", ""]),
                                      "count": r.randint(1, 4), "status": r.choice([500, 502, 503])}),
    lambda r: ("throttle", {"match": "", "count": r.randint(3, 12)}),  # a 429 storm on everything (1 s each)
    lambda r: ("latency", {"match": "", "seconds": r.uniform(0.05, 0.4), "count": r.randint(5, 20)}),
    lambda r: ("ignore_requestid", {"match": r.choice(["invoice", "batch", "journalentry"]), "method": "POST",
                                    "count": r.randint(1, 5)}),
]  # fmt: skip


def run(config: SoakConfig, directory: Path | None = None) -> SoakReport:
    """One whole soak; the report says what was found."""
    with _directory(directory) as where:
        soak = Soak(config, where)
        started = time.monotonic()
        try:
            ids = soak.make_orders()
            soak.start_workers()
            soak.app.jobs.invoice(soak.company_id, ids)
            soak.chaos(ids)
            soak.settle(ids)
            soak.verdict(ids)
        finally:
            soak.report.seconds = time.monotonic() - started
            soak.close()
        return soak.report


@contextmanager
def _directory(given: Path | None) -> Iterator[Path]:
    if given is not None:
        given.mkdir(parents=True, exist_ok=True)
        yield given
        return
    with tempfile.TemporaryDirectory(prefix="soak-") as made:
        yield Path(made)


def _so_of(note: str, company_id: int) -> int | None:
    """The SO id in our marker ("invoicebridge SK-000001 [ib-1-so-1-g1]")."""
    marker = f"[ib-{company_id}-so-"
    if marker not in note:
        return None
    return int(note.split(marker, 1)[1].split("-", 1)[0])


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--orders", type=int, default=10_000)
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--kills", type=int, default=20)
    parser.add_argument("--kill-every", type=float, default=3.0)
    parser.add_argument("--fault-every", type=float, default=0.5, help="seconds between random fault rules")
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--redis-url", default=None)
    parser.add_argument("--keep", type=Path, default=None, help="keep the run's files (logs, database) here")
    args = parser.parse_args()
    config = SoakConfig(
        orders=args.orders, workers=args.workers, threads=args.threads, kills=args.kills,
        kill_every=args.kill_every, fault_every=args.fault_every, database_url=args.database_url,
        redis_url=args.redis_url,
    )  # fmt: skip
    database, queue = "PostgreSQL" if args.database_url else "SQLite", "Redis" if args.redis_url else "SQLite"
    print(f"machine: {platform.machine()}, {os.cpu_count()} CPUs, Python {sys.version.split()[0]}; {database}, {queue}")
    report = run(config, args.keep)
    print("\n".join(report.lines()))
    sys.exit(0 if report.clean else 1)


if __name__ == "__main__":
    main()
