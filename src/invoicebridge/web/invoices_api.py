"""/api/companies/{company_id}/sales-orders/{order_id}/invoices: an SO's invoices (partial invoicing) — list
them, read one, invoice delivered parts (one invoice for the chosen deliveries, or one each), retry one,
preview a partial invoice, and link a failed one to the QuickBooks invoice that has its number. *Invoice all* stays
`POST …/invoice` (qbo_api.py)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, status
from pydantic import Field

from invoicebridge.domain.order_invoices import MAX_DELIVERIES_PER_REQUEST
from invoicebridge.sync.link_existing import LinkExisting
from invoicebridge.web.api import ERRORS
from invoicebridge.web.auth import App, MemberCompany, ObjectId
from invoicebridge.web.qbo_api import ExistingInvoiceOut, LinkedInvoiceOut, linked, preview_body
from invoicebridge.web.schemas import Id, MoneyOut, Strict

router = APIRouter(prefix="/api/companies/{company_id}/sales-orders/{order_id}", tags=["invoices"], responses=ERRORS)


class PartialInvoiceIn(Strict):
    deliveries: list[Id] | None = Field(
        None,
        max_length=MAX_DELIVERIES_PER_REQUEST,
        description="delivery ids to invoice; omitted: every delivery of the SO not invoiced yet",
    )
    combine: bool = Field(True, description="true: one invoice for all of them; false: one invoice per delivery")


@router.get("/invoices")
def list_invoices(company_id: MemberCompany, order_id: ObjectId, app: App) -> list[LinkedInvoiceOut]:
    """Every invoice of the SO, oldest first (deleted ones too: their history stays)."""
    invoices = app.orderbook.invoices(company_id, order_id)
    return [linked(app, company_id, link) for link in invoices.links]


@router.get("/invoices/{number}")
def get_invoice(company_id: MemberCompany, order_id: ObjectId, number: ObjectId, app: App) -> LinkedInvoiceOut:
    return linked(app, company_id, app.orderbook.invoice_link(company_id, order_id, number))


@router.post("/invoices", status_code=status.HTTP_201_CREATED)
def invoice_deliveries(
    company_id: MemberCompany, order_id: ObjectId, body: PartialInvoiceIn, app: App
) -> list[LinkedInvoiceOut]:
    """Invoice delivered parts of the SO now. Refused, with nothing made, when a delivery is unknown or already on
    an invoice, when nothing delivered is left to invoice, or when the SO is invoiced as a whole. Each invoice made
    answers with its state: invoiced, or failed with the reason (then retry it)."""
    made = app.invoicing.invoice_deliveries(company_id, order_id, body.deliveries, body.combine)
    return [linked(app, company_id, link) for link in made]


@router.post("/invoices/{number}/retry")
def retry_invoice(company_id: MemberCompany, order_id: ObjectId, number: ObjectId, app: App) -> LinkedInvoiceOut:
    """Try one of the SO's invoices again now (idempotent: an invoiced one answers with its invoice)."""
    return linked(app, company_id, app.invoicing.create_invoice(company_id, order_id, number))


class LinkOfferOut(Strict):
    """Whether a failed invoice may be linked to the QuickBooks invoice that has its number (docs/quickbooks.md,
    Numbering)."""

    linkable: bool
    reason: str | None = Field(description="why it may not be linked (null when it may)")
    existing_invoice: ExistingInvoiceOut
    doc_number: str = Field(description="the number both share")
    existing_subtotal: MoneyOut | None = Field(description="the QuickBooks invoice's lines before tax")
    subtotal: MoneyOut | None = Field(description="this invoice's lines before tax")


@router.get("/invoices/{number}/link-existing")
def link_offer(company_id: MemberCompany, order_id: ObjectId, number: ObjectId, app: App) -> LinkOfferOut:
    """Whether this failed invoice may be linked to the QuickBooks invoice that has its number: one read of that
    invoice. 409 when linking is turned off for the company, or the invoice did not fail that way."""
    offer = LinkExisting(app.invoicing).check(company_id, order_id, number)
    existing = ExistingInvoiceOut(id=offer.existing_id, url=app.invoice_url(company_id, offer.existing_id))
    return LinkOfferOut(
        linkable=offer.linkable, reason=offer.reason, existing_invoice=existing, doc_number=offer.doc_number,
        existing_subtotal=offer.existing_subtotal, subtotal=offer.subtotal,
    )  # fmt: skip


@router.post("/invoices/{number}/link-existing")
def link_existing(company_id: MemberCompany, order_id: ObjectId, number: ObjectId, app: App) -> LinkedInvoiceOut:
    """*Link to this invoice*: the failed invoice becomes the QuickBooks invoice that has its number, checked again
    now (same customer, same amount before tax); nothing is created in QuickBooks. 409 with the reason when it does
    not match, when another invoice is linked to it already, or when linking is off."""
    return linked(app, company_id, LinkExisting(app.invoicing).link(company_id, order_id, number))


@router.get("/invoices-preview")
def preview_partial_invoice(
    company_id: MemberCompany,
    order_id: ObjectId,
    app: App,
    deliveries: Annotated[list[Id], Query(min_length=1, max_length=MAX_DELIVERIES_PER_REQUEST)],
) -> dict[str, Any]:
    """The exact payload of one invoice for these deliveries, and the matches, creating nothing in QuickBooks."""
    return preview_body(app.invoicing.preview(company_id, order_id, deliveries))
