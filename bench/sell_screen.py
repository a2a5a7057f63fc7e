"""The Sell screen's server time with many SOs: p50 and p95 per view (the first page, filters, search, a late
page, the live-status poll), measured in-process through the ASGI app (no network), logged in as a person.

    .venv/bin/python bench/sell_screen.py [--orders 10000] [--runs 40] [--database-url postgresql+psycopg://…]

Target (issue "web app"): p95 ≤ 150 ms with 10,000 SOs. Prints figures; asserts nothing (speed is never a test)."""

from __future__ import annotations

import argparse
import os
import platform
import re
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from fastapi.testclient import TestClient

from invoicebridge.bootstrap import Container, build
from invoicebridge.domain import RowInput, new_link
from invoicebridge.settings import Settings
from invoicebridge.web.app import create_app

PASSWORD = "a long bench password 42"
CSRF = re.compile(r'<meta name="csrf-token" content="([^"]+)">')


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--orders", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=40)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    database = "PostgreSQL" if args.database_url else "SQLite"
    print(f"machine: {platform.machine()}, {os.cpu_count()} CPUs, Python {sys.version.split()[0]}; {database}")
    with tempfile.TemporaryDirectory() as directory:
        settings = Settings(data_dir=Path(directory), database_url=args.database_url)
        app = build(settings, migrate=True)
        try:
            company, customers = seed(app, args.orders)
            measure(app, company, customers, args.runs)
        finally:
            app.close()


def seed(app: Container, orders: int) -> tuple[int, list[str]]:
    started = time.perf_counter()
    user = app.people.create_user("bench@example.com", None, PASSWORD)
    company = app.people.found_company(user.id or 0, "Bench Co", "USD", "America/Chicago").id or 0
    names = [f"Customer {n:03d}" for n in range(200)]
    customers = [app.orderbook.create_customer(company, name, f"c{n}@bench.example").id or 0
                 for n, name in enumerate(names)]  # fmt: skip
    products = [app.orderbook.create_product(company, f"SKU-{n}", f"Thing {n}", "12.50", "4.00").id or 0
                for n in range(20)]  # fmt: skip
    rate = app.orderbook.create_tax_rate(company, "Tax", "8.25").id
    now = datetime.now(UTC)
    for n in range(orders):
        rows = [RowInput(products[(n + k) % 20], str(1 + k), None, rate) for k in range(1 + n % 4)]
        order = app.orderbook.create_sales_order(
            company, f"SO-{10000 + n}", customers[n % 200], rows, created_at=now - timedelta(minutes=n)
        )
        if n % 3 == 0:  # a third invoiced, so the status filters have something to find
            with app.uow() as uow:
                link = uow.invoice_links.add(company, new_link(order.id or 0).start(f"r{n}", now))
                uow.invoice_links.save(company, link.succeed(str(n + 1), order.number, "0", now))
                uow.commit()
        if n % 1000 == 999:
            print(f"  seeded {n + 1} SOs ({time.perf_counter() - started:.0f} s)", flush=True)
    return company, names


def measure(app: Container, company: int, customers: list[str], runs: int) -> None:
    client = TestClient(create_app(app))
    client.post("/login", data={"email": "bench@example.com", "password": PASSWORD}, follow_redirects=False)
    first = client.get(f"/c/{company}/sell")
    assert first.status_code == 200, first.text
    ids = ",".join(re.findall(r'name="so" value="(\d+)"', first.text))
    late = _late_page(client, company)
    views = {
        "first page": f"/c/{company}/sell",
        "filter: invoiced": f"/c/{company}/sell?status=invoiced",
        "filter: not invoiced + dates": f"/c/{company}/sell?status=not_invoiced&from=2020-01-01&to=2100-01-01",
        "filter: delivery": f"/c/{company}/sell?delivery=not_shipped",
        "search: SO number": f"/c/{company}/sell?q=SO-1234",
        "search: customer": f"/c/{company}/sell?q={customers[42].replace(' ', '+')}",
        "a late page": late,
        "live-status poll (50 SOs)": f"/c/{company}/sell/status?ids={ids}",
    }
    print(f"{'view':32} {'p50 ms':>8} {'p95 ms':>8}")
    for name, path in views.items():
        times = []
        for _ in range(runs):
            started = time.perf_counter()
            answer = client.get(path)
            times.append((time.perf_counter() - started) * 1000)
            assert answer.status_code == 200, (path, answer.status_code)
        times.sort()
        p95 = times[min(len(times) - 1, int(len(times) * 0.95))]
        print(f"{name:32} {statistics.median(times):8.1f} {p95:8.1f}")


def _late_page(client: TestClient, company: int) -> str:
    """The address of about the 100th page (following the keyset links)."""
    path = f"/c/{company}/sell"
    for _ in range(100):
        found = re.search(r'href="(/c/\d+/sell\?[^"]*after=\d+[^"]*)" rel="next"', client.get(path).text)
        if found is None:
            break
        path = found.group(1).replace("&amp;", "&")
    return path


if __name__ == "__main__":
    main()
