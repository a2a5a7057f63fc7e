"""Connecting through Intuit's flow (the sandbox's consent page), token refresh with rotation, disconnecting,
and the API's invoice, preview and audit endpoints — all over real HTTP."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import httpx
from tests.contract.invoicing.conftest import WorldFactory

from invoicebridge.domain import InvoiceState
from invoicebridge.domain.connection import Health


def test_connect_through_the_consent_page(make_world: WorldFactory) -> None:
    world = make_world("US", serve=True)
    browser = world.browser()
    api = f"/api/companies/{world.company_id}"
    world.app.connecting.disconnect(world.company_id)
    assert browser.get(f"{api}/qbo").json()["connected"] is False

    to_intuit = browser.get(f"{api}/qbo/connect", follow_redirects=False)
    assert to_intuit.status_code == 307
    authorize = to_intuit.headers["location"]
    assert authorize.startswith(f"{world.sandbox.url}/oauth2/authorize?")
    query = {k: v[0] for k, v in parse_qs(urlsplit(authorize).query).items()}
    consent = httpx.get(authorize)
    assert consent.status_code == 200 and world.realm_id in consent.text
    form = {**query, "realmId": world.realm_id, "decision": "connect"}
    back = httpx.post(f"{world.sandbox.url}/oauth2/authorize", data=form, follow_redirects=False)
    callback = urlsplit(back.headers["location"])
    assert callback.path == "/oauth/qbo/callback"

    connected = browser.get(f"{callback.path}?{callback.query}")
    assert connected.status_code == 200, connected.text
    body = connected.json()
    assert (body["connected"], body["realm_id"], body["health"]) == (True, world.realm_id, "connected")
    assert body["preferences"]["tax_model"] == "us"
    assert world.invoice(world.order(world.customer("After Connect Co"))).state is InvoiceState.INVOICED

    replayed = browser.get(f"{callback.path}?{callback.query}")  # a state and a code work once
    assert replayed.status_code >= 400
    forged = browser.get("/oauth/qbo/callback", params={"state": "1.x.9999999999.bad", "code": "c",
                                                        "realmId": world.realm_id})  # fmt: skip
    assert forged.status_code == 422
    assert forged.json()["error"]["problems"][0]["field"] == "state"


def test_an_expired_access_token_is_refreshed_and_the_rotated_token_kept(make_world: WorldFactory) -> None:
    world = make_world("US")
    before = world.app.vault.load(world.company_id)
    assert before is not None
    world.control.post("/_sandbox/clock/advance", json={"seconds": 3700})  # the sandbox's tokens expire
    link = world.invoice(world.order(world.customer("Later Co")))
    assert link.state is InvoiceState.INVOICED
    after = world.app.vault.load(world.company_id)
    assert after is not None
    assert after.access_token != before.access_token
    assert after.refresh_token != before.refresh_token  # rotated, and stored
    connection = world.app.connecting.connection(world.company_id)
    assert connection.health is Health.CONNECTED
    assert connection.last_refresh_error is None


def test_disconnect_revokes_and_stops_invoicing(make_world: WorldFactory) -> None:
    world = make_world("US", serve=True)
    api = f"/api/companies/{world.company_id}"
    tokens = world.app.vault.load(world.company_id)
    assert tokens is not None
    gone = world.api().delete(f"{api}/qbo").json()
    assert (gone["connected"], gone["health"]) == (False, "disconnected")
    assert world.app.vault.load(world.company_id) is None
    settings = world.app.settings
    refused = httpx.post(f"{world.sandbox.url}/oauth2/v1/tokens/bearer", auth=(settings.qbo_client_id,
                         settings.qbo_client_secret.get_secret_value()), data={"grant_type": "refresh_token",
                         "refresh_token": tokens.refresh_token})  # fmt: skip
    assert refused.status_code == 400  # revoked at "Intuit"
    link = world.invoice(world.order(world.customer("Disconnected Co")))
    assert (link.state, link.error_code) == (InvoiceState.FAILED, "reconnect")
    assert "connect QuickBooks" in (link.error_message or "")


def test_invoice_preview_and_audit_over_the_api(make_world: WorldFactory) -> None:
    world = make_world("GB", serve=True)
    http = world.api("member")
    api = f"/api/companies/{world.company_id}"
    order = world.order(world.customer("Preview Ltd", "preview@ltd.example"),
                        rows=[(world.product("PRE-1", "Previewed"), "3", "7.25", world.rates[0])])  # fmt: skip
    counts = (world.qbo_count("Customer"), world.qbo_count("Item"), world.qbo_count("Invoice"))
    preview = http.get(f"{api}/sales-orders/{order.id}/invoice/preview").json()
    assert (world.qbo_count("Customer"), world.qbo_count("Item"), world.qbo_count("Invoice")) == counts
    assert preview["customer"] == {"qbo_id": None, "how": "would create", "display_name": "Preview Ltd"}
    assert preview["items"] == [{"sku": "PRE-1", "qbo_id": None, "how": "would create"}]
    assert preview["payload"]["Line"][0]["Amount"] == "21.75"
    assert preview["payload"]["GlobalTaxCalculation"] == "TaxExcluded"
    assert preview["payload"]["PrivateNote"] == f"invoicebridge {order.number} [ib-{world.company_id}-so-{order.id}-g1]"
    looked_up = http.get(f"{api}/sales-orders/{order.id}/audit").json()["entries"]
    assert looked_up and all(e["path"].split("?")[0].endswith("/query") for e in looked_up)  # preview only reads

    made = http.post(f"{api}/sales-orders/{order.id}/invoice")
    assert made.status_code == 200
    assert made.json()["url"] == (f"{world.sandbox.url}/app/invoice?txnId={made.json()['qbo_invoice_id']}"
                                  f"&realmId={world.realm_id}")  # fmt: skip
    entries = http.get(f"{api}/sales-orders/{order.id}/audit").json()["entries"]
    creates = [e for e in entries if e["method"] == "POST" and e["path"].split("?")[0].endswith("/invoice")]
    assert len(creates) == 1 and creates[0]["status"] == 200
    assert '"CustomerMemo"' in creates[0]["request_body"]
    tokens = world.app.vault.load(world.company_id)
    assert tokens is not None
    assert all(tokens.access_token not in str(e) and tokens.refresh_token not in str(e) for e in entries)


def test_bulk_invoicing_is_queued_and_every_so_ends_invoiced(make_world: WorldFactory) -> None:
    world = make_world("US", serve=True)
    http = world.api("member")
    api = f"/api/companies/{world.company_id}"
    customer = world.customer("Bulk Buyer Inc")
    orders = [world.order(customer) for _ in range(5)]
    queued = http.post(f"{api}/invoices", json={"sales_order_ids": [o.id for o in orders]})
    assert queued.status_code == 202 and queued.json() == {"queued": 5}
    states = {http.get(f"{api}/sales-orders/{o.id}/invoice").json()["state"] for o in orders}
    assert states == {"invoiced"}  # immediate mode in tests: the queue ran each job as it was enqueued
    unknown = http.post(f"{api}/invoices", json={"sales_order_ids": [999]})
    assert unknown.status_code == 404
