"""The QuickBooks screen (admins): connect, reconnect or disconnect QuickBooks, see what was read from the
QuickBooks company, and choose the settings that decide how invoices land in its books.

Routes, all under /c/{company_id}/quickbooks:
- GET  ""             the page: not connected | needs reconnecting | connected (preferences, health, settings)
- GET  /connect       starts Intuit's OAuth flow for this admin (connecting.start) and redirects to the consent
                      page; `?replace_realm=true` only from the confirmation page (GET /switch)
- GET  /switch        confirm that another QuickBooks company replaces the connected one
- POST /preferences   read the QuickBooks company's preferences again
- GET  /disconnect    confirm disconnecting; POST /disconnect disconnects
- POST /settings      save the settings; refusals are shown next to their fields, the form as it was sent

Connected or not, the page ends with this month's QuickBooks calls (sync/meter.py) against the CorePlus budget.

Connecting is a link, not a form: the Content-Security-Policy's `form-action 'self'` stops a form submission that
redirects to Intuit. Every form is a plain HTML post (CSRF token as a hidden field), so the page works without
JavaScript; after a change the browser is redirected back here (post/redirect/get) with a notice.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.datastructures import FormData

from invoicebridge.bootstrap import Container
from invoicebridge.domain import Forbidden, NotConnected, Problem, ValidationError
from invoicebridge.domain.catalog import TaxRate
from invoicebridge.domain.connection import AccountingMode, Connection, ConnectionSettings, Health, TaxModel
from invoicebridge.qbo.errors import QboError
from invoicebridge.sync.connecting import Choices
from invoicebridge.sync.reads import all_tax_rates
from invoicebridge.web.auth import App
from invoicebridge.web.screens.layout import AdminScreenDep, CompanyScreen, show

router = APIRouter(include_in_schema=False)
PAGE = "/c/{company_id}/quickbooks"
TEMPLATE = "screens/quickbooks/page.html"
MAX_VALUE = 100  # QuickBooks ids are short; anything longer was not one of the choices
NOTICES = {  # ?done=… after a change; "connected" is for the OAuth callback, once it sends browsers back here
    "connected": "QuickBooks is connected.",
    "saved": "The settings were saved.",
    "read": "The QuickBooks company's preferences were read again.",
    "disconnected": "QuickBooks was disconnected: the tokens were revoked and forgotten. The settings are kept.",
}
TAX_MODELS = {
    TaxModel.US: "US sales tax (lines are taxable or not; the invoice names the sales tax code)",
    TaxModel.GLOBAL: "VAT / GST (every line names its tax code; amounts exclude tax)",
}


@dataclass
class SettingsForm:
    """The settings as the form shows them: ids as strings, "" for nothing chosen."""

    revenue_account_id: str = ""
    tax_mapping: dict[int, str] = field(default_factory=dict)
    mode: str = AccountingMode.PLAIN.value
    cogs_account_id: str = ""
    inventory_asset_account_id: str = ""
    cogs_per_delivery: bool = False
    category_accounts: dict[str, str] = field(default_factory=dict)  # category → income account ("": revenue)
    track_payments: bool = False
    invoice_number_prefix: str = ""
    offer_link_duplicates: bool = False

    @classmethod
    def of(cls, settings: ConnectionSettings) -> SettingsForm:
        return cls(
            settings.revenue_account_id or "", dict(settings.tax_mapping), settings.mode.value,
            settings.cogs_account_id or "", settings.inventory_asset_account_id or "", settings.cogs_per_delivery,
            category_accounts=dict(settings.category_accounts), track_payments=settings.track_payments,
            invoice_number_prefix=settings.invoice_number_prefix, offer_link_duplicates=settings.offer_link_duplicates,
        )  # fmt: skip

    @classmethod
    def read(cls, form: FormData) -> tuple[SettingsForm, list[Problem]]:
        """The form as sent, and what is wrong with its shape (the use case checks the content)."""
        problems: list[Problem] = []

        def value(name: str) -> str:
            sent = form.get(name)
            text = sent.strip() if isinstance(sent, str) else ""
            if len(text) > MAX_VALUE:
                problems.append(Problem(name, "Choose one of the listed QuickBooks entries."))
                return ""
            return text

        mapping: dict[int, str] = {}
        for key in form:
            rate = key.removeprefix("tax_mapping.")
            if rate != key and rate.isascii() and rate.isdigit() and len(rate) <= 18:
                code = value(key)
                if code:
                    mapping[int(rate)] = code
        mode = value("mode") or AccountingMode.PLAIN.value
        if mode not in {m.value for m in AccountingMode}:
            problems.append(Problem("mode", "Choose plain accounting or accounting with inventory."))
            mode = AccountingMode.PLAIN.value
        sent = cls(value("revenue_account_id"), mapping, mode, value("cogs_account_id"),
                   value("inventory_asset_account_id"), form.get("cogs_per_delivery") == "on",
                   category_accounts=category_choices(form, value),
                   track_payments=form.get("track_payments") == "on",
                   invoice_number_prefix=_text(form.get("invoice_number_prefix")),  # checked by the settings
                   offer_link_duplicates=form.get("offer_link_duplicates") == "on")  # fmt: skip
        return sent, problems

    @property
    def inventory(self) -> bool:
        return self.mode == AccountingMode.INVENTORY.value

    def settings(self) -> ConnectionSettings:
        return ConnectionSettings(
            self.revenue_account_id or None, dict(self.tax_mapping), AccountingMode(self.mode),
            self.cogs_account_id or None, self.inventory_asset_account_id or None, self.cogs_per_delivery,
            category_accounts=dict(self.category_accounts), track_payments=self.track_payments,
            invoice_number_prefix=self.invoice_number_prefix, offer_link_duplicates=self.offer_link_duplicates,
        )  # fmt: skip


@dataclass(frozen=True)
class Errors:
    """Refusals by field, for the template: `errors.of("revenue_account_id")`; `rest` has those without a
    field on the page."""

    problems: tuple[Problem, ...] = ()
    fields: frozenset[str] = frozenset()

    def of(self, name: str) -> list[str]:
        return [p.message for p in self.problems if p.field == name]

    @property
    def rest(self) -> list[str]:
        return [p.message for p in self.problems if p.field not in self.fields]


def page_fields(rates: list[TaxRate], categories: Iterable[str] = ()) -> frozenset[str]:
    names = {"revenue_account_id", "tax_mapping", "mode", "cogs_account_id", "inventory_asset_account_id",
             "invoice_number_prefix"}  # fmt: skip
    return frozenset(names | {f"tax_mapping.{r.id}" for r in rates} | {f"category_accounts.{c}" for c in categories})


# -- routes ----------------------------------------------------------------------------------------------
@router.get(PAGE, response_class=HTMLResponse)
def page(
    request: Request, screen: AdminScreenDep, app: App, done: Annotated[str | None, Query(max_length=20)] = None
) -> HTMLResponse:
    return render(request, app, screen, notice=NOTICES.get(done or ""))


@router.get(PAGE + "/connect")
def connect(
    screen: AdminScreenDep, app: App, replace_realm: Annotated[bool, Query()] = False
) -> RedirectResponse:  # fmt: skip
    """To Intuit's consent page, with a state only this admin can bring back, once (the callback is
    /oauth/qbo/callback). 303: the browser must not repeat anything at Intuit's address."""
    if screen.caller.user_id is None:  # the callback needs this person's session: a token could never finish
        raise Forbidden("Connecting QuickBooks needs a person logged in, not an API token.")
    url = app.connecting.start(screen.company_id, screen.caller.user_id, replace_realm)
    return RedirectResponse(url, status_code=303)


