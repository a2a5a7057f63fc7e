"""invoicebridge against a real qbo_sandbox over HTTP, on a real SQLite file.

`make_world(country=..., multicurrency=..., custom_txn_numbers=..., inventory=...)` builds one connected
company: a fresh sandbox company (realm) with Intuit-like sample data, our company with tax rates, the
connection made with sandbox-issued tokens and the settings saved through the same use case a user goes
through. Assertions read the sandbox's state directly (`world.qbo_rows(...)`), as moto's tests read its
backends: what exists in QBO is the truth being tested.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from cryptography.fernet import Fernet
from tests.access_support import log_in, person, token_headers

from invoicebridge.bootstrap import Container, build
from invoicebridge.domain import Customer, NotFound, ProductVariant, RowInput, SalesOrder, TaxRate
from invoicebridge.domain.connection import AccountingMode, ConnectionSettings
from invoicebridge.qbo.auth import parse_tokens
from invoicebridge.settings import Settings
from invoicebridge.sync.tokens import to_pair
from invoicebridge.web.app import create_app
from qbo_sandbox.server import SandboxServer

TIMEZONE = {"US": "America/Los_Angeles", "GB": "Europe/London", "CA": "America/Toronto", "AU": "Australia/Sydney"}
CURRENCY = {"US": "USD", "GB": "GBP", "CA": "CAD", "AU": "AUD"}
# Our tax rates → the sample company's tax code names (US: the one sales tax code; NON for 0 %).
TAX = {
    "US": [("Sales tax", "8.625", "California"), ("No tax", "0", "NON")],
    "GB": [("VAT 20%", "20", "20.0% S"), ("VAT 0%", "0", "0.0% Z")],
    "CA": [("HST", "13", "HST ON"), ("Zero", "0", "Zero-rated")],
    "AU": [("GST", "10", "GST"), ("GST free", "0", "GST free")],
}


@dataclass
class World:
    sandbox: SandboxServer
    control: httpx.Client
    app: Container
    company_id: int
    realm_id: str
    country: str
    rates: list[TaxRate]
    customers: list[Customer] = field(default_factory=list)
    products: list[ProductVariant] = field(default_factory=list)
    counter: int = 0
    url: str = ""  # our web app, when served
    clients: list[httpx.Client] = field(default_factory=list)

    # -- our web app, when served ------------------------------------------------------------------------
    def api(self, role: str = "admin") -> httpx.Client:
        """A client of our served app acting as an API token of this world's company."""
        return self._client(token_headers(self.app, self.company_id, role))

    def browser(self, email: str = "admin@books.example", role: str = "admin") -> httpx.Client:
        """A client of our served app logged in (through the login form) as a person of this world's company."""
        try:
            self.app.people.user(email)
        except NotFound:
            person(self.app, email)
        self.app.people.add_member(self.company_id, email, role)
        client = self._client({})
        log_in(client, email)
        return client

    def _client(self, headers: dict[str, str]) -> httpx.Client:
        assert self.url, "make_world(serve=True) serves our app"
        client = httpx.Client(base_url=self.url, headers=headers, timeout=60)
        self.clients.append(client)
        return client

    # -- QBO side ----------------------------------------------------------------------------------------
    def qbo_rows(self, text: str) -> list[dict[str, Any]]:
        body = self.sandbox.sandbox.backend.query(self.realm_id, text)["QueryResponse"]
        return next((v for k, v in body.items() if isinstance(v, list)), [])

    def qbo_read(self, entity: str, entity_id: str) -> dict[str, Any]:
        return self.sandbox.sandbox.backend.read(self.realm_id, entity, entity_id)

    def qbo_create(self, entity: str, body: dict[str, Any]) -> dict[str, Any]:
        return self.sandbox.sandbox.backend.create(self.realm_id, entity, body)

    def qbo_delete(self, entity: str, entity_id: str) -> None:
        """Delete in (sandbox) QBO directly, as a bookkeeper would; no webhook reaches an app not served."""
        current = self.qbo_read(entity, entity_id)
        self.sandbox.sandbox.backend.delete(self.realm_id, entity, {"Id": entity_id, "SyncToken": current["SyncToken"]})

    def qbo_count(self, entity: str) -> int:
        body = self.sandbox.sandbox.backend.query(self.realm_id, f"SELECT COUNT(*) FROM {entity}")
        return int(body["QueryResponse"]["totalCount"])

    def inject(self, kind: str, **options: Any) -> None:
        answer = self.control.post(f"/_sandbox/companies/{self.realm_id}/faults", json={"kind": kind, **options})
        assert answer.status_code == 201, answer.text

    def qbo_requests(self) -> list[dict[str, Any]]:
        return list(self.control.get(f"/_sandbox/companies/{self.realm_id}/requests").json()["requests"])

    # -- our side ----------------------------------------------------------------------------------------
    def customer(self, name: str, email: str | None = None, currency: str | None = None, **kw: Any) -> Customer:
        made = self.app.orderbook.create_customer(self.company_id, name, email, currency=currency, **kw)
        self.customers.append(made)
        return made

    def product(self, sku: str, name: str, price: str = "10.00", cost: str = "4.00") -> ProductVariant:
        made = self.app.orderbook.create_product(self.company_id, sku, name, price, cost)
        self.products.append(made)
        return made

    def order(
        self,
        customer: Customer | None = None,
        rows: list[tuple[ProductVariant, str, str, TaxRate | None]] | None = None,
        number: str | None = None,
        **kw: Any,
    ) -> SalesOrder:
        self.counter += 1
        customer = customer or (self.customers[0] if self.customers else self.customer("Walk-in Customer"))
        if rows is None:
            rows = [
                (self.products[0] if self.products else self.product("SKU-1", "Thing one"), "2", "15.00", self.rates[0])
            ]
        inputs = [RowInput(p.id, q, price, rate.id if rate else None) for p, q, price, rate in rows]
        return self.app.orderbook.create_sales_order(
            self.company_id, number or f"SO-{self.counter:04d}", customer.id, inputs, **kw
        )

    def uncertain_invoice(self, name: str) -> tuple[SalesOrder, Any]:
        """An SO whose invoice create reached QBO but whose answer was lost, and whose look-up then failed too
        (503s until the client gave up): the SO and its link, failed with its outcome unknown."""
        customer = self.customer(name, f"{name.lower().replace(' ', '.')}@example.com")
        self.invoice(self.order(customer))  # warm: the next SO is matched on the mirror, then created
        order = self.order(customer)
        self.inject("drop_after_commit", match="invoice", method="POST")
        self.inject("fail_before_commit", match="query", count=self.app.settings.qbo_max_attempts)
        return order, self.invoice(order)

    def invoice(self, order: SalesOrder) -> Any:
        assert order.id is not None
        return self.app.invoicing.create_invoice(self.company_id, order.id)


