"""The demo's QuickBooks side, through the built-in sandbox's control API (over HTTP, so this module stays
apart from qbo_sandbox's code): an app and a US sample company kept across runs, the settings file other
commands read, and the demo company connected with its settings made."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from invoicebridge.bootstrap import Container
from invoicebridge.domain.connection import ConnectionSettings
from invoicebridge.qbo.auth import parse_tokens
from invoicebridge.sync.reads import all_tax_rates, zero_rate_ids
from invoicebridge.sync.tokens import to_pair

STATE_FILE = "demo-qbo.json"
ENV_FILE = "invoicebridge.env"
REVENUE_ACCOUNT = "Sales of Product Income"
HOST = "127.0.0.1"


def sandbox_app(sandbox_url: str, data_dir: Path, app_url: str) -> dict[str, str]:
    """The demo's app and company in the sandbox: the ones of an earlier run if the sandbox still has them."""
    path = data_dir / STATE_FILE
    hook = f"{app_url}/webhooks/qbo"
    with httpx.Client(base_url=sandbox_url, timeout=10) as control:
        known = json.loads(path.read_text()) if path.exists() else None
        if known is None or not _still_there(control, known):
            app = _ok(control.post("/_sandbox/apps", json={"redirect_uris": [f"{app_url}/oauth/qbo/callback"],
                                                           "webhook_url": hook}))  # fmt: skip
            # Like Intuit's sandbox companies: sample lists and three months of invoices, payments and bills.
            company = _ok(control.post("/_sandbox/companies", json={"name": "Demo Trading Co (QuickBooks)",
                                                                    "country": "US", "sample_data": True,
                                                                    "history_months": 3, "seed": 1}))  # fmt: skip
            known = {"client_id": app["client_id"], "client_secret": app["client_secret"],
                     "verifier_token": app["verifier_token"], "realm_id": company["realm_id"]}  # fmt: skip
            path.write_text(json.dumps(known, indent=2))
            path.chmod(0o600)
        _ok(control.patch(f"/_sandbox/apps/{known['client_id']}", json={"webhook_url": hook}))
    return dict(known)


def write_env_file(data_dir: Path, sandbox_url: str, qbo: dict[str, str], port: int) -> Path:
    """Settings for every other command (`invoicebridge --env-file … invoice SO-1001`, `worker`, `serve`).
    The port and the OAuth callback on it are written too: `serve` then listens where the sandbox app sends
    people back after connecting, and `user login-link` prints links to the demo's own port."""
    path = data_dir / ENV_FILE
    lines = {
        "INVOICEBRIDGE_DATA_DIR": str(data_dir.resolve()),
        "INVOICEBRIDGE_PORT": str(port),
        "INVOICEBRIDGE_QBO_REDIRECT_URI": callback_url(port),
        "INVOICEBRIDGE_QBO_ENVIRONMENT": "local",
        "INVOICEBRIDGE_QBO_SANDBOX_URL": sandbox_url,
        "INVOICEBRIDGE_QBO_CLIENT_ID": qbo["client_id"],
        "INVOICEBRIDGE_QBO_CLIENT_SECRET": qbo["client_secret"],
        "INVOICEBRIDGE_QBO_WEBHOOK_VERIFIER_TOKEN": qbo["verifier_token"],
    }
    path.write_text("".join(f"{key}={value}\n" for key, value in lines.items()))
    path.chmod(0o600)
    return path


def web_url(port: int) -> str:
    """The demo's web app: always on the loopback address, so nothing of it is reachable from the network."""
    return f"http://{HOST}:{port}"


def callback_url(port: int) -> str:
    return f"{web_url(port)}/oauth/qbo/callback"


def connect(container: Container, company_id: int, sandbox_url: str, qbo: dict[str, str]) -> None:
    """Connect the demo company (the sandbox issues tokens without the consent page) and save its settings."""
    connection = container.connecting.connection(company_id)
    if connection is None or not connection.usable or connection.realm_id != qbo["realm_id"]:
        with httpx.Client(base_url=sandbox_url, timeout=10) as control:
            body = {"client_id": qbo["client_id"], "realm_id": qbo["realm_id"]}
            tokens = _ok(control.post("/_sandbox/tokens", json=body))
        container.connecting.connect_with_tokens(
            company_id, qbo["realm_id"], to_pair(parse_tokens(tokens, datetime.now(UTC)))
        )
        connection = container.connecting.connection(company_id)
    with container.uow() as uow:
        rates = all_tax_rates(uow, company_id)
    if connection is not None and not connection.settings.problems(sorted(rates), zero_rate_ids(rates)):
        return
    choices = container.connecting.choices(company_id)
    revenue = next(a["id"] for a in choices.income_accounts if a["name"] == REVENUE_ACCOUNT)
    sales_tax = next(c["id"] for c in choices.tax_codes if c["name"] not in ("TAX", "NON"))
    mapping = {rate_id: (sales_tax if rate.percent > 0 else "NON") for rate_id, rate in rates.items()}
    container.connecting.save_settings(company_id, ConnectionSettings(revenue, mapping))


def _still_there(control: httpx.Client, known: dict[str, str]) -> bool:
    apps = {a["client_id"] for a in _ok(control.get("/_sandbox/apps"))["apps"]}
    companies = {c["realm_id"] for c in _ok(control.get("/_sandbox/companies"))["companies"]}
    return known.get("client_id") in apps and known.get("realm_id") in companies


def _ok(response: httpx.Response) -> dict[str, Any]:
    if response.status_code >= 400:
        raise RuntimeError(f"the built-in QuickBooks sandbox refused {response.request.url.path}: {response.text}")
    body: dict[str, Any] = response.json()
    return body
