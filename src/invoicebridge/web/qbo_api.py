"""QuickBooks endpoints: connect (OAuth) and disconnect, settings, invoicing (one SO, many, preview) and the
audit log. The webhook receiver is in webhooks.py."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, status
from fastapi.responses import RedirectResponse
from pydantic import BaseModel, Field, StrictBool

from invoicebridge.bootstrap import Container
from invoicebridge.domain import InvoiceLink, ValidationError
from invoicebridge.domain.connection import AccountingMode, Connection, ConnectionSettings
from invoicebridge.domain.money import to_cents
from invoicebridge.sync.duplicates import existing_invoice_id
from invoicebridge.sync.invoicing import Preview
from invoicebridge.sync.pacing import Pacing
from invoicebridge.sync.shipping import ShippingPlan
from invoicebridge.web.api import ERRORS
from invoicebridge.web.auth import AdminCompany, App, MemberCompany, ObjectId, PersonDep
from invoicebridge.web.order_schemas import InvoiceOut
from invoicebridge.web.schemas import Id, QboUsageOut, Strict

router = APIRouter(tags=["quickbooks"], responses=ERRORS)
CategoryName = Annotated[str, Field(max_length=200)]  # checked as a category by the settings (≤ 100 once trimmed)
QboId = Annotated[str, Field(min_length=1, max_length=100)]
PREFIX = "/api/companies/{company_id}"


class WebhookHealthOut(BaseModel):
    """Whether QuickBooks' webhooks reach us for this company, which paces its CDC poll (docs/quickbooks.md)."""

    state: str = Field(description="healthy, unknown (no event and no write yet), echo_pending or look_lost")
    since: datetime | None = Field(description="look_lost: since when; echo_pending: when the unechoed write was made")
    last_event_at: datetime | None = Field(description="when the last webhook event for this company arrived")
    last_poll_at: datetime | None = Field(description="when the last paced CDC poll started")
    next_poll_at: datetime = Field(description="when the CDC poll is due next, as things stand")

    @classmethod
    def of(cls, connection: Connection, pacing: Pacing, now: datetime) -> WebhookHealthOut:
        health = pacing.health(connection, now)
        return cls(state=health.state.value, since=health.since, last_event_at=health.last_event_at,
                   last_poll_at=connection.polled_at, next_poll_at=pacing.next_poll(connection, now))  # fmt: skip


class ConnectionOut(BaseModel):
    connected: bool
    health: str
    realm_id: str | None = None
    refresh_expires_at: datetime | None = None
    reconnect_soon: bool = False
    last_refresh_error: str | None = None
    settings: dict[str, Any] | None = None
    preferences: dict[str, Any] | None = None
    usage: QboUsageOut | None = Field(None, description="this month's QuickBooks calls (GET …/qbo only)")
    webhooks: WebhookHealthOut | None = Field(None, description="webhook health and the CDC poll (GET …/qbo only)")

    @classmethod
    def of(
        cls, connection: Connection | None, usage: QboUsageOut | None = None, webhooks: WebhookHealthOut | None = None
    ) -> ConnectionOut:
        if connection is None:
            return cls(connected=False, health="disconnected", usage=usage)
        prefs = connection.preferences
        s = connection.settings
        return cls(
            connected=connection.usable, health=connection.health.value, realm_id=connection.realm_id,
            refresh_expires_at=connection.refresh_expires_at,
            reconnect_soon=connection.needs_reconnect_soon(datetime.now(UTC)),
            last_refresh_error=connection.last_refresh_error, usage=usage, webhooks=webhooks,
            settings={"revenue_account_id": s.revenue_account_id, "mode": s.mode.value,
                      "tax_mapping": {str(k): v for k, v in s.tax_mapping.items()},
                      "cogs_account_id": s.cogs_account_id, "inventory_asset_account_id": s.inventory_asset_account_id,
                      "cogs_per_delivery": s.cogs_per_delivery, "track_payments": s.track_payments,
                      "category_accounts": dict(s.category_accounts), "no_tax_code_id": s.no_tax_code_id,
                      "invoice_number_prefix": s.invoice_number_prefix,
                      "offer_link_duplicates": s.offer_link_duplicates},
            preferences=None if prefs is None else {
                "custom_txn_numbers": prefs.custom_txn_numbers, "multicurrency": prefs.multicurrency,
                "home_currency": prefs.home_currency, "default_terms_id": prefs.default_terms_id,
                "tax_model": prefs.tax_model.value, "country": prefs.country},
        )  # fmt: skip


