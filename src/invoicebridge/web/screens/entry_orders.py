"""The sales-order form (new and edit), and what every entry screen shares: reading a posted form, naming its
fields, and showing the order book's refusals next to the fields they are about.

The order book decides every rule; these screens only turn form text into its arguments and its refusals back
into sentences beside the fields. Text that is not even a date or an id goes to the order book as it was typed,
so that it is refused there, with the rest of the form's problems, and nothing is stored.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, tzinfo
from typing import Annotated, Any, TypeVar
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.datastructures import FormData

from invoicebridge.domain import Conflict, NotFound, Page, PageRequest, Problem, RowInput, SalesOrder, ValidationError
from invoicebridge.domain.checks import MAX_ID
from invoicebridge.domain.money import plain
from invoicebridge.domain.orders import too_many_rows
from invoicebridge.domain.paging import MAX_PAGE
from invoicebridge.sync.orderbook import OrderBook
from invoicebridge.web.deps import Book
from invoicebridge.web.schemas import money_text
from invoicebridge.web.screens.layout import CompanyScreen, ScreenDep, show

router = APIRouter(include_in_schema=False)
T = TypeVar("T")
TEMPLATES = "screens/entry/"
MAX_CHOICES = 2000  # customers, products or tax rates offered in a select (each row repeats the products)


# -- what the entry screens share ---------------------------------------------------------------------------------
async def read_form(request: Request) -> FormData:
    """The posted form (the CSRF check may have read it already: Starlette keeps it)."""
    return await request.form()


FormDep = Annotated[FormData, Depends(read_form)]


def text(form: FormData, name: str) -> str:
    value = form.get(name)
    return value if isinstance(value, str) else ""


def field_id(name: str) -> str:
    """The HTML id of a form field: `rows[2].quantity` → `rows-2-quantity`, `billing_address.city` →
    `billing_address-city`."""
    return re.sub(r"[^A-Za-z0-9_]+", "-", name).strip("-")


def reference(value: str) -> object:
    """The id a select sent; None when nothing was chosen; the text itself when it is no id (the order book
    refuses it, naming it)."""
    value = value.strip()
    if not value:
        return None
    if value.isascii() and value.isdigit() and len(value) <= 19 and 0 < int(value) <= MAX_ID:
        return int(value)
    return value


def record_id(value: object) -> int:
    """An id from the path; anything else names no record (404, the same page as another company's id)."""
    found = reference(value) if isinstance(value, str) else None
    if not isinstance(found, int):
        raise NotFound("record", value)
    return found


def cursor(value: str | None) -> int | None:
    """A page cursor from the query string; a cursor that is no id starts at the first page."""
    found = reference(value or "")
    return found if isinstance(found, int) else None


def everything(listing: Callable[[PageRequest], Page[T]], cap: int = MAX_CHOICES) -> list[T]:
    """Every item of a paged listing, up to `cap`, in id order."""
    items: list[T] = []
    after: int | None = None
    while len(items) < cap:
        page = listing(PageRequest(limit=MAX_PAGE, after=after))
        items.extend(page.items)
        if page.next_after is None:
            break
        after = page.next_after
    return items[:cap]


@dataclass(frozen=True)
class Refusal:
    """The order book's problems as a form shows them: beside their fields, and all of them in a summary at the top
    (linked to their field when it is on the form)."""

    errors: dict[str, list[str]] = field(default_factory=dict)
    summary: list[tuple[str, str | None]] = field(default_factory=list)  # (sentence, id of its field)
    first: str | None = None  # the first field with a problem: it takes the focus

    @classmethod
    def of(
        cls,
        problems: Iterable[Problem],
        on_form: Collection[str],
        moved: Mapping[str, str] | None = None,
        reworded: Mapping[str, str] | None = None,
    ) -> Refusal:
        """`moved` shows a problem of a field the form has not at one it has; `reworded` replaces the order book's
        sentence about a field the form left empty (the order book names the missing value as it got it)."""
        errors: dict[str, list[str]] = {}
        summary: list[tuple[str, str | None]] = []
        for problem in problems:
            name = (moved or {}).get(problem.field, problem.field)
            message = (reworded or {}).get(problem.field, problem.message)
            if name in on_form:
                if message not in errors.setdefault(name, []):
                    errors[name].append(message)
                summary.append((message, field_id(name)))
            else:
                summary.append((message, None))
        first = next((name for name in on_form if name in errors), None)
        return cls(errors, summary, first)


def problems_of(error: ValidationError | Conflict) -> tuple[Problem, ...]:
    return error.problems if isinstance(error, ValidationError) else (Problem(error.field, error.message),)


def page(
    request: Request,
    name: str,
    screen: CompanyScreen,
    status: int = 200,
    refusal: Refusal | None = None,
    **context: Any,
) -> HTMLResponse:
    """A screen of this folder, with what its form macros need."""
    refusal = refusal or Refusal()
    return show(
        request, TEMPLATES + name, screen, status, errors=refusal.errors, summary=refusal.summary,
        first_error=refusal.first, field_id=field_id, money=money_text, plain=plain, **context,
    )  # fmt: skip


def moment(value: str, zone: tzinfo) -> object:
    """A date and time typed in the company's zone (or with its own offset); None when blank; the text itself
    when it is none, or one that cannot be stored."""
    value = value.strip()
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
        parsed = parsed if parsed.tzinfo else parsed.replace(tzinfo=zone)
        parsed.astimezone(UTC)  # how it is stored: near year 1 or 9999 the moment may not exist in UTC
    except (ValueError, OverflowError):
        return value
    return parsed


def day(value: str) -> object:
    value = value.strip()
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        return value


# -- the sales-order form ------------------------------------------------------------------------------------------
ORDER_FIELDS = (
    "number", "customer_id", "created_at", "delivery_deadline", "currency", "shipping_fee", "shipping_tax_rate_id",
)  # fmt: skip
ROW_FIELDS = ("variant_id", "quantity", "unit_price", "tax_rate_id", "description")
ROW_KEY = re.compile(r"rows\[([0-9]{1,5})\]\.([a-z_]+)")
BAD_TIME = "Give the date and time as YYYY-MM-DD HH:MM, in the company's time zone (years 1 to 9999)."
# A posted form is read with Starlette's default of at most 1,000 fields (web/auth.py reads it for the CSRF token),
# so the form carries fewer rows than an order may have; a larger order comes from a CSV file.
FORM_ROWS = (1000 - len(ORDER_FIELDS) - 3) // len(ROW_FIELDS)
TOO_MANY_FOR_FORM = f"This form takes at most {FORM_ROWS} rows; import a larger order from a CSV file."


@dataclass
class OrderForm:
    """What the SO form holds, as typed."""

    values: dict[str, str]
    rows: list[dict[str, str]]

    @classmethod
    def read(cls, form: FormData) -> OrderForm:
        found: dict[int, dict[str, str]] = {}
        for key, value in form.multi_items():
            match = ROW_KEY.fullmatch(key)
            if match and match[2] in ROW_FIELDS and isinstance(value, str):
                found.setdefault(int(match[1]), {})[match[2]] = value
        rows = [{name: row.get(name, "") for name in ROW_FIELDS} for _, row in sorted(found.items())]
        return cls({name: text(form, name) for name in ORDER_FIELDS}, rows or [blank_row()])

    @classmethod
    def of(cls, order: SalesOrder, zone: ZoneInfo) -> OrderForm:
        local = order.created_at.astimezone(zone).replace(tzinfo=None)
        deadline = order.delivery_deadline.isoformat() if order.delivery_deadline else ""
        values = {"number": order.number, "customer_id": str(order.customer_id), "currency": order.currency,
                  "created_at": local.isoformat(timespec="seconds"), "delivery_deadline": deadline,
                  "shipping_fee": money_text(order.shipping_fee) if order.shipping_fee is not None else "",
                  "shipping_tax_rate_id": str(order.shipping_tax_rate_id or "")}  # fmt: skip
        rows = [{"variant_id": str(row.variant_id), "quantity": plain(row.quantity),
                 "unit_price": money_text(row.unit_price), "tax_rate_id": str(row.tax_rate_id or ""),
                 "description": row.description} for row in order.rows]  # fmt: skip
        return cls(values, rows)

    def filled(self) -> OrderForm:
        """Without the rows left entirely blank (at least one row stays)."""
        rows = [row for row in self.rows if any(value.strip() for value in row.values())]
        return OrderForm(self.values, rows or [blank_row()])

    def names(self) -> list[str]:
        rows = [f"rows[{i}].{name}" for i in range(1, len(self.rows) + 1) for name in ROW_FIELDS]
        return [*ORDER_FIELDS, "rows", *rows]

    def arguments(self, zone: ZoneInfo) -> dict[str, object]:
        v = self.values
        return {"number": v["number"], "customer_id": reference(v["customer_id"]),
                "created_at": moment(v["created_at"], zone), "delivery_deadline": day(v["delivery_deadline"]),
                "currency": v["currency"].strip() or None, "shipping_fee": v["shipping_fee"].strip() or None,
                "shipping_tax_rate_id": reference(v["shipping_tax_rate_id"])}  # fmt: skip

    def row_inputs(self, current: Sequence[Any] = ()) -> list[RowInput]:
        """The rows for the order book; a row that keeps its product keeps its unit cost (else: the product's)."""
        inputs = []
        for index, row in enumerate(self.rows):
            product = reference(row["variant_id"])
            kept = current[index] if index < len(current) and current[index].variant_id == product else None
            inputs.append(RowInput(
                product, row["quantity"], row["unit_price"].strip() or None, reference(row["tax_rate_id"]),
                kept.unit_cost if kept else None, row["description"],
            ))  # fmt: skip
        return inputs

    def reworded(self, zone: tzinfo) -> dict[str, str]:
        """Sentences for what was left blank or is not a date at all, instead of the order book's naming it."""
        words: dict[str, str] = {}
        if not self.values["customer_id"].strip():
            words["customer_id"] = "Choose a customer."
        if isinstance(moment(self.values["created_at"], zone), str):
            words["created_at"] = BAD_TIME
        if not self.values["currency"].strip():
            words["currency"] = "Give the currency, such as USD."
        for index, row in enumerate(self.rows, start=1):
            if not row["variant_id"].strip():
                words[f"rows[{index}].variant_id"] = f"Choose a product (row {index})."
            if not row["quantity"].strip():
                words[f"rows[{index}].quantity"] = f"Give the quantity (row {index})."
        return words

    def refusal(self, error: ValidationError | Conflict, zone: tzinfo) -> Refusal:
        moved: dict[str, str] = {}
        for index in range(1, len(self.rows) + 1):  # the row problems of fields the form does not show
            at = f"rows[{index}]"
            moved |= {f"{at}.amount": f"{at}.quantity", f"{at}.cost": f"{at}.quantity"}
            moved[f"{at}.unit_cost"] = f"{at}.variant_id"
        return Refusal.of(problems_of(error), self.names(), moved, self.reworded(zone))


def blank_row() -> dict[str, str]:
    return dict.fromkeys(ROW_FIELDS, "")


def order_choices(book: OrderBook, company_id: int) -> dict[str, list[tuple[str, str]]]:
    """What the SO form's selects offer, as (value, text)."""
    customers = everything(lambda page: book.list_customers(company_id, page))
    products = everything(lambda page: book.list_products(company_id, page))
    rates = everything(lambda page: book.list_tax_rates(company_id, page))
    return {
        "customer_options": [(str(c.id), " · ".join(filter(None, (c.display_name, c.email, c.currency))))
                             for c in customers],
        "product_options": [(str(p.id), f"{p.sku} · {p.name} · {money_text(p.sales_price)}") for p in products],
        "rate_options": [(str(r.id), f"{r.name} · {plain(r.percent)} %") for r in rates],
    }  # fmt: skip


def order_page(
    request: Request, screen: CompanyScreen, book: OrderBook, form: OrderForm, status: int = 200,
    refusal: Refusal | None = None, order: SalesOrder | None = None, focus: str | None = None,
) -> HTMLResponse:  # fmt: skip
    values = form.values | {f"rows[{i}].{k}": v for i, row in enumerate(form.rows, start=1) for k, v in row.items()}
    return page(
        request, "so_form.html", screen, status, refusal, active="sell", order=order, values=values,
        row_count=len(form.rows), focus=focus, zone=screen.company.timezone,
        **order_choices(book, screen.company_id),
    )  # fmt: skip


def rearranged(
    request: Request, screen: CompanyScreen, book: OrderBook, form: OrderForm, action: str, order: SalesOrder | None
) -> HTMLResponse | None:
    """The form again with a row added or removed ("Add a row", "Remove row n"); None for "Save"."""
    if action == "add-row":
        if (too_many := too_many_rows(len(form.rows) + 1)) is not None or len(form.rows) >= FORM_ROWS:
            refusal = Refusal.of([Problem("rows", too_many or TOO_MANY_FOR_FORM)], ["rows"])
            return order_page(request, screen, book, form, 200, refusal, order)  # 200: htmx swaps it in
        form.rows.append(blank_row())
        return order_page(request, screen, book, form, order=order, focus=f"rows[{len(form.rows)}].variant_id")
    removed = reference(action.removeprefix("remove-")) if action.startswith("remove-") else None
    if isinstance(removed, int) and removed <= len(form.rows) and len(form.rows) > 1:
        del form.rows[removed - 1]
        return order_page(request, screen, book, form, order=order, focus="rows[1].variant_id")
    return None


def card(screen: CompanyScreen, order_id: int | None) -> RedirectResponse:
    return RedirectResponse(f"/c/{screen.company_id}/so/{order_id}", status_code=303)


@router.get("/c/{company_id}/so/new", response_class=HTMLResponse)
def new_order(request: Request, screen: ScreenDep, book: Book) -> HTMLResponse:
    now = datetime.now(screen.company.zone).replace(tzinfo=None, microsecond=0)
    form = OrderForm(dict.fromkeys(ORDER_FIELDS, "") | {"created_at": now.isoformat()}, [blank_row()])
    return order_page(request, screen, book, form)


@router.post("/c/{company_id}/so/new", response_class=HTMLResponse)
def create_order(request: Request, screen: ScreenDep, book: Book, posted: FormDep) -> Response:
    form = OrderForm.read(posted)
    if (shown := rearranged(request, screen, book, form, text(posted, "action"), None)) is not None:
        return shown
    form = form.filled()
    try:
        made = book.create_sales_order(
            screen.company_id, rows=form.row_inputs(), **form.arguments(screen.company.zone)
        )  # fmt: skip
    except (ValidationError, Conflict) as error:
        status = 409 if isinstance(error, Conflict) else 422
        return order_page(request, screen, book, form, status, form.refusal(error, screen.company.zone))
    return card(screen, made.id)


@router.get("/c/{company_id}/so/{order_id}/edit", response_class=HTMLResponse)
def edit_order(request: Request, screen: ScreenDep, book: Book) -> HTMLResponse:
    order = book.get_sales_order(screen.company_id, record_id(request.path_params["order_id"])).order
    return order_page(request, screen, book, OrderForm.of(order, screen.company.zone), order=order)


@router.post("/c/{company_id}/so/{order_id}/edit", response_class=HTMLResponse)
def update_order(request: Request, screen: ScreenDep, book: Book, posted: FormDep) -> Response:
    order = book.get_sales_order(screen.company_id, record_id(request.path_params["order_id"])).order
    form = OrderForm.read(posted)
    if (shown := rearranged(request, screen, book, form, text(posted, "action"), order)) is not None:
        return shown
    form, before = form.filled(), OrderForm.of(order, screen.company.zone)
    typed = form.arguments(screen.company.zone)
    changes: dict[str, Any] = {name: typed[name] for name in ORDER_FIELDS if form.values[name] != before.values[name]}
    if form.rows != before.rows:  # unchanged rows are not sent: they keep their ids
        changes["rows"] = form.row_inputs(order.rows)
    try:
        book.update_sales_order(screen.company_id, order.id or 0, **changes)
    except (ValidationError, Conflict) as error:
        status = 409 if isinstance(error, Conflict) else 422
        return order_page(request, screen, book, form, status, form.refusal(error, screen.company.zone), order)
    return card(screen, order.id)
