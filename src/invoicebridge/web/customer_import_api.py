"""`POST /api/companies/{company_id}/qbo/import-customers`: the company's QBO customers into its order book, now
(sync/customer_import.py). A member may run it: it writes the order book, as adding a customer does, and changes
nothing in QuickBooks."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, Field

from invoicebridge.domain.customer_import import CustomerImportReport, SkippedCustomer
from invoicebridge.web.api import ERRORS
from invoicebridge.web.auth import App, MemberCompany

router = APIRouter(tags=["quickbooks"], responses=ERRORS)


class SkippedCustomerOut(BaseModel):
    qbo_id: str
    display_name: str
    email: str | None
    reason: str = Field(description="why it was not created, as a sentence")
    existing_customer_id: int | None = Field(None, description="a clash: our customer that has the e-mail already")

    @classmethod
    def of(cls, skipped: SkippedCustomer) -> SkippedCustomerOut:
        return cls(qbo_id=skipped.qbo_id, display_name=skipped.display_name, email=skipped.email,
                   reason=skipped.reason, existing_customer_id=skipped.existing_customer_id)  # fmt: skip


class CustomerImportOut(BaseModel):
    created: int = Field(description="order-book customers created now, each linked to its QBO customer")
    already_linked: int = Field(description="QBO customers a customer of ours was linked to before")
    clashes: list[SkippedCustomerOut] = Field(description="not created: an order-book customer has the e-mail")
    refused: list[SkippedCustomerOut] = Field(description="not created: the order book refuses the name or e-mail")

    @classmethod
    def of(cls, report: CustomerImportReport) -> CustomerImportOut:
        return cls(created=report.created, already_linked=report.already_linked,
                   clashes=[SkippedCustomerOut.of(s) for s in report.clashes],
                   refused=[SkippedCustomerOut.of(s) for s in report.refused])  # fmt: skip


@router.post("/api/companies/{company_id}/qbo/import-customers")
def import_customers(company_id: MemberCompany, app: App) -> CustomerImportOut:
    """Create an order-book customer for each active QBO customer not linked yet, linked to it, so invoices for it
    match by that id. Those whose e-mail an order-book customer has already are reported, not created; so are
    those the order book refuses. Idempotent (two runs at once wait for each other); reads QBO only when its
    customer list is not mirrored yet. 409 `not_connected` without a usable connection."""
    return CustomerImportOut.of(app.customer_import.run(company_id))