WorldFactory = Callable[..., World]


@pytest.fixture
def make_world(sandbox_server: SandboxServer, control: httpx.Client, tmp_path: Path) -> Iterator[WorldFactory]:
    containers: list[Container] = []

    def make(
        country: str = "US", multicurrency: bool = False, custom_txn_numbers: bool = False, inventory: bool = False,
        sample_data: bool = True, serve: bool = False, webhooks: bool = True, webhook_format: str = "cloudevents",
        **settings_overrides: Any,
    ) -> World:  # fmt: skip
        port = free_port() if serve else 0
        hook = f"http://127.0.0.1:{port}/webhooks/qbo" if serve and webhooks else None
        # A served app receives the OAuth callback itself (a browser can connect QuickBooks end to end).
        callback = f"http://127.0.0.1:{port if serve else 8000}/oauth/qbo/callback"
        app = control.post(
            "/_sandbox/apps", json={"redirect_uris": [callback], "webhook_url": hook, "webhook_format": webhook_format}
        ).json()
        made = control.post("/_sandbox/companies", json={
            "name": f"Books {country}", "country": country, "multicurrency": multicurrency,
            "custom_txn_numbers": custom_txn_numbers, "sample_data": sample_data,
        })  # fmt: skip
        assert made.status_code == 201, made.text
        realm = made.json()["realm_id"]
        settings = Settings(
            data_dir=tmp_path / f"data-{len(containers)}", qbo_environment="local", qbo_sandbox_url=sandbox_server.url,
            qbo_client_id=app["client_id"], qbo_client_secret=app["client_secret"],
            token_keys=Fernet.generate_key().decode(), qbo_backoff_seconds=0.01,
            qbo_webhook_verifier_token=app["verifier_token"], qbo_redirect_uri=callback,
            **{"jobs_immediate": True, **settings_overrides},
        )  # fmt: skip
        container = build(settings, migrate=True)
        containers.append(container)
        company = container.orderbook.create_company(f"Our {country} Co", CURRENCY[country], TIMEZONE[country])
        assert company.id is not None
        rates = [container.orderbook.create_tax_rate(company.id, name, pct) for name, pct, _ in TAX[country]]
        tokens = control.post("/_sandbox/tokens", json={"client_id": app["client_id"], "realm_id": realm}).json()
        pair = to_pair(parse_tokens(tokens, datetime.now(UTC)))
        container.connecting.connect_with_tokens(company.id, realm, pair)
        world = World(sandbox_server, control, container, company.id, realm, country, rates)
        worlds.append(world)
        world.app.connecting.save_settings(company.id, default_settings(world, inventory))
        if serve:
            world.url = f"http://127.0.0.1:{port}"
            servers.append(serve_in_thread(container, port))
        return world

    servers: list[tuple[uvicorn.Server, threading.Thread]] = []
    worlds: list[World] = []
    yield make
    for world in worlds:
        for client in world.clients:
            client.close()
    for server, thread in servers:
        server.should_exit = True
        thread.join(timeout=10)
    for container in containers:
        container.close()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def serve_in_thread(container: Container, port: int) -> tuple[uvicorn.Server, threading.Thread]:
    """invoicebridge's web app on a real port (the sandbox's webhooks reach it over HTTP)."""
    server = uvicorn.Server(uvicorn.Config(create_app(container), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "invoicebridge did not start"
        time.sleep(0.01)
    return server, thread


def default_settings(world: World, inventory: bool) -> ConnectionSettings:
    accounts = {a["Name"]: a["Id"] for a in world.qbo_rows("SELECT * FROM Account MAXRESULTS 1000")}
    codes = {c["Name"]: c["Id"] for c in world.qbo_rows("SELECT * FROM TaxCode MAXRESULTS 1000")}
    codes.update({"TAX": "TAX", "NON": "NON"})
    mapping = {rate.id: codes[code] for rate, (_, _, code) in zip(world.rates, TAX[world.country], strict=True)}
    return ConnectionSettings(
        revenue_account_id=accounts["Sales of Product Income"],
        tax_mapping={k: v for k, v in mapping.items() if k is not None},
        mode=AccountingMode.INVENTORY if inventory else AccountingMode.PLAIN,
        cogs_account_id=accounts["Cost of Goods Sold"] if inventory else None,
        inventory_asset_account_id=accounts["Inventory Asset"] if inventory else None,
    )


def money(value: object) -> Decimal:
    return Decimal(str(value))
