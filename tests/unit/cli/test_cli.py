"""The command line: db upgrade, import, demo (data, and a real server answering over HTTP)."""

from __future__ import annotations

import os
import re
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
from invoicebridge.demo import ADMIN_EMAIL
from invoicebridge.domain import DeliveryStatus, OrderFilter, PageRequest
from invoicebridge.domain.access import Role
from invoicebridge.settings import Settings

EXAMPLE = Path(__file__).parents[3] / "examples" / "orders.csv"
SECRET = re.compile(r"^(ib_\S+)$", re.MULTILINE)


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


def test_demo_has_one_admin_without_password_and_prints_a_fresh_login_link_each_run(tmp_path: Path) -> None:
    links = []
    for _ in range(2):
        result = CliRunner().invoke(app, ["demo", "--no-serve", "--data-dir", str(tmp_path), *sandbox_port()])
        assert result.exit_code == 0, result.output
        assert ADMIN_EMAIL in result.output
        assert f"user password {ADMIN_EMAIL}" in result.output
        assert "token create --company 1 --name curl" in result.output
        link = re.search(r"http://127\.0\.0\.1:8000/login/link\?token=\S+", result.output)
        assert link is not None, result.output
        links.append(link[0])
    assert links[0] != links[1]
    container = build(Settings(data_dir=tmp_path))
    [person] = container.people.everyone()
    container.close()
    assert (person.user.email, person.user.display_name) == (ADMIN_EMAIL, "Demo Admin")
    assert person.user.password_hash is None
    assert person.roles == {1: Role.ADMIN}


def test_demo_listens_on_loopback_only(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["demo", "--no-serve", "--data-dir", str(tmp_path), "--host", "0.0.0.0"])
    assert result.exit_code == 2
    assert "No such option" in result.output
    assert not (tmp_path / "invoicebridge.env").exists()


def test_demo_on_another_port_writes_that_port_and_its_oauth_callback_into_its_env_file(tmp_path: Path) -> None:
    port = free_port()
    result = CliRunner().invoke(
        app, ["demo", "--no-serve", "--data-dir", str(tmp_path), "--port", str(port), *sandbox_port()]
    )
    assert result.exit_code == 0, result.output
    env_file = tmp_path / "invoicebridge.env"
    lines = env_file.read_text().splitlines()
    assert f"INVOICEBRIDGE_QBO_REDIRECT_URI=http://127.0.0.1:{port}/oauth/qbo/callback" in lines
    assert f"INVOICEBRIDGE_PORT={port}" in lines
    settings = Settings(_env_file=env_file)
    assert (settings.port, settings.qbo_redirect_uri) == (port, f"http://127.0.0.1:{port}/oauth/qbo/callback")
    assert f"http://127.0.0.1:{port}/login/link?token=" in result.output
    link = CliRunner().invoke(app, ["--env-file", str(env_file), "user", "login-link", ADMIN_EMAIL])
    assert f"http://127.0.0.1:{port}/login/link?token=" in link.output, link.output


def demo_login_link(log: Path, port: int) -> str:
    """The one-time login link the demo printed (it prints before it serves, so it is there once it answers)."""
    found = re.search(rf"http://127\.0\.0\.1:{port}/login/link\?token=\S+", log.read_text())
    assert found is not None, log.read_text()
    return found[0]


def api_token(env_file: Path) -> dict[str, str]:
    result = CliRunner().invoke(app, ["--env-file", str(env_file), "token", "create", "--company", "1", "--name", "t"])
    assert result.exit_code == 0, result.output
    secret = SECRET.search(result.output)
    assert secret is not None, result.output
    return {"Authorization": f"Bearer {secret[1]}"}


def test_demo_serves_the_sample_orders_and_invoices_them_in_its_sandbox(tmp_path: Path) -> None:
    """The README's demo: API up with sample data, connected to the built-in sandbox; SOs invoiced from the API
    and the CLI; an invoice deleted in the sandbox's UI sets its SO back through the demo's own worker. Every API
    call carries a token made with `token create`; the admin's printed login link opens a session, once."""
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
        assert response.status_code == 401  # nobody: the API wants a token or a session
        bearer = api_token(tmp_path / "invoicebridge.env")
        response = httpx.get(f"{api}/sales-orders?limit=100", headers=bearer)
        assert response.status_code == 200
        assert len(response.json()["items"]) == 50

        assert ADMIN_EMAIL in (tmp_path / "demo.log").read_text()
        link = demo_login_link(tmp_path / "demo.log", port)
        opened = httpx.get(link, follow_redirects=False)
        assert opened.status_code == 303
        assert opened.headers["location"] == "/"
        assert "ib_session=" in opened.headers["set-cookie"]
        again = httpx.get(link, follow_redirects=False)
        assert "ib_session=" not in again.headers.get("set-cookie", "")
        assert again.status_code == 401 and "This login link is used, expired or wrong" in again.text

        made = httpx.post(f"{api}/sales-orders/1/invoice", headers=bearer, timeout=30).json()
        assert made["status"] == "Invoice created (QBO)", made
        assert made["url"].startswith(f"http://127.0.0.1:{sandbox}/app/invoice?txnId=")
        assert httpx.get(made["url"]).status_code == 200

        result = CliRunner().invoke(app, ["--env-file", str(tmp_path / "invoicebridge.env"), "invoice", "SO-1002"])
        assert result.exit_code == 0, result.output
        assert "SO-1002: Invoice created (QBO)" in result.output

        # Partial invoicing from the CLI: what was delivered, and only that.
        waiting = "delivery_status=not_shipped&invoice_status=not_invoiced&limit=1"
        so = httpx.get(f"{api}/sales-orders?{waiting}", headers=bearer).json()["items"][0]
        first_row = so["rows"][0]
        shipped = {"rows": [{"row_id": first_row["id"], "quantity": "1"}]}
        assert httpx.post(f"{api}/sales-orders/{so['id']}/deliveries", headers=bearer, json=shipped).status_code == 200
        env = ["--env-file", str(tmp_path / "invoicebridge.env")]
        result = CliRunner().invoke(app, [*env, "invoice", so["number"], "--delivered"])
        assert result.exit_code == 0, result.output
        assert f"{so['number']} (deliveries " in result.output and "Invoice created (QBO)" in result.output
        again = CliRunner().invoke(app, [*env, "invoice", so["number"], "--delivered"])
        assert again.exit_code == 1 and "already invoiced" in again.output  # nothing delivered is left
        whole = CliRunner().invoke(app, [*env, "invoice", so["number"]])
        assert whole.exit_code == 1 and "can no longer be invoiced as a whole" in " ".join(whole.output.split())
        after = httpx.get(f"{api}/sales-orders/{so['id']}", headers=bearer).json()
        assert after["invoice_status"] == ("partly_invoiced" if len(so["rows"]) > 1 or first_row["quantity"] != "1"
                                           else "invoiced")  # fmt: skip
        assert [i["scope"] for i in after["invoices"]] == ["deliveries"]

        realm = made["url"].split("realmId=")[1]
        deleted = httpx.post(f"http://127.0.0.1:{sandbox}/app/invoice/delete",
                             data={"txnId": made["qbo_invoice_id"], "realmId": realm})  # fmt: skip
        assert deleted.status_code in (200, 303)
        state = ""
        for _ in range(100):  # the webhook, queued by the web app and run by the demo's worker
            state = httpx.get(f"{api}/sales-orders/1/invoice", headers=bearer).json()["state"]
            if state == "not_invoiced":
                break
            time.sleep(0.1)
        assert state == "not_invoiced", (tmp_path / "demo.log").read_text()
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.close()
