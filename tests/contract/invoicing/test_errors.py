"""Every failure of Build 5 lands on the SO as a sentence plus QBO's detail and code; the SO keeps its data and
can be invoiced once the cause is fixed."""

from __future__ import annotations

from dataclasses import replace

import httpx
import pytest
from tests.contract.invoicing.conftest import WorldFactory

from invoicebridge.domain import InvoiceState, ValidationError
from invoicebridge.domain.connection import AccountingMode, Health

COUNTRIES = pytest.mark.parametrize("country", ["US", "GB"])


@COUNTRIES
def test_customer_currency_mismatch(make_world: WorldFactory, country: str) -> None:
    world = make_world(country, multicurrency=True)
    other = "GBP" if country == "US" else "USD"
    world.qbo_create("Customer", {"DisplayName": "Euro Buyer GmbH", "PrimaryEmailAddr": {"Address": "eu@buyer.example"},
                                  "CurrencyRef": {"value": "EUR"}})  # fmt: skip
    ours = world.customer("Euro Buyer GmbH", "eu@buyer.example", currency=other)
    invoices = world.qbo_count("Invoice")
    link = world.invoice(world.order(ours, currency=other))
    assert link.state is InvoiceState.FAILED
    assert link.error_code == "currency"
    assert f"Euro Buyer GmbH is kept in EUR, but this order is in {other}" in (link.error_message or "")
    assert world.qbo_count("Invoice") == invoices


@COUNTRIES
def test_foreign_currency_without_multicurrency(make_world: WorldFactory, country: str) -> None:
    world = make_world(country)
    link = world.invoice(world.order(world.customer("Abroad Inc", currency="EUR"), currency="EUR"))
    assert link.state is InvoiceState.FAILED
    assert link.error_code == "currency"
    home = "USD" if country == "US" else "GBP"
    assert f"in {home}, but this order is in EUR" in (link.error_message or "")


@COUNTRIES
def test_inactive_revenue_account(make_world: WorldFactory, country: str) -> None:
    world = make_world(country)
    settings = world.app.connecting.connection(world.company_id).settings
    account = world.qbo_read("Account", settings.revenue_account_id)
    world.sandbox.sandbox.backend.update(world.realm_id, "Account", {
        "Id": account["Id"], "SyncToken": account["SyncToken"], "sparse": True, "Active": False})  # fmt: skip
    order = world.order(world.customer("Account Gone Co"), rows=[(world.product("NEW-1", "New thing"), "1", "5.00",
                                                                   world.rates[0])])  # fmt: skip
    link = world.invoice(order)
    assert link.state is InvoiceState.FAILED
    assert "account chosen in the QuickBooks settings was deleted or made inactive" in (link.error_message or "")
    assert link.error_code and link.error_code.isdigit()
    assert "QuickBooks error" in (link.error_detail or "")


@COUNTRIES
def test_missing_settings_stop_invoicing_before_any_call(make_world: WorldFactory, country: str) -> None:
    world = make_world(country)
    world.app.orderbook.create_tax_rate(world.company_id, "New rate 12%", "12")  # not mapped yet
    before = len(world.qbo_requests())
    link = world.invoice(world.order(world.customer("Settings Co")))
    assert link.state is InvoiceState.FAILED
    assert link.error_code == "invalid"
    assert "Map every tax rate to a QuickBooks tax code" in (link.error_message or "")
    assert len(world.qbo_requests()) == before


def test_incomplete_settings_are_refused(make_world: WorldFactory) -> None:
    world = make_world("US", inventory=False)
    current = world.app.connecting.connection(world.company_id).settings
    with pytest.raises(ValidationError) as refused:
        world.app.connecting.save_settings(world.company_id, replace(current, mode=AccountingMode.INVENTORY))
    assert {p.field for p in refused.value.problems} == {"cogs_account_id", "inventory_asset_account_id"}
    with pytest.raises(ValidationError) as wrong_kind:
        world.app.connecting.save_settings(world.company_id, replace(current, revenue_account_id="999999"))
    assert [p.field for p in wrong_kind.value.problems] == ["revenue_account_id"]


@COUNTRIES
def test_revoked_connection_says_reconnect(make_world: WorldFactory, country: str) -> None:
    world = make_world(country)
    order = world.order(world.customer("Revoked Co"))
    tokens = world.app.vault.load(world.company_id)
    assert tokens is not None
    app = world.app.settings
    revoked = httpx.post(f"{world.sandbox.url}/oauth2/v1/tokens/revoke", json={"token": tokens.refresh_token},
                         auth=(app.qbo_client_id, app.qbo_client_secret.get_secret_value()))  # fmt: skip
    assert revoked.status_code == 200
    link = world.invoice(order)
    assert link.state is InvoiceState.FAILED
    assert link.error_code == "reconnect"
    assert "reconnect QuickBooks" in (link.error_message or "")
    connection = world.app.connecting.connection(world.company_id)
    assert connection.health is Health.NEEDS_RECONNECT
    assert connection.last_refresh_error


@COUNTRIES
def test_throttling_that_outlasts_the_retries(make_world: WorldFactory, country: str) -> None:
    world = make_world(country, qbo_max_attempts=2)
    order = world.order(world.customer("Throttled Co"))
    world.inject("throttle", match="invoice", method="POST", count=None)
    link = world.invoice(order)
    assert link.state is InvoiceState.FAILED
    assert "QuickBooks is busy" in (link.error_message or "")
    world.control.delete(f"/_sandbox/companies/{world.realm_id}/faults")
    assert world.invoice(order).state is InvoiceState.INVOICED  # the SO kept everything and can be retried