@router.get(PAGE + "/switch", response_class=HTMLResponse)
def confirm_switch(request: Request, screen: AdminScreenDep) -> HTMLResponse:
    return show(request, TEMPLATE, screen, active="quickbooks", confirm="switch", state=state_of(screen.connection))


@router.get(PAGE + "/disconnect", response_class=HTMLResponse)
def confirm_disconnect(request: Request, screen: AdminScreenDep) -> HTMLResponse:
    state = state_of(screen.connection)
    return show(request, TEMPLATE, screen, active="quickbooks", confirm="disconnect", state=state)


@router.post(PAGE + "/disconnect")
def disconnect(screen: AdminScreenDep, app: App) -> RedirectResponse:
    app.connecting.disconnect(screen.company_id)
    return back(screen, "disconnected")


@router.post(PAGE + "/preferences", response_model=None)
def read_preferences(request: Request, screen: AdminScreenDep, app: App) -> Response:
    try:
        app.connecting.refresh_preferences(screen.company_id)
    except (NotConnected, QboError) as failed:
        message = f"The preferences could not be read: {failed}"
        return render(request, app, screen, status=409 if isinstance(failed, NotConnected) else 502, failure=message)
    return back(screen, "read")


async def sent_form(request: Request) -> FormData:
    """The posted form (already parsed, and so cached, by the CSRF check)."""
    return await request.form()


