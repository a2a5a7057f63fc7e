"""Order entry: customers, products and tax rates (a list with paging, a form to add one, a form to change one),
and the CSV import; the sales-order form is in entry_orders.py, whose router is included here.

Each kind of record is described once (`Kind`: its fields, how form text becomes the order book's arguments, and
back) and gets the same five routes: the list, the new form and its post, the edit form and its post. A refused
form comes back with every problem beside its field and what was typed still in it (422, or 409 for a taken
SKU); a saved one goes back to the list, which names what was saved.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.datastructures import UploadFile

from invoicebridge.domain import Conflict, Customer, NotFound, PageRequest, Problem, ValidationError
from invoicebridge.domain.customers import ADDRESS_LIMITS
from invoicebridge.domain.money import plain
from invoicebridge.sync.order_import import MAX_FILE_BYTES, ImportFileError, ImportReport, OrderImporter
from invoicebridge.sync.orderbook import OrderBook
from invoicebridge.web.auth import App
from invoicebridge.web.deps import Book
from invoicebridge.web.schemas import money_text
from invoicebridge.web.screens import entry_orders
from invoicebridge.web.screens.entry_orders import FormDep, Refusal, cursor, page, problems_of, record_id, text
from invoicebridge.web.screens.layout import CompanyScreen, ScreenDep

router = APIRouter(include_in_schema=False)
router.include_router(entry_orders.router)
PAGE_SIZE = 50
MAX_SHOWN = 1000  # report lines shown after an import; the counts above them are always complete
ADDRESSES = ("billing_address", "shipping_address")


@dataclass(frozen=True)
class Kind:
    """One kind of record the entry screens list, add and change."""

    path: str  # in the address: /c/{company_id}/{path}
    key: str  # the path parameter of one record's id
    noun: str  # in headings and sentences
    fields: tuple[str, ...]  # the form's fields, in order
    listing: Callable[[OrderBook, int, PageRequest], Any]
    fetch: Callable[[OrderBook, int, int], Any]
    create: Callable[..., Any]  # (book, company_id, **arguments)
    update: Callable[..., Any]  # (book, company_id, id, **arguments)
    values: Callable[[Any], dict[str, str]]  # a record → the form's text
    arguments: Callable[[dict[str, str], bool], dict[str, object]]  # the form's text → the order book's arguments
    title: Callable[[Any], str]  # how a sentence names a record
    blank: Mapping[str, str] = field(default_factory=dict)  # the sentence for a field left blank
    defaults: Callable[[CompanyScreen], dict[str, str]] = lambda _: {}
    groups: tuple[str, ...] = ()  # fieldsets that show problems about themselves as a whole

    @property
    def template(self) -> str:
        return self.path.replace("-", "_")


def _customer_values(customer: Customer) -> dict[str, str]:
    values = {"display_name": customer.display_name, "email": customer.email or "", "currency": customer.currency}
    for kind in ADDRESSES:
        address = getattr(customer, kind)
        values |= {f"{kind}.{part}": getattr(address, part) for part in ADDRESS_LIMITS}
    return values


def _customer_arguments(values: dict[str, str], _new: bool) -> dict[str, object]:
    addresses = {kind: {part: values[f"{kind}.{part}"] for part in ADDRESS_LIMITS} for kind in ADDRESSES}
    return {"display_name": values["display_name"], "email": values["email"].strip() or None,
            "currency": values["currency"].strip() or None, **addresses}  # fmt: skip


def _product_arguments(values: dict[str, str], _new: bool) -> dict[str, object]:
    return {"sku": values["sku"], "name": values["name"], "sales_price": values["sales_price"],
            "unit_cost": values["unit_cost"].strip() or "0", "category": values["category"]}  # fmt: skip


CUSTOMERS = Kind(
    "customers", "customer_id", "customer",
    ("display_name", "email", "currency", *(f"{k}.{p}" for k in ADDRESSES for p in ADDRESS_LIMITS)),
    lambda book, c, page: book.list_customers(c, page), lambda book, c, i: book.get_customer(c, i),
    lambda book, c, **a: book.create_customer(c, **a), lambda book, c, i, **a: book.update_customer(c, i, **a),
    _customer_values, _customer_arguments, lambda customer: customer.display_name,
    {"currency": "Give the currency, such as USD."},
    lambda screen: {"currency": screen.company.home_currency}, ADDRESSES,
)  # fmt: skip
PRODUCTS = Kind(
    "products", "product_id", "product", ("sku", "name", "sales_price", "unit_cost", "category"),
    lambda book, c, page: book.list_products(c, page), lambda book, c, i: book.get_product(c, i),
    lambda book, c, **a: book.create_product(c, **a), lambda book, c, i, **a: book.update_product(c, i, **a),
    lambda p: {"sku": p.sku, "name": p.name, "sales_price": money_text(p.sales_price),
               "unit_cost": money_text(p.unit_cost), "category": p.category or ""},
    _product_arguments, lambda product: f"{product.sku} {product.name}",
    {"sales_price": "Give the sales price, such as 12.50."},
)  # fmt: skip
TAX_RATES = Kind(
    "tax-rates", "rate_id", "tax rate", ("name", "percent"),
    lambda book, c, page: book.list_tax_rates(c, page), lambda book, c, i: book.get_tax_rate(c, i),
    lambda book, c, **a: book.create_tax_rate(c, **a), lambda book, c, i, **a: book.update_tax_rate(c, i, **a),
    lambda rate: {"name": rate.name, "percent": plain(rate.percent)},
    lambda values, _new: {"name": values["name"], "percent": values["percent"]}, lambda rate: rate.name,
    {"percent": "Give the percent, such as 8.25."},
)  # fmt: skip


def _record(kind: Kind, book: OrderBook, screen: CompanyScreen, request: Request) -> Any:
    return kind.fetch(book, screen.company_id, record_id(request.path_params[kind.key]))


def _form_page(
    kind: Kind, request: Request, screen: CompanyScreen, values: dict[str, str], record: Any = None,
    status: int = 200, refusal: Refusal | None = None,
) -> HTMLResponse:  # fmt: skip
    return entry_orders.page(
        request, f"{kind.template}_form.html", screen, status, refusal, active=kind.path, kind=kind,
        values=values, record=record,
    )  # fmt: skip


def _save(kind: Kind, request: Request, screen: CompanyScreen, book: OrderBook, values: dict[str, str],
          record: Any = None) -> Response:  # fmt: skip
    """Create (no record) or change the record with the form's values; the form again, refused, when the order
    book says no."""
    arguments = kind.arguments(values, record is None)
    try:
        if record is None:
            saved = kind.create(book, screen.company_id, **arguments)
        else:
            saved = kind.update(book, screen.company_id, record.id, **arguments)
    except (ValidationError, Conflict) as error:
        reworded = {name: words for name, words in kind.blank.items() if not values.get(name, "").strip()}
        refusal = Refusal.of(problems_of(error), (*kind.fields, *kind.groups), reworded=reworded)
        status = 409 if isinstance(error, Conflict) else 422
        return _form_page(kind, request, screen, values, record, status, refusal)
    return RedirectResponse(f"/c/{screen.company_id}/{kind.path}?saved={saved.id}", status_code=303)


def _routes(kind: Kind) -> None:
    """The five routes of a kind."""
    base = f"/c/{{company_id}}/{kind.path}"
    one = f"{base}/{{{kind.key}}}/edit"

    def listing(request: Request, screen: ScreenDep, book: Book, after: str | None = None,
                saved: str | None = None) -> HTMLResponse:  # fmt: skip
        found = kind.listing(book, screen.company_id, PageRequest(limit=PAGE_SIZE, after=cursor(after)))
        return page(request, f"{kind.template}.html", screen, active=kind.path, kind=kind, items=found.items,
                    next_after=found.next_after, paged=cursor(after) is not None,
                    saved=_saved(kind, book, screen, saved))  # fmt: skip

    def new(request: Request, screen: ScreenDep) -> HTMLResponse:
        return _form_page(kind, request, screen, dict.fromkeys(kind.fields, "") | kind.defaults(screen))

    def create(request: Request, screen: ScreenDep, book: Book, posted: FormDep) -> Response:
        return _save(kind, request, screen, book, {name: text(posted, name) for name in kind.fields})

    def edit(request: Request, screen: ScreenDep, book: Book) -> HTMLResponse:
        record = _record(kind, book, screen, request)
        return _form_page(kind, request, screen, kind.values(record), record)

    def update(request: Request, screen: ScreenDep, book: Book, posted: FormDep) -> Response:
        record = _record(kind, book, screen, request)
        return _save(kind, request, screen, book, {name: text(posted, name) for name in kind.fields}, record)

    router.add_api_route(base, listing, methods=["GET"], response_class=HTMLResponse)
    router.add_api_route(f"{base}/new", new, methods=["GET"], response_class=HTMLResponse)
    router.add_api_route(f"{base}/new", create, methods=["POST"], response_class=HTMLResponse)
    router.add_api_route(one, edit, methods=["GET"], response_class=HTMLResponse)
    router.add_api_route(one, update, methods=["POST"], response_class=HTMLResponse)


def _saved(kind: Kind, book: OrderBook, screen: CompanyScreen, saved: str | None) -> str | None:
    """The sentence after a save: which record was saved (nothing for an id that is not the company's)."""
    found = cursor(saved)
    if found is None:
        return None
    try:
        return f"Saved {kind.noun} {kind.title(kind.fetch(book, screen.company_id, found))}."
    except NotFound:
        return None


# -- the CSV import ------------------------------------------------------------------------------------------------
@router.get("/c/{company_id}/import", response_class=HTMLResponse)
def import_page(request: Request, screen: ScreenDep) -> HTMLResponse:
    return page(request, "import.html", screen, active="import", report=None, max_mb=MAX_FILE_BYTES // 2**20)


# Declaring a form field makes FastAPI read the upload before the dependencies run, and close its temporary file
# after the answer — also when the CSRF check refuses the request.
UploadRead = Annotated[str | None, Form(alias="csrf_token", include_in_schema=False)]


@router.post("/c/{company_id}/import", response_class=HTMLResponse)
def import_orders(
    request: Request, screen: ScreenDep, app: App, posted: FormDep, token: UploadRead = None
) -> HTMLResponse:
    upload = posted.get("file")
    data = upload.file.read(MAX_FILE_BYTES + 1) if isinstance(upload, UploadFile) else b""
    context: dict[str, Any] = {"active": "import", "max_mb": MAX_FILE_BYTES // 2**20, "report": None}
    if not data:
        refusal = Refusal.of([Problem("file", "Choose a CSV file that is not empty.")], ["file"])
        return page(request, "import.html", screen, 422, refusal, **context)
    try:
        report = OrderImporter(app.uow, lambda: datetime.now(UTC)).run(screen.company_id, data)
    except ImportFileError as error:
        refusal = Refusal.of([Problem("file", f"Nothing was imported: {error}")], ["file"])
        return page(request, "import.html", screen, 422, refusal, **context)
    return page(request, "import.html", screen, **(context | shown_report(report)))


def shown_report(report: ImportReport) -> dict[str, Any]:
    """The report as the page shows it: the counts, then each refused line with its column and sentence."""
    problems = sorted(
        (line, refused.so_number, column, message)
        for refused in report.refused
        for line, column, message in refused.problems
    )
    return {"report": report, "problems": problems[:MAX_SHOWN], "hidden": max(0, len(problems) - MAX_SHOWN),
            "skipped": report.skipped[:MAX_SHOWN], "imported": report.imported[:MAX_SHOWN]}  # fmt: skip


for _kind in (CUSTOMERS, PRODUCTS, TAX_RATES):
    _routes(_kind)

__all__ = ["CUSTOMERS", "PRODUCTS", "TAX_RATES", "Kind", "router"]
