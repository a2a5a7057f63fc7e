"""The command line: db upgrade, import, demo (data, and a real server answering over HTTP)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from invoicebridge.bootstrap import build
from invoicebridge.cli import app
from invoicebridge.domain import DeliveryStatus, OrderFilter, PageRequest
from invoicebridge.settings import Settings

EXAMPLE = Path(__file__).parents[3] / "examples" / "orders.csv"


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("INVOICEBRIDGE_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("INVOICEBRIDGE_DATABASE_URL", raising=False)
    return tmp_path


def test_db_upgrade_creates_the_schema_in_the_data_dir(env: Path) -> None:
    result = CliRunner().invoke(app, ["db", "upgrade"])
    assert result.exit_code == 0, result.output
    assert "up to date" in result.output
    assert (env / "invoicebridge.db").exists()


def test_demo_creates_about_fifty_orders_in_mixed_states_once(tmp_path: Path) -> None:
    data = tmp_path / "demo"
    for _ in range(2):  # running the demo again must not duplicate anything
        result = CliRunner().invoke(app, ["demo", "--no-serve", "--data-dir", str(data), *sandbox_port()])
        assert result.exit_code == 0, result.output
    container = build(Settings(data_dir=data))
    book = container.orderbook
    company = book.list_companies(PageRequest()).items
    assert len(company) == 1
    orders = book.list_sales_orders(company[0].id or 0, OrderFilter(), PageRequest(limit=500)).items
    container.close()
    assert len(orders) == 50
    states = {v.order.delivery_status for v in orders}
    assert states == set(DeliveryStatus)


def test_import_prints_a_report_and_fails_when_an_order_is_refused(env: Path) -> None:
    runner = CliRunner()
    runner.invoke(app, ["demo", "--no-serve", "--data-dir", str(env), *sandbox_port()])
    result = runner.invoke(app, ["import", str(EXAMPLE)])
    assert result.exit_code == 1
    assert "Imported 3, skipped 0, refused 1." in result.output
    assert "refused SO-2004 line 7 sku" in result.output


def test_import_without_a_company_says_how_to_choose(env: Path) -> None:
    result = CliRunner().invoke(app, ["import", str(EXAMPLE)])
    assert result.exit_code == 2
    assert "--company" in result.output


def test_bad_settings_are_refused_with_the_reason(env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INVOICEBRIDGE_DATABASE_URL", "mysql://root@localhost/x")
    result = CliRunner().invoke(app, ["db", "upgrade"])
    assert result.exit_code == 2
    assert "unsupported database URL" in result.output


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def sandbox_port() -> list[str]:
    return ["--sandbox-port", str(free_port())]


def test_demo_serves_the_sample_orders_and_invoices_them_in_its_sandbox(tmp_path: Path) -> None:
    """The README's demo: API up with sample data, connected to the built-in sandbox; SOs invoiced from the API
    and the CLI; an invoice deleted in the sandbox's UI sets its SO back through the demo's own worker."""
    port, sandbox = free_port(), free_port()
    command = [sys.executable, "-m", "invoicebridge.cli", "demo", "--data-dir", str(tmp_path), "--port", str(port),
               "--sandbox-port", str(sandbox)]  # fmt: skip
    log = (tmp_path / "demo.log").open("wb")
    server = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env={**os.environ})
    api = f"http://127.0.0.1:{port}/api/companies/1"
    try:
        response = None
        for _ in range(150):  # up to ~30 s for a cold start on a loaded machine; not a timing assertion
            try:
                response = httpx.get(f"{api}/sales-orders?limit=100")
                break
            except httpx.TransportError:
                time.sleep(0.2)
        assert response is not None, (tmp_path / "demo.log").read_text()
        assert response.status_code == 200
        assert len(response.json()["items"]) == 50

        made = httpx.post(f"{api}/sales-orders/1/invoice", timeout=30).json()
        assert made["status"] == "Invoice created (QBO)", made
        assert made["url"].startswith(f"http://127.0.0.1:{sandbox}/app/invoice?txnId=")
        assert httpx.get(made["url"]).status_code == 200

        result = CliRunner().invoke(app, ["--env-file", str(tmp_path / "invoicebridge.env"), "invoice", "SO-1002"])
        assert result.exit_code == 0, result.output
        assert "SO-1002: Invoice created (QBO)" in result.output

        realm = made["url"].split("realmId=")[1]
        deleted = httpx.post(f"http://127.0.0.1:{sandbox}/app/invoice/delete",
                             data={"txnId": made["qbo_invoice_id"], "realmId": realm})  # fmt: skip
        assert deleted.status_code in (200, 303)
        state = ""
        for _ in range(100):  # the webhook, queued by the web app and run by the demo's worker
            state = httpx.get(f"{api}/sales-orders/1/invoice").json()["state"]
            if state == "not_invoiced":
                break
            time.sleep(0.1)
        assert state == "not_invoiced", (tmp_path / "demo.log").read_text()
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.close()
