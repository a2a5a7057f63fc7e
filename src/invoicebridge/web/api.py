"""/api: companies, customers, products and tax rates. Sales orders are in orders_api.py."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, status
from pydantic import BaseModel

from invoicebridge.web.auth import App, CallerDep, MemberCompany, ObjectId, PersonDep
from invoicebridge.web.deps import Book, Paging
from invoicebridge.web.schemas import (
    CompanyIn,
    CompanyOut,
    CustomerIn,
    CustomerOut,
    CustomerPatch,
    ErrorOut,
    PageOut,
    ProductIn,
    ProductOut,
    ProductPatch,
    TaxRateIn,
    TaxRateOut,
    TaxRatePatch,
)

ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorOut, "description": "no valid session or API token"},
    403: {"model": ErrorOut, "description": "an admin-only action, or a session request without its CSRF token"},
    404: {"model": ErrorOut, "description": "not found"},
    409: {"model": ErrorOut, "description": "conflict"},
    422: {"model": ErrorOut, "description": "input refused, with the problems"},
}
router = APIRouter(prefix="/api", responses=ERRORS)
COMPANY = "/companies/{company_id}"


def changes(patch: BaseModel) -> dict[str, Any]:
    """The fields a PATCH body actually sets (addresses as plain mappings for the domain)."""
    return {name: getattr(patch, name) if not isinstance(getattr(patch, name), BaseModel) else
            getattr(patch, name).model_dump() for name in patch.model_fields_set}  # fmt: skip


@router.post("/companies", status_code=status.HTTP_201_CREATED, tags=["companies"])
def create_company(body: CompanyIn, app: App, person: PersonDep) -> CompanyOut:
    """A new company, with the person creating it as its first admin."""
    return CompanyOut.of(app.people.found_company(person.user_id or 0, body.name, body.home_currency, body.timezone))


@router.get("/companies", tags=["companies"])
def list_companies(book: Book, page: Paging, caller: CallerDep) -> PageOut[CompanyOut]:
    """The companies the caller belongs to."""
    found = book.list_companies(page, among=sorted(caller.roles))
    return PageOut(items=[CompanyOut.of(c) for c in found.items], next_after=found.next_after)


@router.get(COMPANY, tags=["companies"])
def get_company(company_id: MemberCompany, book: Book) -> CompanyOut:
    return CompanyOut.of(book.get_company(company_id))


@router.post(COMPANY + "/customers", status_code=status.HTTP_201_CREATED, tags=["customers"])
def create_customer(company_id: MemberCompany, body: CustomerIn, book: Book) -> CustomerOut:
    fields = body.model_dump()
    return CustomerOut.of(book.create_customer(company_id, **fields))


@router.get(COMPANY + "/customers", tags=["customers"])
def list_customers(company_id: MemberCompany, book: Book, page: Paging) -> PageOut[CustomerOut]:
    found = book.list_customers(company_id, page)
    return PageOut(items=[CustomerOut.of(c) for c in found.items], next_after=found.next_after)


@router.get(COMPANY + "/customers/{customer_id}", tags=["customers"])
def get_customer(company_id: MemberCompany, customer_id: ObjectId, book: Book) -> CustomerOut:
    return CustomerOut.of(book.get_customer(company_id, customer_id))


@router.patch(COMPANY + "/customers/{customer_id}", tags=["customers"])
def update_customer(company_id: MemberCompany, customer_id: ObjectId, body: CustomerPatch, book: Book) -> CustomerOut:
    return CustomerOut.of(book.update_customer(company_id, customer_id, **changes(body)))


@router.post(COMPANY + "/products", status_code=status.HTTP_201_CREATED, tags=["products"])
def create_product(company_id: MemberCompany, body: ProductIn, book: Book) -> ProductOut:
    made = book.create_product(company_id, body.sku, body.name, body.sales_price, body.unit_cost, body.category)
    return ProductOut.of(made)


@router.get(COMPANY + "/products", tags=["products"])
def list_products(company_id: MemberCompany, book: Book, page: Paging) -> PageOut[ProductOut]:
    found = book.list_products(company_id, page)
    return PageOut(items=[ProductOut.of(p) for p in found.items], next_after=found.next_after)


@router.get(COMPANY + "/products/{product_id}", tags=["products"])
def get_product(company_id: MemberCompany, product_id: ObjectId, book: Book) -> ProductOut:
    return ProductOut.of(book.get_product(company_id, product_id))


@router.patch(COMPANY + "/products/{product_id}", tags=["products"])
def update_product(company_id: MemberCompany, product_id: ObjectId, body: ProductPatch, book: Book) -> ProductOut:
    return ProductOut.of(book.update_product(company_id, product_id, **changes(body)))


@router.post(COMPANY + "/tax-rates", status_code=status.HTTP_201_CREATED, tags=["tax rates"])
def create_tax_rate(company_id: MemberCompany, body: TaxRateIn, book: Book) -> TaxRateOut:
    return TaxRateOut.of(book.create_tax_rate(company_id, body.name, body.percent))


@router.get(COMPANY + "/tax-rates", tags=["tax rates"])
def list_tax_rates(company_id: MemberCompany, book: Book, page: Paging) -> PageOut[TaxRateOut]:
    found = book.list_tax_rates(company_id, page)
    return PageOut(items=[TaxRateOut.of(r) for r in found.items], next_after=found.next_after)


@router.get(COMPANY + "/tax-rates/{rate_id}", tags=["tax rates"])
def get_tax_rate(company_id: MemberCompany, rate_id: ObjectId, book: Book) -> TaxRateOut:
    return TaxRateOut.of(book.get_tax_rate(company_id, rate_id))


@router.patch(COMPANY + "/tax-rates/{rate_id}", tags=["tax rates"])
def update_tax_rate(company_id: MemberCompany, rate_id: ObjectId, body: TaxRatePatch, book: Book) -> TaxRateOut:
    return TaxRateOut.of(book.update_tax_rate(company_id, rate_id, **changes(body)))
