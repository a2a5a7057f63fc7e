"""Invoicing figures against qbo_sandbox: QBO requests per invoice, invoices per minute (sequential and with
worker threads), and the time from deleting an invoice in QBO to the SO showing `Not invoiced` (webhook).

    .venv/bin/python bench/invoicing.py [--orders 200] [--threads 4]

Prints figures; asserts nothing (speed is never a test)."""

from __future__ import annotations

import argparse
import os
import platform
import socket
import statistics
import sys
import tempfile
import threading
import time
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
from invoicebridge.sync.tokens import to_pair
from invoicebridge.web.app import create_app
from qbo_sandbox.sandbox import SandboxConfig
from qbo_sandbox.server import SandboxServer
from qbo_sandbox.throttle import Limits


def main() -> None:
    args = _arguments()
    print(f"machine: {platform.machine()}, {os.cpu_count()} CPUs, Python {sys.version.split()[0]}")
    with SandboxServer(SandboxConfig(limits=Limits.off(), webhook_batch_window=0.5)) as sandbox, \
            tempfile.TemporaryDirectory() as tmp:  # fmt: skip
        app_port = _free_port()
        container, realm = _setup(sandbox, Path(tmp), app_port)
        server = _serve(container, app_port)
        try:
            orders = _orders(container, args.orders)
            half = len(orders) // 2
            requests_before = _request_count(sandbox, realm)
            started = time.perf_counter()
            for order_id in orders[:half]:
                _check(container.invoicing.create_invoice(1, order_id).state)
            sequential = time.perf_counter() - started
            per_invoice = (_request_count(sandbox, realm) - requests_before) / half
            started = time.perf_counter()
            _in_threads(container, orders[half:], args.threads)
            threaded = time.perf_counter() - started
            print(f"QBO requests per invoice: {per_invoice:.2f} (first {half} SOs, cold caches included)")
            print(f"sequential: {half / sequential * 60:,.0f} invoices/min ({sequential / half * 1000:.1f} ms each)")
            print(f"{args.threads} threads: {(len(orders) - half) / threaded * 60:,.0f} invoices/min")
            _webhook_latency(container, sandbox, realm, orders[:10])
        finally:
            server.should_exit = True
            container.close()


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--orders", type=int, default=200)
    parser.add_argument("--threads", type=int, default=4)
    return parser.parse_args()


def _setup(sandbox: SandboxServer, tmp: Path, app_port: int) -> tuple[Container, str]:
    control = httpx.Client(base_url=sandbox.url)
    hook = f"http://127.0.0.1:{app_port}/webhooks/qbo"
    app = control.post("/_sandbox/apps", json={"redirect_uris": ["http://x/cb"], "webhook_url": hook}).json()
    realm = control.post("/_sandbox/companies", json={"name": "Bench", "country": "GB"}).json()["realm_id"]
    tokens = control.post("/_sandbox/tokens", json={"client_id": app["client_id"], "realm_id": realm}).json()
    settings = Settings(data_dir=tmp, qbo_environment="local", qbo_sandbox_url=sandbox.url,
                        qbo_client_id=app["client_id"], qbo_client_secret=app["client_secret"],
                        qbo_webhook_verifier_token=app["verifier_token"], token_keys=Fernet.generate_key().decode(),
                        jobs_immediate=True)  # fmt: skip
    container = build(settings, migrate=True)
    book = container.orderbook
    company = book.create_company("Bench Ltd", "GBP", "Europe/London")
    standard = book.create_tax_rate(company.id or 0, "VAT 20%", "20")
    pair = to_pair(parse_tokens(tokens, datetime.now(UTC)))
    container.connecting.connect_with_tokens(company.id or 0, realm, pair)
    accounts = {a["name"]: a["id"] for a in container.connecting.choices(company.id or 0).income_accounts}
    codes = {c["name"]: c["id"] for c in container.connecting.choices(company.id or 0).tax_codes}
    container.connecting.save_settings(company.id or 0, ConnectionSettings(
        accounts["Sales of Product Income"], {standard.id or 0: codes["20.0% S"]}))  # fmt: skip
    control.close()
    return container, realm


def _orders(container: Container, count: int) -> list[int]:
    book = container.orderbook
    customers = [book.create_customer(1, f"Customer {n}", f"c{n}@bench.example").id or 0 for n in range(20)]
    products = [book.create_product(1, f"SKU-{n}", f"Product {n}", "12.50", "5").id or 0 for n in range(30)]
    rows = lambda n: [RowInput(products[(n + k) % 30], "2", None, 1) for k in range(3)]  # noqa: E731
    return [book.create_sales_order(1, f"B-{n}", customers[n % 20], rows(n)).id or 0 for n in range(count)]


def _in_threads(container: Container, orders: list[int], threads: int) -> None:
    chunks = [orders[i::threads] for i in range(threads)]
    workers = [threading.Thread(target=lambda c=chunk: [container.invoicing.create_invoice(1, o) for o in c])
               for chunk in chunks]  # fmt: skip
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()


def _webhook_latency(container: Container, sandbox: SandboxServer, realm: str, orders: list[int]) -> None:
    latencies = []
    for order_id in orders:
        link = container.orderbook.invoice_link(1, order_id)
        started = time.perf_counter()
        httpx.post(f"{sandbox.url}/app/invoice/delete", data={"txnId": link.qbo_invoice_id, "realmId": realm})
        while container.orderbook.invoice_link(1, order_id).state is not InvoiceState.NOT_INVOICED:
            time.sleep(0.01)
        latencies.append(time.perf_counter() - started)
    print(
        f"deleted in QBO → Not invoiced (webhook, sandbox batching 0.5 s): median "
        f"{statistics.median(latencies) * 1000:.0f} ms, max {max(latencies) * 1000:.0f} ms over {len(latencies)}"
    )


def _request_count(sandbox: SandboxServer, realm: str) -> int:
    return len(sandbox.sandbox.injector.requests(realm))


def _check(state: InvoiceState) -> None:
    if state is not InvoiceState.INVOICED:
        raise SystemExit(f"an invoice failed: {state}")


def _serve(container: Container, port: int) -> uvicorn.Server:
    server = uvicorn.Server(uvicorn.Config(create_app(container), host="127.0.0.1", port=port, log_level="warning"))
    threading.Thread(target=server.run, daemon=True).start()
    while not server.started:
        time.sleep(0.01)
    return server


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


if __name__ == "__main__":
    main()