class SettingsIn(Strict):
    # Strict: a misspelt field ("track_payment") or "yes" for a switch is refused, never dropped or guessed.
    revenue_account_id: str = Field(min_length=1)
    tax_mapping: dict[Id, str] = Field(
        description="order-book tax rate id → QBO TaxCode id (US: a sales tax code, or NON)"
    )
    mode: AccountingMode = AccountingMode.PLAIN
    cogs_account_id: str | None = None
    inventory_asset_account_id: str | None = None
    cogs_per_delivery: StrictBool = Field(
        False, description="accounting with inventory: one COGS entry per invoiced delivery instead of one per SO"
    )
    track_payments: StrictBool = Field(
        False, description="show each SO's payment status (Unpaid, Partly paid, Paid) from its QuickBooks invoices' "
                           "balances; reads QuickBooks on every payment (docs/quickbooks.md, Payment status)"
    )  # fmt: skip
    category_accounts: dict[CategoryName, QboId] = Field(
        default_factory=dict, max_length=1000,
        description="product category → the QBO Income account its new items post to (others: the revenue account)",
    )  # fmt: skip
    invoice_number_prefix: str = Field(
        "", max_length=100,
        description='put before every invoice number ("INV-" → "INV-SO-1042"); up to 20 printable characters, and '
                    "prefix + SO number must fit QuickBooks' 21 (docs/quickbooks.md, Numbering)",
    )  # fmt: skip
    offer_link_duplicates: StrictBool = Field(
        False, description="offer to link an SO refused for a number already used to that QuickBooks invoice, when "
                           "its customer and amount match"
    )  # fmt: skip


class InvoiceManyIn(BaseModel):
    sales_order_ids: list[Id] = Field(min_length=1, max_length=1000)


class ExistingInvoiceOut(BaseModel):
    """The QBO invoice that already has a failed invoice's number (QuickBooks error 6140)."""

    id: str = Field(description="its QuickBooks id (TxnId)")
    url: str | None = Field(None, description="opens it in QuickBooks")


class LinkedInvoiceOut(InvoiceOut):
    url: str | None = Field(None, description="opens the invoice in QuickBooks")
    existing_invoice: ExistingInvoiceOut | None = Field(
        None, description="failed because its number is used: the QuickBooks invoice that has it (when QBO said)"
    )


def linked(app: Container, company_id: int, link: InvoiceLink) -> LinkedInvoiceOut:
    existing_id = existing_invoice_id(link)
    existing = None
    if existing_id is not None:
        existing = ExistingInvoiceOut(id=existing_id, url=app.invoice_url(company_id, existing_id))
    return LinkedInvoiceOut(
        **InvoiceOut.of(link).model_dump(), url=app.invoice_url(company_id, link.qbo_invoice_id),
        existing_invoice=existing,
    )  # fmt: skip


# -- connection ------------------------------------------------------------------------------------------
@router.get(PREFIX + "/qbo")
def connection_status(company_id: MemberCompany, app: App) -> ConnectionOut:
    """The connection, this month's QuickBooks calls against the deployment's CorePlus budget, and whether its
    webhooks arrive (which paces the CDC poll)."""
    usage = QboUsageOut.of(app.meter.usage(company_ids=[company_id]), company_id)
    connection = app.connecting.connection(company_id)
    now = datetime.now(UTC)
    webhooks = None if connection is None else WebhookHealthOut.of(connection, app.reconcile.pacing, now)
    return ConnectionOut.of(connection, usage, webhooks)


@router.get(PREFIX + "/qbo/connect", status_code=status.HTTP_307_TEMPORARY_REDIRECT)
def connect(
    company_id: AdminCompany, app: App, person: PersonDep,
    replace_realm: Annotated[bool, Query(description="confirm that another QuickBooks company replaces the "
                                                     "connected one")] = False,
) -> RedirectResponse:  # fmt: skip
    """Send the admin's browser to Intuit's consent page (the Reconnect URL too). Only this admin, logged in, can
    bring the answer back, once."""
    return RedirectResponse(app.connecting.start(company_id, person.user_id or 0, replace_realm))


@router.get("/oauth/qbo/callback", response_model=ConnectionOut)
def oauth_callback(
    request: Request, app: App, person: PersonDep, state: Annotated[str, Query(max_length=200)],
    code: Annotated[str | None, Query(max_length=2000)] = None,
    realm_id: Annotated[str | None, Query(alias="realmId", max_length=64)] = None,
    error: Annotated[str | None, Query(max_length=200)] = None,
) -> ConnectionOut | RedirectResponse:  # fmt: skip
    """Intuit sends the admin's browser back here. Refused, with no code exchanged and nothing stored, unless the
    logged-in person is the admin who started connecting and the state is fresh and unused. A browser goes on to
    the company's QuickBooks page; other callers get the connection as JSON."""
    if error or not code or not realm_id:
        reason = error if error and error.isprintable() else "no authorization code"
        raise ValidationError.single("code", f"QuickBooks did not connect ({reason[:100]}).")
    connection = app.connecting.finish(state, code, realm_id, person.user_id or 0)
    app.jobs.import_customers(connection.company_id)  # QBO customers into the order book (sync/customer_import.py)
    if "text/html" in request.headers.get("accept", ""):
        return RedirectResponse(f"/c/{connection.company_id}/quickbooks?done=connected", status_code=303)
    return ConnectionOut.of(connection)


