"""State kept in a SQLite file outlives a restart (companies, objects, apps, tokens); and the CLI serves a
sandbox a client can reach."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
from tests.contract.sandbox.conftest import Qbo, connect
from tests.contract.sandbox.serving_support import create_invoice, invoice_body

from qbo_sandbox.sandbox import SandboxConfig
from qbo_sandbox.server import SandboxServer
from qbo_sandbox.throttle import Limits

CONFIG = SandboxConfig(limits=Limits.off(), webhook_batch_window=0.05)


def test_state_survives_a_restart(tmp_path: Path) -> None:
    db = tmp_path / "s.db"
    with SandboxServer(CONFIG, db=db) as server, httpx.Client(base_url=server.url, timeout=10) as control:
        qbo = connect(control, name="Kept Ltd", country="CA", multicurrency=True)
        invoice = create_invoice(qbo, invoice_body(qbo, tax_code="GST"))
        app, company, tokens = qbo.app, qbo.company, qbo.tokens
    with SandboxServer(CONFIG, db=db) as server, httpx.Client(base_url=server.url, timeout=10) as control:
        assert control.get("/_sandbox/companies").json() == {"companies": [company]}
        assert control.get("/_sandbox/apps").json() == {"apps": [app]}
        again = Qbo(control, app, company, tokens)
        read = again.get(f"invoice/{invoice['Id']}")
        assert read.status_code == 200, read.text
        assert read.json()["Invoice"] == invoice
        second = create_invoice(again, invoice_body(again, 90, tax_code="HST ON"))
        assert second["Id"] != invoice["Id"]
        assert [row["Id"] for row in again.rows("select * from Invoice")] == sorted(
            [invoice["Id"], second["Id"]], key=int
        )
        refreshed = control.post(
            "/oauth2/v1/tokens/bearer",
            data={"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]},
            auth=(app["client_id"], app["client_secret"]),
        )
        assert refreshed.status_code == 200, refreshed.text


def test_deleted_company_and_reset_are_persisted(tmp_path: Path) -> None:
    db = tmp_path / "s.db"
    with SandboxServer(CONFIG, db=db) as server, httpx.Client(base_url=server.url, timeout=10) as control:
        kept = connect(control, name="Kept", sample_data=False)
        dropped = connect(control, name="Dropped", sample_data=False)
        assert control.delete(f"/_sandbox/companies/{dropped.realm_id}").status_code == 200
    with SandboxServer(CONFIG, db=db) as server, httpx.Client(base_url=server.url, timeout=10) as control:
        assert [c["realm_id"] for c in control.get("/_sandbox/companies").json()["companies"]] == [kept.realm_id]
        assert control.post("/_sandbox/reset").status_code == 200
    with SandboxServer(CONFIG, db=db) as server, httpx.Client(base_url=server.url, timeout=10) as control:
        assert control.get("/_sandbox/companies").json() == {"companies": []}
        assert control.get("/_sandbox/apps").json() == {"apps": []}


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _wait_healthy(http: httpx.Client, process: subprocess.Popen[bytes], timeout: float = 15) -> None:
    deadline = time.monotonic() + timeout
    while True:
        assert process.poll() is None, "the sandbox exited"
        try:
            if http.get("/_sandbox/health").json() == {"ok": True}:
                return
        except httpx.TransportError:
            pass
        assert time.monotonic() < deadline, "the sandbox did not answer /_sandbox/health"
        time.sleep(0.05)


def _serve(port: int, *extra: str) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "qbo_sandbox", "serve", "--port", str(port), "--limits", "off",
               "--log-level", "warning", *extra]  # fmt: skip
    return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def _stop(process: subprocess.Popen[bytes], signum: int = signal.SIGTERM) -> tuple[bytes, bytes]:
    """Stop the sandbox as a process manager (SIGTERM) or Ctrl-C (SIGINT) does: a clean exit, status 0."""
    process.send_signal(signum)
    out, err = process.communicate(timeout=15)
    assert process.returncode == 0, err.decode()
    assert b"Traceback" not in err
    return out, err


def test_the_cli_serves_a_sandbox(tmp_path: Path) -> None:
    port = _free_port()
    db = tmp_path / "cli.db"
    with (
        _serve(port, "--db", str(db)) as process,
        httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10) as http,
    ):
        try:
            _wait_healthy(http, process)
            assert http.get("/_sandbox/limits").json()["enabled"] is False
            qbo = connect(http, name="From The CLI")
            assert qbo.get(f"companyinfo/{qbo.realm_id}").json()["CompanyInfo"]["CompanyName"] == "From The CLI"
        finally:
            out, _ = _stop(process)
    assert out.decode().startswith(f"qbo_sandbox on http://127.0.0.1:{port}")
    with (
        _serve(port, "--db", str(db)) as process,
        httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10) as http,
    ):
        try:
            _wait_healthy(http, process)
            again = Qbo(http, qbo.app, qbo.company, qbo.tokens)
            assert again.get(f"companyinfo/{qbo.realm_id}").status_code == 200
        finally:
            _stop(process, signal.SIGINT)


def test_serve_help() -> None:
    script = Path(sys.executable).parent / "qbo-sandbox"
    done = subprocess.run([str(script), "serve", "--help"], capture_output=True, timeout=30, check=False)
    assert done.returncode == 0
    text = done.stdout.decode()
    assert text.startswith("usage: qbo-sandbox serve")
    for option in ("--host", "--port", "--db", "--limits", "--log-level"):
        assert option in text
    bad = subprocess.run([str(script), "serve", "--limits", "some"], capture_output=True, timeout=30, check=False)
    assert bad.returncode == 2
    assert "invalid choice" in bad.stderr.decode()


def test_request_ids_are_remembered_across_a_restart(tmp_path: Path) -> None:
    db = tmp_path / "s.db"
    with SandboxServer(CONFIG, db=db) as server, httpx.Client(base_url=server.url, timeout=10) as control:
        qbo = connect(control)
        body = invoice_body(qbo)
        batch = {"BatchItemRequest": [{"bId": "b1", "operation": "create", "Invoice": invoice_body(qbo, 60)}]}
        single = create_invoice_with_id(qbo, body, "once-1")
        batched = qbo.post("batch", json=batch, requestid="once-2")
        assert batched.status_code == 200, batched.text
        app, company, tokens = qbo.app, qbo.company, qbo.tokens
    with SandboxServer(CONFIG, db=db) as server, httpx.Client(base_url=server.url, timeout=10) as control:
        again = Qbo(control, app, company, tokens)
        assert create_invoice_with_id(again, body, "once-1") == single
        replayed = again.post("batch", json=batch, requestid="once-2")
        assert replayed.status_code == 200
        assert replayed.json()["BatchItemResponse"] == batched.json()["BatchItemResponse"]
        assert len(again.rows("select * from Invoice")) == 2


def create_invoice_with_id(qbo: Qbo, body: dict[str, object], request_id: str) -> dict[str, object]:
    made = qbo.post("invoice", json=body, requestid=request_id)
    assert made.status_code == 200, made.text
    invoice: dict[str, object] = made.json()["Invoice"]
    return invoice
