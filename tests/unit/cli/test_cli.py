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
        result = CliRunner().invoke(app, ["demo", "--no-serve", "--data-dir", str(data)])
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
    runner.invoke(app, ["demo", "--no-serve", "--data-dir", str(env)])
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


def test_demo_serves_the_sample_orders_over_http(tmp_path: Path) -> None:
    port = free_port()
    command = [sys.executable, "-m", "invoicebridge.cli", "demo", "--data-dir", str(tmp_path), "--port", str(port)]
    log = (tmp_path / "demo.log").open("wb")
    server = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env={**os.environ})
    try:
        response = None
        for _ in range(150):  # up to ~30 s for a cold start on a loaded machine; not a timing assertion
            try:
                response = httpx.get(f"http://127.0.0.1:{port}/api/companies/1/sales-orders?limit=100")
                break
            except httpx.TransportError:
                time.sleep(0.2)
        assert response is not None, (tmp_path / "demo.log").read_text()
        assert response.status_code == 200
        assert len(response.json()["items"]) == 50
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.close()