@router.delete(PREFIX + "/qbo")
def disconnect(company_id: AdminCompany, app: App) -> ConnectionOut:
    app.connecting.disconnect(company_id)
    return ConnectionOut.of(app.connecting.connection(company_id))


@router.get(PREFIX + "/qbo/choices")
def settings_choices(company_id: AdminCompany, app: App) -> dict[str, Any]:
    """The company's QBO accounts and tax codes to choose from, the order book's product categories (each may get
    its own income account), and `no_tax_code_id`: the code a 0 % tax rate takes unless mapped itself."""
    choices = app.connecting.choices(company_id)
    return {
        "income_accounts": choices.income_accounts, "cogs_accounts": choices.cogs_accounts,
        "asset_accounts": choices.asset_accounts, "tax_codes": choices.tax_codes,
        "no_tax_code_id": choices.no_tax_code_id, "categories": list(choices.categories),
    }  # fmt: skip


@router.put(PREFIX + "/qbo/settings")
def save_settings(company_id: AdminCompany, body: SettingsIn, app: App) -> ConnectionOut:
    settings = ConnectionSettings(
        body.revenue_account_id,
        body.tax_mapping,
        body.mode,
        body.cogs_account_id,
        body.inventory_asset_account_id,
        body.cogs_per_delivery,
        track_payments=body.track_payments,
        category_accounts=body.category_accounts,
        invoice_number_prefix=body.invoice_number_prefix.strip(),
        offer_link_duplicates=body.offer_link_duplicates,
    )
    return ConnectionOut.of(app.connecting.save_settings(company_id, settings))


# -- invoicing -------------------------------------------------------------------------------------------
@router.post(PREFIX + "/sales-orders/{order_id}/invoice")
def create_invoice(company_id: MemberCompany, order_id: ObjectId, app: App) -> LinkedInvoiceOut:
    """*Invoice all*: create the QBO invoice of the whole SO now (idempotent: an invoiced SO answers with its
    invoice). Refused while the SO is invoiced delivery by delivery (`…/invoices`)."""
    return linked(app, company_id, app.invoicing.create_invoice(company_id, order_id))


@router.post(PREFIX + "/invoices", status_code=status.HTTP_202_ACCEPTED)
def create_invoices(company_id: MemberCompany, body: InvoiceManyIn, app: App) -> dict[str, Any]:
    """Queue *invoice all* for many SOs; watch each SO's invoice status. SOs already invoiced, being invoiced or
    invoiced delivery by delivery are left as they are (`queued` counts the others)."""
    for order_id in body.sales_order_ids:
        app.orderbook.get_sales_order(company_id, order_id)  # refuse unknown SOs before queueing anything
    return {"queued": len(app.jobs.invoice(company_id, body.sales_order_ids))}


@router.get(PREFIX + "/sales-orders/{order_id}/invoice/link")
def invoice_with_link(company_id: MemberCompany, order_id: ObjectId, app: App) -> LinkedInvoiceOut:
    return linked(app, company_id, app.orderbook.invoice_link(company_id, order_id))


@router.get(PREFIX + "/sales-orders/{order_id}/invoice/preview")
def preview_invoice(company_id: MemberCompany, order_id: ObjectId, app: App) -> dict[str, Any]:
    """The exact payload of the SO's whole-SO invoice and the matches, creating nothing in QuickBooks (a partial
    invoice's: `…/invoices-preview?deliveries=…`)."""
    return preview_body(app.invoicing.preview(company_id, order_id))


def preview_body(preview: Preview) -> dict[str, Any]:
    return {
        "payload": _plain(preview.payload),
        "customer": {"qbo_id": preview.customer.qbo_id, "how": preview.customer.how,
                     "display_name": preview.customer.display_name},
        "items": [{"sku": i.sku, "qbo_id": i.qbo_id, "how": i.how} for i in preview.items],
        "shipping": _shipping(preview.shipping),
    }  # fmt: skip


def _shipping(plan: ShippingPlan | None) -> dict[str, Any] | None:
    """How the invoice carries the SO's shipping fee and why (null: it carries none)."""
    if plan is None:
        return None
    return {"fee": str(to_cents(plan.fee)), "way": plan.way.value, "qbo_item_id": plan.item_id, "how": plan.how,
            "tax_code": plan.tax_code, "explanation": plan.explanation}  # fmt: skip


@router.get(PREFIX + "/sales-orders/{order_id}/audit")
def audit_log(company_id: MemberCompany, order_id: ObjectId, app: App) -> dict[str, Any]:
    """Every QBO request and response made for this SO (tokens are never recorded)."""
    entries = app.invoicing.audit(company_id, order_id)
    return {"entries": [
        {"at": e.at, "method": e.method, "path": e.path, "status": e.status, "request_body": e.request_body,
         "response_body": e.response_body, "intuit_tid": e.intuit_tid, "duration_ms": e.duration_ms, "error": e.error}
        for e in entries]}  # fmt: skip


def _plain(value: Any) -> Any:
    """Decimals as strings (money never becomes a float), recursively."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value