@router.post(PAGE + "/settings", response_model=None)
def save_settings(
    request: Request, screen: AdminScreenDep, app: App, form: Annotated[FormData, Depends(sent_form)]
) -> Response:
    sent, problems = SettingsForm.read(form)
    try:
        if problems:  # a form we did not draw: say what, and check what can be checked without QuickBooks
            rates = sorted(tax_rates(app, screen.company_id)[0])
            raise ValidationError([*problems, *(Problem(f, m) for f, m in sent.settings().problems(rates))])
        app.connecting.save_settings(screen.company_id, sent.settings())
    except ValidationError as refused:
        return render(request, app, screen, status=422, form=sent, problems=refused.problems)
    except (NotConnected, QboError) as failed:
        status = 409 if isinstance(failed, NotConnected) else 502
        return render(request, app, screen, status=status, form=sent, failure=f"The settings were not saved: {failed}")
    return back(screen, "saved")


# -- helpers ---------------------------------------------------------------------------------------------
def back(screen: CompanyScreen, done: str) -> RedirectResponse:
    return RedirectResponse(f"/c/{screen.company_id}/quickbooks?done={done}", status_code=303)


def state_of(connection: Connection | None) -> str:
    """ "none" (never connected, or disconnected), "reconnect" (expired or revoked) or "connected"."""
    if connection is None or connection.health is Health.DISCONNECTED:
        return "none"
    return "connected" if connection.usable else "reconnect"


def tax_rates(app: Container, company_id: int) -> tuple[list[int], list[TaxRate]]:
    with app.uow() as uow:
        rates = all_tax_rates(uow, company_id)
    ordered = sorted(rates.values(), key=lambda r: (r.name.lower(), r.id or 0))
    return sorted(rates), ordered


def render(
    request: Request, app: Container, screen: CompanyScreen, status: int = 200, form: SettingsForm | None = None,
    problems: tuple[Problem, ...] = (), **context: Any,
) -> HTMLResponse:  # fmt: skip
    """The page in its state; when connected, with the settings form (as sent, or as saved)."""
    connection = screen.connection
    state = state_of(connection)
    choices: Choices | None = None
    choices_error = None
    if state == "connected":
        try:
            choices = app.connecting.choices(screen.company_id)
        except (NotConnected, QboError) as failed:
            choices_error = f"QuickBooks did not give its accounts and tax codes: {failed}"
    rates = tax_rates(app, screen.company_id)[1]
    if form is None:
        form = SettingsForm.of(connection.settings if connection else ConnectionSettings())
    if choices is not None:
        form = with_no_tax(form, rates, choices.no_tax_code_id)
    categories = shown_categories(form, choices)
    return show(
        request, TEMPLATE, screen, status, active="quickbooks", state=state, choices=choices,
        choices_error=choices_error, rates=rates, form=form, categories=categories,
        errors=Errors(problems, page_fields(rates, categories)),
        percent=percent, day=day, tax_models=TAX_MODELS, now=datetime.now(UTC),
        usage=app.meter.usage(company_ids=[screen.company_id]), **context,
    )  # fmt: skip


def category_choices(form: FormData, value: Callable[[str], str]) -> dict[str, str]:
    """`category_accounts.<category>` fields → {category: account id}; "" (the revenue account) is left out."""
    chosen: dict[str, str] = {}
    for key in form:
        category = key.removeprefix("category_accounts.")
        if category != key and len(category) <= MAX_VALUE and (account := value(key)):
            chosen[category] = account
    return chosen


def with_no_tax(form: SettingsForm, rates: list[TaxRate], code: str | None) -> SettingsForm:
    """The form with each 0 % rate not mapped yet showing the no-tax code, as saving would map it."""
    if code is None:
        return form
    auto = {rate.id: code for rate in rates if rate.id is not None and rate.percent == 0}
    return replace(form, tax_mapping=auto | form.tax_mapping)


def shown_categories(form: SettingsForm, choices: Choices | None) -> list[str]:
    """The product categories to offer: those products carry, and any the settings name."""
    return sorted({*(choices.categories if choices else ()), *form.category_accounts}, key=str.casefold)


def _text(sent: object) -> str:
    """A typed-in text field, trimmed ("" when missing or not text)."""
    return sent.strip() if isinstance(sent, str) else ""


def percent(rate: TaxRate) -> str:
    return f"{rate.percent.normalize():f} %"


def day(moment: datetime | None) -> str:
    return "unknown" if moment is None else f"{moment.day} {moment:%B %Y}"
